/**
 * Turning host results into what a person reads: the seed's `Server HOST response:` blocks,
 * a table for `check`, details for `check NAME` and `info`, and a summary line for fleets.
 *
 * Pure functions from data to text; printing is the entry point's job.
 *
 * @module
 */
import type { HostResult } from "./fanout.ts";

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

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  return rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")
  )
    .join("\n");
}

function renderChildren(children: readonly Json[]): string {
  const rows = [["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT"]];
  for (const c of children) {
    rows.push([
      text(c.name),
      text(c.state),
      text(c.pid),
      typeof c.uptime_ms === "number" ? formatDuration(c.uptime_ms) : "-",
      text(c.restarts),
      describeExitJson(c.last_exit),
    ]);
  }
  return table(rows);
}

function renderChildDetail(c: Json): string {
  const lines = [
    ["name", text(c.name)],
    ["state", `${text(c.state)} since ${text(c.since)}`],
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

function problemsOf(data: Json | undefined): string[] {
  const problems = data?.problems;
  return Array.isArray(problems) ? problems.map((p) => `problem: ${String(p)}`) : [];
}

/** The lines of a successful `log` answer. */
export function logLines(result: HostResult): string[] {
  const lines = result.data?.lines;
  return Array.isArray(lines) ? lines.map(String) : [];
}

/** The body of one host's block. */
export function renderBody(op: string, child: string | undefined, result: HostResult): string {
  if (!result.ok) return `error: ${result.message}${result.code ? ` [${result.code}]` : ""}`;
  const data = result.data;
  const parts: string[] = [];
  if (op === "check" && data && Array.isArray(data.children)) {
    const children = data.children.filter(isJson);
    parts.push(
      child !== undefined && children.length === 1
        ? renderChildDetail(children[0]!)
        : renderChildren(children),
    );
    if (child === undefined) parts.push(result.message);
  } else if (op === "info" && data) {
    parts.push(renderInfo(data));
  } else if (op === "log") {
    parts.push(...logLines(result));
  } else {
    parts.push(result.message);
  }
  parts.push(...problemsOf(data));
  return parts.join("\n");
}

/** Every host's block in the order given, and a summary line when there are several hosts. */
export function renderResults(
  op: string,
  child: string | undefined,
  results: readonly HostResult[],
): string {
  const blocks = results.map((r) => `Server ${r.host} response:\n${renderBody(op, child, r)}\n`);
  if (results.length > 1) blocks.push(summaryLine(results));
  return blocks.join("\n");
}

/** `3 ok, 1 failed: h4 (connection refused)`. */
export function summaryLine(results: readonly HostResult[]): string {
  const failed = results.filter((r) => !r.ok);
  const ok = results.length - failed.length;
  if (failed.length === 0) return `${ok} ok, 0 failed`;
  return `${ok} ok, ${failed.length} failed: ${
    failed.map((r) => `${r.host} (${r.reason ?? r.code ?? "error"})`).join(", ")
  }`;
}
