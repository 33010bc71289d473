/**
 * Tests of when the resource monitor samples (never when idle; on demand, shared, with a grace;
 * while held; while a memory limit is set) and of what it keeps (latest, bounded history, limit
 * counts), with a fake sampler and a fake clock.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ResourceSample } from "../process/resource_sampler.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { ResourceMonitor } from "./resource_monitor.ts";
import type { MonitorTarget, ResourceMonitorOptions, Sampler } from "./resource_monitor.ts";

const PERIOD = 5000;

/** A sampler that answers from `rss` (bytes per child name) and counts its calls. */
class FakeSampler implements Sampler {
  calls = 0;
  readonly rss = new Map<string, number>();
  /** When set, each call waits for it. */
  gate: Promise<void> | undefined;

  constructor(readonly clock: FakeClock) {}

  async sample(leaders: ReadonlyMap<string, number>): Promise<Map<string, ResourceSample>> {
    this.calls++;
    if (this.gate) await this.gate;
    const samples = new Map<string, ResourceSample>();
    for (const name of leaders.keys()) {
      samples.set(name, {
        cpuSeconds: this.calls,
        cpuPercent: null,
        rssBytes: this.rss.get(name) ?? 1000,
        processes: 1,
        at: this.clock.now(),
      });
    }
    return samples;
  }
}

/** Lets woken timers and samplings run to their next sleep. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

/** A monitor over a fake sampler and clock, with its targets and overLimit calls at hand. */
function setup(overrides: Partial<ResourceMonitorOptions> = {}) {
  const clock = new FakeClock();
  const sampler = new FakeSampler(clock);
  const targets: MonitorTarget[] = [{ name: "web", pid: 100 }];
  const overs: { name: string; rss: number; limit: number }[] = [];
  const seen: number[] = [];
  const monitor = new ResourceMonitor({
    sampler,
    clock,
    periodMs: PERIOD,
    targets: () => targets,
    overLimit: (name, sample, limit) => overs.push({ name, rss: sample.rssBytes, limit }),
    onSample: (at) => seen.push(at),
    ...overrides,
  });
  /** Moves time by `ms`, a second at a time, letting timers and samplings run. */
  const pass = async (ms: number) => {
    for (let done = 0; done < ms; done += 1000) {
      await clock.advance(Math.min(1000, ms - done));
      await settle();
    }
  };
  return { clock, sampler, targets, overs, seen, monitor, pass };
}

Deno.test("nobody asks and no limit is set: nothing is sampled and no timer is armed", async () => {
  const { clock, sampler, monitor, pass } = setup();
  monitor.targetsChanged();
  assert.equal(clock.pending, 0);
  await pass(3_600_000);
  assert.equal(sampler.calls, 0);
  assert.equal(monitor.latest("web"), undefined);
  monitor.close();
});

Deno.test("a demand samples once, shared by concurrent callers, then for three periods", async () => {
  const { clock, sampler, monitor, pass, seen } = setup();
  let open!: () => void;
  sampler.gate = new Promise((resolve) => (open = resolve));
  const looks = [monitor.demand(), monitor.demand(), monitor.demand()];
  open();
  await Promise.all(looks);
  assert.equal(sampler.calls, 1);
  assert.equal(monitor.latest("web")?.rssBytes, 1000);
  assert.equal(monitor.periodMs, PERIOD);

  await monitor.demand(); // fresh: no new sampling
  assert.equal(sampler.calls, 1);

  await pass(60_000);
  assert.equal(sampler.calls, 4, "the demanded sample and three periodic ones");
  const start = seen[0]!;
  assert.deepEqual(seen, [start, start + PERIOD, start + 2 * PERIOD, start + 3 * PERIOD]);
  assert.equal(clock.pending, 0);
  monitor.close();
});

Deno.test("a demand while sampling is on does not wait for a scan; one after it went off does", async () => {
  const { clock, sampler, monitor, pass, seen } = setup();
  await monitor.demand();
  await pass(PERIOD / 2);
  await monitor.demand();
  assert.equal(sampler.calls, 1, "the periodic sampling keeps it at most a period old");
  await pass(PERIOD / 2);
  assert.equal(sampler.calls, 2, "on the period's beat");
  assert.equal(seen[1]! - seen[0]!, PERIOD);
  // Past the grace, sampling stops; the next demand samples at once.
  await pass(10 * PERIOD);
  const calls = sampler.calls;
  await monitor.demand();
  assert.equal(sampler.calls, calls + 1);
  monitor.close();
  assert.equal(clock.pending, 0);
});

Deno.test("a hold keeps sampling until released, then for the grace", async () => {
  const { clock, sampler, monitor, pass } = setup();
  const release = monitor.hold();
  await pass(100 * PERIOD);
  assert.equal(sampler.calls, 100);
  release();
  release(); // twice is harmless
  await pass(100 * PERIOD);
  assert.equal(sampler.calls, 103, "three periods of grace, then nothing");
  assert.equal(clock.pending, 0);
  monitor.close();
});

Deno.test("a memory limit keeps sampling on and fires after N samples above, not N-1", async () => {
  const { sampler, targets, overs, monitor, pass } = setup();
  targets[0] = { name: "web", pid: 100, maxMemory: { bytes: 5000, samples: 3 } };
  sampler.rss.set("web", 6000);
  monitor.targetsChanged();
  await pass(2 * PERIOD);
  assert.equal(sampler.calls, 2);
  assert.deepEqual(overs, [], "two samples above a limit of three");

  sampler.rss.set("web", 4000); // one below resets the count
  await pass(PERIOD);
  sampler.rss.set("web", 6000);
  await pass(2 * PERIOD);
  assert.deepEqual(overs, []);
  await pass(PERIOD);
  assert.deepEqual(overs, [{ name: "web", rss: 6000, limit: 5000 }]);

  await pass(2 * PERIOD); // counting started over
  assert.equal(overs.length, 1);
  targets[0] = { name: "web", pid: 101, maxMemory: { bytes: 5000, samples: 3 } };
  monitor.targetsChanged(); // restarted: a new pid starts over
  await pass(2 * PERIOD);
  assert.equal(overs.length, 1);
  await pass(PERIOD);
  assert.equal(overs.length, 2);
  monitor.close();
});

Deno.test("without limits left, periodic sampling stops", async () => {
  const { clock, sampler, targets, monitor, pass } = setup();
  targets[0] = { name: "web", pid: 100, maxMemory: { bytes: 5000, samples: 3 } };
  monitor.targetsChanged();
  await pass(3 * PERIOD);
  assert.equal(sampler.calls, 3);
  targets.length = 0;
  monitor.targetsChanged();
  assert.equal(clock.pending, 0);
  await pass(10 * PERIOD);
  assert.equal(sampler.calls, 3);
  monitor.close();
});

Deno.test("history is bounded, oldest first; stopped children are dropped", async () => {
  const { targets, monitor, pass } = setup({ historyLength: 4 });
  const release = monitor.hold();
  await pass(10 * PERIOD);
  const history = monitor.history("web");
  assert.deepEqual(history.map((s) => s.cpuSeconds), [7, 8, 9, 10]);
  assert.equal(monitor.latest("web")?.cpuSeconds, 10);

  targets.length = 0;
  monitor.targetsChanged();
  assert.equal(monitor.latest("web"), undefined);
  await pass(PERIOD);
  assert.deepEqual(monitor.history("web"), []);
  release();
  monitor.close();
});

Deno.test("close disarms everything, and nothing samples after", async () => {
  const { clock, sampler, targets, monitor, pass } = setup();
  targets[0] = { name: "web", pid: 100, maxMemory: { bytes: 5000, samples: 3 } };
  monitor.targetsChanged();
  monitor.hold();
  assert.equal(clock.pending, 1);
  monitor.close();
  assert.equal(clock.pending, 0);
  await monitor.demand();
  monitor.targetsChanged();
  await pass(10 * PERIOD);
  assert.equal(sampler.calls, 0);
});

Deno.test("a failed periodic sampling is reported, and sampling goes on", async () => {
  const errors: unknown[] = [];
  const { sampler, monitor, pass } = setup({ onError: (error) => errors.push(error) });
  const sample = sampler.sample.bind(sampler);
  let fail = true;
  sampler.sample = (leaders) => {
    if (fail) {
      fail = false;
      sampler.calls++;
      return Promise.reject(new Error("refused"));
    }
    return sample(leaders);
  };
  const release = monitor.hold();
  await pass(2 * PERIOD);
  assert.equal(errors.length, 1);
  assert.equal(sampler.calls, 2);
  assert.ok(monitor.latest("web"));
  release();
  monitor.close();
});

Deno.test("with nothing running, a held monitor does not scan", async () => {
  const { sampler, targets, monitor, pass } = setup();
  targets.length = 0;
  const release = monitor.hold();
  await pass(5 * PERIOD);
  assert.equal(sampler.calls, 0);
  release();
  monitor.close();
});

Deno.test("a demand while sampling is on gives nothing to wait for; one that samples, a promise", async () => {
  const { sampler, monitor, pass } = setup();
  const sampling = monitor.demand();
  assert.ok(sampling instanceof Promise, "sampling was off: the caller waits for it");
  await sampling;
  await pass(PERIOD / 2);
  assert.equal(monitor.demand(), undefined, "a sample within the period: no promise at all");
  assert.equal(sampler.calls, 1);
  monitor.close();
  assert.equal(monitor.demand(), undefined, "closed: nothing to wait for");
});
