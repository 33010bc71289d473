/**
 * CPU and memory of the children, put together for the server: a {@link ResourceMonitor} whose
 * targets are the live children, whose samples `check`, `/metrics` and the status page read,
 * and whose memory limit (`max_memory`) restarts a child.
 *
 * Owns: what a target is (a live child with a pid, and its `max_memory`), what going over the
 * limit does, telling the page about each sample, and coalescing changes: the monitor looks at
 * every child when told its targets changed, so changes are passed on at most once per
 * {@link COALESCE_MS} (the first of a quiet spell after a zero-delay timer), not once per
 * change (a restart of 500 children would look at 500 children 1,500 times). Sampling for a
 * `max_memory` is armed that much later at most, against a period of seconds; a sample taken
 * meanwhile asks the targets afresh anyway. Does not own: when to sample
 * (`resource_monitor.ts`) or reading /proc (`lib/process/resource_sampler.ts`).
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Child } from "../process/child.ts";
import type { Clock } from "../process/clock.ts";
import { ResourceSampler } from "../process/resource_sampler.ts";
import type { ResourceSample } from "../process/resource_sampler.ts";
import { formatBytes } from "../format.ts";
import { RateLimitedLog } from "./rate_limited_log.ts";
import { ResourceMonitor } from "./resource_monitor.ts";
import type { MonitorTarget, Sampler } from "./resource_monitor.ts";

/** The least time between two passes of changes to the monitor. */
export const COALESCE_MS = 20;

/** What the watch needs of the server. */
export interface WatchParts {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly periodMs: number;
  /** Every child the server knows. */
  readonly children: () => Iterable<Child>;
  /** Reads /proc (a fake one in tests). */
  readonly sampler?: Sampler;
}

/** The samples of CPU and memory of a server's children. */
export class ResourceWatch {
  readonly #monitor: ResourceMonitor;
  readonly #children: () => Iterable<Child>;
  readonly #listeners = new Set<
    (at: number, latest: ReadonlyMap<string, ResourceSample>) => void
  >();
  /** The pass of changes to the monitor, when one is due. */
  #flush: ReturnType<typeof setTimeout> | undefined;
  /** When changes were last passed on (performance.now()). */
  #flushedAt = -Infinity;
  #closed = false;

  constructor(parts: WatchParts) {
    this.#children = parts.children;
    // A /proc that cannot be read fails every period: said once a minute, with a count.
    const failures = new RateLimitedLog(parts.logger, 60_000, () => parts.clock.now());
    this.#monitor = new ResourceMonitor({
      sampler: parts.sampler ?? new ResourceSampler({ clock: parts.clock }),
      clock: parts.clock,
      periodMs: parts.periodMs,
      targets: () => this.#targets(),
      overLimit: (name, sample, limit) => this.#overLimit(name, sample, limit),
      onSample: (at, latest) => {
        for (const listener of this.#listeners) listener(at, latest);
      },
      onError: (error) => failures.error("sampling CPU and memory from /proc failed", error),
    });
  }

  get periodMs(): number {
    return this.#monitor.periodMs;
  }

  /** The last sample of child `name`, when it was sampled and runs. */
  latest(name: string): ResourceSample | undefined {
    return this.#monitor.latest(name);
  }

  /** Someone looks now (`check`, `/metrics`): a sample no older than half a period. */
  demand(): Promise<void> | undefined {
    return this.#monitor.demand();
  }

  /** A live watcher (the page): sampling every period until the returned function is called. */
  hold(): () => void {
    return this.#monitor.hold();
  }

  /** The samples kept of each live child, oldest first. */
  histories(): ReadonlyMap<string, readonly ResourceSample[]> {
    const out = new Map<string, readonly ResourceSample[]>();
    for (const child of this.#children()) {
      const history = this.#monitor.history(child.name);
      if (history.length > 0) out.set(child.name, history);
    }
    return out;
  }

  /** Calls `listener` after each sample until the returned function is called. */
  listen(listener: (at: number, latest: ReadonlyMap<string, ResourceSample>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A child started or stopped, or its config changed: told to the monitor soon. */
  changed(): void {
    if (this.#closed || this.#flush !== undefined) return;
    const wait = Math.max(0, this.#flushedAt + COALESCE_MS - performance.now());
    this.#flush = setTimeout(() => {
      this.#flush = undefined;
      this.#flushedAt = performance.now();
      this.#monitor.targetsChanged();
    }, wait);
  }

  close(): void {
    this.#closed = true;
    if (this.#flush !== undefined) clearTimeout(this.#flush);
    this.#flush = undefined;
    this.#listeners.clear();
    this.#monitor.close();
  }

  *#targets(): Iterable<MonitorTarget> {
    for (const child of this.#children()) {
      const pid = child.pid;
      if (pid === null || !child.isLive) continue;
      const limit = child.config?.maxMemory;
      yield limit === undefined
        ? { name: child.name, pid }
        : { name: child.name, pid, maxMemory: limit };
    }
  }

  #overLimit(name: string, sample: ResourceSample, limit: number): void {
    for (const child of this.#children()) {
      if (child.name !== name) continue;
      const samples = child.config?.maxMemory?.samples ?? 1;
      child.endRun(
        "memory limit",
        `used ${formatBytes(sample.rssBytes)} (over max_memory ${
          formatBytes(limit)
        }) for ${samples} samples in a row`,
      );
    }
  }
}
