/**
 * Black-box tests of the supervisor-rs 0.8 text dialect (SPEC §6, shared/LEGACY.md): a real
 * server process on an ephemeral loopback port, driven with the exact bytes the original client
 * sent — plain text with encrypt off, `NAME;` and an RSA PKCS#1 type-1 block with encrypt on —
 * and answered with the original's reply texts, one reply per connection, then closed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { constants, createPrivateKey, privateEncrypt } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import { exchange, isAlive, startServer, type TestServer, waitUntil } from "./harness.ts";
import { requirePrograms } from "./requires.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const programs = requirePrograms(import.meta, ["openssl"]);

const CHECK_HEAD = "==Check Results Below==";
const FOOTER = "=======================";
const BANNER = "Running on encrypt mode, need to dencrypt your command.";

/** A child that stays up until it is stopped. */
const WEB = { web: "command: sleep 1000\n" };

/** A child whose start arms a repeat timer (restart after 3 s). */
const REPEATING = "command: sleep 1000\nrepeat:\n  action: restart\n  seconds: 3\n";

/** server.yml lines of a server that takes signed legacy commands. */
const ENCRYPT_LEGACY = "encrypt: on\npub_keys_path: [keys]\nlegacy: on";

/**
 * Sends `data` as the original client did — one write, no half-close, no terminator — and reads
 * until the server closes the connection. Fails when the server does not close it within `ms`.
 */
async function legacy(
  port: number,
  data: string | Uint8Array,
  options: { ms?: number; halfClose?: boolean } = {},
): Promise<string> {
  const ms = options.ms ?? 10_000;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
  if (options.halfClose) await conn.closeWrite();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, ms);
  const chunks: Uint8Array[] = [];
  try {
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
  } catch (error) {
    if (!timedOut) throw error;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
  const text = decoder.decode(concat(...chunks));
  if (timedOut) {
    throw new Error(
      `the server did not close the connection in ${ms} ms; got ${JSON.stringify(text)}`,
    );
  }
  return text;
}

/** Concatenates byte arrays. */
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The pid of `name` as the v2 client's `check` reports it (null when it is not running). */
async function v2Pid(server: TestServer, name: string): Promise<number | null> {
  const result = await server.json("check");
  assert.equal(result.ok, true, `v2 check failed: ${result.message}`);
  const children = result.data!.children as { name: string; pid: number | null }[];
  return children.find((c) => c.name === name)?.pid ?? null;
}

/** Asserts a legacy `check` reply: banner, the listed children with their pids, footer. */
function assertCheckReply(reply: string, children: Record<string, number>): void {
  assert.ok(reply.startsWith(`${CHECK_HEAD}\n`), `not a check reply: ${JSON.stringify(reply)}`);
  assert.ok(reply.endsWith(`\n${FOOTER}\n`), `check reply must end with the footer: ${reply}`);
  for (const [name, pid] of Object.entries(children)) {
    assert.ok(
      reply.includes(`child name: ${name}\nprocessing id: ${pid}\nconfig detail:\n`),
      `check reply does not list ${name} with pid ${pid}:\n${reply}`,
    );
  }
  assert.equal(
    reply.split("child name: ").length - 1,
    Object.keys(children).length,
    `check must list the running children only:\n${reply}`,
  );
}

/** The pid `processing id:` names for `name` in a legacy check reply. */
function pidInCheck(reply: string, name: string): number {
  const match = reply.match(new RegExp(`child name: ${name}\\nprocessing id: (\\d+)\\n`));
  assert.ok(match, `no pid for ${name} in:\n${reply}`);
  return Number(match[1]);
}

/** Resolves with the server's exit status, or fails after `ms`. */
async function exitWithin(server: TestServer, ms: number): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`server still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([server.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Signing as the original client did
// ---------------------------------------------------------------------------------------------

/** An RSA key made by `openssl genrsa` (PKCS#8 with OpenSSL 3) and its public key. */
interface OpensslKey {
  readonly name: string;
  readonly privatePath: string;
  readonly privateKey: KeyObject;
}

/** Runs openssl; fails with its stderr. */
async function openssl(...args: string[]): Promise<void> {
  programs.check("openssl");
  const out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${decoder.decode(out.stderr)}`);
  }
}

/**
 * Makes key `name` with openssl in `tempDir`; writes its public key to `publicDir/NAME.pem`
 * unless `publicDir` is undefined.
 */
async function makeKey(
  tempDir: string,
  name: string,
  publicDir: string | undefined,
): Promise<OpensslKey> {
  const privatePath = join(tempDir, `${name}.pem`);
  await openssl("genrsa", "-out", privatePath, "2048");
  const pem = await Deno.readTextFile(privatePath);
  assert.ok(pem.startsWith("-----BEGIN PRIVATE KEY-----"), "openssl 3 writes PKCS#8");
  if (publicDir !== undefined) {
    await Deno.mkdir(publicDir, { recursive: true });
    await openssl("rsa", "-in", privatePath, "-pubout", "-out", join(publicDir, `${name}.pem`));
  }
  return { name, privatePath, privateKey: createPrivateKey(pem) };
}

/** The RSA PKCS#1 type-1 block of `text`, as the original client's private_encrypt made it. */
function block(key: OpensslKey, text: string): Uint8Array {
  return new Uint8Array(
    privateEncrypt(
      { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING },
      encoder.encode(text),
    ),
  );
}

/** The bytes the original client sent in encrypt mode: `NAME;` then the block. */
function signed(key: OpensslKey, text: string, name = key.name): Uint8Array {
  return concat(encoder.encode(`${name};`), block(key, text));
}

/** A server with encrypt and legacy on, key `alice` in its pub_keys_path, and a temp key dir. */
async function encryptedServer(
  children: Record<string, string> = WEB,
): Promise<{ server: TestServer; alice: OpensslKey; tempDir: string }> {
  const server = await startServer({ serverYaml: ENCRYPT_LEGACY, children });
  const tempDir = await Deno.makeTempDir({ prefix: "supervisor-ts-legacy-keys-" });
  const alice = await makeKey(tempDir, "alice", join(server.dir, "keys"));
  return { server, alice, tempDir };
}

// ---------------------------------------------------------------------------------------------
// encrypt off: plain text, legacy on by default
// ---------------------------------------------------------------------------------------------

Deno.test("legacy: `start web` with no newline is answered `start web success` and the connection closed", async () => {
  await using server = await startServer({ children: WEB });
  const reply = await legacy(server.port, "start web");
  assert.equal(reply, "start web success");
  const pid = await v2Pid(server, "web");
  assert.ok(pid !== null && isAlive(pid), "web must be running after a legacy start");
});

Deno.test("legacy: `start` of a child with repeat says when it will run the repeat action", async () => {
  await using server = await startServer({ children: { web: REPEATING } });
  assert.equal(
    await legacy(server.port, "start web"),
    "start web success, and it will restart in 3s",
  );
  assert.equal(await legacy(server.port, "stop web"), "stop web success");
});

Deno.test("legacy: `check` and `check\\n` list running children with their real pids", async () => {
  await using server = await startServer({
    children: { ...WEB, api: "command: sleep 1000\n", idle: "command: sleep 1000\n" },
  });
  assert.equal(await legacy(server.port, "start web"), "start web success");
  assert.equal(await legacy(server.port, "start api"), "start api success");
  const web = await v2Pid(server, "web");
  const api = await v2Pid(server, "api");
  assert.ok(web !== null && api !== null);
  for (const request of ["check", "check\n", "Check", "check on 127.0.0.1"]) {
    const reply = await legacy(server.port, request);
    assertCheckReply(reply, { web, api });
    assert.ok(!reply.includes("idle"), `a stopped child is not listed: ${reply}`);
  }
  assert.equal(await legacy(server.port, "stop api"), "stop api success");
  assertCheckReply(await legacy(server.port, "check"), { web });
});

Deno.test("legacy: `check` with nothing running is the banner line alone", async () => {
  await using server = await startServer({ children: WEB });
  assert.equal(await legacy(server.port, "check"), `${CHECK_HEAD}\n`);
});

Deno.test("legacy: `stop`, and `stop`/`restart` of a stopped child", async () => {
  await using server = await startServer({ children: WEB });
  assert.equal(await legacy(server.port, "start web"), "start web success");
  const pid = await v2Pid(server, "web");
  assert.ok(pid !== null);
  assert.equal(await legacy(server.port, "stop web"), "stop web success");
  assert.equal(await v2Pid(server, "web"), null);
  await waitUntil(() => !isAlive(pid), 5_000, "web to be gone");
  assert.equal(await legacy(server.port, "stop web"), "web not exsit, cannot stop");
  assert.equal(await legacy(server.port, "restart web"), "web not exsit, cannot stop");
  assert.equal(await v2Pid(server, "web"), null, "a refused restart must not start the child");
});

Deno.test("legacy: `restart` of a running child", async () => {
  await using server = await startServer({ children: WEB });
  assert.equal(await legacy(server.port, "start web"), "start web success");
  const before = await v2Pid(server, "web");
  assert.equal(await legacy(server.port, "restart web"), "restart web success");
  const after = await v2Pid(server, "web");
  assert.ok(before !== null && after !== null && after !== before, `${before} -> ${after}`);
});

Deno.test("legacy: `start` of a running child is refused", async () => {
  await using server = await startServer({ children: WEB });
  assert.equal(await legacy(server.port, "start web"), "start web success");
  assert.equal(
    await legacy(server.port, "start web"),
    "Cannot start this child web, it already exsits",
  );
});

Deno.test("legacy: `trystart` of a stopped and of a running child, trailing spaces included", async () => {
  await using server = await startServer({ children: WEB });
  assert.equal(await legacy(server.port, "trystart web"), "Start web success ");
  const first = await v2Pid(server, "web");
  assert.ok(first !== null && isAlive(first));
  assert.equal(
    await legacy(server.port, "TryStart web"),
    "This child already start, stop it first. Stop web success, start it again. Start web success ",
  );
  const second = await v2Pid(server, "web");
  assert.ok(second !== null && second !== first && isAlive(second), `${first} -> ${second}`);
});

Deno.test("legacy: unknown child, reserved name and unknown operation get the original's texts", async () => {
  await using server = await startServer({ children: WEB });
  assert.equal(
    await legacy(server.port, "start nosuch"),
    "Cannot found 'nosuch' file in load path",
  );
  assert.equal(
    await legacy(server.port, "start all"),
    `"all" is reserved keywords, cannot run child named "all"`,
  );
  assert.equal(
    await legacy(server.port, "start on"),
    `"on" is reserved keywords, cannot run child named "on"`,
  );
  assert.equal(await legacy(server.port, "frobnicate"), "no legal operations input");
  assert.equal(await legacy(server.port, "start"), "no legal operations input");
  assert.equal(await legacy(server.port, "start web extra"), "no legal operations input");
  assert.equal(await v2Pid(server, "web"), null, "nothing was started");
});

Deno.test("legacy: names of JavaScript object members are unknown operations, not internal errors", async () => {
  await using server = await startServer({ children: WEB });
  const requests = ["constructor", "toString web", "hasOwnProperty x", "valueOf", "__proto__"];
  const replies: Record<string, string> = {};
  for (const request of requests) replies[request] = await legacy(server.port, request);
  assert.equal(await legacy(server.port, "start web"), "start web success", "server still serves");
  assert.deepEqual(
    replies,
    Object.fromEntries(requests.map((r) => [r, "no legal operations input"])),
  );
});

Deno.test("legacy: `info` shows the server config path, running children and load paths", async () => {
  await using server = await startServer({ children: WEB });
  assert.equal(await legacy(server.port, "start web"), "start web success");
  for (const request of ["info", "Info", "INFO", "InFo"]) {
    const reply = await legacy(server.port, request);
    assert.ok(reply.startsWith("==Server Info Below==\n"), reply);
    assert.ok(reply.includes(`Server config path:\n${server.configPath}\n`), reply);
    assert.ok(reply.includes("[web ]"), reply);
    assert.ok(reply.includes(`Load paths: [${JSON.stringify(server.childDir)}]`), reply);
    assert.ok(reply.includes(`Encrypt mode: "off"`), reply);
    assert.ok(reply.endsWith(`\n${FOOTER}\n`), reply);
  }
});

Deno.test("legacy: `on X` and `with X` pairs of the original client are ignored", async () => {
  await using server = await startServer({ children: WEB });
  assert.equal(
    await legacy(server.port, "start web on 127.0.0.1 with /x/key.pem"),
    "start web success",
  );
  assert.ok(await v2Pid(server, "web"));
  assert.equal(await legacy(server.port, "stop web with /x/key.pem"), "stop web success");
  assert.equal(await legacy(server.port, "Start web on 127.0.0.1\n"), "start web success");
});

Deno.test("legacy: the help command explains the dialect", async () => {
  await using server = await startServer({ children: WEB });
  for (const request of ["help", "Help", "-h"]) {
    const reply = await legacy(server.port, request);
    assert.match(reply, /supervisor-rs 0\.8/);
    assert.match(reply, /start NAME/);
  }
});

Deno.test("legacy: a request that the client half-closes is answered the same", async () => {
  await using server = await startServer({ children: WEB });
  assert.equal(await legacy(server.port, "start web", { halfClose: true }), "start web success");
  assert.equal(await exchange(server.port, "stop web"), "stop web success");
});

Deno.test("legacy: the v2 client and the legacy dialect work on the same server at the same time", async () => {
  await using server = await startServer({ children: { ...WEB, api: "command: sleep 1000\n" } });
  // A v2 connection stays open across legacy requests.
  const v2 = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    const lines = readLines(v2);
    await v2.write(encoder.encode(JSON.stringify({ v: 2, id: "a", op: "check" }) + "\n"));
    assert.equal(JSON.parse(await lines.next())?.ok, true);

    assert.equal(await legacy(server.port, "start web"), "start web success");
    const v2Check = await server.json("check");
    assert.equal(v2Check.ok, true);
    const web = await v2Pid(server, "web");
    assert.ok(web !== null);
    assertCheckReply(await legacy(server.port, "check"), { web });

    await v2.write(
      encoder.encode(JSON.stringify({ v: 2, id: "b", op: "start", child: "api" }) + "\n"),
    );
    const started = JSON.parse(await lines.next());
    assert.equal(started.id, "b");
    assert.equal(started.ok, true, JSON.stringify(started));
    const api = (started.data as { pid: number }).pid;

    const replies = await Promise.all([
      ...Array.from({ length: 8 }, () => legacy(server.port, "check")),
      server.json("check"),
    ]);
    for (const reply of replies.slice(0, 8)) assertCheckReply(reply as string, { web, api });
    assert.equal((replies[8] as { ok: boolean }).ok, true);

    assert.equal(await legacy(server.port, "stop api"), "stop api success");
    await v2.write(encoder.encode(JSON.stringify({ v: 2, id: "c", op: "check" }) + "\n"));
    const checked = JSON.parse(await lines.next());
    const children = checked.data.children as { name: string; pid: number | null }[];
    assert.equal(children.find((c) => c.name === "api")?.pid, null);
    assert.equal(children.find((c) => c.name === "web")?.pid, web);
  } finally {
    v2.close();
  }
});

/** Reads newline-terminated lines from an open connection. */
function readLines(conn: Deno.Conn): { next(): Promise<string> } {
  let pending = "";
  const buffer = new Uint8Array(64 * 1024);
  return {
    async next(): Promise<string> {
      for (;;) {
        const at = pending.indexOf("\n");
        if (at >= 0) {
          const line = pending.slice(0, at);
          pending = pending.slice(at + 1);
          return line;
        }
        const n = await conn.read(buffer);
        if (n === null) throw new Error(`connection closed; pending ${JSON.stringify(pending)}`);
        pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      }
    },
  };
}

Deno.test("legacy: `kill` answers `I am dying. last error: ` and the server exits 0, children stopped", async () => {
  await using server = await startServer({ children: { ...WEB, api: "command: sleep 1000\n" } });
  assert.equal(await legacy(server.port, "start web"), "start web success");
  assert.equal(await legacy(server.port, "start api"), "start api success");
  const web = await v2Pid(server, "web");
  const api = await v2Pid(server, "api");
  assert.ok(web !== null && api !== null && isAlive(web) && isAlive(api));
  assert.equal(await legacy(server.port, "kill"), "I am dying. last error: \n");
  const status = await exitWithin(server, 15_000);
  assert.equal(status.code, 0, server.stderr.text);
  assert.ok(!isAlive(web), `web (${web}) survived the server`);
  assert.ok(!isAlive(api), `api (${api}) survived the server`);
});

Deno.test("legacy: `legacy: off` with encrypt off refuses the dialect with LEGACY_DISABLED", async () => {
  await using server = await startServer({ serverYaml: "legacy: off", children: WEB });
  const reply = await legacy(server.port, "start web");
  assert.equal(
    reply,
    `This server does not accept supervisor-rs commands: ${server.configPath} says "legacy: off". Use supervisor-ts-client, or change it to "legacy: on" (read at each connection, no restart needed)`,
  );
  assert.equal(await v2Pid(server, "web"), null);
  await legacy(server.port, "check");
  // The log says it once, not once per request.
  await server.stderr.waitFor("a supervisor-rs client was refused (said once)");
  assert.equal(server.stderr.text.split("a supervisor-rs client was refused").length - 1, 1);
});

/** Asserts the refusal of a signed server that was not told to accept old clients. */
function assertLegacyDisabled(reply: string, configPath: string): void {
  assert.equal(
    reply,
    `${BANNER}\nThis server does not accept supervisor-rs signed commands by default: they carry no time and no nonce, so anyone who records one can replay it, forever. To accept them while old clients remain, add the line "legacy: on" to ${configPath} (read at each connection, no restart needed); better, move the clients to supervisor-ts-client, whose signed requests cannot be replayed`,
  );
}

// ---------------------------------------------------------------------------------------------
// encrypt on
// ---------------------------------------------------------------------------------------------

Deno.test({
  name: "legacy+encrypt: the original client's signed `start web` and `check` are obeyed",
  ignore: programs.skip("openssl"),
  async fn() {
    const { server, alice, tempDir } = await encryptedServer();
    await using _server = server;
    try {
      assert.equal(
        await legacy(server.port, signed(alice, "start web")),
        `${BANNER}\nstart web success`,
      );
      const reply = await legacy(server.port, signed(alice, "check"));
      assert.ok(reply.startsWith(`${BANNER}\n${CHECK_HEAD}\n`), reply);
      const pid = pidInCheck(reply, "web");
      assert.ok(isAlive(pid), `web (${pid}) is not running`);
      assertCheckReply(reply.slice(BANNER.length + 1), { web: pid });
      assert.equal(
        await legacy(server.port, signed(alice, "start nosuch")),
        `${BANNER}\nCannot found 'nosuch' file in load path`,
      );
      assert.equal(
        await legacy(server.port, signed(alice, "frobnicate")),
        `${BANNER}\nno legal operations input`,
      );
    } finally {
      await Deno.remove(tempDir, { recursive: true });
    }
  },
});

Deno.test("legacy+encrypt: the server warns on stderr that legacy signed commands can be replayed", async () => {
  await using server = await startServer({ serverYaml: ENCRYPT_LEGACY, children: WEB });
  const [warning] = await server.stderr.waitFor(/legacy: on with encrypt: on[^\n]*/);
  assert.match(warning!, /replay/);
});

Deno.test({
  name: "legacy+encrypt: unsigned, unknown-key, wrong-key and damaged requests are refused",
  ignore: programs.skip("openssl"),
  async fn() {
    const { server, alice, tempDir } = await encryptedServer();
    await using _server = server;
    try {
      const bob = await makeKey(tempDir, "bob", undefined);
      assert.equal(await legacy(server.port, "check"), `${BANNER}\nCannot parse encrypt data`);
      assert.equal(await legacy(server.port, "start web"), `${BANNER}\nCannot parse encrypt data`);
      assert.equal(
        await legacy(server.port, signed(alice, "start web", "nokey")),
        `${BANNER}\nCannot found 'nokey' file in keys path`,
      );
      assert.equal(
        await legacy(server.port, signed(bob, "start web", "alice")),
        `${BANNER}\nCannot parse encrypt data`,
        "a block signed with another key than the one named",
      );
      const damaged = signed(alice, "start web");
      damaged[damaged.length - 10] = damaged[damaged.length - 10]! ^ 0x01;
      assert.equal(await legacy(server.port, damaged), `${BANNER}\nCannot parse encrypt data`);
      assert.equal(
        await legacy(server.port, concat(encoder.encode("alice;"), encoder.encode("start web")), {
          halfClose: true,
        }),
        `${BANNER}\nCannot parse encrypt data`,
        "a plain command after the key name",
      );
      const escape = await legacy(server.port, signed(alice, "start web", "../keys/alice"));
      assert.ok(escape.startsWith(`${BANNER}\nCannot found '../keys/alice'`), escape);
      assert.equal(
        await legacy(server.port, signed(alice, "check")),
        `${BANNER}\n${CHECK_HEAD}\n`,
        "nothing was started by the refused requests",
      );
    } finally {
      await Deno.remove(tempDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "legacy+encrypt: a block whose last byte is 0x00 is accepted (the original refused it)",
  ignore: programs.skip("openssl"),
  async fn() {
    const { server, alice, tempDir } = await encryptedServer();
    await using _server = server;
    try {
      let found: { text: string; bytes: Uint8Array } | undefined;
      for (let i = 0; i < 20_000 && !found; i++) {
        const text = `check on h${i}`;
        const bytes = block(alice, text);
        if (bytes[bytes.length - 1] === 0x00) found = { text, bytes };
      }
      assert.ok(found, "no variant of the command signs to a block ending in 0x00");
      assert.equal(found.bytes.length, 256);
      const request = concat(encoder.encode("alice;"), found.bytes);
      assert.equal(request[request.length - 1], 0x00);
      assert.equal(
        await legacy(server.port, request),
        `${BANNER}\n${CHECK_HEAD}\n`,
        `signed ${JSON.stringify(found.text)}`,
      );
    } finally {
      await Deno.remove(tempDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "legacy+encrypt: the same signed bytes work every time (legacy is replayable by design)",
  ignore: programs.skip("openssl"),
  async fn() {
    const { server, alice, tempDir } = await encryptedServer();
    await using _server = server;
    try {
      const start = signed(alice, "start web");
      const stop = signed(alice, "stop web");
      const check = signed(alice, "check");
      assert.equal(await legacy(server.port, start), `${BANNER}\nstart web success`);
      const first = await legacy(server.port, check);
      const again = await legacy(server.port, check);
      assert.equal(again, first, "the replayed check is answered like the first");
      assert.ok(first.includes("child name: web"), first);
      assert.equal(await legacy(server.port, stop), `${BANNER}\nstop web success`);
      // A captured start, replayed: obeyed again.
      assert.equal(await legacy(server.port, start), `${BANNER}\nstart web success`);
      assert.ok(isAlive(pidInCheck(await legacy(server.port, check), "web")));
    } finally {
      await Deno.remove(tempDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "legacy+encrypt: a signed request whose block arrives in pieces is read whole",
  ignore: programs.skip("openssl"),
  async fn() {
    const { server, alice, tempDir } = await encryptedServer();
    await using _server = server;
    try {
      const bytes = signed(alice, "start web");
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      await conn.write(bytes.subarray(0, 6));
      await new Promise((resolve) => setTimeout(resolve, 150));
      await conn.write(bytes.subarray(6, 100));
      await new Promise((resolve) => setTimeout(resolve, 150));
      await conn.write(bytes.subarray(100));
      let text = "";
      const buffer = new Uint8Array(4096);
      const timer = setTimeout(() => conn.close(), 10_000);
      try {
        for (;;) {
          const n = await conn.read(buffer);
          if (n === null) break;
          text += decoder.decode(buffer.subarray(0, n));
        }
      } finally {
        clearTimeout(timer);
        try {
          conn.close();
        } catch {
          // closed already
        }
      }
      assert.equal(text, `${BANNER}\nstart web success`);
    } finally {
      await Deno.remove(tempDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "legacy+encrypt: the signed v2 client works alongside signed legacy requests",
  ignore: programs.skip("openssl"),
  async fn() {
    const { server, alice, tempDir } = await encryptedServer();
    await using _server = server;
    try {
      assert.equal(
        await legacy(server.port, signed(alice, "start web")),
        `${BANNER}\nstart web success`,
      );
      const v2 = await server.json("check", "with", alice.privatePath);
      assert.equal(v2.ok, true, v2.message);
      const children = v2.data!.children as { name: string; pid: number | null }[];
      const pid = children.find((c) => c.name === "web")?.pid;
      assert.ok(typeof pid === "number");
      const reply = await legacy(server.port, signed(alice, "check"));
      assert.equal(pidInCheck(reply, "web"), pid);
      const unsigned = await server.json("check");
      assert.equal(unsigned.ok, false, "an unsigned v2 request is refused with encrypt on");
    } finally {
      await Deno.remove(tempDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "legacy+encrypt: with `legacy` not set, old clients are told what to add to which file",
  ignore: programs.skip("openssl"),
  async fn() {
    await using server = await startServer({
      serverYaml: "encrypt: on\npub_keys_path: [keys]",
      children: WEB,
    });
    const tempDir = await Deno.makeTempDir({ prefix: "supervisor-ts-legacy-keys-" });
    try {
      const alice = await makeKey(tempDir, "alice", join(server.dir, "keys"));
      assertLegacyDisabled(await legacy(server.port, "check"), server.configPath);
      assertLegacyDisabled(
        await legacy(server.port, signed(alice, "start web")),
        server.configPath,
      );
      const v2 = await server.json("check", "with", alice.privatePath);
      assert.equal(v2.ok, true, v2.message);
      const children = v2.data!.children as { name: string; pid: number | null }[];
      assert.equal(children.find((c) => c.name === "web")?.pid, null, "web was not started");
    } finally {
      await Deno.remove(tempDir, { recursive: true });
    }
  },
});
