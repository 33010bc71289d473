/**
 * The reply texts of the supervisor-rs 0.8 dialect: the original's phrases for success, which
 * scripts in the wild match (`start NAME success`), and its error texts with their spelling
 * corrected.
 *
 * @module
 */
import type { Op, Response } from "../protocol/messages.ts";

/** First line of every reply when encrypt is on, as the original wrote it. */
export const ENCRYPT_BANNER = "Running on encrypt mode, need to dencrypt your command.";

/** The help text of the legacy dialect. */
export const LEGACY_HELP = [
  "supervisor-ts speaks the supervisor-rs 0.8 text protocol on this port.",
  "Commands: start NAME, stop NAME|all, restart NAME, trystart NAME, check, info, kill, help.",
  "The supervisor-ts client speaks protocol v2 here too, with signed commands that cannot be replayed.",
].join("\n");

type Json = Record<string, unknown>;

function asList(value: unknown): Json[] {
  return Array.isArray(value)
    ? value.filter((v): v is Json => v !== null && typeof v === "object")
    : [];
}

function renderCheck(data: Json | undefined): string {
  const lines = ["==Check Results Below=="];
  for (const child of asList(data?.children)) {
    if (child.pid === null || child.pid === undefined) continue;
    lines.push(`child name: ${child.name}`, `processing id: ${child.pid}`, "config detail:");
    if (Array.isArray(child.command)) lines.push(`  command: ${child.command.join(" ")}`);
    lines.push(`  state: ${child.state}`);
    if (child.config_path) lines.push(`  config path: ${child.config_path}`);
  }
  lines.push("=======================");
  return lines.join("\n");
}

function renderInfo(data: Json | undefined): string {
  const running = Array.isArray(data?.running) ? data.running.map(String) : [];
  const loadpaths = Array.isArray(data?.loadpaths) ? data.loadpaths.map(String) : [];
  return [
    "==Server Info Below==",
    "Server config path:",
    String(data?.config_path ?? ""),
    "Children are running (use 'check' command to see child detail):",
    `[${running.map((n) => `${n} `).join("")}]`,
    "Server configs:",
    `Load paths: [${loadpaths.map((p) => JSON.stringify(p)).join(", ")}]`,
    `Encrypt mode: ${JSON.stringify(String(data?.encrypt ?? "off"))}`,
    "=======================",
  ].join("\n");
}

/** The reply text for a v2 response to a legacy command. */
export function legacyReply(
  op: Op,
  child: string | undefined,
  response: Response,
  repeat?: { action: string; seconds: number },
): string {
  const name = child ?? "";
  if (response.ok) {
    switch (op) {
      case "start":
        return repeat
          ? `start ${name} success, and it will ${repeat.action} in ${repeat.seconds}s`
          : `start ${name} success`;
      case "stop":
        return `stop ${name} success`;
      case "restart":
        return `restart ${name} success`;
      case "trystart":
        return response.data?.restarted
          ? `This child already start, stop it first. Stop ${name} success, start it again. Start ${name} success `
          : `Start ${name} success `;
      case "check":
        return renderCheck(response.data);
      case "info":
        return renderInfo(response.data);
      case "kill":
        return "I am dying. last error: \n";
    }
  }
  switch (response.code) {
    case "ALREADY_RUNNING":
      return `Cannot start this child ${name}, it already exists`;
    case "NOT_FOUND":
      return `Cannot find '${name}' file in load path`;
    case "NOT_RUNNING":
      return `${name} not exist, cannot stop`;
    case "RESERVED_NAME":
      return `"${name}" is reserved keywords, cannot run child named "${name}"`;
    default:
      return response.message;
  }
}
