import assert from "node:assert/strict";
import { constants, generateKeyPairSync, publicDecrypt } from "node:crypto";
import type { SigningKey } from "../auth/signed_request.ts";
import { fanOut } from "./fanout.ts";
import type { HostResult } from "./fanout.ts";
import { parseHost } from "./hosts.ts";
import {
  askLegacy,
  isSupervisorRsAnswer,
  LEGACY_BANNER,
  legacyRequestBytes,
  legacyRequestText,
  legacyResult,
  readLegacyReply,
} from "./legacy_client.ts";
import { renderResults } from "./render.ts";

const CHECK_REPLY = [
  "==Check Results Below==",
  "child name: web",
  "processing id: 4242",
  "config detail:",
  "  config location is: /srv/children",
  "  command is: sleep 7001",
  "  stdout is: none",
  "  stderr is: none",
  "  child id is: 4242",
  '  start time: "2026-12-01 08:00:00"',
  "  repeat is: false",
  "  hooks are:",
  "    none",
  "=======================",
  "",
].join("\n");

const INFO_REPLY = [
  "==Server Info Below==",
  "Server config path:",
  "/srv/server.yml",
  "Children are running (use 'check' command to see child detail):",
  "[web ]",
  "Server configs:",
  'Load paths: ["/srv/children"]',
  'Encrypt mode: "off"',
  "=======================",
  "",
].join("\n");

Deno.test("only the original's own answers to a v2 line count as a supervisor-rs server", () => {
  assert.equal(isSupervisorRsAnswer("no legal operations input"), true);
  assert.equal(isSupervisorRsAnswer("no legal operations input\0\0"), true);
  assert.equal(isSupervisorRsAnswer(LEGACY_BANNER), true);
  for (
    const other of [
      "",
      "HTTP/1.1 400 Bad Request",
      "SSH-2.0-OpenSSH_9.6",
      "start web success",
      "Cannot parse encrypt data",
    ]
  ) {
    assert.equal(isSupervisorRsAnswer(other), false, other);
  }
});

Deno.test("each operation the original had becomes its request text, the others none", () => {
  const cases: [Parameters<typeof legacyRequestText>, string | undefined][] = [
    [["start", "web"], "start web"],
    [["stop", "web"], "stop web"],
    [["stop", "all"], "stop all"],
    [["restart", "web"], "restart web"],
    [["trystart", "web"], "trystart web"],
    [["check", undefined], "check"],
    [["check", "web"], "check web"],
    [["info", undefined], "info"],
    [["kill", undefined], "kill"],
    [["start", "all"], undefined],
    [["restart", "all"], undefined],
    [["log", "web"], undefined],
    [["signal", "web"], undefined],
    [["signal", "all"], undefined],
    [["update", undefined], undefined],
    [["events", undefined], undefined],
  ];
  for (const [[op, child], text] of cases) {
    assert.equal(legacyRequestText(op, child), text, `${op} ${child}`);
  }
});

Deno.test("the original's success replies are successes, banner or not", () => {
  for (
    const reply of [
      "start web success",
      "start rep success, and it will restart in 300s",
      "stop web success",
      "stop all success",
      "restart web success",
      "Start web success ",
      "This child already start, stop it first. Stop web success, start it again. Start web success ",
      "==Check Results Below==\n",
      CHECK_REPLY,
      INFO_REPLY,
      "==Server Info Below==\n=======================\n",
      "I am dying. last error: \n",
      `${LEGACY_BANNER}\nstart web success`,
      `${LEGACY_BANNER}\n${CHECK_REPLY}`,
    ]
  ) {
    assert.deepEqual(readLegacyReply(reply), { ok: true }, reply);
  }
});

Deno.test("the original's refusal texts, in either spelling, map to the v2 codes", () => {
  const cases: [string, string][] = [
    ["Cannot start this child web, it already exsits", "ALREADY_RUNNING"],
    ["Cannot start this child web, it already exists", "ALREADY_RUNNING"],
    ["web not exsit, cannot stop", "NOT_RUNNING"],
    ["web not exist, cannot stop", "NOT_RUNNING"],
    ["Cannot found 'nosuch' file in load path", "NOT_FOUND"],
    ["Cannot find 'nosuch' file in load path", "NOT_FOUND"],
    ['"all" is reserved keywords, cannot run child named "all"', "RESERVED_NAME"],
    ['"on" is reserved keywords, cannot run child named "on"', "RESERVED_NAME"],
    ["no legal operations input", "UNKNOWN_OP"],
    ["Cannot parse encrypt data", "BAD_SIGNATURE"],
    ["Cannot found 'nokey' file in keys path", "UNKNOWN_KEY"],
    ["Cannot find 'nokey' file in keys path", "UNKNOWN_KEY"],
  ];
  for (const [text, code] of cases) {
    assert.deepEqual(readLegacyReply(text), { ok: false, code }, text);
    assert.deepEqual(readLegacyReply(`${LEGACY_BANNER}\n${text}`), { ok: false, code }, text);
    assert.deepEqual(readLegacyReply(`${text}\n`), { ok: false, code }, text);
  }
  // A refusal phrase inside a longer reply is not the reply.
  assert.deepEqual(readLegacyReply(`${CHECK_REPLY}no legal operations input`), { ok: true });
});

Deno.test("a legacy result keeps the reply as written and is marked legacy", () => {
  const reply = `${LEGACY_BANNER}\nCannot start this child web, it already exsits`;
  assert.deepEqual(legacyResult("h:1", reply), {
    host: "h:1",
    dialect: "legacy",
    ok: false,
    code: "ALREADY_RUNNING",
    message: reply,
  });
  assert.deepEqual(legacyResult("h:1", CHECK_REPLY), {
    host: "h:1",
    dialect: "legacy",
    ok: true,
    message: CHECK_REPLY,
  });
});

/** An RSA key as `loadSigningKey` would give it, and its public half. */
function rsaSigner(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signer: SigningKey = { name, key: privateKey, alg: "rsa-sha256" };
  return { signer, publicKey };
}

Deno.test("a request is its text, or NAME; and the PKCS#1 type-1 block of it with a key", async () => {
  assert.deepEqual(
    await legacyRequestBytes("start web", undefined),
    new TextEncoder().encode("start web"),
  );
  const { signer, publicKey } = rsaSigner("ops");
  const bytes = await legacyRequestBytes("start web", signer);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "ops;");
  const block = bytes.subarray(4);
  assert.equal(block.length, 256);
  const opened = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, block);
  assert.equal(opened.toString("utf8"), "start web");
  // No nonce, no time: the same command gives the same bytes, as the original's did.
  assert.deepEqual(await legacyRequestBytes("start web", signer), bytes);
});

/** A host nothing listens on: a request to it would come back UNREACHABLE. */
const NOBODY = parseHost("127.0.0.1:1");

Deno.test("an operation the original lacks is refused for that host without asking it", async () => {
  for (
    const [op, child, what] of [
      ["log", "web", "log"],
      ["signal", "web", "signal"],
      ["update", undefined, "update"],
      ["events", undefined, "events"],
      ["start", "all", "start all"],
      ["restart", "all", "restart all"],
    ] as const
  ) {
    const result = await askLegacy(NOBODY, op, child, { timeoutMs: 2000 });
    assert.equal(result.ok, false);
    assert.equal(result.code, "UNKNOWN_OP", what);
    assert.equal(result.dialect, "legacy");
    assert.match(result.message, /supervisor-rs 0\.8/);
    assert.ok(result.message.includes(`does not have "${what}"`), result.message);
    assert.equal(result.reason, `supervisor-rs 0.8 has no ${what}`);
  }
});

Deno.test("an Ed25519 key and a name with a space cannot be sent the original's way", async () => {
  const { privateKey } = generateKeyPairSync("ed25519");
  const ed: SigningKey = { name: "ops", key: privateKey, alg: "ed25519" };
  const signed = await askLegacy(NOBODY, "check", undefined, { timeoutMs: 2000, signer: ed });
  assert.equal(signed.code, "BAD_SIGNATURE");
  assert.match(signed.message, /RSA keys only/);
  const spaced = await askLegacy(NOBODY, "start", "a b", { timeoutMs: 2000 });
  assert.equal(spaced.code, "BAD_NAME");
});

/**
 * A TCP server on loopback that answers the n-th connection with `answers[n]` (the last one
 * for any after it) after one read, and closes; it records what each connection sent.
 */
function scripted(answers: readonly string[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: string[] = [];
  const served = (async () => {
    for await (const conn of listener) {
      const buffer = new Uint8Array(4196);
      const n = await conn.read(buffer) ?? 0;
      received.push(new TextDecoder().decode(buffer.subarray(0, n)));
      const answer = answers[Math.min(received.length, answers.length) - 1]!;
      await conn.write(new TextEncoder().encode(answer)).catch(() => 0);
      conn.close();
    }
  })().catch(() => {});
  return {
    host: parseHost(`127.0.0.1:${(listener.addr as Deno.NetAddr).port}`),
    received,
    async [Symbol.asyncDispose]() {
      listener.close();
      await served;
    },
  };
}

Deno.test("a host that answers as supervisor-rs is asked again in its dialect", async () => {
  await using server = scripted(["no legal operations input", "stop web success"]);
  const [result] = await fanOut([server.host], "stop", "web", { timeoutMs: 5000, parallel: 1 });
  assert.deepEqual(result, {
    host: server.host.label,
    dialect: "legacy",
    ok: true,
    message: "stop web success",
  });
  assert.equal(server.received.length, 2);
  assert.ok(server.received[0]!.startsWith("{"), server.received[0]);
  assert.equal(server.received[1], "stop web");
});

Deno.test("a host that answers other text is not asked in the supervisor-rs dialect", async () => {
  await using server = scripted(["HTTP/1.1 400 Bad Request\r\n\r\n"]);
  const [result] = await fanOut([server.host], "check", undefined, {
    timeoutMs: 5000,
    parallel: 1,
  });
  assert.equal(result!.ok, false);
  assert.equal(result!.code, "UNREACHABLE");
  assert.equal(result!.dialect, undefined);
  assert.match(result!.message, /not protocol v2 JSON: "HTTP\/1\.1 400 Bad Request"/);
  assert.match(result!.message, /neither supervisor-ts nor supervisor-rs/);
  assert.equal(server.received.length, 1);
});

Deno.test("a supervisor-rs block has the marker and the reply as its server wrote it", () => {
  const results: HostResult[] = [
    legacyResult("old:33889", CHECK_REPLY),
    legacyResult("old2:33889", "Cannot start this child web, it already exsits"),
    {
      host: "old3:33889",
      dialect: "legacy",
      ok: false,
      code: "UNKNOWN_OP",
      message: 'old3:33889 is a supervisor-rs 0.8 server, which does not have "log"',
      reason: "supervisor-rs 0.8 has no log",
    },
  ];
  const text = renderResults("check", undefined, results);
  assert.ok(
    text.startsWith(`Server old:33889 response (supervisor-rs):\n${CHECK_REPLY}\n`),
    text,
  );
  assert.ok(
    text.includes(
      "Server old2:33889 response (supervisor-rs):\nCannot start this child web, it already exsits\n",
    ),
    text,
  );
  assert.ok(
    text.includes(
      'Server old3:33889 response (supervisor-rs):\nerror: old3:33889 is a supervisor-rs 0.8 server, which does not have "log" [UNKNOWN_OP]\n',
    ),
    text,
  );
  assert.doesNotMatch(text, /hint:/);
  assert.match(
    text,
    /1 ok, 2 failed: old2:33889 \(ALREADY_RUNNING\), old3:33889 \(supervisor-rs 0\.8 has no log\)$/,
  );
});
