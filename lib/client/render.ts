/**
 * Turning host results into what a person reads: the seed's `Server HOST response:` blocks,
 * a table for `check`, details for `check NAME` and `info`, and a summary line for fleets.
 *
 * Pure functions from the declared data (`lib/protocol/payloads.ts`) to text; printing is the
 * entry point's job, and so is deciding whether to colour: every function that may colour takes
 * a `colour` flag, off by default.
 *
 * @module
 */
import { describeExit } from "../process/exit_record.ts";
import type { ChildData, ExitData, InfoData } from "../protocol/payloads.ts";
import { paint, stateColour } from "./colour.ts";
import type { Colour } from "./colour.ts";
import { checkDataOf, infoDataOf, logDataOf } from "./fanout.ts";
import type { HostResult } from "./fanout.ts";
import { refusalHint } from "./hints.ts";

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
 * `exit code 1`, `signal SIGKILL`, with `(stopped)` when we asked for it; `-` for no exit (and
 * for anything that is not an exit, should a caller's JSON bypass the decoder).
 */
export function describeExitJson(exit: ExitData | null): string {
  if (exit === null || typeof exit !== "object") return "-";
  const what = describeExit(exit);
  return exit.requested ? `${what} (stopped)` : what;
}

/** A table cell: its text, and the colour to paint it in when colour is on. */
type Cell = string | { readonly text: string; readonly colour: Colour | undefined };

/** Aligned columns; widths count the text only, so painted cells line up too. */
function table(rows: readonly (readonly Cell[])[], colour = false): string {
  const textOf = (cell: Cell) => (typeof cell === "string" ? cell : cell.text);
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, textOf(cell).length)));
  }
  return rows.map((row) =>
    row.map((cell, i) => {
      const plain = textOf(cell);
      const shown = typeof cell === "string" ? cell : paint(plain, cell.colour, colour);
      return i === row.length - 1 ? shown : shown + " ".repeat(widths[i]! - plain.length);
    }).join("  ")
  )
    .join("\n");
}

function renderChildren(children: readonly ChildData[], colour: boolean): string {
  const rows: Cell[][] = [["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT"]];
  for (const c of children) {
    rows.push([
      c.name,
      { text: c.state, colour: stateColour(c.state, c.last_exit) },
      orDash(c.pid),
      durationOrDash(c.uptime_ms),
      String(c.restarts),
      describeExitJson(c.last_exit),
    ]);
  }
  return table(rows, colour);
}

function renderChildDetail(c: ChildData, colour: boolean): string {
  const state = paint(c.state, stateColour(c.state, c.last_exit), colour);
  const lines = [
    ["name", c.name],
    ["state", `${state} since ${c.since}`],
    ["pid", orDash(c.pid)],
    ["uptime", durationOrDash(c.uptime_ms)],
    ["restarts", String(c.restarts)],
    ["command", c.command === null ? "-" : c.command.map((w) => JSON.stringify(w)).join(" ")],
    ["config", orDash(c.config_path)],
    ["last exit", describeExitJson(c.last_exit)],
  ];
  if (c.adopted) {
    lines.push(["adopted", "yes: taken over from a server that was killed; output not captured"]);
  }
  if (c.error) lines.push(["error", c.error]);
  let out = table(lines.map(([k, v]) => [`${k}:`, v!]));
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

/** `error: MESSAGE [CODE]`, then `hint: …` when the server's message names no next step. */
function renderFailure(
  op: string,
  child: string | undefined,
  result: HostResult,
  colour: boolean,
): string {
  const line = errorLine(`${result.message}${result.code ? ` [${result.code}]` : ""}`, colour);
  const code = result.code;
  const hint = code === undefined || code === "UNREACHABLE"
    ? undefined
    : refusalHint({ op, child, code, message: result.message });
  return hint === undefined ? line : `${line}\nhint: ${hint}`;
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
    `Server ${r.host} response:\n${renderBody(op, child, r, colour)}\n`
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
