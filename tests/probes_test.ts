/**
 * Readiness and health probes with real servers and real programs: a database that opens its
 * port only after a delay gates the app that depends on it (timestamps from the processes), a
 * log line makes a child ready, and a health probe that starts failing gets the child restarted.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, startServer, waitUntil } from "./harness.ts";

/** A program that opens `port` after `delayMs`, writing the time (ns) to `events.log`. */
const SLOW_DB = `
const [port, delay] = Deno.args.map(Number);
await new Promise((resolve) => setTimeout(resolve, delay));
const listener = Deno.listen({ hostname: "127.0.0.1", port });
await Deno.writeTextFile("../events.log", \`open db \${BigInt(Date.now()) * 1000000n}\\n\`, { append: true });
for await (const conn of listener) conn.close();
`;

Deno.test("an app that depends on a ready db starts only after the db's port is open", async () => {
  const port = freePort();
  const deno = JSON.stringify(Deno.execPath());
  await using server = await startServer({
    children: {
      db: [
        `command: [${deno}, run, -A, --quiet, db.ts, "${port}", "1200"]`,
        `ready: { tcp: "127.0.0.1:${port}", period: 0.1, timeout: 0.5 }`,
      ].join("\n"),
      app: [
        `command: [sh, -c, 'echo "start app $(date +%s%N)" >> ../events.log; exec sleep 1000']`,
        "start_seconds: 0",
        "depends_on: { db: ready }",
      ].join("\n"),
    },
  });
  await Deno.writeTextFile(join(server.childDir, "db.ts"), SLOW_DB);
  const start = await server.json("start", "app", "--timeout", "20");
  assert.equal(start.ok, true, start.message);
  // start_seconds 0: the start is answered once the app is spawned, maybe before its shell
  // has written its line.
  let lines: string[] = [];
  for (const until = Date.now() + 5000; Date.now() < until;) {
    lines = (await Deno.readTextFile(join(server.dir, "events.log"))).trim().split("\n");
    if (lines.some((l) => l.startsWith("start app"))) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const time = (what: string) => {
    const line = lines.find((l) => l.startsWith(what));
    assert.ok(line, `no "${what}" in ${lines.join(" | ")}`);
    return BigInt(line.split(" ")[2]!);
  };
  assert.ok(time("start app") >= time("open db"), "the app started after the db's port opened");
  const db = await server.child("db");
  assert.equal(db.state, "RUNNING");
  assert.equal(db.ready, true);
});

Deno.test("a log probe makes a child ready on its line; start waits for it", async () => {
  await using server = await startServer({
    children: {
      pg: [
        `command: [sh, -c, 'sleep 0.6; echo "database system is ready to accept connections"; exec sleep 1000']`,
        `ready: { log: "ready to accept connections" }`,
      ].join("\n"),
    },
  });
  const began = Date.now();
  const start = await server.json("start", "pg");
  assert.equal(start.ok, true, start.message);
  assert.ok(Date.now() - began >= 550, "start answered once the line was written");
  const pg = await server.child("pg");
  assert.equal(pg.state, "RUNNING");
  assert.equal(pg.ready, true);
});

Deno.test("a child never ready within timeout_total is a failed start", async () => {
  await using server = await startServer({
    children: {
      mute: [
        "command: sleep 1000",
        `ready: { log: "never printed", timeout_total: 0.5 }`,
      ].join("\n"),
    },
  });
  const start = await server.json("start", "mute");
  assert.equal(start.ok, false);
  assert.equal(start.code, "EXITED_EARLY");
  assert.match(start.message, /not ready within 0\.5s/);
});

Deno.test("a health probe that keeps failing gets the child restarted, recorded as unhealthy", async () => {
  await using server = await startServer({
    children: {
      web: [
        "command: sleep 1000",
        "start_seconds: 0",
        "health: { exec: test -f healthy, period: 0.1, failure_threshold: 3 }",
        "backoff: { initial: 0.1 }",
      ].join("\n"),
    },
  });
  const flag = join(server.childDir, "healthy");
  await Deno.writeTextFile(flag, "");
  const first = await server.json("start", "web");
  assert.equal(first.ok, true, first.message);
  const pid = (await server.child("web")).pid;
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await server.child("web")).pid, pid, "healthy: left alone");
  await Deno.remove(flag);
  await waitUntil(
    async () => {
      const child = await server.child("web");
      return child.pid !== null && child.pid !== pid;
    },
    5_000,
    "a restart after the health probe failed",
  );
  const child = await server.child("web");
  const unhealthy = child.history.find((e) => e.reason === "unhealthy");
  assert.ok(unhealthy, JSON.stringify(child.history));
  assert.match(unhealthy.description, /\(unhealthy\)$/);
});
