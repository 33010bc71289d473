/**
 * When children's resources are sampled, and what is kept of the samples.
 *
 * Sampling costs a scan of /proc, so it happens only while it serves someone:
 * - a look now ({@link ResourceMonitor.demand}: a check, a /metrics scrape) samples unless the
 *   latest sample is fresher than half a period (concurrent looks share one sampling), then
 *   keeps sampling each period for {@link DEMAND_GRACE_PERIODS} periods, so a poller gets CPU
 *   shares between samples a period apart;
 * - a live watcher ({@link ResourceMonitor.hold}: a status page) keeps periodic sampling on
 *   until it lets go, and then for the same grace (a page reload keeps its CPU shares);
 * - a target with a memory limit keeps periodic sampling on while it is a target.
 * Otherwise no timer is armed at all. Every sample re-phases the timer, so a look between two
 * periodic samples does not add one.
 *
 * After each sampling: the latest sample per target, a bounded history per target, the
 * `onSample` callback, and the memory limits (a target above its limit for `samples`
 * consecutive samples of the same pid is reported once through `overLimit`, and counting
 * starts over).
 *
 * Owns: the timing and the bookkeeping above. Does not own: reading the system (see
 * `lib/process/resource_sampler.ts`), what a memory limit does (the caller restarts the
 * child), or logging a failed sampling (handed to `onError`).
 *
 * @module
 */
import { callOff } from "../process/clock.ts";
import type { Clock } from "../process/clock.ts";
import type { ResourceSample } from "../process/resource_sampler.ts";

/** Periods of sampling that go on after the last look, or after a watcher lets go. */
export const DEMAND_GRACE_PERIODS = 3;

/** Samples kept per child by default. */
export const DEFAULT_HISTORY_LENGTH = 120;

/** What samples children: {@link ResourceSampler} of `lib/process/resource_sampler.ts`. */
export interface Sampler {
  sample(leaders: ReadonlyMap<string, number>): Promise<Map<string, ResourceSample>>;
}

/** A memory limit: restart after `samples` consecutive samples above `bytes`. */
export interface MemoryLimit {
  readonly bytes: number;
  readonly samples: number;
}

/** A child to sample: its name, the pid leading its session and group, and its limit. */
export interface MonitorTarget {
  readonly name: string;
  readonly pid: number;
  readonly maxMemory?: MemoryLimit;
}

/** What a monitor is given. */
export interface ResourceMonitorOptions {
  readonly sampler: Sampler;
  readonly clock: Clock;
  /** Time between periodic samples, in milliseconds. */
  readonly periodMs: number;
  /** The children to sample now (running ones); asked at each sampling. */
  readonly targets: () => Iterable<MonitorTarget>;
  /** A child was above `limitBytes` for its limit's number of consecutive samples. */
  readonly overLimit: (name: string, sample: ResourceSample, limitBytes: number) => void;
  /** Samples kept per child; {@link DEFAULT_HISTORY_LENGTH} by default. */
  readonly historyLength?: number;
  /** After each sampling, with the latest sample of every child sampled. */
  readonly onSample?: (at: number, latest: ReadonlyMap<string, ResourceSample>) => void;
  /** A periodic sampling failed (a demanded one rejects its callers instead). */
  readonly onError?: (error: unknown) => void;
}

/** Consecutive samples above the limit, for one pid of a child. */
interface OverCount {
  readonly pid: number;
  count: number;
}

/**
 * Decides when to sample and keeps the latest samples, their history and the limit counts.
 * A new monitor arms nothing and does not ask for its targets: call
 * {@link ResourceMonitor.targetsChanged} once there are some.
 */
export class ResourceMonitor {
  readonly #options: ResourceMonitorOptions;
  readonly #clock: Clock;
  readonly #historyLength: number;
  #latest = new Map<string, ResourceSample>();
  readonly #history = new Map<string, ResourceSample[]>();
  readonly #over = new Map<string, OverCount>();
  readonly #holds = new Set<symbol>();
  #limited = false;
  /** Clock time until which periodic sampling goes on for lookers. */
  #demandUntil = -Infinity;
  #lastSampleAt: number | undefined;
  #inFlight: Promise<void> | undefined;
  #timer: AbortController | undefined;
  #closed = false;

  constructor(options: ResourceMonitorOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.#historyLength = Math.max(1, options.historyLength ?? DEFAULT_HISTORY_LENGTH);
  }

  /** Time between periodic samples, in milliseconds. */
  get periodMs(): number {
    return this.#options.periodMs;
  }

  /** The newest sample of child `name`; undefined when it was not sampled (not running). */
  latest(name: string): ResourceSample | undefined {
    return this.#latest.get(name);
  }

  /** The kept samples of child `name`, oldest first. */
  history(name: string): readonly ResourceSample[] {
    return [...(this.#history.get(name) ?? [])];
  }

  /**
   * Someone looks now, and keeps periodic sampling on for the grace after. When sampling was
   * off (no sample within the last period and a half), samples now and resolves once done
   * (callers meanwhile share the sampling); when it is on, resolves at once: the latest sample
   * is at most a period old, and the asker (a `check`) does not wait for a scan of /proc: then
   * there is no promise to wait for (undefined).
   */
  demand(): Promise<void> | undefined {
    if (this.#closed) return undefined;
    const now = this.#clock.now();
    this.#extendGrace(now);
    if (this.#isCurrent(now)) {
      this.#arm();
      return undefined;
    }
    return this.#sampleShared();
  }

  /** A live watcher: periodic sampling stays on until the returned function is called. */
  hold(): () => void {
    if (this.#closed) return () => {};
    const token = Symbol("hold");
    this.#holds.add(token);
    this.#arm();
    return () => {
      if (!this.#holds.delete(token) || this.#closed) return;
      this.#extendGrace(this.#clock.now());
    };
  }

  /** Children started or stopped, or their limits changed: arms or disarms the timer. */
  targetsChanged(): void {
    if (this.#closed) return;
    const targets = [...this.#options.targets()];
    this.#limited = anyLimited(targets);
    const names = namesOf(targets);
    keepOnly(this.#latest, names);
    keepOnly(this.#over, names);
    if (this.#wanted(this.#nextTickAt())) this.#arm();
    else this.#disarm();
  }

  /** Disarms everything: no timer is left, and nothing samples any more. */
  close(): void {
    this.#closed = true;
    this.#holds.clear();
    this.#disarm();
  }

  #extendGrace(now: number): void {
    this.#demandUntil = Math.max(this.#demandUntil, now + DEMAND_GRACE_PERIODS * this.periodMs);
  }

  /** Whether periodic sampling is going on: a sample within the last period and a half. */
  #isCurrent(now: number): boolean {
    return this.#lastSampleAt !== undefined && now - this.#lastSampleAt < this.periodMs * 1.5;
  }

  /** Whether periodic sampling is wanted at clock time `at`. */
  #wanted(at: number): boolean {
    return !this.#closed && (this.#holds.size > 0 || this.#limited || at <= this.#demandUntil);
  }

  /** When the next periodic sample is due: a period after the latest one. */
  #nextTickAt(): number {
    const now = this.#clock.now();
    if (this.#lastSampleAt === undefined) return now + this.periodMs;
    return Math.max(now, this.#lastSampleAt + this.periodMs);
  }

  /** Arms the timer for the next periodic sample, unless armed or not wanted. */
  #arm(): void {
    if (this.#timer || this.#inFlight) return;
    const at = this.#nextTickAt();
    if (!this.#wanted(at)) return;
    const timer = new AbortController();
    this.#timer = timer;
    this.#clock.sleep(at - this.#clock.now(), timer.signal).then(
      () => this.#tick(timer),
      () => {}, // disarmed
    );
  }

  #disarm(): void {
    callOff(this.#timer);
    this.#timer = undefined;
  }

  #tick(timer: AbortController): void {
    if (this.#timer !== timer) return;
    this.#timer = undefined;
    if (!this.#wanted(this.#clock.now())) return;
    this.#sampleShared().catch((error) => this.#options.onError?.(error));
  }

  /** One sampling at a time: callers meanwhile share it. Re-arms the timer after. */
  #sampleShared(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    this.#disarm();
    const sampling = this.#sampleOnce().finally(() => {
      this.#inFlight = undefined;
      if (!this.#closed) this.#arm();
    });
    this.#inFlight = sampling;
    return sampling;
  }

  async #sampleOnce(): Promise<void> {
    const targets = [...this.#options.targets()];
    const leaders = new Map(targets.map((t) => [t.name, t.pid]));
    const samples = leaders.size === 0
      ? new Map<string, ResourceSample>() // nothing runs: no scan
      : await this.#options.sampler.sample(leaders);
    if (this.#closed) return;
    const at = this.#clock.now();
    this.#lastSampleAt = at;
    this.#limited = anyLimited(targets);
    this.#record(targets, samples);
    this.#options.onSample?.(at, this.#latest);
    this.#checkLimits(targets, samples);
  }

  /** Keeps the samples of the targets as the latest, and appends them to their histories. */
  #record(targets: readonly MonitorTarget[], samples: ReadonlyMap<string, ResourceSample>): void {
    const latest = new Map<string, ResourceSample>();
    for (const { name } of targets) {
      const sample = samples.get(name);
      if (sample) latest.set(name, sample);
    }
    this.#latest = latest;
    keepOnly(this.#history, namesOf(targets));
    for (const [name, sample] of latest) this.#append(name, sample);
  }

  #append(name: string, sample: ResourceSample): void {
    let ring = this.#history.get(name);
    if (!ring) this.#history.set(name, ring = []);
    ring.push(sample);
    if (ring.length > this.#historyLength) ring.splice(0, ring.length - this.#historyLength);
  }

  /** Counts consecutive samples above each target's limit; reports a target reaching it. */
  #checkLimits(
    targets: readonly MonitorTarget[],
    samples: ReadonlyMap<string, ResourceSample>,
  ): void {
    keepOnly(this.#over, namesOf(targets));
    for (const target of targets) {
      const limit = target.maxMemory;
      const sample = samples.get(target.name);
      if (!limit || !sample) {
        this.#over.delete(target.name);
        continue;
      }
      let over = this.#over.get(target.name);
      if (!over || over.pid !== target.pid) {
        this.#over.set(target.name, over = { pid: target.pid, count: 0 });
      }
      over.count = sample.rssBytes > limit.bytes ? over.count + 1 : 0;
      if (over.count < limit.samples) continue;
      over.count = 0;
      this.#options.overLimit(target.name, sample, limit.bytes);
    }
  }
}

/** Whether any of `targets` has a memory limit. */
function anyLimited(targets: Iterable<MonitorTarget>): boolean {
  for (const target of targets) {
    if (target.maxMemory) return true;
  }
  return false;
}

/** The names of `targets`. */
function namesOf(targets: readonly MonitorTarget[]): Set<string> {
  return new Set(targets.map((t) => t.name));
}

/** Deletes from `map` every entry whose name is not in `names`. */
function keepOnly(map: Map<string, unknown>, names: ReadonlySet<string>): void {
  for (const name of map.keys()) {
    if (!names.has(name)) map.delete(name);
  }
}
