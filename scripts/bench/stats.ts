/**
 * Numbers and the results table of the benchmark: one row per measurement, one column per
 * system (supervisor-ts first, then each peer found), then the floor. Every peer cell carries
 * its ratio to the floor and to supervisor-ts; supervisor-ts carries its ratio to the floor.
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

/** A share of one core in percent. */
export function percent(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)} %` : "n/a";
}

/** MB/s (10^6 bytes). */
export function mbps(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} MB/s` : "n/a";
}

/** `value / base` as `1.23×`; undefined when it cannot be computed. */
export function ratioOf(value: number | undefined, base: number | undefined): string | undefined {
  if (value === undefined || base === undefined || !Number.isFinite(value)) return undefined;
  if (!(base > 0) || !Number.isFinite(base)) return undefined;
  const r = value / base;
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** One measured value: the number ratios are computed from, and how the table shows it. */
export interface Cell {
  /** Undefined when there is nothing to compare (not measured, failed, not applicable). */
  readonly value: number | undefined;
  readonly text: string;
}

/** A cell with a number, formatted by `format`. */
export function cell(value: number | undefined, format: (v: number) => string): Cell {
  return value === undefined || !Number.isFinite(value)
    ? { value: undefined, text: "n/a" }
    : { value, text: format(value) };
}

/** A cell without a number: `text` says why (skipped, failed, not supported). */
export function noCell(text: string): Cell {
  return { value: undefined, text };
}

/** One line of the results table. */
export interface Row {
  readonly measurement: string;
  /** By system name; a system missing here shows `–`. */
  readonly cells: ReadonlyMap<string, Cell>;
  readonly floor: Cell;
  readonly floorIs: string;
  /** supervisor-ts's own target for this row and whether it was met, or `–`. */
  readonly target: string;
}

/** The target cell: `≤ 1 ms: yes` or `≤ 1 ms: **no**`; `–` without a target. */
export function targetText(target: string | undefined, ok: boolean | undefined): string {
  if (target === undefined) return "–";
  return ok === undefined ? `${target}: n/a` : `${target}: ${ok ? "yes" : "**no**"}`;
}

/** Name of our own column. */
export const OURS = "supervisor-ts";

function render(row: Row, system: string): string {
  const c = row.cells.get(system);
  if (c === undefined) return "–";
  if (c.value === undefined) return c.text;
  const parts: string[] = [];
  const toFloor = ratioOf(c.value, row.floor.value);
  if (toFloor) parts.push(`${toFloor} floor`);
  if (system !== OURS) {
    const toOurs = ratioOf(c.value, row.cells.get(OURS)?.value);
    if (toOurs) parts.push(`${toOurs} ours`);
  }
  return parts.length === 0 ? c.text : `${c.text} (${parts.join(", ")})`;
}

/** The rows as a markdown table with a column per system, `systems[0]` being supervisor-ts. */
export function markdownTable(rows: readonly Row[], systems: readonly string[]): string {
  const header = ["Measurement", ...systems, "Floor", "Floor is", "supervisor-ts target"];
  const cells = rows.map((r) => [
    r.measurement,
    ...systems.map((s) => render(r, s)),
    r.floor.text,
    r.floorIs,
    r.target,
  ]);
  const escape = (text: string) => text.replaceAll("|", "\\|");
  const line = (items: readonly string[]) => `| ${items.map(escape).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...cells.map(line)].join("\n");
}
