/**
 * The client's command line: `<op> [child] [on HOST]... [--json] [--timeout S]`.
 *
 * @module
 */
import { DEFAULT_PORT } from "../version.ts";
import { OPS, OPS_NEEDING_CHILD } from "../protocol/messages.ts";
import type { Op } from "../protocol/messages.ts";
import { DEFAULT_PARALLEL } from "./fanout.ts";
import { HostSyntaxError, parseHostList } from "./hosts.ts";
import type { HostTarget } from "./hosts.ts";

/** A usage error: the client prints it with a short help and exits 2. */
export class UsageError extends Error {
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What the user asked for. */
export type ClientCommand =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | {
    readonly kind: "op";
    readonly op: Op;
    readonly child: string | undefined;
    readonly hosts: readonly HostTarget[];
    readonly json: boolean;
    readonly timeoutMs: number;
    /** Private key to sign with (`with KEY.pem`). */
    readonly keyPath: string | undefined;
    /** Hosts asked at once, at most. */
    readonly parallel: number;
    /** For `log`: which stream, how many lines, whether to follow. */
    readonly log: LogArgs;
  };

/** What `log` asks for. */
export interface LogArgs {
  readonly stream: "stdout" | "stderr";
  readonly lines: number;
  readonly follow: boolean;
}

/** Default time allowed for one host to answer. */
export const DEFAULT_TIMEOUT_S = 30;

/** Longest --timeout: timers cannot wait longer than 2^31-1 ms (about 24 days). */
export const MAX_TIMEOUT_S = 86_400 * 24;

/** Spellings of operations that supervisor-rs accepted. */
const OP_ALIASES: Readonly<Record<string, Op>> = {
  Start: "start",
  Stop: "stop",
  Restart: "restart",
  TryStart: "trystart",
  Trystart: "trystart",
  Check: "check",
  Kill: "kill",
  Info: "info",
  INFO: "info",
  InFo: "info",
};

function toOp(word: string): Op | undefined {
  if ((OPS as readonly string[]).includes(word)) return word as Op;
  return Object.hasOwn(OP_ALIASES, word) ? OP_ALIASES[word] : undefined;
}

/** Parses the client's arguments; throws {@link UsageError}. */
export function parseClientArgs(argv: readonly string[]): ClientCommand {
  const positional: string[] = [];
  const hosts: HostTarget[] = [];
  let json = false;
  let timeoutS = DEFAULT_TIMEOUT_S;
  let keyPath: string | undefined;
  let parallel = DEFAULT_PARALLEL;
  let stream: "stdout" | "stderr" = "stdout";
  let lines = 20;
  let follow = false;
  const logFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    if (arg === "-V" || arg === "--version") return { kind: "version" };
    if (arg === "--json") {
      json = true;
    } else if (arg === "--stderr") {
      stream = "stderr";
      logFlags.push(arg);
    } else if (arg === "--follow" || arg === "-f") {
      follow = true;
      logFlags.push(arg);
    } else if (arg === "--lines" || arg === "-n" || arg.startsWith("--lines=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      if (value === undefined || !/^\d+$/.test(value) || Number(value) > 10_000) {
        throw new UsageError(
          `--lines needs a whole number from 0 to 10000, found ${JSON.stringify(value ?? "")}`,
        );
      }
      lines = Number(value);
      logFlags.push("--lines");
    } else if (arg === "--timeout" || arg.startsWith("--timeout=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      const seconds = Number(value);
      if (
        value === undefined || value === "" || !Number.isFinite(seconds) || seconds <= 0 ||
        seconds > MAX_TIMEOUT_S
      ) {
        throw new UsageError(
          `--timeout needs a number of seconds greater than 0 and at most ${MAX_TIMEOUT_S}, found ${
            JSON.stringify(value ?? "")
          }`,
        );
      }
      timeoutS = seconds;
    } else if (arg === "on") {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`"on" needs a host, e.g. "on 127.0.0.1:33889"`);
      try {
        hosts.push(...parseHostList(value, DEFAULT_PORT));
      } catch (error) {
        if (error instanceof HostSyntaxError) throw new UsageError(error.message);
        throw error;
      }
    } else if (arg === "with") {
      const value = argv[++i];
      if (value === undefined) {
        throw new UsageError(`"with" needs a private key file, e.g. "with ~/.ssh/ops.pem"`);
      }
      if (keyPath !== undefined) throw new UsageError(`"with" may be given only once`);
      keyPath = value;
    } else if (arg === "--parallel" || arg.startsWith("--parallel=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      const n = Number(value);
      if (value === undefined || !/^\d+$/.test(value) || n < 1 || n > 10_000) {
        throw new UsageError(
          `--parallel needs a whole number from 1 to 10000, found ${JSON.stringify(value ?? "")}`,
        );
      }
      parallel = n;
    } else if (arg.startsWith("-") && arg.length > 1) {
      throw new UsageError(`Unknown option "${arg}"`);
    } else {
      positional.push(arg);
    }
  }
  const [word, child, ...extra] = positional;
  if (word === undefined) throw new UsageError("No operation given");
  if (word === "help" || word === "Help") return { kind: "help" };
  const op = toOp(word);
  if (op === undefined) {
    throw new UsageError(`Unknown operation "${word}"; expected one of: ${OPS.join(", ")}`);
  }
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`);
  if (OPS_NEEDING_CHILD.includes(op) && child === undefined) {
    throw new UsageError(
      `"${op}" needs a child name, e.g. "${op} web"${op === "stop" ? ' or "stop all"' : ""}`,
    );
  }
  if (op !== "log" && logFlags.length > 0) {
    throw new UsageError(
      `"${logFlags[0]}" goes with the log operation, e.g. "log web ${logFlags[0]}"`,
    );
  }
  if (follow && json) {
    throw new UsageError(`"--follow" prints lines as they come and cannot be combined with --json`);
  }
  if ((op === "info" || op === "kill") && child !== undefined) {
    throw new UsageError(`"${op}" takes no child name, found "${child}"`);
  }
  return {
    kind: "op",
    op,
    child,
    hosts: hosts.length > 0 ? hosts : parseHostList(`127.0.0.1:${DEFAULT_PORT}`),
    json,
    timeoutMs: timeoutS * 1000,
    keyPath,
    parallel,
    log: { stream, lines, follow },
  };
}
