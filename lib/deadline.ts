/**
 * Waiting with a bound: the one helper every read, write and wait with a time limit goes
 * through, on the real clock or an injected one.
 *
 * @module
 */
import { DeadlineError } from "./errors.ts";
import { callOff, realClock } from "./process/clock.ts";
import type { Clock } from "./process/clock.ts";

/**
 * The value of `promise`, or a {@link DeadlineError} when it has not settled within `ms`. The
 * timer is cancelled as soon as `promise` settles; `promise` itself is not cancelled.
 */
export function deadline<T>(
  promise: Promise<T>,
  ms: number,
  options: { readonly clock?: Clock; readonly what?: string } = {},
): Promise<T> {
  const clock = options.clock ?? realClock;
  if (clock === realClock) {
    // On the real clock a bare timer: no abort signal, whose abort builds an exception with its
    // stack (a few microseconds, twice a request on every connection).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError(ms, options.what)), ms);
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
  }
  const timer = new AbortController();
  const expired = clock.sleep(ms, timer.signal).then(
    (): never => {
      throw new DeadlineError(ms, options.what);
    },
    (): never => {
      throw new DeadlineError(ms, options.what);
    },
  );
  expired.catch(() => {});
  return Promise.race([promise, expired]).finally(() => callOff(timer));
}

/** The value of `promise` if it settles within `ms`, else undefined. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  clock: Clock = realClock,
): Promise<T | undefined> {
  try {
    return await deadline(promise, ms, { clock });
  } catch (error) {
    if (error instanceof DeadlineError) return undefined;
    throw error;
  }
}
