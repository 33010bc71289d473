/**
 * Unit tests of the Supervisor and of `check` and `info`: prehook chains, posthooks, repeat
 * timers, `stop all`, shutdown and the refusals of the lifecycle table, on a fake clock, fake
 * processes and configuration files held in memory. No real process is started and no real time
 * is waited for.
 *
 * Each child's program is named after the child (`command: db` in `db.yml`), so the programs
 * the fake spawner saw, in order, say which children were started, in which order.
 *
 * @module
 */
import { restartAll, startAll, update } from "./fleet.ts";
import assert from "node:assert/strict";
import { ConfigStore } from "../config/store.ts";
import { SupervisorError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";
import type { Child } from "../process/child.ts";
import type { ResourceSample } from "../process/resource_sampler.ts";
import type { SpawnSpec } from "../process/spawner.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { FakeProcess, FakeSpawner, settle } from "../testing/fake_spawner.ts";
import { MemoryConfigSource } from "../testing/memory_config_source.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { RepeatTimers } from "./repeat_timers.ts";
import { checkReport, infoReport } from "./status_report.ts";
import { Supervisor } from "./supervisor.ts";
import type { OpContext } from "./supervisor.ts";

const SERVER_PATH = "/srv/server.yml";
const CHILDREN_DIR = "/srv/children";

/** A spawner whose programs named in `failing` cannot be found. */
class PickySpawner extends FakeSpawner {
  readonly failing = new Set<string>();

  override spawn(spec: SpawnSpec): FakeProcess {
    const program = spec.argv[0] ?? "";
    if (this.failing.has(program)) throw new Deno.errors.NotFound(`"${program}" was not found`);
    return super.spawn(spec);
  }
}

/** Everything one test drives: the supervisor and the fakes around it. */
interface World {
  readonly source: MemoryConfigSource;
  readonly clock: FakeClock;
  readonly spawner: PickySpawner;
  readonly logger: MemoryLogger;
  readonly store: ConfigStore;
  readonly supervisor: Supervisor;
  /** The last CPU and memory sample of each child, as the supervisor is given them. */
  readonly samples: Map<string, ResourceSample>;
  /** A fresh request context, as each request takes one. */
  ctx(): OpContext;
  /** Writes `<name>.yml`: its program is named after it, `cwd` exists, then `yaml`. */
  define(name: string, yaml?: string): void;
  /** The program of every spawned process, in order: the children started, in order. */
  spawnedNames(): string[];
  /** The latest process of child `name`. */
  proc(name: string): FakeProcess;
  /** The record of child `name`, which must be known to the supervisor. */
  child(name: string): Child;
  /** Moves fake time forward, then lets what it woke run. */
  advance(ms: number): Promise<void>;
}

/**
 * Lets pending promise callbacks run. Everything the fakes do is promise callbacks, so one turn
 * of the event loop runs them all (and each extra turn costs real milliseconds).
 */
function flush(): Promise<void> {
  return settle(1);
}

/** A supervisor over config files in memory, with children named `children` defined. */
function makeWorld(children: Record<string, string>): World {
  const source = new MemoryConfigSource();
  source.write(SERVER_PATH, "loadpaths: [children]\nlistener_port: 0\n");
  // Child.spawn checks the working directory on the real file system (it is not behind the
  // ConfigSource seam): "/" exists everywhere, /srv/children does not.
  const define = (name: string, yaml = "") =>
    source.write(`${CHILDREN_DIR}/${name}.yml`, `command: ${name}\ncwd: /\n${yaml}`);
  for (const [name, yaml] of Object.entries(children)) define(name, yaml);
  const clock = new FakeClock();
  const spawner = new PickySpawner();
  const logger = new MemoryLogger();
  const store = new ConfigStore(SERVER_PATH, { source, clock });
  const sink = { write: () => Promise.resolve() };
  const samples = new Map<string, ResourceSample>();
  const supervisor = new Supervisor(store, {
    spawner,
    clock,
    logger,
    terminal: { stdout: sink, stderr: sink },
    groupProbe: () => 0,
    random: () => 0.5,
  }, { resources: (name) => samples.get(name) });
  const child = (name: string) => {
    const found = supervisor.children().find((c) => c.name === name);
    assert.ok(found, `child "${name}" is not known`);
    return found;
  };
  return {
    source,
    clock,
    spawner,
    logger,
    store,
    supervisor,
    samples,
    ctx: () => ({ snap: store.snapshot() }),
    define,
    spawnedNames: () => spawner.spawned.map((p) => p.spec.argv[0] ?? ""),
    proc: (name) => {
      const procs = spawner.spawned.filter((p) => p.spec.argv[0] === name);
      const last = procs[procs.length - 1];
      assert.ok(last, `no process of "${name}" was spawned`);
      return last;
    },
    child,
    advance: async (ms) => {
      await clock.advance(ms);
      await flush();
    },
  };
}

/**
 * Runs `body` in a new world, then shuts the supervisor down and lets every exit be recorded, so
 * no timer of a child outlives the test.
 */
function withWorld(
  children: Record<string, string>,
  body: (world: World) => Promise<void> | void,
): () => Promise<void> {
  return async () => {
    const world = makeWorld(children);
    try {
      await body(world);
    } finally {
      // A process told to ignore SIGTERM would make the shutdown wait for fake time forever.
      for (const proc of world.spawner.spawned) proc.diesOn = ["SIGTERM", "SIGINT", "SIGKILL"];
      await world.supervisor.shutdown();
      await flush();
    }
  };
}

/** Asserts that `promise` rejects with a SupervisorError of `code` whose message matches. */
async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: RegExp | string,
): Promise<SupervisorError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SupervisorError, `expected a SupervisorError, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  if (typeof message === "string") assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  return caught;
}

/** Lines the logger kept that contain `text`. */
function logged(world: World, text: string): string[] {
  return world.logger.lines.filter((line) => line.includes(text));
}

// Prehook chains

Deno.test(
  "start runs the prehook chain deepest first, in the order the hooks are listed",
  withWorld({
    app: "hooks:\n  - prehook: start db\n  - prehook: start cache\n",
    db: "hooks: [{ prehook: start disk }]\n",
    cache: "",
    disk: "",
  }, async (w) => {
    const result = await w.supervisor.start("app", w.ctx());
    assert.deepEqual(w.spawnedNames(), ["disk", "db", "cache", "app"]);
    assert.equal(result.message, "start app success");
    assert.equal(result.pid, w.proc("app").pid);
    assert.deepEqual(result.prehooks, [
      { hook: "start disk", ok: true, message: "start disk success" },
      { hook: "start db", ok: true, message: "start db success" },
      { hook: "start cache", ok: true, message: "start cache success" },
    ]);
    for (const name of ["disk", "db", "cache", "app"]) {
      assert.equal(w.child(name).state, "STARTING", name);
    }
  }),
);

Deno.test(
  "a prehook whose target is already running counts as done and leaves the target alone",
  withWorld({ app: "hooks: [{ prehook: start db }]\n", db: "" }, async (w) => {
    const db = await w.supervisor.start("db", w.ctx());
    const result = await w.supervisor.start("app", w.ctx());
    assert.deepEqual(w.spawnedNames(), ["db", "app"]);
    assert.deepEqual(result.prehooks, [
      { hook: "start db", ok: true, message: "db is already running" },
    ]);
    assert.equal(w.child("db").pid, db.pid);
    assert.deepEqual(w.proc("db").signals, []);
  }),
);

Deno.test(
  "a restart prehook restarts a running target and starts a stopped one",
  withWorld({
    app: "hooks:\n  - prehook: restart db\n  - prehook: restart cache\n",
    db: "",
    cache: "",
  }, async (w) => {
    await w.supervisor.start("db", w.ctx());
    const oldDb = w.proc("db");
    const result = await w.supervisor.start("app", w.ctx());
    assert.deepEqual(w.spawnedNames(), ["db", "db", "cache", "app"]);
    assert.deepEqual(oldDb.signals, ["SIGTERM"]);
    assert.deepEqual(result.prehooks.map((r) => r.message), [
      "trystart db success (restarted)",
      "trystart cache success (started)",
    ]);
  }),
);

Deno.test(
  "a stop prehook stops its target and cancels its repeat timer, without the target's posthooks",
  withWorld({
    app: "hooks: [{ prehook: stop db }]\n",
    db: "repeat: { action: restart, seconds: 5 }\nhooks: [{ posthook: start cache }]\n",
    cache: "",
  }, async (w) => {
    await w.supervisor.start("db", w.ctx());
    assert.equal(w.supervisor.repeatTimers, 1);
    const result = await w.supervisor.start("app", w.ctx());
    assert.deepEqual(result.prehooks, [{ hook: "stop db", ok: true, message: "stop db success" }]);
    assert.deepEqual(w.proc("db").signals, ["SIGTERM"]);
    assert.equal(w.child("db").state, "STOPPED");
    assert.equal(w.supervisor.repeatTimers, 0);
    await w.advance(10_000);
    assert.deepEqual(w.spawnedNames(), ["db", "app"], "neither cache nor a repeat of db ran");
  }),
);

Deno.test(
  "a stop prehook whose target is not running counts as done",
  withWorld({ app: "hooks: [{ prehook: stop db }]\n", db: "" }, async (w) => {
    const result = await w.supervisor.start("app", w.ctx());
    assert.deepEqual(result.prehooks, [{
      hook: "stop db",
      ok: true,
      message: "db is not running",
    }]);
    assert.deepEqual(w.spawnedNames(), ["app"]);
  }),
);

Deno.test(
  "a prehook cycle is refused with HOOK_CYCLE before anything runs",
  withWorld({
    app: "hooks:\n  - prehook: start disk\n  - prehook: start db\n",
    db: "hooks: [{ prehook: restart cache }]\n",
    cache: "hooks: [{ prehook: start app }]\n",
    disk: "",
  }, async (w) => {
    await rejectsWith(
      w.supervisor.start("app", w.ctx()),
      "HOOK_CYCLE",
      `Cannot start child "app": its prehooks form a cycle: app -> db -> cache -> app`,
    );
    assert.deepEqual(w.spawnedNames(), [], "disk, listed before the cycle, was not started");
    assert.deepEqual(w.supervisor.children(), []);
  }),
);

Deno.test(
  "a prehook naming a missing child is refused with HOOK_FAILED before anything runs",
  withWorld({
    app: "hooks:\n  - prehook: start db\n  - prehook: start ghost\n",
    db: "",
  }, async (w) => {
    // (trystart: a restart of a child that never ran is refused NOT_RUNNING before its hooks.)
    await rejectsWith(
      w.supervisor.trystart("app", w.ctx()),
      "HOOK_FAILED",
      /^Cannot trystart child "app": prehook "start ghost" of "app" names a child that cannot be read: Cannot find child "ghost"/,
    );
    assert.deepEqual(w.spawnedNames(), []);
    assert.deepEqual(w.supervisor.children(), []);
  }),
);

Deno.test(
  "a prehook naming a child whose file is invalid is refused with HOOK_FAILED before anything runs",
  withWorld(
    { app: "hooks:\n  - prehook: start db\n  - prehook: start broken\n", db: "" },
    async (w) => {
      w.source.write(`${CHILDREN_DIR}/broken.yml`, "command: broken\nrestart: sometimes\n");
      await rejectsWith(
        w.supervisor.start("app", w.ctx()),
        "HOOK_FAILED",
        /prehook "start broken" of "app" names a child that cannot be read: Config of child "broken" is invalid/,
      );
      assert.deepEqual(w.spawnedNames(), []);
    },
  ),
);

Deno.test(
  "a prehook step that fails stops the chain with HOOK_FAILED and leaves the child unstarted",
  withWorld({
    app: "hooks:\n  - prehook: start db\n  - prehook: start cache\n  - prehook: start disk\n",
    db: "",
    cache: "",
    disk: "",
  }, async (w) => {
    w.spawner.failing.add("cache");
    const error = await rejectsWith(
      w.supervisor.start("app", w.ctx()),
      "HOOK_FAILED",
      `Cannot start child "app": prehook "start cache" of "app" failed: Cannot start child "cache": command "cache" was not found`,
    );
    assert.equal(error.child, "app");
    assert.ok(error.cause instanceof SupervisorError && error.cause.code === "SPAWN_FAILED");
    assert.deepEqual(w.spawnedNames(), ["db"], "steps after the failure and app itself never ran");
    assert.equal(w.child("db").state, "STARTING", "a step already done is not undone");
    assert.equal(w.child("cache").state, "FATAL");
    assert.equal(w.supervisor.children().some((c) => c.name === "app"), false);
  }),
);

// Posthooks

Deno.test(
  "stop runs the posthooks in order after the child stopped and reports them in the result",
  withWorld({
    app: "hooks:\n  - posthook: stop cache\n  - posthook: start worker\n",
    cache: "",
    worker: "",
  }, async (w) => {
    await w.supervisor.start("app", w.ctx());
    await w.supervisor.start("cache", w.ctx());
    const result = await w.supervisor.stop("app", w.ctx());
    assert.equal(result.kind, "stopped");
    if (result.kind !== "stopped") return;
    assert.equal(
      result.message,
      `stop app success; posthook "stop cache": stop cache success; posthook "start worker": start worker success`,
    );
    assert.deepEqual(result.posthooks, [
      { hook: "stop cache", ok: true, message: "stop cache success" },
      { hook: "start worker", ok: true, message: "start worker success" },
    ]);
    assert.equal(result.exit?.signal, "SIGTERM");
    assert.equal(result.exit?.requested, true);
    assert.deepEqual(w.proc("app").signals, ["SIGTERM"]);
    assert.deepEqual(w.proc("cache").signals, ["SIGTERM"]);
    assert.deepEqual(w.spawnedNames(), ["app", "cache", "worker"]);
    assert.equal(w.child("app").state, "STOPPED");
    assert.equal(w.child("worker").state, "STARTING");
  }),
);

Deno.test(
  "a failing posthook is reported in the result, the stop still succeeds and later posthooks run",
  withWorld({
    app:
      "hooks:\n  - posthook: stop cache\n  - posthook: start ghost\n  - posthook: start worker\n",
    cache: "",
    worker: "",
  }, async (w) => {
    await w.supervisor.start("app", w.ctx());
    const result = await w.supervisor.stop("app", w.ctx());
    assert.equal(result.kind, "stopped");
    if (result.kind !== "stopped") return;
    const [cache, ghost, worker] = result.posthooks;
    assert.deepEqual(cache, {
      hook: "stop cache",
      ok: false,
      message: `Cannot stop child "cache": it is not running (state STOPPED)`,
      code: "NOT_RUNNING",
    });
    assert.equal(ghost?.ok, false);
    assert.equal(ghost?.code, "NOT_FOUND");
    assert.deepEqual(worker, { hook: "start worker", ok: true, message: "start worker success" });
    assert.match(
      result.message,
      /^stop app success; posthook "stop cache": failed: Cannot stop child "cache": it is not running \(state STOPPED\); posthook "start ghost": failed: Cannot find child "ghost"/,
    );
    assert.equal(w.child("app").state, "STOPPED");
    assert.deepEqual(w.spawnedNames(), ["app", "worker"]);
  }),
);

Deno.test(
  "a posthook runs as a whole operation, with its target's own prehooks",
  withWorld({
    app: "hooks: [{ posthook: start worker }]\n",
    worker: "hooks: [{ prehook: start queue }]\n",
    queue: "",
  }, async (w) => {
    await w.supervisor.start("app", w.ctx());
    await w.supervisor.stop("app", w.ctx());
    assert.deepEqual(w.spawnedNames(), ["app", "queue", "worker"]);
  }),
);

Deno.test(
  "a stop that is refused runs no posthooks",
  withWorld({ app: "hooks: [{ posthook: start worker }]\n", worker: "" }, async (w) => {
    await rejectsWith(w.supervisor.stop("app", w.ctx()), "NOT_RUNNING");
    assert.deepEqual(w.spawnedNames(), []);
  }),
);

Deno.test(
  "a stop that cancels a pending restart runs the posthooks too",
  withWorld({
    app: "restart: always\nhooks: [{ posthook: start worker }]\n",
    worker: "",
  }, async (w) => {
    await w.supervisor.start("app", w.ctx());
    w.proc("app").exit({ code: 1, signal: null });
    await flush();
    assert.equal(w.child("app").state, "BACKOFF");
    const result = await w.supervisor.stop("app", w.ctx());
    assert.equal(
      result.message,
      `stop app success (its pending restart was cancelled); posthook "start worker": start worker success`,
    );
    assert.deepEqual(w.spawnedNames(), ["app", "worker"]);
  }),
);

// Repeat timers

Deno.test(
  "a repeat timer restarts the child after its seconds of fake time, and the new run arms it again",
  withWorld({ web: "repeat: { action: restart, seconds: 5 }\n" }, async (w) => {
    const started = w.clock.now();
    await w.supervisor.start("web", w.ctx());
    assert.equal(w.supervisor.repeatTimers, 1);
    assert.equal(w.supervisor.report(w.child("web")).repeatAt, started + 5000);
    await w.advance(4999);
    assert.deepEqual(w.spawnedNames(), ["web"], "nothing before the 5 s are up");
    const first = w.proc("web");
    await w.advance(1);
    assert.deepEqual(w.spawnedNames(), ["web", "web"]);
    assert.deepEqual(first.signals, ["SIGTERM"]);
    assert.equal(w.child("web").runNumber, 2);
    assert.deepEqual(logged(w, "repeat:"), [
      "info: repeat: restart web",
      "info: repeat: trystart web success (restarted)",
    ]);
    assert.equal(w.supervisor.report(w.child("web")).repeatAt, started + 10_000);
    await w.advance(5000);
    assert.deepEqual(w.spawnedNames(), ["web", "web", "web"]);
  }),
);

Deno.test(
  "a repeat timer starts a child that has exited meanwhile",
  withWorld({ job: "repeat: { action: restart, seconds: 60 }\n" }, async (w) => {
    await w.supervisor.start("job", w.ctx());
    w.proc("job").exit({ code: 0, signal: null });
    await flush();
    assert.equal(w.child("job").state, "EXITED");
    await w.advance(60_000);
    assert.deepEqual(w.spawnedNames(), ["job", "job"]);
    assert.deepEqual(logged(w, "repeat: trystart"), [
      "info: repeat: trystart job success (started)",
    ]);
  }),
);

Deno.test(
  "a repeat start of a child that still runs fails with ALREADY_RUNNING in the log",
  withWorld({ job: "repeat: { action: start, seconds: 10 }\n" }, async (w) => {
    await w.supervisor.start("job", w.ctx());
    await w.advance(10_000);
    assert.deepEqual(w.spawnedNames(), ["job"]);
    assert.deepEqual(logged(w, "failed"), [
      `error: repeat: start job failed: Cannot start child "job": it is already running (pid ${
        w.proc("job").pid
      }); use restart or trystart`,
    ]);
    assert.equal(w.supervisor.repeatTimers, 0, "no new run, so no new timer");
  }),
);

Deno.test(
  "a new run replaces the pending repeat timer, so the timer of the old run never fires",
  withWorld({ web: "repeat: { action: restart, seconds: 5 }\n" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    await w.advance(3000);
    await w.supervisor.restart("web", w.ctx());
    assert.equal(w.supervisor.repeatTimers, 1);
    await w.advance(2000);
    assert.equal(w.spawnedNames().length, 2, "the first run's timer did nothing at 5 s");
    assert.deepEqual(logged(w, "repeat:"), []);
    await w.advance(3000);
    assert.equal(w.spawnedNames().length, 3, "the second run's timer fired at 8 s");
  }),
);

Deno.test("a repeat timer does nothing if the run that armed it is no longer current", async () => {
  // Through the Supervisor every new run re-arms (and so cancels) its child's timer before an
  // old one could fire; this guard is the last line, so it is tested on RepeatTimers itself.
  const clock = new FakeClock(0);
  const timers = new RepeatTimers(clock);
  let current = 1;
  const fired: number[] = [];
  const arm = (run: number) =>
    timers.arm({
      name: "web",
      run,
      seconds: 5,
      currentRun: () => current,
      fire: () => fired.push(run),
    });
  arm(1);
  assert.equal(timers.dueAt("web"), 5000);
  current = 2;
  await clock.advance(5000);
  assert.deepEqual(fired, [], "run 1 is no longer current");
  assert.equal(timers.size, 0, "the stale timer is gone all the same");
  arm(2);
  await clock.advance(5000);
  assert.deepEqual(fired, [2]);
});

Deno.test(
  "a run whose file no longer has repeat cancels the pending timer",
  withWorld({ web: "repeat: { action: restart, seconds: 5 }\n" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    w.define("web");
    await w.supervisor.restart("web", w.ctx());
    assert.equal(w.supervisor.repeatTimers, 0);
    await w.advance(60_000);
    assert.deepEqual(w.spawnedNames(), ["web", "web"]);
  }),
);

Deno.test(
  "stop cancels the pending repeat timer and arms none",
  withWorld({ web: "repeat: { action: restart, seconds: 5 }\n" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    await w.supervisor.stop("web", w.ctx());
    assert.equal(w.supervisor.repeatTimers, 0);
    assert.equal(w.supervisor.report(w.child("web")).repeatAt, null);
    await w.advance(60_000);
    assert.deepEqual(w.spawnedNames(), ["web"]);
    assert.equal(w.child("web").state, "STOPPED");
  }),
);

Deno.test(
  "a repeat stop stops the child, runs its posthooks and arms no further timer",
  withWorld({
    job: "repeat: { action: stop, seconds: 30 }\nhooks: [{ posthook: start report }]\n",
    report: "",
  }, async (w) => {
    await w.supervisor.start("job", w.ctx());
    await w.advance(30_000);
    for (let i = 0; i < 100 && w.spawner.spawned.length < 2; i++) await flush();
    assert.deepEqual(w.proc("job").signals, ["SIGTERM"]);
    assert.equal(w.child("job").state, "STOPPED");
    assert.deepEqual(w.spawnedNames(), ["job", "report"]);
    assert.equal(w.supervisor.repeatTimers, 0);
    assert.deepEqual(logged(w, "repeat: stop job success"), [
      `info: repeat: stop job success; posthook "start report": start report success`,
    ]);
  }),
);

Deno.test(
  "an automatic restart arms the repeat timer of the new run",
  withWorld({
    web: "restart: always\nbackoff: { initial: 1 }\nrepeat: { action: restart, seconds: 5 }\n",
  }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    await w.advance(2000);
    w.proc("web").exit({ code: 1, signal: null });
    await flush();
    await w.advance(1000);
    assert.deepEqual(w.spawnedNames(), ["web", "web"]);
    assert.equal(w.supervisor.report(w.child("web")).repeatAt, w.clock.now() + 5000);
    await w.advance(4999);
    assert.equal(w.spawnedNames().length, 2, "the first run's timer (due at 5 s) was replaced");
  }),
);

// stop all

Deno.test(
  "stop all stops every live child, cancels pending restarts and lists them sorted",
  withWorld({
    web: "repeat: { action: restart, seconds: 5 }\nhooks: [{ posthook: start idle }]\n",
    db: "",
    api: "",
    flaky: "restart: always\n",
    done: "",
    idle: "",
  }, async (w) => {
    for (const name of ["web", "db", "api", "flaky", "done"]) {
      await w.supervisor.start(name, w.ctx());
    }
    w.proc("flaky").exit({ code: 1, signal: null });
    w.proc("done").exit({ code: 0, signal: null });
    await flush();
    assert.equal(w.child("flaky").state, "BACKOFF");
    assert.equal(w.child("done").state, "EXITED");
    const result = await w.supervisor.stop("all", w.ctx());
    assert.deepEqual(result, {
      kind: "stopped-all",
      message: "stop all success",
      stopped: ["api", "db", "flaky", "web"],
    });
    for (const name of ["web", "db", "api"]) {
      assert.deepEqual(w.proc(name).signals, ["SIGTERM"], name);
      assert.equal(w.child(name).state, "STOPPED", name);
    }
    assert.equal(w.child("flaky").state, "STOPPED");
    assert.equal(w.child("done").state, "EXITED", "an exited child is left as it was");
    assert.equal(w.supervisor.repeatTimers, 0);
    await w.advance(120_000);
    assert.deepEqual(
      w.spawnedNames(),
      ["web", "db", "api", "flaky", "done"],
      "no restart, no repeat, and no posthook ran after stop all",
    );
  }),
);

Deno.test(
  "stop all with nothing running lists no child",
  withWorld({ web: "" }, async (w) => {
    const result = await w.supervisor.stopAll();
    assert.deepEqual(result.stopped, []);
    assert.equal(result.message, "stop all success");
  }),
);

// Shutdown

Deno.test(
  "shutdown stops every child and then refuses new operations with SHUTTING_DOWN",
  withWorld({ web: "repeat: { action: restart, seconds: 5 }\n", db: "" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    await w.supervisor.start("db", w.ctx());
    await w.supervisor.shutdown();
    assert.equal(w.supervisor.shuttingDown, true);
    assert.deepEqual(w.proc("web").signals, ["SIGTERM"]);
    assert.deepEqual(w.proc("db").signals, ["SIGTERM"]);
    assert.equal(w.child("web").state, "STOPPED");
    assert.equal(w.child("db").state, "STOPPED");
    assert.equal(w.supervisor.repeatTimers, 0);
    const refused = /^The server is shutting down and accepts no new operations$/;
    await rejectsWith(w.supervisor.start("web", w.ctx()), "SHUTTING_DOWN", refused);
    await rejectsWith(w.supervisor.restart("web", w.ctx()), "SHUTTING_DOWN", refused);
    await rejectsWith(w.supervisor.trystart("db", w.ctx()), "SHUTTING_DOWN", refused);
    await rejectsWith(w.supervisor.stop("web", w.ctx()), "SHUTTING_DOWN", refused);
    await rejectsWith(w.supervisor.stop("all", w.ctx()), "SHUTTING_DOWN", refused);
    await assert.rejects(() => w.supervisor.childFor("web", w.ctx()), { code: "SHUTTING_DOWN" });
    await w.advance(60_000);
    assert.deepEqual(w.spawnedNames(), ["web", "db"], "no repeat fired after shutdown");
  }),
);

Deno.test(
  "shutdown is idempotent: every call waits for the same stop and signals nothing again",
  withWorld({ web: "" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    const first = w.supervisor.shutdown();
    const second = w.supervisor.shutdown();
    assert.equal(first, second);
    await first;
    await w.supervisor.shutdown();
    assert.deepEqual(w.proc("web").signals, ["SIGTERM"]);
  }),
);

Deno.test(
  "an operation waiting in a child's queue when shutdown begins is refused with SHUTTING_DOWN",
  withWorld({ web: "stop_timeout: 5\n" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    w.proc("web").diesOn = ["SIGKILL"];
    const stopping = w.supervisor.stop("web", w.ctx());
    await flush();
    const startAfter = w.supervisor.start("web", w.ctx());
    startAfter.catch(() => {});
    await flush();
    assert.equal(w.child("web").state, "STOPPING", "the start waits behind the stop");
    const shutdown = w.supervisor.shutdown();
    await w.advance(5000);
    await stopping;
    await shutdown;
    await rejectsWith(startAfter, "SHUTTING_DOWN");
    assert.deepEqual(w.proc("web").signals, ["SIGTERM", "SIGKILL"]);
    assert.deepEqual(w.spawnedNames(), ["web"]);
  }),
);

// Refusals decided by the lifecycle table

Deno.test(
  "start of a running child is refused with ALREADY_RUNNING",
  withWorld({ web: "" }, async (w) => {
    const { pid } = await w.supervisor.start("web", w.ctx());
    const error = await rejectsWith(
      w.supervisor.start("web", w.ctx()),
      "ALREADY_RUNNING",
      `Cannot start child "web": it is already running (pid ${pid}); use restart or trystart`,
    );
    assert.equal(error.child, "web");
    assert.deepEqual(w.spawnedNames(), ["web"]);
    assert.deepEqual(w.proc("web").signals, []);
  }),
);

Deno.test(
  "stop of a child that is not running is refused with NOT_RUNNING",
  withWorld({ web: "" }, async (w) => {
    await rejectsWith(
      w.supervisor.stop("web", w.ctx()),
      "NOT_RUNNING",
      `Cannot stop child "web": it is not running (state STOPPED)`,
    );
    await w.supervisor.start("web", w.ctx());
    w.proc("web").exit({ code: 0, signal: null });
    await flush();
    await rejectsWith(
      w.supervisor.stop("web", w.ctx()),
      "NOT_RUNNING",
      `Cannot stop child "web": it is not running (state EXITED)`,
    );
  }),
);

Deno.test(
  "restart of a stopped child is refused with NOT_RUNNING and starts nothing",
  withWorld({ web: "" }, async (w) => {
    await rejectsWith(
      w.supervisor.restart("web", w.ctx()),
      "NOT_RUNNING",
      `Cannot restart child "web": it is not running (state STOPPED); use start or trystart`,
    );
    await w.supervisor.start("web", w.ctx());
    await w.supervisor.stop("web", w.ctx());
    await rejectsWith(w.supervisor.restart("web", w.ctx()), "NOT_RUNNING", /state STOPPED/);
    assert.deepEqual(w.spawnedNames(), ["web"]);
  }),
);

Deno.test(
  "restart of a running child stops it with its stop signal and starts a new run",
  withWorld({ web: "stop_signal: INT\n" }, async (w) => {
    const first = await w.supervisor.start("web", w.ctx());
    const second = await w.supervisor.restart("web", w.ctx());
    assert.equal(second.message, "restart web success");
    assert.notEqual(second.pid, first.pid);
    assert.deepEqual(w.spawner.spawned[0]?.signals, ["SIGINT"]);
    assert.equal(w.child("web").status().restarts, 1);
    assert.equal(w.child("web").status().lastExit?.requested, true);
  }),
);

Deno.test(
  "restart of a FATAL child starts it",
  withWorld({ web: "" }, async (w) => {
    w.spawner.failing.add("web");
    await rejectsWith(w.supervisor.start("web", w.ctx()), "SPAWN_FAILED");
    assert.equal(w.child("web").state, "FATAL");
    w.spawner.failing.clear();
    const result = await w.supervisor.restart("web", w.ctx());
    assert.equal(result.message, "restart web success");
    assert.equal(result.pid, w.proc("web").pid);
    assert.equal(w.child("web").state, "STARTING");
    assert.equal(w.child("web").status().error, null);
  }),
);

Deno.test(
  "restart of a child waiting in BACKOFF starts it at once and cancels the pending restart",
  withWorld({ web: "restart: always\nbackoff: { initial: 30 }\n" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    w.proc("web").exit({ code: 1, signal: null });
    await flush();
    assert.equal(w.child("web").state, "BACKOFF");
    await w.supervisor.restart("web", w.ctx());
    assert.deepEqual(w.spawnedNames(), ["web", "web"]);
    assert.equal(w.child("web").status().nextAttemptAt, null);
    await w.advance(60_000);
    assert.deepEqual(w.spawnedNames(), ["web", "web"], "the cancelled restart never ran");
  }),
);

Deno.test(
  "trystart starts a stopped child and restarts a running one, saying which",
  withWorld({ web: "" }, async (w) => {
    const started = await w.supervisor.trystart("web", w.ctx());
    assert.equal(started.message, "trystart web success (started)");
    assert.equal(started.restarted, false);
    const restarted = await w.supervisor.trystart("web", w.ctx());
    assert.equal(restarted.message, "trystart web success (restarted)");
    assert.equal(restarted.restarted, true);
    assert.deepEqual(w.spawner.spawned[0]?.signals, ["SIGTERM"]);
    assert.equal(w.spawnedNames().length, 2);
  }),
);

Deno.test(
  "a start reads the child's file as it is now",
  withWorld({ web: "" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    await w.supervisor.stop("web", w.ctx());
    w.source.write(`${CHILDREN_DIR}/web.yml`, "command: web --port 8080\ncwd: /\n");
    await w.supervisor.start("web", w.ctx());
    assert.deepEqual(w.proc("web").spec.argv, ["web", "--port", "8080"]);
  }),
);

Deno.test(
  "restart with a broken file is refused with CONFIG_INVALID and the child keeps running",
  withWorld({ web: "" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    w.source.write(`${CHILDREN_DIR}/web.yml`, "command: web\nstop_timeout: soon\n");
    await rejectsWith(w.supervisor.restart("web", w.ctx()), "CONFIG_INVALID");
    assert.deepEqual(w.proc("web").signals, []);
    assert.equal(w.child("web").isLive, true);
  }),
);

// Regression tests of bugs found while writing these tests. Each fails today; remove `ignore`
// once supervisor.ts checks whether the operation is allowed before running the prehook chain.

Deno.test({
  name: "a start refused with ALREADY_RUNNING runs none of the child's prehooks",
  fn: withWorld({ app: "hooks: [{ prehook: restart db }]\n", db: "" }, async (w) => {
    await w.supervisor.start("app", w.ctx());
    assert.deepEqual(w.spawnedNames(), ["db", "app"]);
    await rejectsWith(w.supervisor.start("app", w.ctx()), "ALREADY_RUNNING");
    assert.deepEqual(w.spawnedNames(), ["db", "app"], "db was restarted by a refused start");
    assert.deepEqual(w.spawner.spawned[0]?.signals, []);
  }),
});

Deno.test({
  name: "a restart refused with NOT_RUNNING runs none of the child's prehooks",
  fn: withWorld({ app: "hooks: [{ prehook: start db }]\n", db: "" }, async (w) => {
    await rejectsWith(w.supervisor.restart("app", w.ctx()), "NOT_RUNNING");
    assert.deepEqual(w.spawnedNames(), [], "db was started by a refused restart");
  }),
});

Deno.test({
  name: "restart of a stopped child is refused with NOT_RUNNING even when its file is broken",
  fn: withWorld({ web: "" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    await w.supervisor.stop("web", w.ctx());
    w.source.write(`${CHILDREN_DIR}/web.yml`, "command: web\nstop_timeout: soon\n");
    await rejectsWith(w.supervisor.restart("web", w.ctx()), "NOT_RUNNING");
  }),
});

// check and info

const FACTS = {
  pid: 4242,
  startedAt: 1_700_000_000_000,
  listen: () => "127.0.0.1:7000",
  encrypt: false,
};

Deno.test(
  "check lists a defined but never started child as STOPPED, beside the known ones",
  withWorld({ web: "", db: "" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    const now = w.clock.now();
    const checked = await checkReport(w.supervisor, w.store.snapshot(), { name: undefined, now });
    assert.equal(checked.message, "2 children: 1 stopped, 1 starting");
    assert.deepEqual(checked.children.map((c) => [c.name, c.state]), [
      ["db", "STOPPED"],
      ["web", "STARTING"],
    ]);
    const [db] = checked.children;
    assert.equal(db?.pid, null);
    assert.equal(db?.since, now);
    assert.equal(db?.configPath, `${CHILDREN_DIR}/db.yml`);
    assert.deepEqual(checked.problems, []);
    assert.deepEqual(w.spawnedNames(), ["web"], "check started nothing");
  }),
);

Deno.test(
  "check still lists a started child whose file was removed, in name order",
  withWorld({ web: "", alpha: "" }, async (w) => {
    await w.supervisor.start("alpha", w.ctx());
    w.source.remove(`${CHILDREN_DIR}/alpha.yml`);
    const checked = await checkReport(w.supervisor, w.store.snapshot(), {
      name: undefined,
      now: w.clock.now(),
    });
    assert.deepEqual(checked.children.map((c) => [c.name, c.state]), [
      ["alpha", "STARTING"],
      ["web", "STOPPED"],
    ]);
    assert.equal(checked.children[0]?.configPath, `${CHILDREN_DIR}/alpha.yml`);
  }),
);

Deno.test(
  "check NAME reports that child alone, even one never started",
  withWorld({ web: "", db: "" }, async (w) => {
    const checked = await checkReport(w.supervisor, w.store.snapshot(), {
      name: "db",
      now: w.clock.now(),
    });
    assert.equal(checked.message, "1 child: 1 stopped");
    assert.deepEqual(checked.children.map((c) => c.name), ["db"]);
  }),
);

Deno.test(
  "check of an unknown child is refused with NOT_FOUND",
  withWorld({ web: "" }, async (w) => {
    await assert.rejects(
      () => checkReport(w.supervisor, w.store.snapshot(), { name: "ghost", now: w.clock.now() }),
      (error: unknown) =>
        error instanceof SupervisorError && error.code === "NOT_FOUND" &&
        error.message === `Cannot check child "ghost": no such child is defined or was started`,
    );
  }),
);

Deno.test(
  "check counts children by state and shows the pending repeat timer",
  withWorld({
    web: "start_seconds: 1\nrepeat: { action: restart, seconds: 600 }\n",
    db: "",
    flaky: "restart: always\nbackoff: { initial: 10 }\n",
    job: "",
  }, async (w) => {
    for (const name of ["web", "db", "flaky", "job"]) await w.supervisor.start(name, w.ctx());
    await w.advance(1000);
    w.proc("flaky").exit({ code: 1, signal: null });
    w.proc("job").exit({ code: 0, signal: null });
    await w.supervisor.stop("db", w.ctx());
    await flush();
    const checked = await checkReport(w.supervisor, w.store.snapshot(), {
      name: undefined,
      now: w.clock.now(),
    });
    assert.equal(checked.message, "4 children: 1 stopped, 1 backoff, 1 exited, 1 running");
    const web = checked.children.find((c) => c.name === "web");
    assert.equal(web?.repeatAt, w.clock.now() + 599_000);
    const flaky = checked.children.find((c) => c.name === "flaky");
    assert.equal(flaky?.nextAttemptAt, w.clock.now() + 10_000);
  }),
);

Deno.test(
  "check reports what is wrong with the loadpaths beside the children",
  withWorld({ web: "" }, async (w) => {
    w.source.write(`${CHILDREN_DIR}/Bad Name.yml`, "command: x\n");
    const checked = await checkReport(w.supervisor, w.store.snapshot(), {
      name: undefined,
      now: w.clock.now(),
    });
    assert.deepEqual(checked.children.map((c) => c.name), ["web"]);
    assert.equal(checked.problems.length, 1);
    assert.match(checked.problems[0] ?? "", /Bad Name\.yml" is ignored/);
  }),
);

Deno.test(
  "a check of an unchanged fleet gives the same snapshots again, with uptimes of its own time",
  withWorld({ web: "start_seconds: 0\n", db: "start_seconds: 0\n", never: "" }, async (w) => {
    for (const name of ["web", "db"]) await w.supervisor.start(name, w.ctx());
    const startedAt = w.clock.now();
    const check = () =>
      checkReport(w.supervisor, w.store.snapshot(), { name: undefined, now: w.clock.now() });
    await w.advance(5000);
    const first = await check();
    assert.equal(first.at, startedAt + 5000);
    assert.deepEqual(first.children.map((c) => [c.name, c.state, c.uptimeMs]), [
      ["db", "RUNNING", 5000],
      ["never", "STOPPED", null],
      ["web", "RUNNING", 5000],
    ]);
    await w.advance(2000);
    const second = await check();
    // A child never started is STOPPED since the time of each check: made again each time.
    assert.equal(second.snapshots[0], first.snapshots[0]);
    assert.equal(second.snapshots[2], first.snapshots[2]);
    assert.deepEqual(second.children.map((c) => c.uptimeMs), [7000, null, 7000]);
    assert.equal(second.message, first.message);
    // A change of state shows in the next check; the children that did not change are the same.
    await w.supervisor.stop("db", w.ctx());
    const third = await check();
    assert.deepEqual(third.children.map((c) => [c.name, c.state, c.uptimeMs]), [
      ["db", "STOPPED", null],
      ["never", "STOPPED", null],
      ["web", "RUNNING", 7000],
    ]);
    assert.notEqual(third.snapshots[0], second.snapshots[0]);
    assert.equal(third.snapshots[2], first.snapshots[2]);
    assert.equal(third.message, "3 children: 2 stopped, 1 running");
  }),
);

Deno.test(
  "a check gives the same array of snapshots while no child changes, a new one at a change",
  withWorld({ web: "start_seconds: 0\n", db: "start_seconds: 0\n" }, async (w) => {
    for (const name of ["web", "db"]) await w.supervisor.start(name, w.ctx());
    const check = () =>
      checkReport(w.supervisor, w.store.snapshot(), { name: undefined, now: w.clock.now() });
    await check();
    const first = await check();
    await w.advance(1000);
    const second = await check();
    assert.equal(second.snapshots, first.snapshots);
    assert.equal(second.message, first.message);
    w.proc("web").exit({ code: 3, signal: null });
    await flush();
    const third = await check();
    assert.notEqual(third.snapshots, first.snapshots);
    assert.deepEqual(third.children.map((c) => [c.name, c.state]), [
      ["db", "RUNNING"],
      ["web", "EXITED"],
    ]);
    assert.equal(third.children[1]?.lastExit?.code, 3);
    assert.equal(third.message, "2 children: 1 running, 1 exited");
  }),
);

Deno.test(
  "a new sample of a child's resources shows in the next check",
  withWorld({ web: "start_seconds: 0\n" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    const check = () =>
      checkReport(w.supervisor, w.store.snapshot(), { name: undefined, now: w.clock.now() });
    const unsampled = await check();
    assert.equal(unsampled.children[0]?.resources, null);
    const sample = { cpuSeconds: 1.5, cpuPercent: 10, rssBytes: 1_000_000, processes: 1, at: 1 };
    w.samples.set("web", sample);
    const sampled = await check();
    assert.equal(sampled.children[0]?.resources, sample);
    assert.equal((await check()).snapshots, sampled.snapshots);
    const next = { ...sample, rssBytes: 2_000_000, at: 2 };
    w.samples.set("web", next);
    assert.equal((await check()).children[0]?.resources, next);
    // A child that is not live shows no sample, whatever the monitor still holds.
    await w.supervisor.stop("web", w.ctx());
    assert.equal((await check()).children[0]?.resources, null);
  }),
);

Deno.test(
  "a report is the child's snapshot with its uptime now; a snapshot is kept while unchanged",
  withWorld({ web: "start_seconds: 0\nrepeat: { action: restart, seconds: 600 }\n" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    const child = w.child("web");
    const snapshot = w.supervisor.snapshot(child);
    await w.advance(3000);
    assert.equal(w.supervisor.snapshot(child), snapshot);
    const report = w.supervisor.report(child);
    assert.equal(report.uptimeMs, 3000);
    assert.equal(report.repeatAt, snapshot.repeatAt);
    const drifted = w.supervisor.snapshot(child, { drift: "changed", configError: null });
    assert.notEqual(drifted, snapshot);
    assert.equal(drifted.drift, "changed");
    assert.equal(w.supervisor.snapshot(child, { drift: "changed", configError: null }), drifted);
    // Its repeat timer fired and was armed again: a new snapshot shows when it fires next.
    await w.advance(600_000);
    const later = w.supervisor.snapshot(child);
    assert.notEqual(later, drifted);
    assert.notEqual(later.repeatAt, snapshot.repeatAt);
  }),
);

Deno.test(
  "info counts the known children by state and lists the live ones sorted",
  withWorld({ web: "", db: "", api: "", job: "", never: "" }, async (w) => {
    for (const name of ["web", "db", "api", "job"]) await w.supervisor.start(name, w.ctx());
    await w.advance(1000);
    w.proc("job").exit({ code: 3, signal: null });
    await flush();
    const informed = await infoReport(w.supervisor, w.store.snapshot(), {
      facts: FACTS,
      now: FACTS.startedAt + 90_000,
    });
    assert.equal(informed.info.pid, 4242);
    assert.equal(informed.info.configPath, SERVER_PATH);
    assert.equal(informed.info.listen, "127.0.0.1:7000");
    assert.equal(informed.info.mode, "quiet");
    assert.deepEqual(informed.info.loadpaths, [CHILDREN_DIR]);
    assert.equal(informed.info.uptimeMs, 90_000);
    assert.deepEqual(informed.info.running, ["api", "db", "web"]);
    assert.deepEqual(informed.info.counts, { RUNNING: 3, EXITED: 1 });
    assert.equal(informed.info.repeatTimers, 0);
    assert.deepEqual(informed.info.problems, []);
    assert.match(informed.message, /, pid 4242, listening on 127\.0\.0\.1:7000$/);
  }),
);

Deno.test(
  "info reports a broken server.yml as a problem instead of failing",
  withWorld({ web: "" }, async (w) => {
    w.source.write(SERVER_PATH, "loadpaths: [children]\nmode: loud\n");
    const informed = await infoReport(w.supervisor, w.store.snapshot(), {
      facts: FACTS,
      now: FACTS.startedAt,
    });
    assert.equal(informed.info.mode, "unknown");
    assert.deepEqual(informed.info.loadpaths, []);
    assert.equal(informed.info.problems.length, 1);
    assert.match(informed.info.problems[0] ?? "", /Server config is invalid/);
  }),
);

// Honest start results, bulk operations, signals, drift and instances (issue 11)

Deno.test(
  "a waited start answers once the child counts as started, after start_seconds",
  withWorld({ web: "start_seconds: 2\n" }, async (w) => {
    let answered = false;
    const starting = w.supervisor.start("web", { ...w.ctx(), wait: true }).then((r) => {
      answered = true;
      return r;
    });
    for (let i = 0; i < 100 && w.spawner.spawned.length === 0; i++) await flush();
    await w.advance(1_999);
    assert.equal(answered, false, "not before start_seconds");
    await w.advance(1);
    const result = await starting;
    assert.equal(result.child.state, "RUNNING");
  }),
);

Deno.test(
  "a waited start of a child that exits first fails with EXITED_EARLY, its exit and stderr",
  withWorld({ web: "start_seconds: 5\nrestart: on-failure\n" }, async (w) => {
    const starting = w.supervisor.start("web", { ...w.ctx(), wait: true });
    for (let i = 0; i < 100 && w.spawner.spawned.length === 0; i++) await flush();
    w.proc("web").exit({ code: 3, signal: null });
    const error = await rejectsWith(
      starting,
      "EXITED_EARLY",
      /^Cannot start child "web": it \(pid \d+\) exited \d+ ms after it started \(exit code 3\); it will be tried again/,
    );
    assert.equal(error.child, "web");
    assert.equal(w.child("web").state, "BACKOFF");
  }),
);

Deno.test(
  "a start that does not wait answers at once",
  withWorld({ web: "start_seconds: 5\n" }, async (w) => {
    const result = await w.supervisor.start("web", { ...w.ctx(), wait: false });
    assert.equal(result.child.state, "STARTING");
  }),
);

Deno.test(
  "start all starts every defined child that does not run, and says which",
  withWorld({ a: "", b: "", c: "" }, async (w) => {
    await w.supervisor.start("b", w.ctx());
    const result = await startAll(w.supervisor, w.ctx());
    assert.deepEqual(result.results.map((r) => [r.child, r.ok]), [["a", true], ["c", true]]);
    assert.deepEqual(w.spawnedNames().sort(), ["a", "b", "c"]);
  }),
);

Deno.test(
  "restart all restarts the children that run and leaves stopped ones alone",
  withWorld({ a: "", b: "" }, async (w) => {
    await w.supervisor.start("a", w.ctx());
    const first = w.proc("a").pid;
    const result = await restartAll(w.supervisor, w.ctx());
    assert.deepEqual(result.results.map((r) => r.child), ["a"]);
    assert.notEqual(w.proc("a").pid, first);
    assert.deepEqual(w.spawnedNames(), ["a", "a"]);
  }),
);

Deno.test(
  "signal reaches the group, or the main process alone; a stopped child is refused",
  withWorld({ web: "", idle: "" }, async (w) => {
    await w.supervisor.start("web", w.ctx());
    const sent = w.supervisor.signal("web", { signal: "SIGHUP", main: false });
    assert.equal(sent.kind, "signalled");
    assert.deepEqual(w.proc("web").signals, ["SIGHUP"]);
    assert.throws(
      () => w.supervisor.signal("idle", { signal: "SIGHUP", main: false }),
      (error: unknown) => error instanceof SupervisorError && error.code === "NOT_RUNNING",
    );
  }),
);

Deno.test(
  "update restarts exactly the child whose config changed and stops the one removed",
  withWorld({ a: "", b: "", c: "" }, async (w) => {
    for (const name of ["a", "b", "c"]) await w.supervisor.start(name, w.ctx());
    const pids = { a: w.proc("a").pid, b: w.proc("b").pid, c: w.proc("c").pid };
    w.define("b", "stop_timeout: 3\n");
    w.source.remove(`${CHILDREN_DIR}/c.yml`);
    const checked = await checkReport(w.supervisor, w.store.snapshot(), {
      name: undefined,
      now: w.clock.now(),
    });
    assert.deepEqual(checked.children.map((c) => [c.name, c.drift]), [
      ["a", null],
      ["b", "changed"],
      ["c", "removed"],
    ]);
    const result = await update(w.supervisor, w.ctx());
    assert.deepEqual(result.results.map((r) => [r.child, r.ok]).sort(), [["b", true], ["c", true]]);
    assert.equal(w.proc("a").pid, pids.a, "a was left alone");
    assert.notEqual(w.proc("b").pid, pids.b, "b was restarted");
    assert.equal(w.child("c").state, "STOPPED");
    const after = await checkReport(w.supervisor, w.store.snapshot(), {
      name: undefined,
      now: w.clock.now(),
    });
    assert.deepEqual(after.children.map((c) => c.name), ["a", "b"], "c is dropped once stopped");
  }),
);

Deno.test(
  "a child with instances runs as its copies, each with its number filled in",
  withWorld({ web: "instances: 3\nenv: { PORT: '80{instance}' }\n" }, async (w) => {
    const result = await w.supervisor.each("start", "web", w.ctx());
    assert.equal(result.kind, "bulk");
    const ports = w.spawner.spawned.map((p) => p.spec.env.PORT).sort();
    assert.deepEqual(ports, ["800", "801", "802"]);
    await w.supervisor.each("stop", "web:1", w.ctx());
    assert.equal(w.child("web:1").state, "STOPPED");
    assert.equal(w.child("web:0").state, "STARTING");
    await rejectsWith(w.supervisor.childFor("web", w.ctx()), "BAD_NAME", /runs 3 instances/);
    await rejectsWith(w.supervisor.start("web:3", w.ctx()), "NOT_FOUND", /web:0 to web:2/);
  }),
);

Deno.test(
  "a mistyped child name is NOT_FOUND with the closest defined name",
  withWorld({ web: "", worker: "" }, async (w) => {
    await rejectsWith(w.supervisor.start("wbe", w.ctx()), "NOT_FOUND", /\(did you mean "web"\?\)$/);
    const far = await rejectsWith(w.supervisor.start("zzzzzz", w.ctx()), "NOT_FOUND");
    assert.doesNotMatch(far.message, /did you mean/);
  }),
);
