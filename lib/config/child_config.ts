/**
 * `<name>.yml`: one child program — what to run, where, with what environment, where its output
 * goes, how to stop it, and (for the supervision layer) restart, repeat and hooks.
 *
 * Owns: the child config type, its defaults and validation. Relative paths resolve against the
 * directory of the child's file. Does not own: finding the file (see `loadpaths.ts`).
 *
 * @module
 */
import { parseMemoryLimit } from "./memory_limit.ts";
import type { MemoryLimit } from "./memory_limit.ts";
import { parseProbe } from "./probe_config.ts";
import type { ProbeConfig } from "./probe_config.ts";
import { parseDependsOn } from "./depends_on.ts";
import type { Dependency } from "./depends_on.ts";
import { MAX_INSTANCES } from "./instances.ts";
import { CommandSyntaxError } from "../errors.ts";
import { basename, dirname, extname, isAbsolute, resolve } from "node:path";
import { Checker, quote } from "./checker.ts";
import { splitCommand } from "./command_split.ts";
import { nameProblem } from "./names.ts";
import { accountRef, MAX_ID, runAsRefusals } from "./users.ts";
import type { ServerIdentity } from "./users.ts";
import { YamlSource } from "./yaml_source.ts";

/** Where one output stream of a child goes. */
export interface OutputTarget {
  readonly path: string;
  /** `create` truncates the file at each start; `append` keeps what was there. */
  readonly mode: "create" | "append";
  /** Rotate when the file would grow beyond this many bytes; undefined: never. */
  readonly maxBytes: number | undefined;
  /** Rotated files kept (`name.1` … `name.N`). */
  readonly backups: number;
  /**
   * The child writes the file itself (`direct: true`): the file is its stdout or stderr, with
   * no pipe through the server. Never with `maxBytes`.
   */
  readonly direct: boolean;
}

/** Rotated files kept when `max_bytes` is set and `backups` is not. */
export const DEFAULT_BACKUPS = 5;

/** When an exited child is started again. */
export type RestartPolicy = "never" | "on-failure" | "always";

/** Exponential backoff between restarts, in milliseconds. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
}

/** A timer armed by start, restart and trystart. */
export interface Repeat {
  readonly action: "start" | "restart" | "stop" | "trystart";
  readonly seconds: number;
}

/** A prehook or posthook: an operation on another child. */
export interface Hook {
  readonly action: "start" | "restart" | "stop";
  readonly target: string;
}

/** A validated child config. */
export interface ChildConfig {
  readonly name: string;
  readonly path: string;
  readonly dir: string;
  /** Program and arguments, never run through a shell. */
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly stdout: OutputTarget | undefined;
  readonly stderr: OutputTarget | undefined;
  readonly stopSignal: Deno.Signal;
  readonly stopTimeoutMs: number;
  readonly startSeconds: number;
  readonly restart: RestartPolicy;
  readonly backoff: Backoff;
  readonly maxRestarts: number | undefined;
  readonly repeat: Repeat | undefined;
  readonly prehooks: readonly Hook[];
  readonly posthooks: readonly Hook[];
  /** Env files (absolute paths), read at each start in this order; `env` overrides them. */
  readonly envFiles: readonly string[];
  /** The user the child runs as: a name, or a uid in digits; undefined: the server's user. */
  readonly user: string | undefined;
  /** The child's primary group: a name, or a gid in digits; undefined: the user's own. */
  readonly group: string | undefined;
  /** The child's umask, 0 to 0o777; undefined: the server's. */
  readonly umask: number | undefined;
  /**
   * Whether a server started after this one was killed takes over a run of this child it finds
   * still alive (default), or stops that run and starts the child afresh.
   */
  readonly adopt: boolean;
  /** Exit codes that count as success (restart: on-failure, the history). Default [0]. */
  readonly exitCodes: readonly number[];
  /** How many copies run (`NAME:0` … `NAME:N-1`, see `instances.ts`); 1: the child itself. */
  readonly instances: number;
  /** What must run (or have run) before this child starts (see `depends_on.ts`). */
  readonly dependsOn: readonly Dependency[];
  /** When a run counts as started: ready by this probe (else `start_seconds`). */
  readonly ready: ProbeConfig | undefined;
  /** While a run is up: after `failure_threshold` failures in a row it is restarted. */
  readonly health: ProbeConfig | undefined;
  /** Resident memory above which, for some samples in a row, the child is restarted. */
  readonly maxMemory: MemoryLimit | undefined;
}

const KEYS = [
  "command",
  "args",
  "cwd",
  "env",
  "env_file",
  "user",
  "group",
  "umask",
  "output",
  "stop_signal",
  "stop_timeout",
  "start_seconds",
  "restart",
  "backoff",
  "max_restarts",
  "repeat",
  "hooks",
  "adopt",
  "exit_codes",
  "instances",
  "depends_on",
  "ready",
  "health",
  "max_memory",
] as const;

/** Signals a child may be asked to stop with. */
export const STOP_SIGNALS: readonly Deno.Signal[] = [
  "SIGTERM",
  "SIGINT",
  "SIGQUIT",
  "SIGHUP",
  "SIGKILL",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
  "SIGABRT",
  "SIGALRM",
];

/** Defaults of the fields an operator usually leaves out. */
export const CHILD_DEFAULTS = {
  stopTimeoutMs: 10_000,
  startSeconds: 1,
  restart: "never" as RestartPolicy,
  backoff: { initialMs: 1000, maxMs: 60_000, multiplier: 2 } as Backoff,
};

/** The child name a config file stands for: its stem. */
export function childNameOf(path: string): string {
  return basename(path, extname(path));
}

/** What the config check knows of the server, beyond the file. */
export interface ChildParseContext {
  /**
   * The server's identity: when it is not root, a `user` or `group` other than its own is a
   * problem of the file. Without it only their form is checked here; a start checks them again
   * (see `lib/process/spawn_spec.ts`).
   */
  readonly server?: ServerIdentity | undefined;
}

/** Validates the text of the child config file at `path`. */
export function parseChildConfig(
  path: string,
  text: string,
  context: ChildParseContext = {},
): ChildConfig {
  const file = resolve(path);
  const dir = dirname(file);
  const name = childNameOf(file);
  const source = YamlSource.parse(file, text);
  const check = new Checker(source);
  const badName = nameProblem(name);
  if (badName) check.fail([], `the file name gives the child its name, and ${badName.message}`);
  const map = check.map(source.value, [], "child config", KEYS) ?? {};
  const within = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));

  const argv = parseArgv(check, map.command, map.args);
  const cwd = map.cwd === undefined ? dir : within(check.string(map.cwd, ["cwd"], "cwd") ?? ".");
  const env: Record<string, string> = {};
  if (map.env !== undefined && map.env !== null) {
    const record = check.record(map.env, ["env"], "env");
    for (const [key, value] of Object.entries(record ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        check.fail(["env", key], `environment variable name ${quote(key)} is not valid`, true);
        continue;
      }
      const textValue = check.scalarText(value, ["env", key], `env.${key}`);
      if (textValue !== undefined) env[key] = textValue;
    }
  }
  const { stdout, stderr } = parseOutput(check, map.output, within);
  const envFiles = parseEnvFiles(check, map.env_file, within);
  const { user, group } = parseRunAs(check, map, context.server);
  const umask = parseUmask(check, map.umask, text);
  const stopSignal = map.stop_signal === undefined
    ? "SIGTERM"
    : parseSignal(check, map.stop_signal) ?? "SIGTERM";
  const stopTimeout = map.stop_timeout === undefined ? undefined : check.number(
    map.stop_timeout,
    ["stop_timeout"],
    "stop_timeout (seconds)",
    { min: 0, max: 86_400 },
  );
  const startSeconds = map.start_seconds === undefined ? undefined : check.number(
    map.start_seconds,
    ["start_seconds"],
    "start_seconds",
    { min: 0, max: 86_400 },
  );
  const restart = map.restart === undefined ? CHILD_DEFAULTS.restart : check.oneOf(
    map.restart,
    ["restart"],
    "restart",
    ["never", "on-failure", "always"] as const,
  ) ??
    CHILD_DEFAULTS.restart;
  const backoff = parseBackoff(check, map.backoff);
  const maxRestarts = map.max_restarts === undefined || map.max_restarts === null
    ? undefined
    : check.number(map.max_restarts, ["max_restarts"], "max_restarts", {
      min: 0,
      max: 1_000_000,
      integer: true,
    });
  const repeat = parseRepeat(check, map.repeat);
  const { prehooks, posthooks } = parseHooks(check, map.hooks);
  const adopt = map.adopt === undefined ? true : check.flag(map.adopt, ["adopt"], "adopt") ?? true;
  const exitCodes = parseExitCodes(check, map.exit_codes);
  const dependsOn = parseDependsOn(check, map.depends_on, { self: name });
  const ready = parseProbe(check, map.ready, "ready");
  const health = parseProbe(check, map.health, "health");
  const maxMemory = parseMemoryLimit(check, map.max_memory);
  const instances = map.instances === undefined ? 1 : check.number(
    map.instances,
    ["instances"],
    "instances",
    { min: 1, max: MAX_INSTANCES, integer: true },
  ) ?? 1;
  check.throwIfProblems();
  return {
    name,
    path: file,
    dir,
    argv,
    cwd,
    env,
    envFiles,
    user,
    group,
    umask,
    stdout,
    stderr,
    stopSignal,
    stopTimeoutMs: stopTimeout === undefined ? CHILD_DEFAULTS.stopTimeoutMs : stopTimeout * 1000,
    startSeconds: startSeconds ?? CHILD_DEFAULTS.startSeconds,
    restart,
    backoff,
    maxRestarts,
    repeat,
    prehooks,
    posthooks,
    adopt,
    exitCodes,
    instances,
    maxMemory,
    dependsOn,
    ready,
    health,
  };
}

function parseEnvFiles(
  check: Checker,
  value: unknown,
  within: (p: string) => string,
): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return (check.strings(value, ["env_file"], "env_file") ?? []).map(within);
  }
  if (typeof value === "string") {
    const file = check.string(value, ["env_file"], "env_file");
    return file === undefined ? [] : [within(file)];
  }
  check.fail(
    ["env_file"],
    `env_file must be a file path or a list of paths, found ${quote(value)}`,
  );
  return [];
}

/** `user` and `group` in canonical form, refused when the server (if known) is not root. */
function parseRunAs(
  check: Checker,
  map: Readonly<Record<string, unknown>>,
  server: ServerIdentity | undefined,
): { user: string | undefined; group: string | undefined } {
  const ref = (key: "user" | "group", id: "uid" | "gid") => {
    const value = map[key];
    if (value === undefined || value === null) return undefined;
    return accountRef(value) ?? check.fail(
      [key],
      `${key} must be a ${key} name or a numeric ${id} from 0 to ${MAX_ID}, found ${quote(value)}`,
    );
  };
  const user = ref("user", "uid");
  const group = ref("group", "gid");
  if (server) {
    for (const refusal of runAsRefusals(server, user, group)) {
      check.fail([refusal.key], refusal.message, true);
    }
  }
  return { user, group };
}

/**
 * `umask`, always octal: `"027"`, `027`, `27` and `0o027` all mean 0o027. YAML 1.2 reads `027`
 * as the decimal number 27 and `0o027` as 23, so a number is judged by its text in the file.
 */
function parseUmask(check: Checker, value: unknown, text: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  let written: string | undefined;
  if (typeof value === "string") written = value;
  else if (typeof value === "number") {
    // The number as written (not an alias or a tag), else as YAML read it.
    const token = scalarText(text, check.source.locate(["umask"]));
    written = token !== undefined && /^[-+.0-9]/.test(token) ? token : String(value);
  }
  const digits = written === undefined ? undefined : /^(?:0o)?([0-7]{1,4})$/.exec(written)?.[1];
  const mask = digits === undefined ? undefined : parseInt(digits, 8);
  if (mask === undefined || mask > 0o777) {
    return check.fail(
      ["umask"],
      `umask must be an octal mask from 000 to 777, such as "027", 027 or 0o027, found ${
        quote(written ?? value)
      }`,
    );
  }
  return mask;
}

/** The plain scalar written at `at` in `text` (up to a blank, a comma, a bracket or a `#`). */
function scalarText(
  text: string,
  at: { line: number; col: number } | undefined,
): string | undefined {
  if (!at) return undefined;
  const line = text.split("\n")[at.line - 1];
  return line === undefined ? undefined : /^[^\s,\]}#]+/.exec(line.slice(at.col - 1))?.[0];
}

function parseArgv(check: Checker, command: unknown, args: unknown): string[] {
  let argv: string[] = [];
  if (command === undefined) {
    check.fail([], `"command" is missing: expected the program to run, as a string or a list`);
  } else if (typeof command === "string") {
    try {
      argv = splitCommand(command);
    } catch (error) {
      if (!(error instanceof CommandSyntaxError)) throw error;
      check.fail(["command"], `command ${quote(command)} cannot be split: ${error.message}`);
    }
    if (argv.length === 0 && command.trim() === "") {
      check.fail(["command"], "command must name a program to run, found an empty string");
    }
  } else if (Array.isArray(command)) {
    command.forEach((item, index) => {
      const word = check.scalarText(item, ["command", index], "each entry of command");
      if (word !== undefined) argv.push(word);
    });
    if (command.length === 0) check.fail(["command"], "command must not be an empty list");
    else if (argv[0] === "") check.fail(["command", 0], "the program to run must not be empty");
  } else {
    check.fail(
      ["command"],
      `command must be a string or a list of strings, found ${quote(command)}`,
    );
  }
  if (args !== undefined && args !== null) {
    if (!Array.isArray(args)) {
      check.fail(["args"], `args must be a list, found ${quote(args)}`);
    } else {
      args.forEach((item, index) => {
        const text = check.scalarText(item, ["args", index], "each entry of args");
        if (text !== undefined) argv.push(text);
      });
    }
  }
  return argv;
}

function parseOutput(
  check: Checker,
  value: unknown,
  within: (p: string) => string,
): { stdout: OutputTarget | undefined; stderr: OutputTarget | undefined } {
  const result: { stdout: OutputTarget | undefined; stderr: OutputTarget | undefined } = {
    stdout: undefined,
    stderr: undefined,
  };
  if (value === undefined || value === null) return result;
  if (!Array.isArray(value)) {
    check.fail(
      ["output"],
      `output must be a list of "stdout:" or "stderr:" entries, found ${quote(value)}`,
    );
    return result;
  }
  value.forEach((entry, index) => {
    const path = ["output", index];
    const map = check.map(entry, path, "an output entry", [
      "stdout",
      "stderr",
      "mode",
      "max_bytes",
      "backups",
      "direct",
    ]);
    if (!map) return;
    const streams = (["stdout", "stderr"] as const).filter((s) => map[s] !== undefined);
    if (streams.length !== 1) {
      check.fail(
        path,
        `an output entry must name exactly one of "stdout" or "stderr", found ${streams.length}`,
      );
      return;
    }
    const stream = streams[0]!;
    const file = check.string(map[stream], [...path, stream], `output ${stream}`);
    const mode = map.mode === undefined
      ? "create"
      : check.oneOf(map.mode, [...path, "mode"], "output mode", ["create", "append"] as const);
    const maxBytes = map.max_bytes === undefined || map.max_bytes === null
      ? undefined
      : check.number(map.max_bytes, [...path, "max_bytes"], "output max_bytes", {
        min: 1024,
        max: 2 ** 50,
        integer: true,
      });
    const backups = map.backups === undefined ? DEFAULT_BACKUPS : check.number(
      map.backups,
      [...path, "backups"],
      "output backups",
      { min: 0, max: 1000, integer: true },
    );
    if (map.backups !== undefined && map.max_bytes === undefined) {
      check.fail(
        [...path, "backups"],
        "output backups needs max_bytes: files rotate only when they reach max_bytes",
      );
    }
    const direct = map.direct === undefined
      ? false
      : check.flag(map.direct, [...path, "direct"], "output direct") ?? false;
    if (direct && maxBytes !== undefined) {
      check.fail(
        [...path, "direct"],
        "output direct cannot rotate: with direct the child writes the file itself, and only the server can rotate it; drop max_bytes (rotate with logrotate's copytruncate) or drop direct",
      );
      return;
    }
    if (file === undefined || mode === undefined || backups === undefined) return;
    if (result[stream]) {
      check.fail(path, `output for ${stream} is given twice`);
      return;
    }
    result[stream] = { path: within(file), mode, maxBytes, backups, direct };
  });
  if (
    result.stdout && result.stderr && result.stdout.path === result.stderr.path &&
    result.stdout.direct !== result.stderr.direct
  ) {
    check.fail(
      ["output"],
      `stdout and stderr both go to "${result.stdout.path}" but only one of them is direct; give both entries the same direct`,
    );
  }
  if (
    result.stdout && result.stderr && result.stdout.path === result.stderr.path &&
    result.stdout.mode !== result.stderr.mode
  ) {
    check.fail(
      ["output"],
      `stdout and stderr both go to "${result.stdout!.path}" but with different modes (${
        result.stdout!.mode
      } and ${result.stderr!.mode}); give them the same mode`,
    );
  }
  return result;
}

function parseSignal(check: Checker, value: unknown): Deno.Signal | undefined {
  if (typeof value === "string") {
    const upper = value.toUpperCase();
    const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
    const found = STOP_SIGNALS.find((s) => s === name);
    if (found) return found;
  }
  return check.fail(
    ["stop_signal"],
    `stop_signal must be one of ${STOP_SIGNALS.join(", ")} (with or without "SIG"), found ${
      quote(value)
    }`,
  );
}

function parseBackoff(check: Checker, value: unknown): Backoff {
  const defaults = CHILD_DEFAULTS.backoff;
  if (value === undefined || value === null) return defaults;
  const map = check.map(value, ["backoff"], "backoff", ["initial", "max", "multiplier"]);
  if (!map) return defaults;
  const seconds = (key: "initial" | "max") =>
    map[key] === undefined
      ? undefined
      : check.number(map[key], ["backoff", key], `backoff.${key} (seconds)`, {
        min: 0,
        max: 86_400,
      });
  const initial = seconds("initial");
  const max = seconds("max");
  const multiplier = map.multiplier === undefined ? undefined : check.number(
    map.multiplier,
    ["backoff", "multiplier"],
    "backoff.multiplier",
    { min: 1, max: 100 },
  );
  const result = {
    initialMs: initial === undefined ? defaults.initialMs : initial * 1000,
    maxMs: max === undefined ? Math.max(defaults.maxMs, (initial ?? 0) * 1000) : max * 1000,
    multiplier: multiplier ?? defaults.multiplier,
  };
  if (result.maxMs < result.initialMs) {
    check.fail(["backoff", "max"], `backoff.max must not be less than backoff.initial`);
  }
  return result;
}

function parseRepeat(check: Checker, value: unknown): Repeat | undefined {
  if (value === undefined || value === null) return undefined;
  const map = check.map(value, ["repeat"], "repeat", ["action", "seconds"]);
  if (!map) return undefined;
  const action = map.action === undefined || map.action === null || map.action === ""
    ? "restart"
    : check.oneOf(
      map.action,
      ["repeat", "action"],
      "repeat.action",
      [
        "start",
        "restart",
        "stop",
        "trystart",
      ] as const,
    );
  const seconds = map.seconds === undefined
    ? check.fail(
      ["repeat"],
      `repeat.seconds is missing: expected a number of seconds greater than 0`,
    )
    : check.number(map.seconds, ["repeat", "seconds"], "repeat.seconds", {
      min: 0,
      minExclusive: true,
      max: 31_536_000,
    });
  return action === undefined || seconds === undefined ? undefined : { action, seconds };
}

function parseHooks(
  check: Checker,
  value: unknown,
): { prehooks: Hook[]; posthooks: Hook[] } {
  const result = { prehooks: [] as Hook[], posthooks: [] as Hook[] };
  if (value === undefined || value === null) return result;
  if (!Array.isArray(value)) {
    check.fail(
      ["hooks"],
      `hooks must be a list of "prehook:" or "posthook:" entries, found ${quote(value)}`,
    );
    return result;
  }
  value.forEach((entry, index) => {
    const path = ["hooks", index];
    const map = check.map(entry, path, "a hook entry", ["prehook", "posthook"]);
    if (!map) return;
    const kinds = (["prehook", "posthook"] as const).filter((k) => map[k] !== undefined);
    if (kinds.length !== 1) {
      check.fail(
        path,
        `a hook entry must be exactly one of "prehook" or "posthook", found ${kinds.length}`,
      );
      return;
    }
    const kind = kinds[0]!;
    const text = check.string(map[kind], [...path, kind], kind);
    if (text === undefined) return;
    const words = text.trim().split(/\s+/);
    const [action, target, ...rest] = words;
    if (action !== "start" && action !== "restart" && action !== "stop") {
      check.fail([...path, kind], `${kind} ${quote(text)} must start with start, restart or stop`);
      return;
    }
    if (target === undefined || rest.length > 0) {
      check.fail(
        [...path, kind],
        `${kind} ${quote(text)} must be "${action} CHILD": one child name`,
      );
      return;
    }
    const problem = nameProblem(target);
    if (problem) {
      check.fail([...path, kind], `${kind} ${quote(text)}: ${problem.message}`);
      return;
    }
    (kind === "prehook" ? result.prehooks : result.posthooks).push({ action, target });
  });
  return result;
}

/** `exit_codes`: a list of whole numbers from 0 to 255 (or one number); default `[0]`. */
function parseExitCodes(check: Checker, value: unknown): number[] {
  if (value === undefined || value === null) return [0];
  const list = Array.isArray(value) ? value : [value];
  const codes: number[] = [];
  list.forEach((item, i) => {
    const path = Array.isArray(value) ? ["exit_codes", i] : ["exit_codes"];
    const code = check.number(item, path, "an exit code in exit_codes", {
      min: 0,
      max: 255,
      integer: true,
    });
    if (code !== undefined) codes.push(code);
  });
  if (Array.isArray(value) && value.length === 0) {
    check.fail(["exit_codes"], "exit_codes lists no code: give at least one, e.g. [0]");
  }
  return codes;
}
