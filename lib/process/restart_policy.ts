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
 * How recently the files an automatic restart depends on (the child's file, server.yml, the
 * loadpath listing, the working directory, the program's place on PATH) must have been found
 * good by any start, restart or status to be taken as they were without a look: a crash loop
 * touches the file system about once a second, not at every run, and an edit or a removal is
 * seen by a restart within this. What an operator asks for always looks again.
 */
export const AUTO_RESTART_TRUST_MS = 1000;

/** Whether `exit` ended with one of the codes that count as success (`exit_codes`). */
export function expectedExit(exit: EndedRun, exitCodes: readonly number[] = [0]): boolean {
  return exit.signal === null && exit.code !== null && exitCodes.includes(exit.code);
}

/**
 * Whether an exit we did not ask for leads to a restart: `always` on any such exit,
 * `on-failure` on a signal or a code not in `exit_codes` (default `[0]`), `never` never.
 */
export function shouldRestart(
  policy: RestartPolicy,
  exit: EndedRun,
  exitCodes: readonly number[] = [0],
): boolean {
  switch (policy) {
    case "never":
      return false;
    case "always":
      return true;
    case "on-failure":
      return !expectedExit(exit, exitCodes);
  }
}

/** Share of a delay that jitter may add or remove (±20 %). */
export const JITTER = 0.2;

/**
 * Delay before restart number `failures` (1 for the first failure in a row):
 * `initial * multiplier^(failures-1)`, capped at `max`, then spread by ±{@link JITTER} (still
 * never above `max`). `random` returns a number in [0, 1).
 *
 * Always a finite whole number of milliseconds in [0, max], whatever the failure count: a zero
 * `initial` stays 0 (where `0 × 2^1024` would be NaN), growth past `max` stops at `max`, and a
 * multiplier of 1 never grows (where `1^Infinity` would be NaN).
 */
export function backoffDelay(backoff: Backoff, failures: number, random: () => number): number {
  const max = nonNegative(backoff.maxMs);
  const base = Math.min(max, backoffBase(backoff, failures));
  const spread = base * JITTER * (2 * unit(random()) - 1);
  return Math.max(0, Math.min(max, Math.round(base + spread)));
}

/** The delay before jitter, possibly above `max`; never NaN, at most Infinity. */
function backoffBase(backoff: Backoff, failures: number): number {
  const initial = nonNegative(backoff.initialMs);
  const grows = initial > 0 && backoff.multiplier > 1 && failures > 1;
  if (!grows) return initial;
  const grown = initial * Math.pow(backoff.multiplier, failures - 1);
  return Number.isNaN(grown) ? Infinity : grown;
}

/** A finite number ≥ 0 (anything else, NaN included, counts as 0). */
function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** A number in [0, 1) from a random source (anything else counts as the middle, 0.5). */
function unit(value: number): number {
  return value >= 0 && value < 1 ? value : 0.5;
}
