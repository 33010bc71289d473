/**
 * Tests of ProbeRunner: the schedule and thresholds with a fake clock and scripted checks, then
 * a few runs against a real TCP listener, HTTP server and commands on the real clock.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ProbeAction, ProbeConfig } from "../config/probe_config.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { realClock } from "./clock.ts";
import { probeCheck } from "./probe.ts";
import type { ProbeCheck } from "./probe.ts";
import { ProbeRunner } from "./probe_runner.ts";
import type { ProbeRunnerOptions } from "./probe_runner.ts";

const TCP: ProbeAction = { kind: "tcp", host: "127.0.0.1", port: 1 };

/** A probe config: `ready` with the defaults unless told otherwise. */
function probeConfig(overrides: Partial<ProbeConfig> = {}, action: ProbeAction = TCP): ProbeConfig {
  return {
    role: "ready",
    initialDelayMs: 0,
    periodMs: 1000,
    timeoutMs: 1000,
    successThreshold: 1,
    failureThreshold: 3,
    timeoutTotalMs: 60_000,
    ...overrides,
    ...action,
  } as ProbeConfig;
}

/** Lets every promise chain run (a macrotask turn), without moving the fake clock. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A runner on a fake clock, with scripted results and a log of what it reported, and when. */
function harness(
  probe: ProbeConfig,
  results: readonly (boolean | "hang" | "throw" | "reject")[] = [],
  extra: Partial<ProbeRunnerOptions> = {},
) {
  const clock = new FakeClock(0);
  const events: string[] = [];
  const checks: number[] = [];
  const signals: AbortSignal[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const check: ProbeCheck = (signal) => {
    const result = results[checks.length] ?? false;
    checks.push(clock.now());
    signals.push(signal);
    if (result === "throw") throw new Error("the check broke");
    if (result === "reject") return Promise.reject(new Error("the check failed"));
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (result !== "hang") {
      inFlight--;
      return Promise.resolve(result);
    }
    // Like the real checks: a hung check returns (false) once aborted.
    return new Promise((resolve) =>
      signal.addEventListener("abort", () => {
        inFlight--;
        resolve(false);
      }, { once: true })
    );
  };
  const report = (name: string) => () => events.push(`${name}@${clock.now()}`);
  const runner = new ProbeRunner({
    probe,
    clock,
    check,
    onReady: report("ready"),
    onNeverReady: report("never-ready"),
    onHealthy: report("healthy"),
    onUnhealthy: report("unhealthy"),
    ...extra,
  });
  /** Advances the clock by `ms`, then lets the runner react. */
  const advance = async (ms: number) => {
    await clock.advance(ms);
    await settle();
  };
  /** Starts the runner and lets it reach its first wait. */
  const start = async () => {
    runner.start();
    await settle();
  };
  return {
    clock,
    runner,
    start,
    events,
    checks,
    signals,
    advance,
    maxInFlight: () => maxInFlight,
  };
}

Deno.test("ready waits the initial delay, then needs success_threshold successes in a row", async () => {
  const t = harness(
    probeConfig({ initialDelayMs: 500, successThreshold: 2 }),
    [false, true, true, true],
  );
  await t.start();
  assert.deepEqual(t.checks, []);
  await t.advance(499);
  assert.deepEqual(t.checks, []);
  await t.advance(1);
  assert.deepEqual(t.checks, [500]);
  await t.advance(1000);
  assert.deepEqual(t.events, []);
  assert.equal(t.runner.status.successes, 1);
  await t.advance(1000);
  assert.deepEqual(t.checks, [500, 1500, 2500]);
  assert.deepEqual(t.events, ["ready@2500"]);
  assert.equal(await t.runner.finished, "ready");
  assert.deepEqual(t.runner.status, {
    verdict: "ready",
    running: false,
    successes: 2,
    failures: 0,
    checks: 3,
  });
  assert.equal(t.clock.pending, 0);
  await t.advance(10_000);
  assert.equal(t.checks.length, 3);
});

Deno.test("a failure resets the successes counted towards ready", async () => {
  const t = harness(probeConfig({ successThreshold: 2 }), [true, false, true, true]);
  await t.start();
  assert.deepEqual(t.checks, [0]);
  await t.advance(1000);
  assert.deepEqual(t.runner.status.failures, 1);
  assert.deepEqual(t.runner.status.successes, 0);
  await t.advance(2000);
  assert.deepEqual(t.checks, [0, 1000, 2000, 3000]);
  assert.deepEqual(t.events, ["ready@3000"]);
});

Deno.test("a child not ready within timeout_total is never ready, at that moment exactly", async () => {
  const t = harness(probeConfig({ timeoutTotalMs: 3500, failureThreshold: 1 }));
  await t.start();
  await t.advance(3499);
  assert.deepEqual(t.events, []);
  assert.equal(t.runner.status.failures, 4);
  await t.advance(1);
  assert.deepEqual(t.events, ["never-ready@3500"]);
  assert.deepEqual(t.checks, [0, 1000, 2000, 3000]);
  assert.equal(await t.runner.finished, "never-ready");
  assert.equal(t.clock.pending, 0);
});

Deno.test("a check in flight when timeout_total passes is cut there", async () => {
  const t = harness(probeConfig({ timeoutTotalMs: 1500 }), [false, "hang"]);
  await t.start();
  await t.advance(1000);
  assert.deepEqual(t.checks, [0, 1000]);
  await t.advance(499);
  assert.equal(t.signals[1]!.aborted, false);
  await t.advance(1);
  assert.equal(t.signals[1]!.aborted, true);
  assert.deepEqual(t.events, ["never-ready@1500"]);
  assert.equal(t.clock.pending, 0);
});

Deno.test("health reports healthy once, then unhealthy after failure_threshold failures in a row, and stops", async () => {
  const t = harness(
    probeConfig({ role: "health", timeoutTotalMs: undefined, failureThreshold: 3 }),
    [true, false, false, true, false, false, false, true],
  );
  await t.start();
  assert.deepEqual(t.events, ["healthy@0"]);
  assert.equal(t.runner.status.verdict, "healthy");
  await t.advance(5000);
  assert.deepEqual(t.events, ["healthy@0"]);
  assert.equal(t.runner.status.failures, 2);
  await t.advance(1000);
  assert.deepEqual(t.events, ["healthy@0", "unhealthy@6000"]);
  assert.equal(await t.runner.finished, "unhealthy");
  assert.equal(t.clock.pending, 0);
  await t.advance(10_000);
  assert.equal(t.checks.length, 7);
});

Deno.test("health with no success yet still becomes unhealthy after failure_threshold failures", async () => {
  const t = harness(
    probeConfig({ role: "health", timeoutTotalMs: undefined, failureThreshold: 2 }),
    [false, false],
  );
  await t.start();
  await t.advance(1000);
  assert.deepEqual(t.events, ["unhealthy@1000"]);
});

Deno.test("health never ends by time alone: it has no total timeout", async () => {
  const t = harness(
    probeConfig({ role: "health", timeoutTotalMs: undefined, successThreshold: 2 }),
    Array(200).fill(true),
  );
  await t.start();
  for (let i = 0; i < 100; i++) await t.advance(1000);
  assert.deepEqual(t.events, ["healthy@1000"]);
  assert.equal(t.runner.status.running, true);
  assert.equal(t.runner.status.checks, 101);
  t.runner.stop();
  assert.equal(await t.runner.finished, "healthy");
  assert.equal(t.clock.pending, 0);
});

Deno.test("a check that hangs is cut at its timeout and counts as a failure", async () => {
  const t = harness(
    probeConfig({ role: "health", timeoutTotalMs: undefined, timeoutMs: 300, failureThreshold: 2 }),
    ["hang", "hang"],
  );
  await t.start();
  await t.advance(299);
  assert.equal(t.runner.status.failures, 0);
  assert.equal(t.signals[0]!.aborted, false);
  await t.advance(1);
  assert.equal(t.signals[0]!.aborted, true);
  assert.equal(t.runner.status.failures, 1);
  assert.equal(t.clock.pending, 1);
  await t.advance(700);
  assert.deepEqual(t.checks, [0, 1000]);
  await t.advance(300);
  assert.deepEqual(t.events, ["unhealthy@1300"]);
  assert.equal(t.maxInFlight(), 1);
  assert.equal(t.clock.pending, 0);
});

Deno.test("a check that ignores the abort is counted failed at its timeout, and the next waits for it", async () => {
  const clock = new FakeClock(0);
  const checks: number[] = [];
  let release = () => {};
  const runner = new ProbeRunner({
    probe: probeConfig({ role: "health", timeoutTotalMs: undefined, timeoutMs: 100 }),
    clock,
    check: () => {
      checks.push(clock.now());
      return checks.length === 1
        ? new Promise((resolve) => (release = () => resolve(true)))
        : Promise.resolve(true);
    },
  });
  runner.start();
  await settle();
  await clock.advance(100);
  await settle();
  assert.equal(runner.status.failures, 1);
  await clock.advance(5000);
  await settle();
  assert.deepEqual(checks, [0]);
  release();
  await settle();
  assert.deepEqual(checks, [0, 5100]);
  assert.equal(runner.status.successes, 1);
  runner.stop();
});

Deno.test("a slow check delays nothing: the period runs from the start of one check to the next", async () => {
  const clock = new FakeClock(0);
  const checks: number[] = [];
  const runner = new ProbeRunner({
    probe: probeConfig({ role: "health", timeoutTotalMs: undefined, timeoutMs: 2000 }),
    clock,
    check: async () => {
      checks.push(clock.now());
      await clock.sleep(400);
      return true;
    },
  });
  runner.start();
  await settle();
  for (let i = 0; i < 30; i++) {
    await clock.advance(100);
    await settle();
  }
  assert.deepEqual(checks, [0, 1000, 2000, 3000]);
  runner.stop();
  await clock.advance(1000);
  assert.equal(clock.pending, 0);
});

Deno.test("a check that throws or rejects counts as a failure", async () => {
  const t = harness(
    probeConfig({ role: "health", timeoutTotalMs: undefined, failureThreshold: 2 }),
    ["throw", "reject"],
  );
  await t.start();
  assert.equal(t.runner.status.failures, 1);
  await t.advance(1000);
  assert.deepEqual(t.events, ["unhealthy@1000"]);
});

Deno.test("stop during the initial delay leaves no timer and runs no check", async () => {
  const t = harness(probeConfig({ initialDelayMs: 5000 }), [true]);
  t.runner.start();
  assert.equal(t.clock.pending, 1);
  assert.equal(t.runner.status.running, true);
  t.runner.stop();
  assert.equal(t.clock.pending, 0);
  assert.equal(t.runner.status.running, false);
  assert.equal(await t.runner.finished, "pending");
  await t.advance(10_000);
  assert.deepEqual(t.checks, []);
  assert.deepEqual(t.events, []);
});

Deno.test("stop during a check aborts it, leaves no timer and reports nothing", async () => {
  const t = harness(probeConfig(), ["hang"]);
  await t.start();
  assert.equal(t.clock.pending, 1);
  t.runner.stop();
  assert.equal(t.signals[0]!.aborted, true);
  assert.equal(t.clock.pending, 0);
  await t.advance(100_000);
  assert.deepEqual(t.events, []);
  assert.equal(t.checks.length, 1);
});

Deno.test("a runner stopped before it started never starts", async () => {
  const t = harness(probeConfig(), [true]);
  t.runner.stop();
  await t.start();
  await t.advance(5000);
  assert.deepEqual(t.checks, []);
  assert.equal(t.clock.pending, 0);
});

Deno.test("a callback may stop the runner it was called by", async () => {
  const self: { runner?: ProbeRunner } = {};
  const t = harness(
    probeConfig({ role: "health", timeoutTotalMs: undefined }),
    [true, true],
    { onHealthy: () => self.runner?.stop() },
  );
  self.runner = t.runner;
  await t.start();
  await t.advance(5000);
  assert.deepEqual(t.checks, [0]);
  assert.equal(await t.runner.finished, "healthy");
  assert.equal(t.clock.pending, 0);
});

Deno.test("a log probe is ready at the first matching line, with one timer while it waits", async () => {
  const t = harness(
    probeConfig({ timeoutTotalMs: 10_000 }, {
      kind: "log",
      pattern: /ready to accept/,
      source: "ready to accept",
    }),
  );
  t.runner.offer("ready to accept connections (before the start, ignored)");
  t.runner.start();
  assert.equal(t.clock.pending, 1);
  t.runner.offer("starting");
  await t.advance(5000);
  assert.deepEqual(t.events, []);
  t.runner.offer("database system is ready to accept connections");
  assert.deepEqual(t.events, ["ready@5000"]);
  assert.equal(t.clock.pending, 0);
  t.runner.offer("ready to accept connections");
  assert.deepEqual(t.events, ["ready@5000"]);
  assert.equal(await t.runner.finished, "ready");
  assert.deepEqual(t.checks, []);
});

Deno.test("a log probe with no matching line within timeout_total is never ready", async () => {
  const t = harness(
    probeConfig({ timeoutTotalMs: 2000 }, { kind: "log", pattern: /ready/, source: "ready" }),
  );
  t.runner.start();
  t.runner.offer("starting");
  await t.advance(2000);
  assert.deepEqual(t.events, ["never-ready@2000"]);
  t.runner.offer("ready");
  assert.deepEqual(t.events, ["never-ready@2000"]);
  assert.equal(t.clock.pending, 0);
});

Deno.test("a runner refuses a probe it cannot run", () => {
  const clock = new FakeClock(0);
  assert.throws(() => new ProbeRunner({ probe: probeConfig(), clock }), TypeError);
  assert.throws(
    () =>
      new ProbeRunner({
        probe: probeConfig({ role: "health" }, { kind: "log", pattern: /x/, source: "x" }),
        clock,
      }),
    TypeError,
  );
});

// Real checks on the real clock.

/** Resolves when `runner` finishes, failing the test past `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("a real tcp ready probe turns ready once the port listens", async () => {
  const probe0 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe0.addr.port;
  probe0.close();
  const probe = probeConfig({ periodMs: 50, timeoutMs: 500, timeoutTotalMs: 10_000 }, {
    kind: "tcp",
    host: "127.0.0.1",
    port,
  });
  const runner = new ProbeRunner({
    probe,
    clock: realClock,
    check: probeCheck(probe, { cwd: "/tmp", env: {} }),
  });
  runner.start();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(runner.status.verdict, "pending");
  assert.ok(runner.status.failures >= 2);
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    assert.equal(await within(runner.finished, 5000), "ready");
  } finally {
    listener.close();
    runner.stop();
  }
});

Deno.test("a real http health probe is healthy on 200 and unhealthy after 500s", async () => {
  let status = 200;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(null, { status }),
  );
  const probe = probeConfig({
    role: "health",
    periodMs: 50,
    timeoutMs: 1000,
    failureThreshold: 2,
    timeoutTotalMs: undefined,
  }, { kind: "http", url: `http://127.0.0.1:${server.addr.port}/healthz` });
  const healthy = Promise.withResolvers<void>();
  const runner = new ProbeRunner({
    probe,
    clock: realClock,
    check: probeCheck(probe, { cwd: "/tmp", env: {} }),
    onHealthy: () => healthy.resolve(),
  });
  try {
    runner.start();
    await within(healthy.promise, 5000);
    status = 500;
    assert.equal(await within(runner.finished, 5000), "unhealthy");
    assert.equal(runner.status.failures, 2);
  } finally {
    runner.stop();
    await server.shutdown();
  }
});

/** A runner of `sh -c SCRIPT` on the real clock. */
function shRunner(script: string, overrides: Partial<ProbeConfig>): ProbeRunner {
  const probe = probeConfig({ periodMs: 50, ...overrides }, {
    kind: "exec",
    argv: ["sh", "-c", script],
  });
  return new ProbeRunner({
    probe,
    clock: realClock,
    check: probeCheck(probe, { cwd: "/tmp", env: {} }),
  });
}

Deno.test("a real exec ready probe of exit 0 is ready", async () => {
  const runner = shRunner("exit 0", { timeoutMs: 5000 });
  runner.start();
  assert.equal(await within(runner.finished, 5000), "ready");
});

Deno.test("a real exec health probe of exit 1 is unhealthy", async () => {
  const runner = shRunner("exit 1", {
    role: "health",
    timeoutTotalMs: undefined,
    failureThreshold: 2,
  });
  runner.start();
  assert.equal(await within(runner.finished, 5000), "unhealthy");
  assert.equal(runner.status.checks, 2);
});

Deno.test("a real exec probe that sleeps past its timeout fails, and ready gives up at timeout_total", async () => {
  const started = performance.now();
  const runner = shRunner("sleep 10", { timeoutMs: 100, timeoutTotalMs: 400 });
  runner.start();
  assert.equal(await within(runner.finished, 5000), "never-ready");
  assert.ok(performance.now() - started < 3000);
  assert.ok(runner.status.checks >= 2);
  assert.equal(runner.status.successes, 0);
});
