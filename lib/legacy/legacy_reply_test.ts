/**
 * Unit tests of the supervisor-rs 0.8 dialect's reply texts: the original's success phrases
 * (which scripts match), its error texts with corrected spelling, and the check/info renderings.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ErrorCode } from "../errors.ts";
import type { Op, Response } from "../protocol/messages.ts";
import { ENCRYPT_BANNER, LEGACY_HELP, legacyReply } from "./legacy_reply.ts";

/** A successful v2 response carrying `data`. */
function ok(data?: Record<string, unknown>): Response {
  return data === undefined
    ? { id: null, ok: true, message: "done" }
    : { id: null, ok: true, message: "done", data };
}

/** A failed v2 response with `code` and `message`. */
function failed(code: ErrorCode, message = `v2 message for ${code}`): Response {
  return { id: null, ok: false, code, message };
}

/** A child as `check` reports it on the wire. */
function child(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    name: "web",
    state: "RUNNING",
    pid: 4242,
    command: ["sleep", "1000"],
    config_path: "/etc/sv/web.yml",
    ...fields,
  };
}

Deno.test("ENCRYPT_BANNER is the original's first line, spelling included", () => {
  assert.equal(ENCRYPT_BANNER, "Running on encrypt mode, need to dencrypt your command.");
});

Deno.test("LEGACY_HELP names the commands of the dialect and points to protocol v2", () => {
  assert.match(LEGACY_HELP, /supervisor-rs 0\.8/);
  for (const word of ["start", "stop", "restart", "trystart", "check", "info", "kill", "help"]) {
    assert.ok(LEGACY_HELP.includes(word), `help does not mention ${word}`);
  }
  assert.match(LEGACY_HELP, /v2/);
});

Deno.test("start success is `start NAME success`", () => {
  assert.equal(legacyReply("start", "web", ok({ pid: 1 })), "start web success");
});

Deno.test("start success with a repeat says when the repeat action runs", () => {
  assert.equal(
    legacyReply("start", "web", ok({ pid: 1 }), { action: "restart", seconds: 3 }),
    "start web success, and it will restart in 3s",
  );
  assert.equal(
    legacyReply("start", "job", ok(), { action: "stop", seconds: 60 }),
    "start job success, and it will stop in 60s",
  );
  assert.equal(
    legacyReply("start", "job", ok(), { action: "trystart", seconds: 1.5 }),
    "start job success, and it will trystart in 1.5s",
  );
});

Deno.test("stop and restart success are `stop NAME success` and `restart NAME success`", () => {
  assert.equal(legacyReply("stop", "web", ok({ exit: null })), "stop web success");
  assert.equal(legacyReply("stop", "all", ok()), "stop all success");
  assert.equal(legacyReply("restart", "web", ok({ pid: 2 })), "restart web success");
});

Deno.test("trystart of a stopped child is `Start NAME success ` with its trailing space", () => {
  assert.equal(
    legacyReply("trystart", "web", ok({ pid: 3, restarted: false })),
    "Start web success ",
  );
  assert.equal(legacyReply("trystart", "web", ok()), "Start web success ");
});

Deno.test("trystart of a running child is the original's long sentence with its trailing space", () => {
  assert.equal(
    legacyReply("trystart", "web", ok({ pid: 3, restarted: true })),
    "This child already start, stop it first. Stop web success, start it again. Start web success ",
  );
});

Deno.test("kill success is `I am dying. last error: ` and a newline", () => {
  assert.equal(legacyReply("kill", undefined, ok()), "I am dying. last error: \n");
});

Deno.test("ALREADY_RUNNING is `Cannot start this child NAME, it already exists`", () => {
  assert.equal(
    legacyReply("start", "web", failed("ALREADY_RUNNING")),
    "Cannot start this child web, it already exists",
  );
});

Deno.test("NOT_FOUND is `Cannot find 'NAME' file in load path`", () => {
  assert.equal(
    legacyReply("start", "nosuch", failed("NOT_FOUND")),
    "Cannot find 'nosuch' file in load path",
  );
  assert.equal(
    legacyReply("trystart", "nosuch", failed("NOT_FOUND")),
    "Cannot find 'nosuch' file in load path",
  );
});

Deno.test("NOT_RUNNING is `NAME not exist, cannot stop`, for stop and restart alike", () => {
  assert.equal(legacyReply("stop", "web", failed("NOT_RUNNING")), "web not exist, cannot stop");
  assert.equal(
    legacyReply("restart", "web", failed("NOT_RUNNING")),
    "web not exist, cannot stop",
  );
});

Deno.test("RESERVED_NAME is the original's reserved keywords sentence with the name", () => {
  assert.equal(
    legacyReply("start", "all", failed("RESERVED_NAME")),
    `"all" is reserved keywords, cannot run child named "all"`,
  );
  assert.equal(
    legacyReply("start", "on", failed("RESERVED_NAME")),
    `"on" is reserved keywords, cannot run child named "on"`,
  );
});

Deno.test("other error codes are answered with the v2 message as is", () => {
  for (
    const code of [
      "CONFIG_INVALID",
      "SPAWN_FAILED",
      "FORBIDDEN",
      "BAD_NAME",
      "SHUTTING_DOWN",
      "HOOK_FAILED",
    ] as const
  ) {
    assert.equal(legacyReply("start", "web", failed(code, `why ${code}`)), `why ${code}`);
  }
  assert.equal(legacyReply("check", undefined, failed("INTERNAL", "boom")), "boom");
});

Deno.test("a missing child name renders as empty in the texts that carry one", () => {
  assert.equal(legacyReply("start", undefined, ok()), "start  success");
  assert.equal(legacyReply("stop", undefined, failed("NOT_RUNNING")), " not exist, cannot stop");
});

Deno.test("check renders every running child with pid, command, state and config path", () => {
  const reply = legacyReply(
    "check",
    undefined,
    ok({
      children: [
        child({}),
        child({
          name: "api",
          pid: 77,
          state: "STARTING",
          command: ["node", "server.js", "--port", "8080"],
          config_path: "/etc/sv/api.yml",
        }),
      ],
    }),
  );
  assert.equal(
    reply,
    [
      "==Check Results Below==",
      "child name: web",
      "processing id: 4242",
      "config detail:",
      "  command: sleep 1000",
      "  state: RUNNING",
      "  config path: /etc/sv/web.yml",
      "child name: api",
      "processing id: 77",
      "config detail:",
      "  command: node server.js --port 8080",
      "  state: STARTING",
      "  config path: /etc/sv/api.yml",
      "=======================",
    ].join("\n"),
  );
});

Deno.test("check leaves out children without a pid, as the original listed running ones only", () => {
  const reply = legacyReply(
    "check",
    undefined,
    ok({
      children: [
        child({ name: "stopped", pid: null, state: "STOPPED" }),
        child({ name: "never", pid: undefined, state: "STOPPED" }),
        child({ name: "web" }),
      ],
    }),
  );
  assert.ok(!reply.includes("stopped"), reply);
  assert.ok(!reply.includes("never"), reply);
  assert.equal(reply.split("child name: ").length - 1, 1);
  assert.ok(reply.includes("child name: web\nprocessing id: 4242\n"), reply);
});

Deno.test("check without children, or without data, is the two banner lines", () => {
  const empty = "==Check Results Below==\n=======================";
  assert.equal(legacyReply("check", undefined, ok({ children: [] })), empty);
  assert.equal(legacyReply("check", undefined, ok()), empty);
  assert.equal(legacyReply("check", undefined, ok({ children: "nonsense" })), empty);
  assert.equal(legacyReply("check", undefined, ok({ children: [null, 3, "x"] })), empty);
});

Deno.test("check omits the command and config path lines when they are missing", () => {
  const reply = legacyReply(
    "check",
    undefined,
    ok({ children: [child({ command: null, config_path: null })] }),
  );
  assert.equal(
    reply,
    [
      "==Check Results Below==",
      "child name: web",
      "processing id: 4242",
      "config detail:",
      "  state: RUNNING",
      "=======================",
    ].join("\n"),
  );
});

Deno.test("info renders the original's layout from the v2 info data", () => {
  const reply = legacyReply(
    "info",
    undefined,
    ok({
      config_path: "/srv/server.yml",
      running: ["api", "web"],
      loadpaths: ["/srv/children", "/opt/more"],
      encrypt: "on",
    }),
  );
  assert.equal(
    reply,
    [
      "==Server Info Below==",
      "Server config path:",
      "/srv/server.yml",
      "Children are running (use 'check' command to see child detail):",
      "[api web ]",
      "Server configs:",
      `Load paths: ["/srv/children", "/opt/more"]`,
      `Encrypt mode: "on"`,
      "=======================",
    ].join("\n"),
  );
});

Deno.test("info with nothing running and no data falls back to empty values and encrypt off", () => {
  assert.equal(
    legacyReply("info", undefined, ok({ config_path: "/s.yml", running: [], loadpaths: [] })),
    [
      "==Server Info Below==",
      "Server config path:",
      "/s.yml",
      "Children are running (use 'check' command to see child detail):",
      "[]",
      "Server configs:",
      "Load paths: []",
      `Encrypt mode: "off"`,
      "=======================",
    ].join("\n"),
  );
  assert.equal(
    legacyReply("info", undefined, ok()),
    [
      "==Server Info Below==",
      "Server config path:",
      "",
      "Children are running (use 'check' command to see child detail):",
      "[]",
      "Server configs:",
      "Load paths: []",
      `Encrypt mode: "off"`,
      "=======================",
    ].join("\n"),
  );
});

Deno.test("info quotes load paths as JSON strings", () => {
  const reply = legacyReply(
    "info",
    undefined,
    ok({ config_path: "/s.yml", running: [], loadpaths: [`/a "b"/c`], encrypt: "off" }),
  );
  assert.ok(reply.includes(`Load paths: ["/a \\"b\\"/c"]`), reply);
});

Deno.test("every operation has a success text that is not the v2 message", () => {
  const ops: Op[] = ["start", "stop", "restart", "trystart", "check", "info", "kill"];
  for (const op of ops) {
    const reply = legacyReply(op, "web", ok());
    assert.notEqual(reply, "done", op);
    assert.ok(reply.length > 0, op);
  }
});
