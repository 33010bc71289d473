import assert from "node:assert/strict";
import type { ChildReport, OpResult } from "../server/results.ts";
import {
  ENCRYPT_BANNER,
  LEGACY_HELP,
  legacyReply,
  localTime,
  renderCheck,
  renderInfo,
} from "./legacy_reply.ts";
import type { LegacyAnswer, LegacyChild } from "./legacy_reply.ts";

function ok(op: LegacyAnswer["op"], fields: Partial<LegacyAnswer> = {}): string {
  return legacyReply({ op, child: "web", ok: true, message: "v2 message", ...fields });
}

function failed(
  op: LegacyAnswer["op"],
  code: NonNullable<LegacyAnswer["code"]>,
  child = "web",
): string {
  return legacyReply({ op, child, ok: false, code, message: "the v2 message" });
}

const STARTED_WITH_PREHOOK = {
  kind: "started",
  message: "",
  pid: 1,
  child: {} as ChildReport,
  prehooks: [{ hook: "start dep", ok: true, message: "start dep success" }],
} as const satisfies OpResult;

function report(name: string, pid: number | null): ChildReport {
  return { name, pid, startedAt: new Date(2026, 11, 1, 9, 0, 31).getTime() } as ChildReport;
}

function child(name: string, fields: Partial<LegacyChild> = {}): LegacyChild {
  return {
    report: report(name, 4242),
    configDir: "/srv/children",
    command: "sleep 7001",
    stdout: undefined,
    stderr: undefined,
    repeat: undefined,
    hooks: [],
    ...fields,
  };
}

Deno.test("the banner and the help", () => {
  assert.equal(ENCRYPT_BANNER, "Running on encrypt mode, need to dencrypt your command.");
  assert.match(LEGACY_HELP, /start NAME, stop NAME\|all, restart NAME, trystart NAME, check/);
});

Deno.test("success texts, byte for byte, with the repeat suffix and the prehook prefix", () => {
  assert.equal(ok("start"), "start web success");
  assert.equal(ok("stop"), "stop web success");
  assert.equal(ok("restart"), "restart web success");
  const repeat = { action: "restart", seconds: 300 } as const;
  assert.equal(ok("start", { repeat }), "start web success, and it will restart in 300s");
  assert.equal(ok("restart", { repeat }), "restart web success, and it will restart in 300s");
  assert.equal(
    ok("start", { result: STARTED_WITH_PREHOOK }),
    "Find pre-hook, has started pre-hook firstly. start web success",
  );
  assert.equal(ok("kill"), "I am dying. last error: \n");
});

Deno.test("trystart: stopped, running, with a repeat and with a posthook, trailing space kept", () => {
  assert.equal(ok("trystart"), "Start web success ");
  const restarted = { ...STARTED_WITH_PREHOOK, prehooks: [], restarted: true } as const;
  assert.equal(
    ok("trystart", { result: restarted }),
    "This child already start, stop it first. Stop web success, start it again. Start web success ",
  );
  assert.equal(
    ok("trystart", { result: restarted, repeat: { action: "restart", seconds: 300 } }),
    "This child already start, stop it first. Stop web success, start it again. Start web success, and it will restart in 300s ",
  );
  assert.equal(
    ok("trystart", { result: restarted, posthooks: ["start after"] }),
    'This child already start, stop it first. find post-hook "start after", run it after stop. Stop web success, start it again. Start web success ',
  );
});

Deno.test("refusals in the original's words, its spellings included", () => {
  assert.equal(
    failed("start", "ALREADY_RUNNING"),
    "Cannot start this child web, it already exsits",
  );
  assert.equal(failed("start", "NOT_FOUND", "nosuch"), "Cannot found 'nosuch' file in load path");
  assert.equal(failed("stop", "NOT_RUNNING"), "web not exsit, cannot stop");
  assert.equal(failed("restart", "NOT_RUNNING"), "web not exsit, cannot stop");
  assert.equal(
    failed("start", "RESERVED_NAME", "on"),
    '"on" is reserved keywords, cannot run child named "on"',
  );
  // The original reserved only all and on: another reserved word it looked for as a file.
  assert.equal(failed("start", "RESERVED_NAME", "with"), "Cannot found 'with' file in load path");
  assert.equal(failed("start", "SPAWN_FAILED"), "the v2 message");
});

Deno.test("check: the banner alone, or each running child's config with a separator after it", () => {
  assert.equal(renderCheck([]), "==Check Results Below==\n");
  const text = renderCheck([
    child("hooked", { hooks: ["prehook: start dep"], command: "sleep 7004" }),
    child("rep", { repeat: { action: "restart", seconds: 300 } }),
  ]);
  const time = localTime(report("x", 1).startedAt!);
  assert.equal(time, "2026-12-01 09:00:31");
  assert.equal(
    text,
    [
      "==Check Results Below==",
      "child name: hooked",
      "processing id: 4242",
      "config detail:",
      "  config location is: /srv/children",
      "  command is: sleep 7004",
      "  stdout is: none",
      "  stderr is: none",
      "  child id is: 4242",
      `  start time: "${time}"`,
      "  repeat is: false",
      "  hooks are:",
      "    prehook: start dep",
      "",
      "=======================",
      "child name: rep",
      "processing id: 4242",
      "config detail:",
      "  config location is: /srv/children",
      "  command is: sleep 7001",
      "  stdout is: none",
      "  stderr is: none",
      "  child id is: 4242",
      `  start time: "${time}"`,
      "  repeat is: action is restart, interval is 300 seconds",
      "  hooks are:",
      "    none",
      "=======================",
      "",
    ].join("\n"),
  );
});

Deno.test("info: the server's block; info NAME: the empty block the original printed", () => {
  const info = {
    version: "0.1.0",
    pid: 1,
    configPath: "/srv/server.yml",
    listen: "127.0.0.1:33889",
    encrypt: false,
    mode: "quiet",
    loadpaths: ["/srv/children"],
    startedAt: 0,
    uptimeMs: 0,
    running: ["web"],
    counts: {},
    repeatTimers: 0,
    problems: [],
  };
  assert.equal(
    renderInfo(info),
    '==Server Info Below==\nServer config path:\n/srv/server.yml\nChildren are running (use \'check\' command to see child detail):\n[web ]\nServer configs:\nLoad paths: ["/srv/children"]\nEncrypt mode: "off"\n=======================\n',
  );
  const result = { kind: "info", message: "", info } as const;
  assert.equal(ok("info", { result }), renderInfo(info));
  assert.equal(
    ok("info", { result, infoOfChild: true }),
    "==Server Info Below==\n=======================\n",
  );
});
