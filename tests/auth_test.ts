/**
 * Black-box tests of signed commands: signatures, the time window, replay, permissions and
 * the audit log, against a real server with encrypt on.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSigningKey, signRequest } from "../lib/auth/signed_request.ts";
import { exchange, isAlive, runClient, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { requirePrograms } from "./requires.ts";

const ENCRYPTED = "encrypt: on\npub_keys_path: [keys]\n";
const programs = requirePrograms(import.meta, ["openssl"]);

function openssl(...args: string[]): void {
  programs.check("openssl");
  const out = new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).outputSync();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Makes a private key in `dir/private/NAME.pem` and, unless `publish` is false, its public key in the server's keys dir. */
function makeKey(
  server: TestServer,
  name: string,
  type: "ed25519" | "rsa" | "rsa-pss" = "ed25519",
  publish = true,
): string {
  const privateDir = join(server.dir, "private");
  const keysDir = join(server.dir, "keys");
  Deno.mkdirSync(privateDir, { recursive: true });
  Deno.mkdirSync(keysDir, { recursive: true });
  const privatePath = join(privateDir, `${name}.pem`);
  if (type === "ed25519") openssl("genpkey", "-algorithm", "ed25519", "-out", privatePath);
  else openssl("genrsa", "-out", privatePath, "2048");
  if (publish) openssl("pkey", "-in", privatePath, "-pubout", "-out", join(keysDir, `${name}.pem`));
  return privatePath;
}

function reply(text: string): Record<string, unknown> {
  return JSON.parse(text.split("\n")[0]!) as Record<string, unknown>;
}

Deno.test({
  name: "with encrypt on, a command signed with an Ed25519 or RSA key is run",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({
      serverYaml: ENCRYPTED,
      children: { web: "command: sleep 1000\n" },
    });
    const ed = makeKey(server, "ops");
    const rsa = makeKey(server, "deploy", "rsa");
    const start = await server.client("start", "web", "with", ed);
    assert.equal(start.code, 0, start.stdout + start.stderr);
    assert.match(start.stdout, /start web success/);
    const check = await server.client("check", "web", "with", rsa, "--json");
    assert.equal(check.code, 0, check.stdout);
    assert.equal(JSON.parse(check.stdout)[0].data.children[0].state !== "STOPPED", true);
  },
});

Deno.test("with encrypt on, an unsigned command is refused with SIGNATURE_REQUIRED", async () => {
  await using server = await startServer({
    serverYaml: ENCRYPTED,
    children: { web: "command: sleep 1000\n" },
  });
  const result = await server.client("start", "web");
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    /error: Refused: this server runs with encrypt on and accepts only signed requests.*\[SIGNATURE_REQUIRED\]/,
  );
  const raw = reply(await exchange(server.port, `{"v":2,"id":7,"op":"check"}\n`));
  assert.equal(raw.code, "SIGNATURE_REQUIRED");
  assert.equal(raw.id, 7);
});

Deno.test({
  name: "a RSA-PSS signature is accepted too",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({ serverYaml: ENCRYPTED });
    const key = loadSigningKey(makeKey(server, "pss", "rsa"));
    const line = signRequest({ ...key, alg: "rsa-pss-sha256" }, { id: 1, op: "info" });
    // signRequest signs PKCS#1 v1.5 for rsa; re-sign with PSS by hand.
    const envelope = JSON.parse(line) as Record<string, unknown>;
    const { sign, constants } = await import("node:crypto");
    envelope.sig = sign("sha256", new TextEncoder().encode(envelope.signed as string), {
      key: key.key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    }).toString("base64");
    const result = reply(await exchange(server.port, JSON.stringify(envelope) + "\n"));
    assert.equal(result.ok, true, String(result.message));
  },
});

Deno.test({
  name: "a key name with path characters is refused with BAD_KEY_NAME",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({ serverYaml: ENCRYPTED });
    const key = loadSigningKey(makeKey(server, "ops"));
    for (const name of ["../ops", "keys/ops", "", ".hidden"]) {
      const line = signRequest({ ...key, name }, { id: 1, op: "check" });
      const result = reply(await exchange(server.port, line));
      assert.equal(result.code, "BAD_KEY_NAME", name);
      assert.match(String(result.message), /^Refused: key name .* is not valid/);
    }
  },
});

Deno.test({
  name: "an unknown key is refused, and keys added or removed while running take effect",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({ serverYaml: ENCRYPTED });
    const path = makeKey(server, "late", "ed25519", false);
    const before = await server.client("check", "with", path, "--json");
    assert.equal(before.code, 1);
    const first = JSON.parse(before.stdout)[0];
    assert.equal(first.code, "UNKNOWN_KEY");
    assert.match(first.message, /no public key "late\.pem" is known to this server/);
    // An unauthenticated client is not shown where the server keeps its keys.
    assert.ok(!first.message.includes(server.dir), first.message);
    assert.ok(!first.message.includes("pub_keys_path"), first.message);
    openssl("pkey", "-in", path, "-pubout", "-out", join(server.dir, "keys", "late.pem"));
    assert.equal((await server.client("check", "with", path)).code, 0);
    Deno.removeSync(join(server.dir, "keys", "late.pem"));
    const after = await server.client("check", "with", path, "--json");
    assert.equal(JSON.parse(after.stdout)[0].code, "UNKNOWN_KEY");
  },
});

Deno.test({
  name: "a signature made with another key is refused with BAD_SIGNATURE",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({
      serverYaml: ENCRYPTED,
      children: { web: "command: sleep 1000\n" },
    });
    makeKey(server, "ops");
    const impostor = loadSigningKey(makeKey(server, "impostor", "ed25519", false));
    const line = signRequest({ ...impostor, name: "ops" }, { id: 1, op: "start", child: "web" });
    const result = reply(await exchange(server.port, line));
    assert.equal(result.code, "BAD_SIGNATURE");
    assert.equal(result.message, `Refused: the signature does not match key "ops" (alg ed25519)`);
    // A tampered request with a genuine signature is refused too.
    const genuine = JSON.parse(
      signRequest(loadSigningKey(join(server.dir, "private", "ops.pem")), { id: 1, op: "check" }),
    );
    genuine.signed = (genuine.signed as string).replace('"check"', '"kill"');
    assert.equal(
      reply(await exchange(server.port, JSON.stringify(genuine) + "\n")).code,
      "BAD_SIGNATURE",
    );
  },
});

Deno.test({
  name: "a timestamp outside the window is refused with STALE_REQUEST naming the skew",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({ serverYaml: ENCRYPTED + "sign_window: 10\n" });
    const key = loadSigningKey(makeKey(server, "ops"));
    const old = reply(
      await exchange(server.port, signRequest(key, { id: 1, op: "check" }, Date.now() - 125_000)),
    );
    assert.equal(old.code, "STALE_REQUEST");
    assert.match(
      String(old.message),
      /timestamp is 12\d\.\ds behind the server's clock; at most 10s is allowed/,
    );
    const future = reply(
      await exchange(server.port, signRequest(key, { id: 1, op: "check" }, Date.now() + 60_000)),
    );
    assert.match(String(future.message), /ahead of the server's clock/);
  },
});

Deno.test({
  name: "replaying the captured bytes of a signed command is refused with REPLAYED",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({
      serverYaml: ENCRYPTED,
      children: { web: "command: sleep 1000\n" },
    });
    const key = loadSigningKey(makeKey(server, "ops"));
    const captured = signRequest(key, { id: 1, op: "start", child: "web" });
    const first = reply(await exchange(server.port, captured));
    assert.equal(first.ok, true, String(first.message));
    const stop = reply(
      await exchange(server.port, signRequest(key, { id: 2, op: "stop", child: "web" })),
    );
    assert.equal(stop.ok, true);
    const again = reply(await exchange(server.port, captured));
    assert.equal(again.code, "REPLAYED");
    assert.match(String(again.message), /already received/);
    const check = reply(
      await exchange(server.port, signRequest(key, { id: 3, op: "check", child: "web" })),
    );
    const child = (check.data as { children: { state: string; restarts: number }[] }).children[0]!;
    assert.equal(child.state, "STOPPED", "the replayed start did not run");
    assert.equal(child.restarts, 0);
  },
});

Deno.test({
  name: "per-key permissions allow some operations and refuse others with FORBIDDEN",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({
      serverYaml: ENCRYPTED + "permissions:\n  ci: [trystart, check]\n",
      children: { web: "command: sleep 1000\n" },
    });
    const ci = makeKey(server, "ci");
    const admin = makeKey(server, "admin");
    assert.equal((await server.client("trystart", "web", "with", ci)).code, 0);
    const pid = (await server.client("check", "web", "with", ci, "--json")).stdout;
    const kill = await server.client("kill", "with", ci, "--json");
    assert.equal(kill.code, 1);
    const refused = JSON.parse(kill.stdout)[0];
    assert.equal(refused.code, "FORBIDDEN");
    assert.equal(
      refused.message,
      `Refused: key "ci" may not run "kill"; it may run: trystart, check`,
    );
    const webPid = JSON.parse(pid)[0].data.children[0].pid as number;
    assert.ok(isAlive(webPid), "nothing was stopped");
    assert.equal(
      (await server.client("stop", "web", "with", admin)).code,
      0,
      "a key not listed may do everything",
    );
  },
});

Deno.test({
  name: "the audit log has one JSON line per request with peer, key, op, child and result",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({
      serverYaml: ENCRYPTED + "audit_log: audit.jsonl\npermissions:\n  ci: [check]\n",
      children: { web: "command: sleep 1000\n" },
    });
    const ci = makeKey(server, "ci");
    await server.client("check", "with", ci);
    await server.client("start", "web", "with", ci);
    await exchange(server.port, `{"v":2,"id":1,"op":"info"}\n`);
    const lines = Deno.readTextFileSync(join(server.dir, "audit.jsonl")).trim().split("\n").map((
      l,
    ) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.deepEqual(lines.map((l) => [l.dialect, l.key, l.op, l.child, l.ok, l.code]), [
      ["v2", "ci", "check", null, true, null],
      ["v2", "ci", "start", "web", false, "FORBIDDEN"],
      ["v2", null, null, null, false, "SIGNATURE_REQUIRED"],
    ]);
    for (const line of lines) {
      assert.match(line.peer, /^127\.0\.0\.1:\d+$/);
      assert.ok(!Number.isNaN(Date.parse(line.time)));
    }
  },
});

Deno.test("a key file that is not a private key is a clear client error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = join(dir, "id_ed25519.pem");
    Deno.writeTextFileSync(
      bad,
      "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    const result = await runClient(["check", "with", bad, "on", "127.0.0.1:9"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not a PEM private key .*OpenSSH-format keys are not supported/);
    const missing = await runClient(["check", "with", join(dir, "nope.pem")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read key file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
