/**
 * The client's command line: `<op> [child] [on HOST]... [with KEY.pem] [--json] [--timeout S]
 * [--parallel N]`, log's `--stderr --lines N --follow`, `signal NAME|all SIG [--main]`,
 * `--no-wait` for the operations that start children, `status` for `check`, and the
 * client-side operations `completions SHELL` and `help`.
 *
 * Owns: the words the client accepts, as data ({@link OPERATIONS}, {@link OPTIONS},
 * {@link WORDS}) read both by the parser and by the shell completions, parsing argv into a
 * {@link ClientCommand}, and the request's args ({@link requestArgs}). Does not own: talking
 * to servers, printing, or the completion scripts
 * (see `completions.ts`). The server's operations come from `lib/protocol/ops.ts`; the
 * client-only ones live here, since no server ever sees them.
 *
 * @module
 */
import { HostSyntaxError, UsageError } from "../errors.ts";
import { DEFAULT_PORT } from "../version.ts";
import { OPS, OPS_NEEDING_CHILD, OPS_TAKING_ALL } from "../protocol/ops.ts";
import type { Op } from "../protocol/ops.ts";
import { SENDABLE_SIGNALS } from "../process/signals.ts";
import { suggest } from "../suggest.ts";
import { DEFAULT_PARALLEL } from "./fanout.ts";
import { parseHostList } from "./hosts.ts";
import type { HostTarget } from "./hosts.ts";

/** Shells that `completions` writes a script for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** One of {@link SHELLS}. */
export type Shell = typeof SHELLS[number];

/** A word that must follow the child: the signal of `signal web HUP`. */
export interface NextOperand {
  /** How help shows it: `SIG`. */
  readonly placeholder: string;
  /** What it is, for messages: `a signal`. */
  readonly what: string;
  /** A value for the examples of messages: `HUP`. */
  readonly example: string;
  /** The values completion offers; the server decides which it accepts. */
  readonly values: readonly string[];
}

/** What follows an operation's name. */
export type Operand =
  | { readonly kind: "none" }
  /**
   * A child name (`required` or not), or one of `keywords` (`stop all`); with `next`, a second
   * word must follow it (`signal web HUP`).
   */
  | {
    readonly kind: "child";
    readonly required: boolean;
    readonly keywords: readonly string[];
    readonly next?: NextOperand;
  }
  /** One word of a fixed list (`completions bash`). */
  | { readonly kind: "choice"; readonly what: string; readonly values: readonly string[] };

/** An operation as the command line knows it. */
export interface OperationSpec {
  readonly name: string;
  /** Sent to a server (one of {@link OPS}, or another name for one), or run by the client alone. */
  readonly server: boolean;
  /** For another name of a server operation (`status`), the operation it sends (`check`). */
  readonly aliasOf?: Op;
  readonly operand: Operand;
  /** A few words for completion menus (no `:`, which zsh menus cannot show). */
  readonly about: string;
}

/** Server operations that take no child name. */
const TAKES_NO_CHILD: readonly Op[] = ["info", "kill", "update", "events"];

/** The word after the child, by operation. */
const NEXT_OPERANDS: Readonly<Partial<Record<Op, NextOperand>>> = {
  signal: {
    placeholder: "SIG",
    what: "a signal",
    example: "HUP",
    values: SENDABLE_SIGNALS.map((s) => s.slice("SIG".length)),
  },
};

/** A few words on each server operation; a new operation in OPS must be described here. */
const ABOUT: Readonly<Record<Op, string>> = {
  start: "start a child that is not running, or every child",
  stop: "stop a running child, or every child",
  restart: "stop a running child and start it again, or every one",
  trystart: "start a child, restarting it if it runs",
  check: "list every child with its state, or show one",
  info: "show the server's version, pid, config, address",
  kill: "stop every child, then the server",
  log: "the last lines a child wrote",
  signal: "send a signal to a child's process group (with --main, its main process only)",
  update: "restart children whose config changed, stop those whose file was removed",
  events: "the recent changes of state (with --follow, each one as it happens)",
};

/** Other names of server operations, with their few words: what supervisorctl users type. */
const ALIASES: Readonly<Partial<Record<Op, readonly { name: string; about: string }[]>>> = {
  check: [{ name: "status", about: "the same as check, as supervisorctl calls it" }],
};

function serverOperand(op: Op): Operand {
  if (TAKES_NO_CHILD.includes(op)) return { kind: "none" };
  const next = NEXT_OPERANDS[op];
  return {
    kind: "child",
    required: OPS_NEEDING_CHILD.includes(op),
    keywords: OPS_TAKING_ALL.includes(op) ? ["all"] : [],
    ...(next === undefined ? {} : { next }),
  };
}

/** A server operation, then its other names. */
function serverSpecs(op: Op): OperationSpec[] {
  const operand = serverOperand(op);
  return [
    { name: op, server: true, operand, about: ABOUT[op] },
    ...(ALIASES[op] ?? []).map((a) => ({ ...a, server: true, aliasOf: op, operand })),
  ];
}

/** Every operation a person may type, server ones first, in the order help lists them. */
export const OPERATIONS: readonly OperationSpec[] = [
  ...OPS.flatMap(serverSpecs),
  {
    name: "completions",
    server: false,
    operand: { kind: "choice", what: "a shell", values: SHELLS },
    about: "print a shell completion script",
  },
  { name: "help", server: false, operand: { kind: "none" }, about: "print the help" },
];

/**
 * The hidden operation completion scripts call: prints the names of the children of the hosts
 * given (`on HOST`), one a line, and nothing at all when they cannot be asked.
 */
export const COMPLETE_CHILDREN = "__complete-children";

/** Time `__complete-children` allows a host, unless --timeout says otherwise: a TAB must be quick. */
export const COMPLETE_TIMEOUT_S = 2;

/** Lines `log` shows when `--lines` is not given. */
export const DEFAULT_LOG_LINES = 20;

/** An option: `--json`, `--timeout S`, `--lines=N`, `-f`. */
export interface OptionSpec {
  readonly name: `--${string}`;
  readonly short?: `-${string}`;
  /** Placeholder of the value it takes (`S`, `N`), when it takes one. */
  readonly value?: string;
  /** The operations it goes with, when it does not go with every one. */
  readonly only?: readonly Op[];
  readonly about: string;
}

/** Every option the parser accepts. */
export const OPTIONS = [
  { name: "--json", about: "print one JSON array, one object per host" },
  { name: "--timeout", value: "S", about: "seconds to wait for each host" },
  { name: "--parallel", value: "N", about: "hosts asked at once, at most" },
  { name: "--stderr", only: ["log"], about: "show what the child wrote to stderr" },
  { name: "--lines", short: "-n", value: "N", only: ["log"], about: "how many lines to show" },
  {
    name: "--follow",
    short: "-f",
    only: ["log", "events"],
    about: "keep printing new lines (or changes) until Ctrl-C",
  },
  {
    name: "--main",
    only: ["signal"],
    about: "signal the child's main process, not its whole process group",
  },
  {
    name: "--no-wait",
    only: ["start", "restart", "trystart", "update"],
    about: "answer at once, without waiting start_seconds for the child to count as started",
  },
  {
    name: "--rolling",
    only: ["restart", "trystart"],
    about: "one host at a time, each ready again before the next; stop at the first failure",
  },
  {
    name: "--max-unavailable",
    value: "N",
    only: ["restart", "trystart"],
    about: "like --rolling, with N hosts at a time",
  },
  { name: "--help", short: "-h", about: "print the help" },
  { name: "--version", short: "-V", about: "print the version" },
] as const satisfies readonly OptionSpec[];

/** A word that takes the next argument as its value: `on HOST`, `with KEY.pem`. */
export interface WordSpec {
  readonly name: string;
  readonly value: string;
  /** Its value is a file path. */
  readonly file: boolean;
  readonly about: string;
}

/** Every such word the parser accepts. */
export const WORDS = [
  { name: "on", value: "HOST", file: false, about: "ask this server; repeat for several" },
  { name: "with", value: "KEY.pem", file: true, about: "sign with this private key" },
] as const satisfies readonly WordSpec[];

/** Which hosts to ask and how. */
interface Reach {
  readonly hosts: readonly HostTarget[];
  readonly timeoutMs: number;
  /** Private key to sign with (`with KEY.pem`). */
  readonly keyPath: string | undefined;
  /** Hosts asked at once, at most. */
  readonly parallel: number;
}

/** What the user asked for. */
export type ClientCommand =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "completions"; readonly shell: Shell }
  | ({ readonly kind: "complete-children" } & Reach)
  | ({
    readonly kind: "op";
    readonly op: Op;
    readonly child: string | undefined;
    readonly json: boolean;
    /** For `log`: which stream, how many lines, whether to follow. */
    readonly log: LogArgs;
    /** For start, restart, trystart, update: answer once children count as started. */
    readonly wait: boolean;
    /** For `signal`: which signal, and to whom. */
    readonly signal: SignalArgs | undefined;
    /**
     * For a rolling restart (`--rolling`, `--max-unavailable N`): hosts at a time; the hosts
     * not asked yet are skipped after the first failure. Undefined: every host at once.
     */
    readonly rolling: number | undefined;
  } & Reach);

/** A command for a server. */
export type OpCommand = Extract<ClientCommand, { readonly kind: "op" }>;

/** What `log` asks for. */
export interface LogArgs {
  readonly stream: "stdout" | "stderr";
  readonly lines: number;
  readonly follow: boolean;
}

/** What `signal` asks for. */
export interface SignalArgs {
  /** As typed: the server knows the names (`HUP`, `SIGHUP`, `usr1`) and refuses the others. */
  readonly name: string;
  /** Only the child's main process, not its whole process group. */
  readonly main: boolean;
}

/**
 * The `args` of the request for `command`, or `undefined` for none: log's stream, lines and
 * follow; signal's signal and main; `wait: false` with --no-wait (waiting is the default).
 */
export function requestArgs(command: OpCommand): Record<string, unknown> | undefined {
  if (command.op === "log") return { ...command.log };
  if (command.op === "events") return command.log.follow ? { follow: true } : undefined;
  if (command.signal !== undefined) {
    return { signal: command.signal.name, main: command.signal.main };
  }
  return command.wait ? undefined : { wait: false };
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
  const alias = OPERATIONS.find((o) => o.name === word)?.aliasOf;
  if (alias !== undefined) return alias;
  return Object.hasOwn(OP_ALIASES, word) ? OP_ALIASES[word] : undefined;
}

/** Most edits between a mistyped operation and the one suggested for it. */
const MAX_SUGGEST_DISTANCE = 2;

/** `Unknown operation "strat" (did you mean "start"?); expected one of: …`. */
function unknownOperation(word: string): UsageError {
  const names = OPERATIONS.map((o) => o.name);
  // A word no longer than the distance would be "close" to any short name.
  const close = word.length > MAX_SUGGEST_DISTANCE
    ? suggest(word, names, MAX_SUGGEST_DISTANCE)
    : undefined;
  return new UsageError(
    `Unknown operation "${word}"${close === undefined ? "" : ` (did you mean "${close}"?)`}` +
      `; expected one of: ${names.join(", ")}`,
  );
}

/** A command line for `op` as messages show it: `start web`, `signal web HUP`, `update`. */
function exampleOf(op: Op): string {
  const operand = serverOperand(op);
  if (operand.kind !== "child") return op;
  return operand.next === undefined ? `${op} web` : `${op} web ${operand.next.example}`;
}

/** `log`, `start, restart and update`. */
export function andList(words: readonly string[]): string {
  return words.length < 2
    ? words.join("")
    : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

type Option = typeof OPTIONS[number];

function findOption(arg: string): Option | undefined {
  return OPTIONS.find((o: OptionSpec) =>
    arg === o.name || arg === o.short || (o.value !== undefined && arg.startsWith(`${o.name}=`))
  );
}

function parseLines(value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) > 10_000) {
    throw new UsageError(
      `--lines needs a whole number from 0 to 10000, found ${JSON.stringify(value ?? "")}`,
    );
  }
  return Number(value);
}

function parseTimeout(value: string | undefined): number {
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
  return seconds;
}

function parseMaxUnavailable(value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n < 1 || n > 10_000) {
    throw new UsageError(
      `--max-unavailable needs a whole number of hosts from 1 to 10000, found ${
        JSON.stringify(value ?? "")
      }`,
    );
  }
  return n;
}

function parseParallel(value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n < 1 || n > 10_000) {
    throw new UsageError(
      `--parallel needs a whole number from 1 to 10000, found ${JSON.stringify(value ?? "")}`,
    );
  }
  return n;
}

function parseHosts(value: string | undefined): HostTarget[] {
  if (value === undefined) throw new UsageError(`"on" needs a host, e.g. "on 127.0.0.1:33889"`);
  try {
    return parseHostList(value, DEFAULT_PORT);
  } catch (error) {
    if (error instanceof HostSyntaxError) throw new UsageError(error.message);
    throw error;
  }
}

/** Parses the client's arguments; throws {@link UsageError}. */
export function parseClientArgs(argv: readonly string[]): ClientCommand {
  const positional: string[] = [];
  const hosts: HostTarget[] = [];
  let json = false;
  let timeoutS: number | undefined;
  let keyPath: string | undefined;
  let parallel = DEFAULT_PARALLEL;
  let stream: "stdout" | "stderr" = "stdout";
  let lines = DEFAULT_LOG_LINES;
  let follow = false;
  let wait = true;
  let main = false;
  let rolling: number | undefined;
  /** Options and words given, as typed, for the operations that take none. */
  const given: string[] = [];
  /** Options given that go with some operations only. */
  const onlyFor: { readonly arg: string; readonly ops: readonly Op[] }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "on") {
      hosts.push(...parseHosts(argv[++i]));
      given.push(arg);
      continue;
    }
    if (arg === "with") {
      const value = argv[++i];
      if (value === undefined) {
        throw new UsageError(`"with" needs a private key file, e.g. "with ~/.ssh/ops.pem"`);
      }
      if (keyPath !== undefined) throw new UsageError(`"with" may be given only once`);
      keyPath = value;
      given.push(arg);
      continue;
    }
    const option = findOption(arg);
    if (option === undefined) {
      if (arg.startsWith("-") && arg.length > 1) throw new UsageError(`Unknown option "${arg}"`);
      positional.push(arg);
      continue;
    }
    const value = !("value" in option)
      ? undefined
      : arg.startsWith(`${option.name}=`)
      ? arg.slice(option.name.length + 1)
      : argv[++i];
    switch (option.name) {
      case "--help":
        return { kind: "help" };
      case "--version":
        return { kind: "version" };
      case "--json":
        json = true;
        break;
      case "--stderr":
        stream = "stderr";
        break;
      case "--follow":
        follow = true;
        break;
      case "--main":
        main = true;
        break;
      case "--no-wait":
        wait = false;
        break;
      case "--rolling":
        rolling = 1;
        break;
      case "--max-unavailable":
        rolling = parseMaxUnavailable(value);
        break;
      case "--lines":
        lines = parseLines(value);
        break;
      case "--timeout":
        timeoutS = parseTimeout(value);
        break;
      case "--parallel":
        parallel = parseParallel(value);
        break;
    }
    const shown = "value" in option ? option.name : arg;
    given.push(shown);
    if ("only" in option) onlyFor.push({ arg: shown, ops: option.only });
  }
  const [word, ...operands] = positional;
  if (word === undefined) throw new UsageError("No operation given");
  if (word === "help" || word === "Help") return { kind: "help" };
  if (word === "completions") return completions(operands[0], operands.slice(1), given);
  const reach: Reach = {
    hosts: hosts.length > 0 ? hosts : parseHostList(`127.0.0.1:${DEFAULT_PORT}`),
    timeoutMs: (timeoutS ?? DEFAULT_TIMEOUT_S) * 1000,
    keyPath,
    parallel,
  };
  if (word === COMPLETE_CHILDREN) {
    const unexpected = operands[0];
    if (unexpected !== undefined) throw new UsageError(`Unexpected argument "${unexpected}"`);
    return {
      kind: "complete-children",
      ...reach,
      timeoutMs: (timeoutS ?? COMPLETE_TIMEOUT_S) * 1000,
    };
  }
  const op = toOp(word);
  if (op === undefined) throw unknownOperation(word);
  const operand = serverOperand(op);
  const next = operand.kind === "child" ? operand.next : undefined;
  const [child, second] = operands;
  const extra = operands.slice(next === undefined ? 1 : 2);
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`);
  if (OPS_NEEDING_CHILD.includes(op) && child === undefined) {
    const keywords = operand.kind === "child" ? operand.keywords : [];
    const tail = next === undefined ? "" : ` ${next.example}`;
    throw new UsageError(
      `"${op}" needs a child name${next === undefined ? "" : ` and ${next.what}`}, e.g. "${
        exampleOf(op)
      }"${keywords.map((k) => ` or "${op} ${k}${tail}"`).join("")}`,
    );
  }
  if (next !== undefined && second === undefined) {
    throw new UsageError(
      `"${op}" needs ${next.what} after the child name, e.g. "${op} ${child} ${next.example}"`,
    );
  }
  const misplaced = onlyFor.find((o) => !o.ops.includes(op));
  if (misplaced) {
    const [first] = misplaced.ops;
    const operations = misplaced.ops.length === 1 ? "operation" : "operations";
    throw new UsageError(
      `"${misplaced.arg}" goes with the ${andList(misplaced.ops)} ${operations}, e.g. "${
        first === undefined ? "" : `${exampleOf(first)} `
      }${misplaced.arg}"`,
    );
  }
  if (rolling !== undefined && !wait) {
    throw new UsageError(
      `a rolling restart waits for each host before the next: "--no-wait" does not go with it`,
    );
  }
  if (follow && json && op !== "events") {
    throw new UsageError(`"--follow" prints lines as they come and cannot be combined with --json`);
  }
  if (TAKES_NO_CHILD.includes(op) && child !== undefined) {
    throw new UsageError(`"${op}" takes no child name, found "${child}"`);
  }
  return {
    kind: "op",
    op,
    child,
    json,
    log: { stream, lines, follow },
    wait,
    signal: op === "signal" && second !== undefined ? { name: second, main } : undefined,
    rolling,
    ...reach,
  };
}

/** `completions SHELL`: a client-side operation that takes a shell and nothing else. */
function completions(
  shell: string | undefined,
  extra: readonly string[],
  given: readonly string[],
): ClientCommand {
  const expected = `expected one of: ${SHELLS.join(", ")}`;
  if (given.length > 0) {
    throw new UsageError(
      `"completions" prints a script and asks no server: "${given[0]}" does not go with it`,
    );
  }
  if (shell === undefined) {
    throw new UsageError(`"completions" needs a shell, e.g. "completions bash"; ${expected}`);
  }
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`Unknown shell "${shell}"; ${expected}`);
  }
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`);
  return { kind: "completions", shell: shell as Shell };
}
