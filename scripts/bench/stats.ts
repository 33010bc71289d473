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

/** A second floor of a row (issue 15 names two for some): its value, a short label, what it is. */
export interface OtherFloor {
  readonly floor: Cell;
  /** How a ratio to it is labelled in supervisor-ts's cell: `1.40× C`. */
  readonly label: string;
  readonly is: string;
}

/** One line of the results table. */
export interface Row {
  readonly measurement: string;
  /** By system name; a system missing here shows `–`. */
  readonly cells: ReadonlyMap<string, Cell>;
  /** The floor every ratio is taken to (the first floor issue 15 names). */
  readonly floor: Cell;
  readonly floorIs: string;
  /** Further floors: shown beside the first, with supervisor-ts's ratio to each. */
  readonly otherFloors?: readonly OtherFloor[];
  /** Its place in issue 15's table (1-based): such rows come first, in that order. */
  readonly issueRow?: number;
  /** supervisor-ts's own target for this row and whether it was met, or `–`. */
  readonly target: string;
}

/** The target cell: `≤ 1 ms: yes` or `≤ 1 ms: **no**`; `–` without a target. */
export function targetText(target: string | undefined, ok: boolean | undefined): string {
  if (target === undefined) return "–";
  return ok === undefined ? `${target}: n/a` : `${target}: ${ok ? "yes" : "**no**"}`;
}

/** Several targets of one row, each with its verdict: `≤ 0.7 s: **no**; ≤ 1.6× Deno: yes`. */
export function targetsText(targets: readonly [string, boolean | undefined][]): string {
  return targets.map(([target, ok]) => targetText(target, ok)).join("; ");
}

/** Whether `value` is at most `limit`; undefined when either is unknown. */
export function atMost(value: number | undefined, limit: number | undefined): boolean | undefined {
  if (value === undefined || limit === undefined || !Number.isFinite(limit)) return undefined;
  return value <= limit;
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
  if (system === OURS) {
    for (const other of row.otherFloors ?? []) {
      const toOther = ratioOf(c.value, other.floor.value);
      if (toOther) parts.push(`${toOther} ${other.label}`);
    }
  } else {
    const toOurs = ratioOf(c.value, row.cells.get(OURS)?.value);
    if (toOurs) parts.push(`${toOurs} ours`);
  }
  return parts.length === 0 ? c.text : `${c.text} (${parts.join(", ")})`;
}

/** Issue 15's rows first, in the issue's order, then the others in the order they ran. */
export function issueOrder(rows: readonly Row[]): Row[] {
  const ranked = rows.filter((r) => r.issueRow !== undefined);
  ranked.sort((a, b) => a.issueRow! - b.issueRow!);
  return [...ranked, ...rows.filter((r) => r.issueRow === undefined)];
}

function floorsText(row: Row): string {
  return [row.floor.text, ...(row.otherFloors ?? []).map((o) => `${o.label}: ${o.floor.text}`)]
    .join("; ");
}

function floorIsText(row: Row): string {
  return [row.floorIs, ...(row.otherFloors ?? []).map((o) => `${o.label}: ${o.is}`)].join("; ");
}

/**
 * The rows as a markdown table with a column per system, `systems[0]` being supervisor-ts;
 * issue 15's rows first, marked `15.N`.
 */
export function markdownTable(rows: readonly Row[], systems: readonly string[]): string {
  const header = ["Measurement", ...systems, "Floor", "Floor is", "supervisor-ts target"];
  const cells = issueOrder(rows).map((r) => [
    r.issueRow === undefined ? r.measurement : `15.${r.issueRow} ${r.measurement}`,
    ...systems.map((s) => render(r, s)),
    floorsText(r),
    floorIsText(r),
    r.target,
  ]);
  const escape = (text: string) => text.replaceAll("|", "\\|");
  const line = (items: readonly string[]) => `| ${items.map(escape).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...cells.map(line)].join("\n");
}
