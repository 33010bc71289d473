/**
 * `depends_on` with real servers and real children: a start brings its dependencies along and
 * waits for them, stops and shutdown go in reverse dependency order, and a cycle is refused
 * before anything runs. The children write timestamps (ns since the epoch) when they start and
 * when they get SIGTERM, so the order is read from the processes themselves.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, type TestServer } from "./harness.ts";

const UP = 'ready:\n  log: "^up$"\n';

/**
 * A child that records its start and its SIGTERM in `events.log`, then sleeps. Once both are in
 * place (the start line written, the trap set) it prints `up`, which `UP` makes its readiness:
 * then a start is answered only when the child can record its stop, however loaded the machine.
 */
function recorder(name: string, extra = UP): string {
  const script =
    `echo "start ${name} $(date +%s%N)" >> ../events.log; trap 'echo "stop ${name} $(date +%s%N)" >> ../events.log; exit 0' TERM; echo up; while :; do sleep 0.05; done`;
  return `command: [sh, -c, ${JSON.stringify(script)}]\n${extra}`;
}

/** The events the children wrote, in file order, as `[what, child, ns]`. */
async function events(server: TestServer): Promise<[string, string, bigint][]> {
  let text = "";
  try {
    text = await Deno.readTextFile(join(server.dir, "events.log"));
  } catch {
    return [];
  }
  return text.trim().split("\n").filter((l) => l !== "").map((line) => {
    const [what, child, ns] = line.split(" ");
    return [what!, child!, BigInt(ns!)];
  });
}

function at(list: [string, string, bigint][], what: string, child: string): bigint {
  const found = list.find(([w, c]) => w === what && c === child);
  assert.ok(found, `no "${what} ${child}" in ${JSON.stringify(list.map((e) => e.slice(0, 2)))}`);
  return found[2];
}

Deno.test("start app starts what it depends on first, after each counts as started", async () => {
  await using server = await startServer({
    children: {
      db: recorder("db", "start_seconds: 1\n"),
      cache: recorder("cache", "start_seconds: 0.5\n"),
      app: recorder("app", UP + "depends_on: { db: started, cache: started }\n"),
    },
  });
  const start = await server.json("start", "app");
  assert.equal(start.ok, true, start.message);
  assert.match(start.message, /started first: cache, db/);
  const list = await events(server);
  const app = at(list, "start", "app");
  // app began only once db had stayed up its start_seconds (1 s after it began).
  // Without the wait app would begin within milliseconds of them. The margins allow for db's and
  // cache's shells to write their line late on a loaded machine (up to 400 and 250 ms).
  assert.ok(app - at(list, "start", "db") >= 600_000_000n, "app waited for db");
  assert.ok(app - at(list, "start", "cache") >= 250_000_000n, "app waited for cache");
  for (const name of ["db", "cache", "app"]) {
    assert.equal((await server.child(name)).state, "RUNNING", name);
  }
});

Deno.test("stop of a dependency stops its dependents first and says so", async () => {
  await using server = await startServer({
    children: {
      db: recorder("db"),
      app: recorder("app", UP + "depends_on: [db]\n"),
    },
  });
  assert.equal((await server.json("start", "app")).ok, true);
  const stop = await server.json("stop", "db");
  assert.equal(stop.ok, true, stop.message);
  assert.match(stop.message, /stopped first, as they depend on it: app/);
  const list = await events(server);
  assert.ok(at(list, "stop", "app") < at(list, "stop", "db"), "app stopped before db");
});

Deno.test("shutdown stops children in reverse dependency order", async () => {
  const server = await startServer({
    serverYaml: "mode: full\n",
    children: {
      db: recorder("db"),
      api: recorder("api", UP + "depends_on: [db]\n"),
      web: recorder("web", UP + "depends_on: [api]\n"),
    },
  });
  try {
    await server.waitChild("web", (c) => c.state === "RUNNING");
    const started = await events(server);
    assert.ok(at(started, "start", "db") < at(started, "start", "api"), "startup: db first");
    assert.ok(at(started, "start", "api") < at(started, "start", "web"), "startup: then api");
    const status = await server.stop();
    assert.equal(status.code, 0);
    const list = await events(server);
    assert.ok(at(list, "stop", "web") < at(list, "stop", "api"), "web stopped before api");
    assert.ok(at(list, "stop", "api") < at(list, "stop", "db"), "api stopped before db");
  } finally {
    await server[Symbol.asyncDispose]();
  }
});

Deno.test("a dependency cycle is refused before anything runs", async () => {
  await using server = await startServer({
    children: {
      a: recorder("a", UP + "depends_on: [b]\n"),
      b: recorder("b", UP + "depends_on: [a]\n"),
    },
  });
  const start = await server.json("start", "a");
  assert.equal(start.ok, false);
  assert.equal(start.code, "CONFIG_INVALID");
  assert.match(start.message, /form a cycle: a -> b -> a/);
  assert.deepEqual(await events(server), [], "nothing was started");
});

Deno.test("restart all stops in reverse dependency order, then starts in order", async () => {
  await using server = await startServer({
    children: {
      db: recorder("db"),
      app: recorder("app", UP + "depends_on: [db]\n"),
    },
  });
  assert.equal((await server.json("start", "app")).ok, true);
  await Deno.remove(join(server.dir, "events.log"));
  const restart = await server.json("restart", "all");
  assert.equal(restart.ok, true, restart.message);
  const list = await events(server);
  assert.ok(at(list, "stop", "app") < at(list, "stop", "db"), "app stopped before db");
  assert.ok(at(list, "stop", "db") < at(list, "start", "db"), "every stop before any start");
  assert.ok(at(list, "start", "db") < at(list, "start", "app"), "db started before app");
});
