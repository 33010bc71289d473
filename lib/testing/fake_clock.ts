/**
 * A clock for unit tests that moves only when told to, so backoff, repeat timers and stop
 * timeouts are tested in microseconds.
 *
 * Owns: fake time and its sleepers. Does not own: the Clock seam or the real clock (see
 * `lib/process/clock.ts`).
 *
 * @module
 */
import type { Clock } from "../process/clock.ts";

/** A clock that moves only when told to; sleeps resolve as `advance` passes their deadline. */
export class FakeClock implements Clock {
  #now: number;
  #sleepers: { at: number; resolve: () => void }[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper = { at: this.#now + ms, resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener("abort", () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Number of sleeps not yet resolved. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** Moves time forward by `ms`, waking every sleep whose deadline has come, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#sleepers.filter((s) => s.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#sleepers = this.#sleepers.filter((s) => s !== due);
      this.#now = due.at;
      due.resolve();
      // Let the woken code run (and maybe sleep again) before the next deadline.
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.#now = target;
  }
}
