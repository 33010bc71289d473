/**
 * Time as an injected seam: what the process layer needs of time, and the real clock the
 * server uses.
 *
 * Owns: the Clock interface and the wall clock with real, abortable timers. Does not own: the
 * fake clock of unit tests (see `lib/testing/fake_clock.ts`).
 *
 * @module
 */

/** What the process layer needs of time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The wall clock and real timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    // A zero delay (a restart with no backoff) skips the timer: a zero-delay timer costs about
    // 2 ms in Deno 2.9. Whoever waits on it checks afterwards that it still wants to act.
    if (ms <= 0) return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};
