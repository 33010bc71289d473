/**
 * Attacks on the control port by someone on the same host without a key, each with a bounded
 * loop on loopback, asserting that the operator's `check` is answered promptly throughout and
 * that nothing the attacker does costs a child.
 *
 * Every test runs a real server on an ephemeral port (and, where it says so, a control socket
 * in its temporary directory).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  delay,
  isAlive,
  processesWith,
  readAll,
  startServer,
  type TestServer,
  waitUntil,
} from "./harness.ts";

/** Longest an operator's `check` may take while an attack is going on. */
const PROMPT_MS = 1_000;

const encoder = new TextEncoder();

/** A v2 response line as it comes off the wire. */
interface Reply {
  ok: boolean;
  code?: string;
  message: string;
  data?: Record<string, unknown>;
}

/** One request over a fresh connection to `to`; the reply and how long it took. */
async function ask(
  to: Deno.ConnectOptions | Deno.UnixConnectOptions,
  body: Record<string, unknown>,
): Promise<{ reply: Reply; ms: number }> {
  const started = performance.now();
  const conn = await Deno.connect(to as Deno.ConnectOptions);
  await conn.write(encoder.encode(JSON.stringify({ v: 2, id: 1, ...body }) + "\n"));
  const text = await readFirstLine(conn, 10_000);
  const ms = performance.now() - started;
  return { reply: JSON.parse(text) as Reply, ms };
}

/** The first line `conn` sends (then closes it). */
async function readFirstLine(conn: Deno.Conn, ms: number): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  const timer = setTimeout(() => conn.close(), ms);
  try {
    while (!text.includes("\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
  }
  return text.split("\n")[0] ?? "";
}

function tcp(server: TestServer): Deno.ConnectOptions {
  return { hostname: "127.0.0.1", port: server.port };
}

/** Opens `count` connections that send nothing. */
async function idleSockets(server: TestServer, count: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) conns.push(await Deno.connect(tcp(server)));
  return conns;
}

function closeAll(conns: readonly Deno.Conn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // closed by the server
    }
  }
}

/**
 * Connects `count` times and resets each connection (RST) right away, so most are reset before
 * the server accepts them; from a process of its own, as an attacker would.
 */
async function resetFlood(port: number, count: number): Promise<void> {
  const script = `
    import net from "node:net";
    const [port, count] = Deno.args.map(Number);
    let done = 0;
    await new Promise((resolve) => {
      const finish = () => ++done === count && resolve();
      for (let i = 0; i < count; i++) {
        const socket = net.connect(port, "127.0.0.1", () => { socket.resetAndDestroy(); finish(); });
        socket.on("error", finish);
      }
    });`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script, String(port), String(count)],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test("connections reset before they are accepted do not delay the operator's check", async () => {
  await using server = await startServer();
  const acceptErrors = () =>
    server.stderr.text.split("\n").filter((l) => l.includes("accept failed")).length;
  // Three waves, and more while none was reset before the server accepted it (on a loaded
  // machine the accept loop may keep up with a wave).
  let waves = 0;
  while (waves < 3 || (acceptErrors() === 0 && waves < 12)) {
    await resetFlood(server.port, 200);
    waves++;
  }
  const { reply, ms } = await ask(tcp(server), { op: "check" });
  assert.equal(reply.ok, true, reply.message);
  // It took 25.8 s after 600 resets when every accept error paused accepting for 50 ms.
  assert.ok(ms < PROMPT_MS, `check took ${Math.round(ms)} ms after ${waves * 200} resets`);
  const logged = server.stderr.text.split("\n").filter((l) => l.includes("accept failed"));
  assert.ok(
    logged.length >= 1,
    `none of ${waves * 200} resets reached the server before it accepted`,
  );
  assert.ok(logged.length <= 2, `accept errors logged ${logged.length} times`);
});

Deno.test("idle sockets that never send a request cannot lock the operator out", async () => {
  await using server = await startServer({ serverYaml: "limits:\n  max_connections: 20\n" });
  const idle = await idleSockets(server, 20);
  try {
    // Fresh idle sockets hold their slots for a grace period: the newcomer is told BUSY.
    const early = await ask(tcp(server), { op: "check" });
    assert.equal(early.reply.code, "BUSY", early.reply.message);
    // Past the grace period, the longest-idle one is closed to make room for the operator.
    await delay(2_200);
    const { reply, ms } = await ask(tcp(server), { op: "check" });
    assert.equal(reply.ok, true, reply.message);
    assert.ok(ms < PROMPT_MS, `check took ${Math.round(ms)} ms`);
    const evicted = await readAll(idle[0]!, 2_000);
    assert.equal(evicted, "", "the evicted socket is closed without an answer");
  } finally {
    closeAll(idle);
  }
});

Deno.test("a client that answered requests keeps its slot; silent ones are evicted first", async () => {
  await using server = await startServer({ serverYaml: "limits:\n  max_connections: 3\n" });
  // An operator's long-lived connection that has been answered once.
  const operator = await Deno.connect(tcp(server));
  await operator.write(encoder.encode(JSON.stringify({ v: 2, id: 1, op: "check" }) + "\n"));
  const buffer = new Uint8Array(64 * 1024);
  assert.ok((await operator.read(buffer))! > 0);
  const idle = await idleSockets(server, 2);
  try {
    await delay(2_200);
    for (let i = 0; i < 3; i++) {
      const { reply } = await ask(tcp(server), { op: "check" });
      assert.equal(reply.ok, true, reply.message);
    }
    await operator.write(encoder.encode(JSON.stringify({ v: 2, id: 2, op: "check" }) + "\n"));
    const n = await operator.read(buffer);
    assert.ok(n !== null && n > 0, "the answered connection was not evicted");
  } finally {
    closeAll([operator, ...idle]);
  }
});

Deno.test("the control socket answers while the TCP port is flooded, and only its owner may use it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-sock-" });
  const path = join(dir, "control.sock");
  try {
    await using server = await startServer({
      serverYaml: `control_socket: ${path}\nlimits:\n  max_connections: 10\n`,
      children: { sleeper: "command: sleep 1000\nstart_seconds: 0\n" },
    });
    await server.stdout.waitFor(`listening on unix:${path}`);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const idle = await idleSockets(server, 10);
    try {
      const busy = await ask(tcp(server), { op: "check" });
      assert.equal(busy.reply.code, "BUSY");
      const local = await ask({ transport: "unix", path }, { op: "start", child: "sleeper" });
      assert.equal(local.reply.ok, true, local.reply.message);
      assert.ok(local.ms < PROMPT_MS, `start over the control socket took ${local.ms} ms`);
      const check = await ask({ transport: "unix", path }, { op: "check" });
      assert.equal(check.reply.ok, true);
    } finally {
      closeAll(idle);
    }
    await server.stop();
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound, "the socket is removed at exit");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("follow streams have their own pool and never take the operators' slots", async () => {
  await using server = await startServer({
    serverYaml: "limits:\n  max_connections: 5\n  max_follows: 20\n",
    children: { quiet: "command: sleep 1000\n" },
  });
  const start = await ask(tcp(server), { op: "start", child: "quiet" });
  assert.equal(start.reply.ok, true, start.reply.message);
  const follows: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const conn = await Deno.connect(tcp(server));
      follows.push(conn);
      await conn.write(
        encoder.encode(
          JSON.stringify({ v: 2, id: i, op: "log", child: "quiet", args: { follow: true } }) +
            "\n",
        ),
      );
      const buffer = new Uint8Array(4096);
      const n = await conn.read(buffer);
      const first = JSON.parse(new TextDecoder().decode(buffer.subarray(0, n!)).split("\n")[0]!);
      assert.equal(first.ok, true, first.message);
    }
    const beyond = await ask(tcp(server), { op: "log", child: "quiet", args: { follow: true } });
    assert.equal(beyond.reply.code, "BUSY", beyond.reply.message);
    for (let i = 0; i < 5; i++) {
      const { reply, ms } = await ask(tcp(server), { op: "check" });
      assert.equal(reply.ok, true, reply.message);
      assert.ok(ms < PROMPT_MS);
    }
  } finally {
    closeAll(follows);
  }
});

Deno.test("a config file over the size limit is refused with its size and the limit", async () => {
  await using server = await startServer({ children: { ok: "command: sleep 1000\n" } });
  const big = "command: sleep 1\n# " + "x".repeat(2 * 1024 * 1024) + "\n";
  server.writeChild("big", big);
  const { reply, ms } = await ask(tcp(server), { op: "start", child: "big" });
  assert.equal(reply.code, "CONFIG_INVALID");
  assert.match(reply.message, /big\.yml: the file is \d+ bytes, over the limit of 1048576 bytes/);
  assert.ok(ms < PROMPT_MS, `refusing took ${ms} ms`);
  const check = await ask(tcp(server), { op: "check" });
  assert.equal(check.reply.ok, true);
});

Deno.test("a child config with 40,000 env keys is read in linear time", async () => {
  await using server = await startServer();
  let yaml = "command: sleep 1000\nenv:\n";
  for (let i = 0; i < 40_000; i++) yaml += `  K${i}: v\n`;
  server.writeChild("wide", yaml);
  const started = performance.now();
  const checking = ask(tcp(server), { op: "check", child: "wide" });
  const trying = ask(tcp(server), { op: "start", child: "wide" });
  const [check, start] = await Promise.all([checking, trying]);
  const ms = performance.now() - started;
  assert.equal(check.reply.ok, true, check.reply.message);
  assert.ok(start.reply.ok || start.reply.code === "SPAWN_FAILED", start.reply.message);
  // It took 23 s when the YAML library compared every key with every other.
  assert.ok(ms < 8_000, `reading a 40,000-key env took ${Math.round(ms)} ms`);
});

Deno.test("SIGTERM while startup children are being spawned leaves no process behind", async () => {
  const marker = `1000.${Date.now() % 100_000}`;
  const children: Record<string, string> = {};
  for (let i = 0; i < 40; i++) children[`c${i}`] = `command: sleep ${marker}\n`;
  const server = await startServer({ serverYaml: "mode: full\n", children, expectFailure: true });
  try {
    await waitUntil(() => processesWith(marker).length > 0, 20_000, "a first child");
    server.process.kill("SIGTERM");
    const status = await server.exited;
    assert.equal(status.code, 0, server.stderr.text);
    await waitUntil(() => processesWith(marker).length === 0, 5_000, "no child left").catch(
      () => {},
    );
    const left = processesWith(marker).filter(isAlive);
    assert.deepEqual(left, [], `orphans: ${left.join(", ")}\n${server.stderr.text}`);
  } finally {
    await server[Symbol.asyncDispose]();
    for (const pid of processesWith(marker)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
});
