/**
 * Turning host results into what a person reads: the seed's `Server HOST response:` blocks,
 * a table for `check`, details for `check NAME` and `info`, a line per child for the bulk
 * operations (`start all`, `update`, …), and a summary line for fleets.
 *
 * Pure functions from the declared data (`lib/protocol/payloads.ts`) to text; printing is the
 * entry point's job, and so is deciding whether to colour: every function that may colour takes
 * a `colour` flag, off by default.
 *
 * @module
 */
import { describeExit } from "../process/exit_record.ts";
import { formatBytes } from "../format.ts";
import type {
  BulkData,
  ChildData,
  ChildEventData,
  ExitData,
  InfoData,
} from "../protocol/payloads.ts";
import { paint, stateColour } from "./colour.ts";
import type { Colour } from "./colour.ts";
import { bulkDataOf, checkDataOf, eventsDataOf, infoDataOf, logDataOf } from "./fanout.ts";
import type { HostResult } from "./fanout.ts";
import { refusalHint } from "./hints.ts";
import { LEGACY_MARKER } from "./legacy_client.ts";

/** A duration as an operator reads it: `850ms`, `12s`, `3m12s`, `2h05m`, `3d04h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}

/** A value of the data, or `-` when there is none. */
function orDash(value: string | number | null): string {
  return value === null ? "-" : String(value);
}

/** A duration of the data, or `-` when there is none. */
function durationOrDash(ms: number | null): string {
  return ms === null ? "-" : formatDuration(ms);
}

/**
 * `exit code 1`, `signal SIGKILL`, with `(stopped)` when we asked for it and `(expected)` for
 * a code other than 0 that is one of the child's `exit_codes`; `-` for no exit (and for
 * anything that is not an exit, should a caller's JSON bypass the decoder).
 */
export function describeExitJson(exit: ExitData | null): string {
  if (exit === null || typeof exit !== "object") return "-";
  const what = describeExit(exit);
  if (exit.requested) return `${what} (stopped)`;
  return exit.expected && exit.code !== 0 ? `${what} (expected)` : what;
}

/** Part of a table cell: its text, and the colour to paint it in when colour is on. */
type Segment = { readonly text: string; readonly colour: Colour | undefined };

/** A table cell: plain text, or segments each painted in its own colour. */
type Cell = string | Segment | readonly Segment[];

/** A cell's text without colour: what its width is measured on. */
function plainOf(cell: Cell): string {
  if (typeof cell === "string") return cell;
  if ("text" in cell) return cell.text;
  let text = "";
  for (const segment of cell) text += segment.text;
  return text;
}

/** A cell's text with each segment painted in its colour. */
function paintedOf(cell: Cell): string {
  if (typeof cell === "string") return cell;
  if ("text" in cell) return paint(cell.text, cell.colour, true);
  let text = "";
  for (const segment of cell) text += paint(segment.text, segment.colour, true);
  return text;
}

/**
 * Aligned columns; widths count the text only, so painted cells line up too. Plain loops: a
 * `check` of a big fleet renders once per run, in V8's interpreter, where every closure and
 * intermediate array shows in the client's wall time (issue 15).
 */
function table(rows: readonly (readonly Cell[])[], colour = false): string {
  const plain = rows.map((row) => row.map(plainOf));
  const widths: number[] = [];
  for (const texts of plain) {
    for (let i = 0; i < texts.length; i++) {
      const length = texts[i]!.length;
      if (length > (widths[i] ?? 0)) widths[i] = length;
    }
  }
  const lines: string[] = [];
  for (let r = 0; r < rows.length; r++) {
    const texts = plain[r]!;
    const last = texts.length - 1;
    let line = "";
    for (let i = 0; i <= last; i++) {
      const text = texts[i]!;
      line += colour ? paintedOf(rows[r]![i]!) : text;
      if (i < last) line += " ".repeat(widths[i]! - text.length) + "  ";
    }
    lines.push(line);
  }
  return lines.join("\n");
}

/** How `check` marks a child whose config file differs from its run's, after its state. */
const DRIFT_MARKS: Readonly<Record<NonNullable<ChildData["drift"]>, string>> = {
  changed: "config changed",
  removed: "file removed",
  invalid: "config invalid",
};

/** What `check NAME` says under the config file of such a child. */
const DRIFT_NOTES: Readonly<Record<NonNullable<ChildData["drift"]>, string>> = {
  changed: "changed since this run started (update applies it)",
  removed: "its file was removed (update stops it)",
  invalid: "cannot be used now: this run keeps the config it started with",
};

/** A child's state, painted, then its drift mark: `RUNNING (config changed)`. */
function stateCell(c: ChildData): Segment[] {
  const state = { text: c.state, colour: stateColour(c.state, c.last_exit) };
  if (c.drift === null) return [state];
  return [state, { text: ` (${DRIFT_MARKS[c.drift]})`, colour: "yellow" }];
}

function renderChildren(children: readonly ChildData[], colour: boolean): string {
  const rows: Cell[][] = [[
    "NAME",
    "STATE",
    "PID",
    "UPTIME",
    "RESTARTS",
    "CPU",
    "MEM",
    "LAST EXIT",
  ]];
  for (const c of children) {
    rows.push([
      c.name,
      stateCell(c),
      orDash(c.pid),
      durationOrDash(c.uptime_ms),
      String(c.restarts),
      c.resources === null ? "-" : formatPercent(c.resources.cpu_percent),
      c.resources === null ? "-" : formatBytes(c.resources.rss_bytes),
      describeExitJson(c.last_exit),
    ]);
  }
  return table(rows, colour);
}

/** CPU over the last period, 100% = one core; `-` before a second sample gives a rate. */
export function formatPercent(percent: number | null): string {
  return percent === null ? "-" : `${percent.toFixed(1)}%`;
}

/** `2.5% CPU (12.3s in all), 45.3M in 3 processes, sampled at …`. */
function describeResources(r: NonNullable<ChildData["resources"]>): string {
  const cpu = r.cpu_percent === null ? "CPU" : `${formatPercent(r.cpu_percent)} CPU`;
  const noun = r.processes === 1 ? "process" : "processes";
  return `${cpu} (${r.cpu_seconds.toFixed(2)}s in all), ${
    formatBytes(r.rss_bytes)
  } resident in ${r.processes} ${noun}, sampled at ${r.sampled_at}`;
}

/**
 * A change of state on one line: `2026-12-01T08:51:04.123Z web RUNNING -> BACKOFF exit code 3
 * (memory limit)`.
 */
export function changeLine(e: ChildEventData): string {
  const exit = e.exit === null ? "" : ` ${describeExitJson(e.exit)}`;
  const reason = e.reason === null ? "" : ` (${e.reason})`;
  return `${e.at} ${e.child} ${e.from} -> ${e.to}${exit}${reason}`;
}

/** Rows of a key and a value of several lines: the key on the first, nothing on the others. */
function rowsOf(key: string, value: string): [string, string][] {
  return value.split("\n").map((line, i) => [i === 0 ? `${key}:` : "", line]);
}

function renderChildDetail(c: ChildData, colour: boolean): string {
  const state = paint(c.state, stateColour(c.state, c.last_exit), colour);
  const drift: [string, string][] = c.drift === null
    ? []
    : [["", paint(DRIFT_NOTES[c.drift], "yellow", colour)]];
  const rows: [string, string][] = [
    ["name:", c.name],
    ["state:", `${state} since ${c.since}`],
    ["pid:", orDash(c.pid)],
    ["uptime:", durationOrDash(c.uptime_ms)],
    ["restarts:", String(c.restarts)],
    ["crashes:", String(c.crashes)],
    ["command:", c.command === null ? "-" : c.command.map((w) => JSON.stringify(w)).join(" ")],
    ["config:", orDash(c.config_path)],
    ...drift,
    ...(c.config_error === null ? [] : rowsOf("config error", c.config_error)),
    ["last exit:", describeExitJson(c.last_exit)],
    ...(c.resources === null ? [] : [["resources:", describeResources(c.resources)] as [
      string,
      string,
    ]]),
  ];
  if (c.ready !== null) {
    rows.push(["ready:", c.ready ? `yes, since ${c.ready_since ?? "-"}` : "not yet"]);
  }
  if (c.adopted) {
    rows.push(["adopted:", "yes: taken over from a server that was killed; output not captured"]);
  }
  if (c.error) rows.push(...rowsOf("error", c.error));
  let out = table(rows);
  const context = c.last_exit?.stderr_tail ?? [];
  if (c.history.length > 0) {
    out += "\nrecent exits (oldest first):\n" + table(c.history.map((h) => [
      `  ${h.at}`,
      describeExitJson(h),
      `ran ${formatDuration(h.ran_ms)}`,
    ]));
  }
  if (context.length > 0) {
    out += "\nlast stderr lines before the last exit:\n" + context.map((l) => `  ${l}`).join("\n");
  }
  return out;
}

function renderInfo(d: InfoData): string {
  const rows = [
    ["version", d.version],
    ["pid", String(d.pid)],
    ["config path", d.config_path],
    ["listen", d.listen],
    ["encrypt", d.encrypt],
    ["mode", d.mode],
    ["loadpaths", d.loadpaths.join(", ") || "(none)"],
    ["uptime", formatDuration(d.uptime_ms)],
    ["running", d.running.join(" ") || "(none)"],
  ];
  return table(rows.map(([k, v]) => [`${k}:`, v!]));
}

/** The problems a successful answer reports (check and info carry them). */
function problemsOf(result: HostResult, colour: boolean): string[] {
  const problems = checkDataOf(result)?.problems ?? infoDataOf(result)?.problems ?? [];
  const label = paint("problem:", "yellow", colour);
  return problems.map((p) => `${label} ${p}`);
}

/** `error: MESSAGE`, with `error:` in red when colour is on. */
export function errorLine(message: string, colour = false): string {
  return `${paint("error:", "red", colour)} ${message}`;
}

/**
 * A message of several lines (the last stderr lines of EXITED_EARLY, the problems of a config
 * file) with `[CODE]` at the end of its first line: the first line, and the others indented by
 * `indent` more than the server did.
 */
function withCode(message: string, code: string | undefined, indent: string): string[] {
  const [first = "", ...rest] = message.split("\n");
  return [`${first}${code === undefined ? "" : ` [${code}]`}`, ...rest.map((l) => indent + l)];
}

/** `error: MESSAGE [CODE]`, then `hint: …` when the server's message names no next step. */
function renderFailure(
  op: string,
  child: string | undefined,
  result: HostResult,
  colour: boolean,
): string {
  const [first = "", ...rest] = withCode(result.message, result.code, "  ");
  const code = result.code;
  // A supervisor-rs host's failure: the v2 next steps (check NAME, log NAME …) are not its own.
  const hint = code === undefined || code === "UNREACHABLE" || code === "SKIPPED" ||
      result.dialect === "legacy"
    ? undefined
    : refusalHint({ op, child, code, message: result.message });
  return [errorLine(first, colour), ...rest, ...(hint === undefined ? [] : [`hint: ${hint}`])]
    .join("\n");
}

/**
 * A bulk operation's answer: a line per child (`web: start web success`; a failed one as
 * `db: error: … [CODE]`, in red, with its own hint), then the server's summary, as a failure
 * when any child failed.
 */
function renderBulk(op: string, data: BulkData, result: HostResult, colour: boolean): string {
  const lines: string[] = [];
  for (const item of data.results) {
    const [first = "", ...rest] = withCode(item.message, item.code, "  ");
    if (item.ok) {
      lines.push(`${item.child}: ${first}`, ...rest);
      continue;
    }
    lines.push(paint(`${item.child}: error: ${first}`, "red", colour), ...rest);
    const hint = item.code === undefined
      ? undefined
      : refusalHint({ op, child: item.child, code: item.code, message: item.message });
    if (hint !== undefined) lines.push(`  hint: ${hint}`);
  }
  lines.push(result.ok ? result.message : renderFailure(op, undefined, result, colour));
  return lines.join("\n");
}

/** The lines of a successful `log` answer. */
export function logLines(result: HostResult): readonly string[] {
  return logDataOf(result)?.lines ?? [];
}

/** The body of one host's block. */
export function renderBody(
  op: string,
  child: string | undefined,
  result: HostResult,
  colour = false,
): string {
  // A supervisor-rs server's reply, as its own client printed it; the client's own words
  // about such a host (`reason`) are an error line like any other.
  if (result.dialect === "legacy" && result.reason === undefined) {
    return result.message.replace(/\n+$/, "");
  }
  const bulk = bulkDataOf(result);
  if (bulk !== undefined) return renderBulk(op, bulk, result, colour);
  if (!result.ok) return renderFailure(op, child, result, colour);
  const parts: string[] = [];
  const checked = op === "check" ? checkDataOf(result) : undefined;
  const info = op === "info" ? infoDataOf(result) : undefined;
  if (checked !== undefined) {
    const only = child !== undefined && checked.children.length === 1
      ? checked.children[0]
      : undefined;
    parts.push(
      only !== undefined
        ? renderChildDetail(only, colour)
        : renderChildren(checked.children, colour),
    );
    if (child === undefined) parts.push(result.message);
  } else if (info !== undefined) {
    parts.push(renderInfo(info));
  } else if (op === "log") {
    parts.push(...logLines(result));
  } else if (op === "events") {
    const events = eventsDataOf(result)?.events ?? [];
    parts.push(...events.map(changeLine), result.message);
  } else {
    parts.push(result.message);
  }
  parts.push(...problemsOf(result, colour));
  return parts.join("\n");
}

/** Every host's block in the order given, and a summary line when there are several hosts. */
export function renderResults(
  op: string,
  child: string | undefined,
  results: readonly HostResult[],
  colour = false,
): string {
  const blocks = results.map((r) =>
    `Server ${r.host} response${r.dialect === "legacy" ? ` (${LEGACY_MARKER})` : ""}:\n${
      renderBody(op, child, r, colour)
    }\n`
  );
  if (results.length > 1) blocks.push(summaryLine(results, colour));
  return blocks.join("\n");
}

/** `3 ok, 1 failed: h4 (connection refused)`, the failures in red when colour is on. */
export function summaryLine(results: readonly HostResult[], colour = false): string {
  const failed = results.filter((r) => !r.ok);
  const ok = results.length - failed.length;
  if (failed.length === 0) return `${ok} ok, 0 failed`;
  return `${ok} ok, ${paint(`${failed.length} failed`, "red", colour)}: ${
    failed.map((r) => `${r.host} (${r.reason ?? r.code ?? "error"})`).join(", ")
  }`;
}
