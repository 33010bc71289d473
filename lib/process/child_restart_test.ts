/**
 * Restart policy, backoff and max_restarts of a Child, on a fake clock and fake processes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseChildConfig } from "../config/child_config.ts";
import type { ChildConfig } from "../config/child_config.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { FakeSpawner, settle } from "../testing/fake_spawner.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { Child } from "./child.ts";

const dir = Deno.makeTempDirSync({ prefix: "child-restart-test-" });

function config(yaml: string): ChildConfig {
  return parseChildConfig(join(dir, "job.yml"), `command: job\n${yaml}`);
}

function setup(yaml: string) {
  const clock = new FakeClock();
  const spawner = new FakeSpawner();
  const logger = new MemoryLogger();
  const sink = { write: () => Promise.resolve() };
  const cfg = config(yaml);
  const child = new Child("job", {
    spawner,
    clock,
    logger,
    terminal: { stdout: sink, stderr: sink },
    groupProbe: () => 0,
    random: () => 0.5,
    configFor: () => Promise.resolve(cfg),
  });
  const start = () => child.enqueue(() => child.spawn(cfg));
  const crash = async (code = 1) => {
    spawner.last.exit({ code, signal: null });
    await settle();
  };
  const advance = async (ms: number) => {
    await clock.advance(ms);
    await settle();
  };
  return { clock, spawner, logger, child, cfg, start, crash, advance };
}

const LOOP = "restart: always\nstart_seconds: 1\nbackoff: { initial: 1, max: 8, multiplier: 2 }\n";

Deno.test("restart always waits the backoff, doubling it for each exit in a row", async () => {
  const t = setup(LOOP);
  await t.start();
  await t.crash();
  assert.equal(t.child.state, "BACKOFF");
  assert.equal(t.child.status().nextAttemptAt, t.clock.now() + 1000);
  await t.advance(999);
  assert.equal(t.spawner.spawned.length, 1, "nothing before the delay");
  await t.advance(1);
  assert.equal(t.spawner.spawned.length, 2);
  assert.equal(t.child.state, "STARTING");
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    await t.crash();
    delays.push(t.child.status().nextAttemptAt! - t.clock.now());
    await t.advance(delays[i]!);
  }
  assert.deepEqual(delays, [2000, 4000, 8000, 8000]);
  assert.equal(t.child.status().restarts, 5);
});

Deno.test("backoff starts again from initial once a run stays up for start_seconds", async () => {
  const t = setup(LOOP);
  await t.start();
  await t.crash();
  await t.advance(1000);
  await t.crash();
  assert.equal(t.child.status().failures, 2);
  await t.advance(2000);
  await t.advance(1000); // start_seconds: the run counts as started
  assert.equal(t.child.state, "RUNNING");
  assert.equal(t.child.status().failures, 0);
  await t.crash();
  assert.equal(t.child.status().nextAttemptAt! - t.clock.now(), 1000);
});

Deno.test("max_restarts makes the child FATAL after that many restarts in a row", async () => {
  const t = setup(LOOP + "max_restarts: 2\n");
  await t.start();
  await t.crash();
  await t.advance(1000);
  await t.crash();
  await t.advance(2000);
  await t.crash();
  assert.equal(t.child.state, "FATAL");
  assert.equal(t.spawner.spawned.length, 3);
  assert.match(
    t.child.status().error ?? "",
    /gave up after 3 exits in a row without staying up 1s \(max_restarts 2\)/,
  );
  await t.advance(60_000);
  assert.equal(t.spawner.spawned.length, 3, "no restart after FATAL");
  assert.equal(t.clock.pending, 0, "no timer left behind");
});

Deno.test("a manual start of a BACKOFF or FATAL child starts it at once and resets the count", async () => {
  const t = setup(LOOP + "max_restarts: 0\n");
  await t.start();
  await t.crash();
  assert.equal(t.child.state, "FATAL");
  await t.start();
  assert.equal(t.child.state, "STARTING");
  assert.equal(t.child.status().failures, 0);

  const u = setup(LOOP);
  await u.start();
  await u.crash();
  await u.advance(1000);
  await u.crash();
  assert.equal(u.child.state, "BACKOFF");
  await u.start();
  assert.equal(u.spawner.spawned.length, 3);
  assert.equal(u.child.status().failures, 0);
  assert.equal(u.child.status().nextAttemptAt, null);
  await u.advance(10_000);
  assert.equal(u.spawner.spawned.length, 3, "the cancelled timer does not spawn");
});

Deno.test("cancelling a pending restart leaves the child STOPPED with no timer", async () => {
  const t = setup(LOOP);
  await t.start();
  await t.crash();
  assert.deepEqual(await t.child.halt(), { kind: "cancelled" });
  assert.equal(t.child.state, "STOPPED");
  assert.equal(t.clock.pending, 0);
  await t.advance(10_000);
  assert.equal(t.spawner.spawned.length, 1);
  assert.deepEqual(
    await t.child.halt(),
    { kind: "idle" },
    "only a BACKOFF child has a restart to cancel",
  );
});

Deno.test("on-failure does not restart a child that exited 0, and restarts one that failed", async () => {
  const t = setup("restart: on-failure\nbackoff: { initial: 0 }\n");
  await t.start();
  await t.crash(0);
  assert.equal(t.child.state, "EXITED");
  await t.start();
  await t.crash(3);
  assert.equal(t.child.state, "BACKOFF");
  await t.advance(0);
  assert.equal(t.spawner.spawned.length, 3);
});

Deno.test("never (the default) leaves an exited child EXITED", async () => {
  const t = setup("");
  await t.start();
  await t.crash(1);
  assert.equal(t.child.state, "EXITED");
  assert.equal(t.clock.pending, 0);
});

Deno.test("a restart that cannot spawn counts as a failure and backs off again", async () => {
  const t = setup(LOOP + "max_restarts: 2\n");
  await t.start();
  t.spawner.failWith = new Deno.errors.NotFound("gone");
  await t.crash();
  await t.advance(1000);
  assert.equal(t.child.state, "BACKOFF");
  assert.equal(t.child.status().failures, 2);
  await t.advance(2000);
  assert.equal(t.child.state, "FATAL");
  assert.ok(t.logger.lines.some((l) => l.includes(`command "job" was not found`)));
});

Deno.test("a stop signal exit is not a failure to restart from", async () => {
  const t = setup(LOOP);
  await t.start();
  const exit = await t.child.enqueue(() => t.child.terminate());
  assert.equal(exit.requested, true);
  assert.equal(t.child.state, "STOPPED");
  assert.equal(t.clock.pending, 0);
});

Deno.test("crashes counts the runs that ended unasked with an unexpected exit, not stops or clean exits", async () => {
  const t = setup(LOOP + "exit_codes: [0, 2]\n");
  await t.start();
  await t.crash(1);
  assert.equal(t.child.status().crashes, 1, "exit 1 is a crash");
  await t.advance(1000);
  await t.crash(0);
  assert.equal(t.child.state, "BACKOFF", "restart: always restarts after exit 0");
  assert.equal(t.child.status().crashes, 1, "exit 0 is expected: not a crash");
  await t.advance(2000);
  await t.crash(2);
  assert.equal(t.child.status().crashes, 1, "a code in exit_codes is expected: not a crash");
  await t.advance(4000);
  t.spawner.last.exit({ code: null, signal: "SIGSEGV" });
  await settle();
  assert.equal(t.child.status().crashes, 2, "a signal it did not ask for is a crash");
  await t.advance(8000);
  await t.advance(1000);
  assert.equal(t.child.state, "RUNNING");
  const exit = await t.child.enqueue(() => t.child.terminate());
  assert.equal(exit.requested, true);
  assert.equal(t.child.status().crashes, 2, "a stop asked for is not a crash");
  await t.start();
  await t.child.enqueue(() => t.child.terminate());
  assert.equal(t.child.status().crashes, 2, "nor is a stop while STARTING");
  assert.equal(t.child.status().restarts, 5, "restarts counts every start after the first");
});

Deno.test("a run the server ends for the memory limit is a crash whatever its exit", async () => {
  const t = setup(LOOP);
  await t.start();
  await t.advance(1000);
  assert.equal(t.child.endRun("memory limit", "uses too much memory"), true);
  await settle();
  assert.equal(t.child.status().lastExit?.reason, "memory limit");
  assert.equal(t.child.status().lastExit?.requested, false);
  assert.equal(t.child.status().crashes, 1);
  await t.child.halt();
});
