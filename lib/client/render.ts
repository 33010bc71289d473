/**
 * Turning host results into what a person reads: the seed's `Server HOST response:` blocks,
 * a table for `check`, details for `check NAME` and `info`, and a summary line for fleets.
 *
 * Pure functions from data to text; printing is the entry point's job, and so is deciding
 * whether to colour: every function that may colour takes a `colour` flag, off by default.
 *
 * @module
 */
import { isErrorCode } from "../errors.ts";
import { paint, stateColour } from "./colour.ts";
import type { Colour } from "./colour.ts";
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

type Json = Record<string, unknown>;

function isJson(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function text(value: unknown): string {
  return value === null || value === undefined ? "-" : String(value);
}

/** `exit code 1`, `signal SIGKILL`, with `(stopped)` when we asked for it. */
export function describeExitJson(exit: unknown): string {
  if (!isJson(exit)) return "-";
  const what = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
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

function renderChildren(children: readonly Json[], colour: boolean): string {
  const rows: Cell[][] = [["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT"]];
  for (const c of children) {
    rows.push([
      text(c.name),
      { text: text(c.state), colour: stateColour(c.state, c.last_exit) },
      text(c.pid),
      typeof c.uptime_ms === "number" ? formatDuration(c.uptime_ms) : "-",
      text(c.restarts),
      describeExitJson(c.last_exit),
    ]);
  }
  return table(rows, colour);
}

function renderChildDetail(c: Json, colour: boolean): string {
  const state = paint(text(c.state), stateColour(c.state, c.last_exit), colour);
  const lines = [
    ["name", text(c.name)],
    ["state", `${state} since ${text(c.since)}`],
    ["pid", text(c.pid)],
    ["uptime", typeof c.uptime_ms === "number" ? formatDuration(c.uptime_ms) : "-"],
    ["restarts", text(c.restarts)],
    ["command", Array.isArray(c.command) ? c.command.map((w) => JSON.stringify(w)).join(" ") : "-"],
    ["config", text(c.config_path)],
    ["last exit", describeExitJson(c.last_exit)],
  ];
  if (c.error) lines.push(["error", String(c.error)]);
  let out = table(lines.map(([k, v]) => [`${k}:`, v!]));
  const history = Array.isArray(c.history) ? c.history.filter(isJson) : [];
  const last = isJson(c.last_exit) ? c.last_exit : undefined;
  const context = last && Array.isArray(last.stderr_tail) ? last.stderr_tail.map(String) : [];
  if (history.length > 0) {
    out += "\nrecent exits (oldest first):\n" + table(history.map((h) => [
      `  ${text(h.at)}`,
      describeExitJson(h),
      typeof h.ran_ms === "number" ? `ran ${formatDuration(h.ran_ms)}` : "",
    ]));
  }
  if (context.length > 0) {
    out += "\nlast stderr lines before the last exit:\n" + context.map((l) => `  ${l}`).join("\n");
  }
  return out;
}

function renderInfo(d: Json): string {
  const rows = [
    ["version", text(d.version)],
    ["pid", text(d.pid)],
    ["config path", text(d.config_path)],
    ["listen", text(d.listen)],
    ["encrypt", text(d.encrypt)],
    ["mode", text(d.mode)],
    ["loadpaths", Array.isArray(d.loadpaths) ? d.loadpaths.join(", ") || "(none)" : "-"],
    ["uptime", typeof d.uptime_ms === "number" ? formatDuration(d.uptime_ms) : "-"],
    ["running", Array.isArray(d.running) ? d.running.join(" ") || "(none)" : "-"],
  ];
  return table(rows.map(([k, v]) => [`${k}:`, v!]));
}

function problemsOf(data: Json | undefined, colour: boolean): string[] {
  const problems = data?.problems;
  const label = paint("problem:", "yellow", colour);
  return Array.isArray(problems) ? problems.map((p) => `${label} ${String(p)}`) : [];
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
  const hint = isErrorCode(code)
    ? refusalHint({ op, child, code, message: result.message })
    : undefined;
  return hint === undefined ? line : `${line}\nhint: ${hint}`;
}

/** The lines of a successful `log` answer. */
export function logLines(result: HostResult): string[] {
  const lines = result.data?.lines;
  return Array.isArray(lines) ? lines.map(String) : [];
}

/** The body of one host's block. */
export function renderBody(
  op: string,
  child: string | undefined,
  result: HostResult,
  colour = false,
): string {
  if (!result.ok) return renderFailure(op, child, result, colour);
  const data = result.data;
  const parts: string[] = [];
  if (op === "check" && data && Array.isArray(data.children)) {
    const children = data.children.filter(isJson);
    parts.push(
      child !== undefined && children.length === 1
        ? renderChildDetail(children[0]!, colour)
        : renderChildren(children, colour),
    );
    if (child === undefined) parts.push(result.message);
  } else if (op === "info" && data) {
    parts.push(renderInfo(data));
  } else if (op === "log") {
    parts.push(...logLines(result));
  } else {
    parts.push(result.message);
  }
  parts.push(...problemsOf(data, colour));
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
