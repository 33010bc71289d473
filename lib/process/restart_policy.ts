/**
 * When an exited child is started again, and how long to wait first.
 *
 * Pure functions: the child applies them at each exit it did not ask for.
 *
 * @module
 */
import type { Backoff, RestartPolicy } from "../config/child_config.ts";

/** How a run ended, as far as the policy cares. */
export interface EndedRun {
  readonly code: number | null;
  readonly signal: string | null;
}

/**
 * Whether an exit we did not ask for leads to a restart: `always` on any such exit,
 * `on-failure` on a non-zero code or a signal, `never` never.
 */
export function shouldRestart(policy: RestartPolicy, exit: EndedRun): boolean {
  switch (policy) {
    case "never":
      return false;
    case "always":
      return true;
    case "on-failure":
      return exit.signal !== null || exit.code !== 0;
  }
}

/** Share of a delay that jitter may add or remove (±20 %). */
export const JITTER = 0.2;

/**
 * Delay before restart number `failures` (1 for the first failure in a row):
 * `initial * multiplier^(failures-1)`, capped at `max`, then spread by ±{@link JITTER} (still
 * never above `max`). `random` returns a number in [0, 1).
 */
export function backoffDelay(backoff: Backoff, failures: number, random: () => number): number {
  const exponent = Math.max(0, failures - 1);
  const base = Math.min(backoff.maxMs, backoff.initialMs * Math.pow(backoff.multiplier, exponent));
  const spread = base * JITTER * (2 * random() - 1);
  return Math.max(0, Math.min(backoff.maxMs, Math.round(base + spread)));
}
