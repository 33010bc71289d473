/**
 * Black-box tests of the client against supervisor-rs 0.8.5 servers (issue 14 item 4): the real
 * client drives a double of the original (`legacy_double.ts`, which answers with the original's
 * exact replies) in its text dialect, plain and signed, and a real supervisor-ts server in
 * protocol v2, in one run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { join } from "node:path";
import { type HostJson, runClient, startServer, type TestServer } from "./harness.ts";
import { BANNER, startLegacyDouble } from "./legacy_double.ts";
import type { LegacyDouble } from "./legacy_double.ts";
import { requirePrograms } from "./requires.ts";

const programs = requirePrograms(import.meta, ["openssl"]);

/** The double's children, and the real server's. */
const CHILDREN = { web: "sleep 7001" };
const WEB = { web: "command: sleep 1000\n" };

/** A host's result in `--json` output, with the legacy marker. */
type LegacyJson = HostJson & { dialect?: string };

/** Runs the client on the hosts given; `--json` output parsed when asked for. */
async function run(args: string[], hosts: readonly string[]) {
  const on = hosts.flatMap((h) => ["on", h]);
  return await runClient([...args, ...on]);
}

/** Runs the client with `--json`: its exit code and one object per host. */
async function runJson(args: string[], hosts: readonly string[]) {
  const result = await run([...args, "--json"], hosts);
  let parsed: LegacyJson[];
  try {
    parsed = JSON.parse(result.stdout) as LegacyJson[];
  } catch {
    throw new Error(`not one JSON document:\n${result.stdout}\n${result.stderr}`);
  }
  return { code: result.code, hosts: parsed };
}

/** The request texts the double received, in order (undefined for one it could not read). */
function texts(double: LegacyDouble): (string | undefined)[] {
  return double.received.map((r) => r.text);
}

/** The audit log's lines of a real server (server.yml has `audit_log: audit.jsonl`). */
function audit(server: TestServer): { dialect: string; op: string | null }[] {
  const text = Deno.readTextFileSync(join(server.dir, "audit.jsonl"));
  return text.trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("check, start and stop drive a supervisor-rs server and a supervisor-ts one in one run", async () => {
  await using old = startLegacyDouble({ children: CHILDREN });
  await using server = await startServer({ children: WEB, serverYaml: "audit_log: audit.jsonl" });
  const hosts = [old.address, server.address];

  const check = await run(["check"], hosts);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.ok(
    check.stdout.startsWith(
      `Server ${old.address} response (supervisor-rs):\n==Check Results Below==\n\nServer ${server.address} response:\nNAME`,
    ),
    check.stdout,
  );
  assert.match(check.stdout, /2 ok, 0 failed\n$/);

  const start = await run(["start", "web"], hosts);
  assert.equal(start.code, 0, start.stdout + start.stderr);
  assert.ok(
    start.stdout.startsWith(
      `Server ${old.address} response (supervisor-rs):\nstart web success\n\nServer ${server.address} response:\nstart web success\n`,
    ),
    start.stdout,
  );
  assert.deepEqual([...old.running.keys()], ["web"]);

  const checked = await runJson(["check"], hosts);
  assert.equal(checked.code, 0);
  const [legacy, modern] = checked.hosts;
  assert.equal(legacy!.host, old.address);
  assert.equal(legacy!.dialect, "legacy");
  assert.equal(legacy!.ok, true);
  assert.equal(legacy!.code, undefined);
  assert.match(legacy!.message, /^==Check Results Below==\nchild name: web\nprocessing id: \d+\n/);
  assert.equal(legacy!.data, undefined);
  assert.equal(modern!.dialect, undefined);
  assert.equal(modern!.ok, true);
  assert.equal(modern!.data!.children![0]!.state, "RUNNING");

  const stop = await runJson(["stop", "web"], hosts);
  assert.equal(stop.code, 0);
  assert.deepEqual(
    stop.hosts.map((h) => [h.host, h.ok, h.message, h.dialect]),
    [
      [old.address, true, "stop web success", "legacy"],
      [server.address, true, "stop web success", undefined],
    ],
  );
  assert.equal(old.running.size, 0);

  // The double got one v2 line per run (how the client found out), then the original's text.
  const got = texts(old);
  assert.equal(got.length, 8);
  for (let i = 0; i < got.length; i += 2) {
    assert.match(got[i]!, /^\{"v":2,.*\}\n$/, `request ${i}`);
  }
  assert.deepEqual(got.filter((_, i) => i % 2 === 1), ["check", "start web", "check", "stop web"]);
  // The real server was asked in v2 only: never a second request for the same run.
  const lines = audit(server);
  assert.deepEqual(lines.map((l) => [l.dialect, l.op]), [
    ["v2", "check"],
    ["v2", "start"],
    ["v2", "check"],
    ["v2", "stop"],
  ]);
});

Deno.test("a refusal of the original is a failure with its code, and its text as is", async () => {
  await using old = startLegacyDouble({ children: CHILDREN });
  const first = await runJson(["start", "web"], [old.address]);
  assert.equal(first.code, 0);
  assert.equal(first.hosts[0]!.message, "start web success");

  const again = await runJson(["start", "web"], [old.address]);
  assert.equal(again.code, 1);
  assert.deepEqual(again.hosts, [{
    host: old.address,
    dialect: "legacy",
    ok: false,
    code: "ALREADY_RUNNING",
    message: "Cannot start this child web, it already exsits",
  }]);

  const text = await run(["start", "web"], [old.address]);
  assert.equal(text.code, 1);
  assert.equal(
    text.stdout,
    `Server ${old.address} response (supervisor-rs):\nCannot start this child web, it already exsits\n`,
  );

  const missing = await runJson(["stop", "nosuch"], [old.address]);
  assert.equal(missing.code, 1);
  assert.equal(missing.hosts[0]!.code, "NOT_RUNNING");
  const unknown = await runJson(["start", "nosuch"], [old.address]);
  assert.equal(unknown.hosts[0]!.code, "NOT_FOUND");
  assert.equal(unknown.hosts[0]!.message, "Cannot found 'nosuch' file in load path");
});

Deno.test("trystart, info and kill print the original's replies to the last space", async () => {
  await using old = startLegacyDouble({ children: CHILDREN });
  const header = `Server ${old.address} response (supervisor-rs):\n`;
  const first = await run(["trystart", "web"], [old.address]);
  assert.equal(first.stdout, `${header}Start web success \n`);
  const second = await run(["trystart", "web"], [old.address]);
  assert.equal(
    second.stdout,
    `${header}This child already start, stop it first. Stop web success, start it again. Start web success \n`,
  );
  const info = await run(["info"], [old.address]);
  assert.equal(info.code, 0);
  assert.ok(info.stdout.includes("\n[web ]\n"), info.stdout);
  const kill = await runJson(["kill"], [old.address]);
  assert.equal(kill.code, 0);
  assert.equal(kill.hosts[0]!.message, "I am dying. last error: \n");
  assert.deepEqual(texts(old).filter((t) => !t!.startsWith("{")), [
    "trystart web",
    "trystart web",
    "info",
    "kill",
  ]);
});

Deno.test("an operation the original did not have answers a clear error for that host only", async () => {
  await using old = startLegacyDouble({ children: CHILDREN });
  await using server = await startServer({ children: WEB });
  await server.client("start", "web");

  const log = await run(["log", "web"], [old.address, server.address]);
  assert.equal(log.code, 1);
  assert.ok(
    log.stdout.startsWith(
      `Server ${old.address} response (supervisor-rs):\nerror: ${old.address} is a supervisor-rs 0.8 server, which does not have "log"`,
    ),
    log.stdout,
  );
  assert.match(log.stdout, /\[UNKNOWN_OP\]\n/);
  assert.match(log.stdout, new RegExp(`Server ${server.address} response:\n`));
  assert.match(log.stdout, /1 ok, 1 failed: .* \(supervisor-rs 0\.8 has no log\)\n$/);

  const all = await runJson(["start", "all"], [old.address]);
  assert.equal(all.code, 1);
  assert.equal(all.hosts[0]!.code, "UNKNOWN_OP");
  assert.equal(all.hosts[0]!.dialect, "legacy");
  assert.match(all.hosts[0]!.message, /does not have "start all"/);

  // Neither was sent as text: the double saw the v2 lines only.
  assert.equal(old.received.length, 2);
  assert.ok(old.received.every((r) => r.text!.startsWith("{")));
});

/** Makes an RSA key with openssl in `dir`: the private key's path and the public key. */
function rsaKey(dir: string, name: string) {
  programs.check("openssl");
  const path = join(dir, `${name}.pem`);
  const out = new Deno.Command("openssl", {
    args: ["genrsa", "-out", path, "2048"],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return { path, publicKey: createPublicKey(Deno.readTextFileSync(path)) };
}

Deno.test({
  name: "with KEY.pem, a supervisor-rs server in encrypt mode gets NAME; and the signed block",
  ignore: programs.skip("openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "legacy-client-" });
    try {
      const { path, publicKey } = rsaKey(dir, "ops");
      await using old = startLegacyDouble({ children: CHILDREN, keys: { ops: publicKey } });

      const start = await run(["start", "web", "with", path], [old.address]);
      assert.equal(start.code, 0, start.stdout + start.stderr);
      assert.equal(
        start.stdout,
        `Server ${old.address} response (supervisor-rs):\n${BANNER}\nstart web success\n`,
      );
      const signed = old.received.at(-1)!;
      assert.equal(signed.key, "ops");
      assert.equal(signed.text, "start web");
      assert.equal(signed.raw.length, "ops;".length + 256);

      const check = await runJson(["check", "with", path], [old.address]);
      assert.equal(check.code, 0);
      assert.equal(check.hosts[0]!.dialect, "legacy");
      assert.ok(check.hosts[0]!.message.startsWith(`${BANNER}\n==Check Results Below==\n`));
      assert.equal(old.received.at(-1)!.text, "check");

      const twice = await runJson(["start", "web", "with", path], [old.address]);
      assert.equal(twice.code, 1);
      assert.equal(twice.hosts[0]!.code, "ALREADY_RUNNING");

      // Unsigned, the original refuses it; the client says so with the code.
      const unsigned = await runJson(["stop", "web"], [old.address]);
      assert.equal(unsigned.code, 1);
      assert.equal(unsigned.hosts[0]!.code, "BAD_SIGNATURE");
      assert.equal(unsigned.hosts[0]!.message, `${BANNER}\nCannot parse encrypt data`);
      assert.equal(old.running.has("web"), true);

      // A key the server does not have.
      const other = rsaKey(dir, "nokey");
      const stranger = await runJson(["stop", "web", "with", other.path], [old.address]);
      assert.equal(stranger.code, 1);
      assert.equal(stranger.hosts[0]!.code, "UNKNOWN_KEY");
      assert.equal(
        stranger.hosts[0]!.message,
        `${BANNER}\nCannot found 'nokey' file in keys path`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
