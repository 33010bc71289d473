/**
 * `max_memory` of a child config: the resident memory its process group may use before it is
 * restarted, as pm2's `max_memory_restart` does — but only after it stayed above the limit for
 * several samples in a row, so that one short spike does not cost a restart.
 *
 * ```yaml
 * max_memory: 512M                         # 3 samples in a row (15 s at the default interval)
 * max_memory: { limit: 1.5G, samples: 5 }
 * ```
 *
 * Sizes: a number of bytes, or a number with K, M, G or T (powers of 1024; `KB`, `MiB`, `KiB`
 * and lower case mean the same).
 *
 * @module
 */
import type { Checker } from "./checker.ts";

/** The memory limit of a child. */
export interface MemoryLimit {
  readonly bytes: number;
  /** Samples in a row above the limit before the child is restarted. */
  readonly samples: number;
}

/** Samples in a row above the limit, when `samples` is not given. */
export const DEFAULT_LIMIT_SAMPLES = 3;

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

/** The smallest limit accepted: below this, a typo (`512` meant as MB) is more likely. */
const MIN_BYTES = 1024 * 1024;

/** `512M` → 536870912; undefined when `value` is not a size. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(value);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
}

/** Reads `max_memory`; problems go to `check`. */
export function parseMemoryLimit(check: Checker, value: unknown): MemoryLimit | undefined {
  if (value === undefined || value === null) return undefined;
  const map = typeof value === "object" && !Array.isArray(value)
    ? check.map(value, ["max_memory"], "max_memory", ["limit", "samples"] as const)
    : undefined;
  const sizeValue = map ? map.limit : value;
  const path = map ? ["max_memory", "limit"] : ["max_memory"];
  const bytes = parseSize(sizeValue);
  if (bytes === undefined || bytes < MIN_BYTES) {
    check.fail(
      path,
      `max_memory must be a size of at least 1M, such as 512M or 1.5G (K, M, G, T: powers of 1024), found ${
        JSON.stringify(sizeValue ?? null)
      }`,
    );
    return undefined;
  }
  const samples = map?.samples === undefined ? DEFAULT_LIMIT_SAMPLES : check.number(
    map.samples,
    ["max_memory", "samples"],
    "max_memory.samples",
    { min: 1, max: 1000, integer: true },
  );
  return samples === undefined ? undefined : { bytes, samples };
}
