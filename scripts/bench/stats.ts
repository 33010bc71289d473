/**
 * Numbers and the results table of the benchmark.
 *
 * @module
 */

/** The `p`th percentile of `samples` by nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** The median of `samples`. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds with three significant-ish digits. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (value < 1) return `${value.toFixed(3)} ms`;
  if (value < 100) return `${value.toFixed(2)} ms`;
  return `${value.toFixed(0)} ms`;
}

/** KiB as MiB. */
export function mib(kib: number | undefined): string {
  return kib === undefined ? "n/a" : `${(kib / 1024).toFixed(1)} MiB`;
}

/** `value / floor` as `1.23×`. */
export function ratio(value: number | undefined, floor: number | undefined): string {
  if (value === undefined || floor === undefined || !(floor > 0) || !Number.isFinite(value)) {
    return "n/a";
  }
  return `${(value / floor).toFixed(2)}×`;
}

/** One line of the results table. */
export interface Row {
  readonly measurement: string;
  readonly value: string;
  readonly floor: string;
  readonly floorIs: string;
  readonly ratio: string;
  readonly target: string;
  readonly met: string;
}

/** Whether a target was met, as the table says it. */
export function met(ok: boolean | undefined): string {
  return ok === undefined ? "–" : ok ? "yes" : "**no**";
}

/** The rows as a markdown table. */
export function markdownTable(rows: readonly Row[]): string {
  const header = ["Measurement", "supervisor-ts", "Floor", "Floor is", "Ratio", "Target", "Met"];
  const cells = rows.map((r) => [
    r.measurement,
    r.value,
    r.floor,
    r.floorIs,
    r.ratio,
    r.target,
    r.met,
  ]);
  const escape = (text: string) => text.replaceAll("|", "\\|");
  const line = (items: readonly string[]) => `| ${items.map(escape).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...cells.map(line)].join("\n");
}
