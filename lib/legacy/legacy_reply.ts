/**
 * The reply texts of the supervisor-rs 0.8 dialect, byte for byte as supervisor-rs 0.8.5 wrote
 * them (`../shared/legacy-replies/` holds its replies, recorded request by request): its
 * phrases, its spacing and trailing spaces, and its spellings (`exsits`, `exsit`,
 * `Cannot found`), because scripts written against it match them. Only where the original
 * crashed or hung is the reply what it meant to answer (`stop NAME success` for a child with a
 * prehook and no posthook).
 *
 * Pure functions from the server's typed results (`lib/server/results.ts`) and the configs of
 * the runs to text. Where the recordings do not show a case (output files in `check`, several
 * hooks, a prehook on `restart`), the text follows the original's pattern and is marked so in
 * docs/migration.md.
 *
 * @module
 */
import type { Repeat } from "../config/child_config.ts";
import type { ErrorCode } from "../errors.ts";
import type { Op } from "../protocol/ops.ts";
import type { ChildReport, OpResult, ServerInfo } from "../server/results.ts";

/** First line of every reply when encrypt is on, as the original wrote it. */
export const ENCRYPT_BANNER = "Running on encrypt mode, need to dencrypt your command.";

/** The line under each child of `check`, and at the end of `info`. */
const SEPARATOR = "=======================";

/** The help text of the legacy dialect. */
export const LEGACY_HELP = [
  "supervisor-ts speaks the supervisor-rs 0.8 text protocol on this port.",
  "Commands: start NAME, stop NAME|all, restart NAME, trystart NAME, check, info, kill, help.",
  "The supervisor-ts client speaks protocol v2 here too, with signed commands that cannot be replayed.",
].join("\n");

/** What `check` shows of one running child: the status, and the config of its run. */
export interface LegacyChild {
  readonly report: ChildReport;
  /** The directory of its config file. */
  readonly configDir: string;
  /** Its command, words joined by spaces. */
  readonly command: string;
  readonly stdout: string | undefined;
  readonly stderr: string | undefined;
  readonly repeat: Repeat | undefined;
  /** As written in the file: `prehook: start dep`. */
  readonly hooks: readonly string[];
}

/** What a reply is made from. */
export interface LegacyAnswer {
  readonly op: Op;
  /** The child named in the request (for `check`, the one asked about). */
  readonly child: string | undefined;
  readonly ok: boolean;
  readonly code?: ErrorCode;
  /** The response's message, for a failure the original had no text for. */
  readonly message: string;
  readonly result?: OpResult;
  /** The repeat of the child started (start, restart, trystart). */
  readonly repeat?: Repeat;
  /** The posthooks of the child stopped and started again by trystart. */
  readonly posthooks?: readonly string[];
  /** For `check`: the running children, with their configs. */
  readonly running?: readonly LegacyChild[];
  /** For `info` with a child name: the original printed an empty block. */
  readonly infoOfChild?: boolean;
}

/** `, and it will restart in 300s` for a child with a repeat. */
function repeatSuffix(repeat: Repeat | undefined): string {
  return repeat ? `, and it will ${repeat.action} in ${repeat.seconds}s` : "";
}

/** The original's words when prehooks ran before a start. */
function prehookPrefix(result: OpResult | undefined): string {
  return result?.kind === "started" && result.prehooks.length > 0
    ? "Find pre-hook, has started pre-hook firstly. "
    : "";
}

/** The reply text to a legacy command. */
export function legacyReply(answer: LegacyAnswer): string {
  const name = answer.child ?? "";
  if (answer.ok) return successText(answer, name);
  switch (answer.code) {
    case "ALREADY_RUNNING":
      return `Cannot start this child ${name}, it already exsits`;
    case "NOT_FOUND":
      return `Cannot found '${name}' file in load path`;
    case "NOT_RUNNING":
      return `${name} not exsit, cannot stop`;
    case "RESERVED_NAME":
      // The original reserved these two words only; any other name it looked for as a file.
      return name === "all" || name === "on"
        ? `"${name}" is reserved keywords, cannot run child named "${name}"`
        : `Cannot found '${name}' file in load path`;
    default:
      return answer.message;
  }
}

function successText(answer: LegacyAnswer, name: string): string {
  const { result, repeat } = answer;
  switch (answer.op) {
    case "start":
      return `${prehookPrefix(result)}start ${name} success${repeatSuffix(repeat)}`;
    case "restart":
      return `${prehookPrefix(result)}restart ${name} success${repeatSuffix(repeat)}`;
    case "stop":
      return `stop ${name} success`;
    case "trystart": {
      const start = `${prehookPrefix(result)}Start ${name} success${repeatSuffix(repeat)} `;
      if (!(result?.kind === "started" && result.restarted)) return start;
      const posthooks = (answer.posthooks ?? [])
        .map((hook) => `find post-hook "${hook}", run it after stop. `)
        .join("");
      return `This child already start, stop it first. ${posthooks}Stop ${name} success, start it again. ${start}`;
    }
    case "check":
      return renderCheck(answer.running ?? []);
    case "info":
      return result?.kind === "info" && !answer.infoOfChild
        ? renderInfo(result.info)
        : `==Server Info Below==\n${SEPARATOR}\n`;
    case "kill":
      return "I am dying. last error: \n";
    default:
      return answer.message;
  }
}

/** `2026-12-01 09:00:31`, local time, as the original's `start time`. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${
    two(d.getMinutes())
  }:${two(d.getSeconds())}`;
}

/** `check`: the banner, then each running child with the config of its run. */
export function renderCheck(children: readonly LegacyChild[]): string {
  let text = "==Check Results Below==\n";
  for (const child of children) {
    const { report } = child;
    const pid = report.pid ?? 0;
    const repeat = child.repeat
      ? `action is ${child.repeat.action}, interval is ${child.repeat.seconds} seconds`
      : "false";
    const hooks = child.hooks.length === 0
      ? "    none\n"
      : child.hooks.map((hook) => `    ${hook}\n`).join("") + "\n";
    text += [
      `child name: ${report.name}`,
      `processing id: ${pid}`,
      "config detail:",
      `  config location is: ${child.configDir}`,
      `  command is: ${child.command}`,
      `  stdout is: ${child.stdout ?? "none"}`,
      `  stderr is: ${child.stderr ?? "none"}`,
      `  child id is: ${pid}`,
      `  start time: "${localTime(report.startedAt ?? 0)}"`,
      `  repeat is: ${repeat}`,
      "  hooks are:",
    ].join("\n") + "\n" + hooks + `${SEPARATOR}\n`;
  }
  return text;
}

/** `info`: the server's config path, the running children, the load paths, the encrypt mode. */
export function renderInfo(info: ServerInfo): string {
  return [
    "==Server Info Below==",
    "Server config path:",
    info.configPath,
    "Children are running (use 'check' command to see child detail):",
    `[${info.running.map((n) => `${n} `).join("")}]`,
    "Server configs:",
    `Load paths: [${info.loadpaths.map((p) => JSON.stringify(p)).join(", ")}]`,
    `Encrypt mode: ${JSON.stringify(info.encrypt ? "on" : "off")}`,
    SEPARATOR,
  ].join("\n") + "\n";
}
