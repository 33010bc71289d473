/**
 * Black-box tests of supervision: restart policies with backoff, repeat timers, hooks, crash
 * history and reload, with real processes and real time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { delay, isAlive, openFds, startServer, waitUntil, zombieChildren } from "./harness.ts";

Deno.test("a crash loop of 200 restarts leaves no zombie and does not grow the server's open files", async () => {
  await using server = await startServer({
    children: {
      crasher:
        'command: "false"\nrestart: always\nstart_seconds: 0\nbackoff: { initial: 0, max: 0 }\n',
      steady: "command: sleep 1000\n",
    },
  });
  await server.json("start", "steady");
  await delay(300);
  const fdsBefore = openFds(server.pid);
  await server.json("start", "crasher");
  await server.waitChild("crasher", (c) => c.restarts >= 200, 60_000);
  const stop = await server.json("stop", "crasher");
  assert.equal(stop.ok, true, stop.message);
  await delay(300);
  const fdsAfter = openFds(server.pid);
  assert.ok(fdsAfter <= fdsBefore + 2, `open fds before ${fdsBefore}, after ${fdsAfter}`);
  assert.deepEqual(zombieChildren(server.pid), []);
  const child = await server.child("crasher");
  assert.equal(child.state, "STOPPED");
  assert.equal(child.history.length, 10, "the last 10 exits are kept");
  assert.equal((await server.child("steady")).state, "RUNNING", "other children are untouched");
});

Deno.test("backoff with real time: restarts at growing delays, then FATAL after max_restarts", async () => {
  await using server = await startServer({
    children: {
      flaky:
        'command: "false"\nrestart: on-failure\nstart_seconds: 1\nmax_restarts: 3\nbackoff: { initial: 0.2, multiplier: 2, max: 1 }\n',
    },
  });
  const began = Date.now();
  await server.json("start", "flaky");
  const backoff = await server.waitChild("flaky", (c) => c.state === "BACKOFF");
  assert.equal(
    typeof backoff.next_attempt_at,
    "string",
    "check shows when the next attempt is due",
  );
  const fatal = await server.waitChild("flaky", (c) => c.state === "FATAL", 10_000);
  const took = Date.now() - began;
  // 0.2 + 0.4 + 0.8 s of backoff, each within ±20 %.
  assert.ok(took >= 1100 && took < 5000, `FATAL after ${took} ms`);
  assert.equal(fatal.history.length, 4);
  assert.match(String(fatal.error), /gave up after 4 exits in a row/);
  const text = await server.client("check", "flaky");
  assert.match(text.stdout, /state:\s+FATAL/);
  assert.match(text.stdout, /error:\s+gave up after 4 exits/);

  // A manual start of a FATAL child starts it at once (without waiting: it fails again).
  const start = await server.json("start", "flaky", "--no-wait");
  assert.equal(start.ok, true);
  const after = await server.child("flaky");
  assert.ok(["STARTING", "BACKOFF", "EXITED"].includes(after.state) || after.failures === 0);
});

Deno.test("restart on-failure does not restart a child that exited 0", async () => {
  await using server = await startServer({
    children: { done: 'command: "true"\nrestart: on-failure\nbackoff: { initial: 0 }\n' },
  });
  await server.json("start", "done");
  await server.waitChild("done", (c) => c.state === "EXITED");
  await delay(400);
  const child = await server.child("done");
  assert.equal(child.state, "EXITED");
  assert.equal(child.restarts, 0);
  assert.equal(child.last_exit?.code, 0);
});

Deno.test("stop during BACKOFF cancels the pending restart", async () => {
  await using server = await startServer({
    children: { flaky: 'command: "false"\nrestart: always\nbackoff: { initial: 1 }\n' },
  });
  await server.json("start", "flaky");
  await server.waitChild("flaky", (c) => c.state === "BACKOFF");
  const stop = await server.json("stop", "flaky");
  assert.equal(stop.ok, true);
  assert.match(stop.message, /pending restart was cancelled/);
  await delay(1500);
  const child = await server.child("flaky");
  assert.equal(child.state, "STOPPED");
  assert.equal(child.restarts, 0);
});

Deno.test("repeat restarts the child after its seconds", async () => {
  await using server = await startServer({
    children: { tick: "command: sleep 1000\nrepeat:\n  action: restart\n  seconds: 0.5\n" },
  });
  const start = await server.json("start", "tick");
  assert.equal(start.ok, true);
  const first = await server.child("tick");
  assert.equal(typeof first.repeat_at, "string");
  const next = await server.waitChild("tick", (c) => c.pid !== null && c.pid !== first.pid, 5000);
  assert.ok(next.restarts >= 1);
  assert.ok(!isAlive(first.pid!));
});

Deno.test("a repeat timer does nothing after a manual restart; the new run arms its own", async () => {
  await using server = await startServer({
    children: { tick: "command: sleep 1000\nrepeat:\n  seconds: 2\n" },
  });
  const pidOf = async () => {
    const reply = await server.request({ op: "check", child: "tick" });
    return (reply.data as { children: { pid: number | null }[] }).children[0]!.pid;
  };
  const t0 = Date.now();
  await server.request({ op: "start", child: "tick" });
  await delay(1000 - (Date.now() - t0));
  await server.request({ op: "restart", child: "tick" });
  const second = await pidOf();
  await delay(2400 - (Date.now() - t0)); // the first timer fired at 2 s and found another run
  assert.equal(await pidOf(), second);
  const third = await server.waitChild("tick", (c) => c.pid !== null && c.pid !== second, 5000);
  assert.equal(third.restarts, 2);
});

Deno.test("stop cancels the repeat timer and never arms one", async () => {
  await using server = await startServer({
    children: { once: "command: sleep 1000\nrepeat:\n  action: start\n  seconds: 0.3\n" },
  });
  await server.json("start", "once");
  const stop = await server.json("stop", "once");
  assert.equal(stop.ok, true);
  assert.equal((await server.child("once")).repeat_at, null);
  await delay(800);
  assert.equal((await server.child("once")).state, "STOPPED");
  const info = await server.json("info");
  assert.equal(info.data!.repeat_timers, 0);
});

Deno.test("children started at server startup arm their repeat timers", async () => {
  await using server = await startServer({
    serverYaml: "mode: half\nstartup: [tick]\n",
    children: { tick: "command: sleep 1000\nrepeat:\n  seconds: 0.4\n" },
  });
  const first = await server.child("tick");
  assert.equal(typeof first.repeat_at, "string");
  await server.waitChild("tick", (c) => c.restarts >= 1, 5000);
});

// A start is answered once the child is ready, and it is ready once it has printed its name,
// which it does after appending the name to order.txt: so the file's order is the order of the
// starts however slow the machine (a fixed start_seconds let a loaded CI machine reorder them).
const ORDERED = (name: string) =>
  `command: ["sh", "-c", "echo ${name} >> order.txt; echo ${name}; exec sleep 1000"]\n` +
  `ready:\n  log: "^${name}$"\n`;

Deno.test("a prehook chain runs deepest first, then the child", async () => {
  await using server = await startServer({
    children: {
      app: ORDERED("app") + "hooks:\n  - prehook: start db\n",
      db: ORDERED("db") + "hooks:\n  - prehook: start net\n",
      net: ORDERED("net"),
    },
  });
  const result = await server.json("start", "app");
  assert.equal(result.ok, true, result.message);
  assert.deepEqual((result.data!.prehooks as { hook: string }[]).map((h) => h.hook), [
    "start net",
    "start db",
  ]);
  await waitUntil(
    () => {
      try {
        return Deno.readTextFileSync(join(server.childDir, "order.txt")).split("\n").length >= 4;
      } catch {
        return false;
      }
    },
    5000,
    "three starts",
  );
  assert.equal(Deno.readTextFileSync(join(server.childDir, "order.txt")), "net\ndb\napp\n");
  // A prehook on a child that already runs is satisfied without restarting it.
  const net = (await server.child("net")).pid;
  await server.json("stop", "app");
  const again = await server.json("start", "app");
  assert.equal(again.ok, true);
  assert.equal((await server.child("net")).pid, net);
});

Deno.test("a prehook cycle is refused before anything runs", async () => {
  await using server = await startServer({
    children: {
      a: ORDERED("a") + "hooks:\n  - prehook: start b\n",
      b: ORDERED("b") + "hooks:\n  - prehook: restart c\n",
      c: ORDERED("c") + "hooks:\n  - prehook: start a\n",
    },
  });
  const result = await server.json("start", "a");
  assert.equal(result.code, "HOOK_CYCLE");
  assert.equal(
    result.message,
    `Cannot start child "a": its prehooks form a cycle: a -> b -> c -> a`,
  );
  const check = await server.json("check");
  assert.deepEqual((check.data!.children as { state: string }[]).map((c) => c.state), [
    "STOPPED",
    "STOPPED",
    "STOPPED",
  ]);
  assert.throws(() => Deno.statSync(join(server.childDir, "order.txt")), Deno.errors.NotFound);
});

Deno.test("a prehook naming a missing child is refused before anything runs", async () => {
  await using server = await startServer({
    children: {
      a: ORDERED("a") + "hooks:\n  - prehook: start b\n",
      b: ORDERED("b") + "hooks:\n  - prehook: start ghost\n",
    },
  });
  const result = await server.json("start", "a");
  assert.equal(result.code, "HOOK_FAILED");
  assert.match(
    result.message,
    /prehook "start ghost" of "b" names a child that cannot be read: Cannot find child "ghost"/,
  );
  assert.throws(() => Deno.statSync(join(server.childDir, "order.txt")), Deno.errors.NotFound);
});

Deno.test("a posthook runs after stop and its result is part of the response", async () => {
  await using server = await startServer({
    children: {
      main: "command: sleep 1000\nhooks:\n  - posthook: start cleanup\n",
      cleanup: "command: sleep 1000\n",
    },
  });
  await server.json("start", "main");
  const stop = await server.json("stop", "main");
  assert.equal(stop.ok, true);
  assert.equal(stop.message, `stop main success; posthook "start cleanup": start cleanup success`);
  const reports = stop.data!.posthooks as { hook: string; ok: boolean }[];
  assert.deepEqual(reports.map((r) => [r.hook, r.ok]), [["start cleanup", true]]);
  const cleanup = await server.child("cleanup");
  assert.ok(cleanup.pid && isAlive(cleanup.pid));
  // A failing posthook is reported; the stop itself still succeeded.
  await server.json("start", "main");
  const again = await server.json("stop", "main");
  assert.equal(again.ok, true);
  assert.match(
    again.message,
    /posthook "start cleanup": failed: Cannot start child "cleanup": it is already running/,
  );
});

Deno.test("check NAME shows the recent exits with how long each ran and whether it was asked for", async () => {
  await using server = await startServer({
    children: { job: "command: sh -c 'sleep 0.1; exit 4'\n" },
  });
  await server.json("start", "job");
  await server.waitChild("job", (c) => c.state === "EXITED");
  server.writeChild("job", "command: sleep 1000\n");
  await server.json("start", "job");
  await server.json("stop", "job");
  const child = await server.child("job");
  const history = child.history as {
    code: number | null;
    signal: string | null;
    ran_ms: number;
    requested: boolean;
  }[];
  assert.equal(history.length, 2);
  assert.equal(history[0]!.code, 4);
  assert.equal(history[0]!.requested, false);
  assert.ok(history[0]!.ran_ms >= 90);
  assert.equal(history[1]!.signal, "SIGTERM");
  assert.equal(history[1]!.requested, true);
  const text = await server.client("check", "job");
  assert.match(
    text.stdout,
    /recent exits \(oldest first\):\n.*exit code 4\s+ran \d+ms\n.*signal SIGTERM \(stopped\)/,
  );
});

Deno.test("SIGHUP re-reads server.yml, logs what changed and leaves children running", async () => {
  await using server = await startServer({ children: { a: "command: sleep 1000\n" } });
  await server.json("start", "a");
  const pid = (await server.child("a")).pid!;
  await Deno.mkdir(join(server.dir, "more"));
  await Deno.writeTextFile(
    server.configPath,
    `loadpaths:\n  - children\n  - more\nlistener_addr: 127.0.0.1\nlistener_port: ${server.port}\nmode: half\n`,
  );
  Deno.kill(server.pid, "SIGHUP");
  await server.stderr.waitFor(
    /SIGHUP: log files reopened; server config re-read: loadpaths added: .*more; mode: quiet -> half/,
  );
  assert.ok(isAlive(pid));
  await Deno.writeTextFile(server.configPath, "loadpaths: [unclosed\n");
  Deno.kill(server.pid, "SIGHUP");
  await server.stderr.waitFor(/SIGHUP: server config is invalid/);
  assert.ok(isAlive(pid));
  assert.equal(server.process.pid, server.pid);
});
