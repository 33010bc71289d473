/**
 * Time as an injected seam: what the process layer needs of time, and the real clock the
 * server uses.
 *
 * Owns: the Clock interface, the wall clock with real, abortable timers, and calling them off.
 * Does not own: the fake clock of unit tests (see `lib/testing/fake_clock.ts`).
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

/**
 * Why a timer was called off: one AbortError for all. `abort()` without a reason builds a new
 * DOMException, stack included, for every timer called off: about 5 µs, and 20 µs measured on a
 * busy server, where each exit of a child calls off a few (on the path from a crash to its
 * restart) and a shutdown of 500 children some thousands. Nothing waiting on these timers looks
 * at the reason beyond its being a rejection.
 */
const CALLED_OFF = new DOMException("The timer was called off", "AbortError");

/** Calls off the timers that wait on `controller`'s signal (a sleep rejects). */
export function callOff(controller: AbortController | undefined): void {
  controller?.abort(CALLED_OFF);
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
