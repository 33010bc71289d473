/**
 * `ready:` and `health:` in a child config: what a probe checks (a TCP port, an HTTP URL, a
 * command, or a line of the child's output) and how often, in the vocabulary of Kubernetes and
 * process-compose.
 *
 * Owns: the probe config types, their defaults and validation into a readonly typed value.
 * Does not own: running a check (see `lib/process/probe.ts`) or the schedule of checks and what
 * their results mean for a child (see `lib/process/probe_runner.ts`).
 *
 * @module
 */
import { CommandSyntaxError } from "../errors.ts";
import { quote } from "./checker.ts";
import type { Checker } from "./checker.ts";
import { splitCommand } from "./command_split.ts";
import type { YamlPath } from "./yaml_source.ts";

/** Which probe a config describes: `ready` gates a start, `health` watches a running child. */
export type ProbeRole = "ready" | "health";

/** A TCP connect to `host:port` that succeeds. */
export interface TcpProbe {
  readonly kind: "tcp";
  /** A host name or an IP address; IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

/** An HTTP GET answered with a 2xx or 3xx status. */
export interface HttpProbe {
  readonly kind: "http";
  /** An `http:` or `https:` URL, normalised. */
  readonly url: string;
}

/** A command that exits with 0; never run through a shell. */
export interface ExecProbe {
  readonly kind: "exec";
  readonly argv: readonly string[];
}

/** A line of the child's stdout or stderr that matches; `ready` only. */
export interface LogProbe {
  readonly kind: "log";
  /** The expression compiled without flags (so testing a line keeps no state). */
  readonly pattern: RegExp;
  /** The expression as written in the file. */
  readonly source: string;
}

/** What one check does. */
export type ProbeAction = TcpProbe | HttpProbe | ExecProbe | LogProbe;

/** When checks run and how their results count. */
export interface ProbeTiming {
  /** From the start of the run to the first check. */
  readonly initialDelayMs: number;
  /** From the start of one check to the start of the next; checks never overlap. */
  readonly periodMs: number;
  /** A check that takes longer is cut and counts as a failure. */
  readonly timeoutMs: number;
  /** Consecutive successes that make the child ready (or healthy). */
  readonly successThreshold: number;
  /** Consecutive failures that make the child unhealthy. */
  readonly failureThreshold: number;
}

/** A validated probe: what to check, when, and for which role. */
export type ProbeConfig = ProbeAction & ProbeTiming & {
  readonly role: ProbeRole;
  /** `ready` only: a child not ready this long after its start has failed to start. */
  readonly timeoutTotalMs: number | undefined;
};

/** Defaults of the keys an operator leaves out, in milliseconds and counts. */
export const PROBE_DEFAULTS = {
  initialDelayMs: 0,
  periodMs: 1000,
  timeoutMs: 1000,
  successThreshold: 1,
  failureThreshold: 3,
  timeoutTotalMs: 60_000,
} as const;

/** The shortest period between two checks, in seconds. */
export const MIN_PERIOD_SECONDS = 0.05;

/** The longest delay, period, timeout or total a probe accepts, in seconds (one day). */
const MAX_SECONDS = 86_400;

/** The largest success or failure threshold. */
const MAX_THRESHOLD = 1_000_000;

const KINDS = ["tcp", "http", "exec", "log"] as const;

/** Keys that schedule checks, meaningless for a `log` probe. */
const TIMING_KEYS = [
  "initial_delay",
  "period",
  "timeout",
  "success_threshold",
  "failure_threshold",
] as const;

const KEYS = [...KINDS, ...TIMING_KEYS, "timeout_total"] as const;

/**
 * Validates the value of `ready:` or `health:` (`key`) in a child config; problems go to
 * `check`, with their line and column. Returns undefined when the key is absent or null, and
 * when the probe has a problem.
 */
export function parseProbe(
  check: Checker,
  value: unknown,
  key: ProbeRole,
): ProbeConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const before = check.problems.length;
  const map = check.map(value, [key], key, KEYS);
  if (!map) return undefined;

  const action = parseAction(check, map, key);
  const seconds = (
    name: (typeof TIMING_KEYS)[number] | "timeout_total",
    bounds: { min: number; minExclusive?: boolean },
  ) =>
    map[name] === undefined ? undefined : check.number(
      map[name],
      [key, name],
      `${key}.${name} (seconds)`,
      { ...bounds, max: MAX_SECONDS },
    );
  const count = (name: "success_threshold" | "failure_threshold") =>
    map[name] === undefined ? undefined : check.number(map[name], [key, name], `${key}.${name}`, {
      min: 1,
      max: MAX_THRESHOLD,
      integer: true,
    });
  const initialDelay = seconds("initial_delay", { min: 0 });
  const period = seconds("period", { min: MIN_PERIOD_SECONDS });
  const timeout = seconds("timeout", { min: 0, minExclusive: true });
  const successThreshold = count("success_threshold");
  const failureThreshold = count("failure_threshold");
  let timeoutTotal: number | undefined;
  if (key === "health" && map.timeout_total !== undefined) {
    check.fail(
      [key, "timeout_total"],
      "health.timeout_total is not allowed: only ready has a total timeout (a health probe " +
        "watches the child for as long as it runs)",
      true,
    );
  } else if (key === "ready") {
    timeoutTotal = seconds("timeout_total", { min: 0, minExclusive: true });
  }

  if (action?.kind === "log") {
    for (const name of TIMING_KEYS) {
      if (map[name] !== undefined) {
        check.fail(
          [key, name],
          `${key}.${name} does not apply to a log probe: the child is ready at the first ` +
            "matching line",
          true,
        );
      }
    }
  }
  const initialDelayMs = initialDelay === undefined
    ? PROBE_DEFAULTS.initialDelayMs
    : toMs(initialDelay);
  const timeoutTotalMs = key === "health"
    ? undefined
    : timeoutTotal === undefined
    ? PROBE_DEFAULTS.timeoutTotalMs
    : Math.max(1, toMs(timeoutTotal));
  if (timeoutTotalMs !== undefined && initialDelayMs >= timeoutTotalMs) {
    check.fail(
      [key, "initial_delay"],
      `${key}.initial_delay (${initialDelayMs / 1000} s) must be less than ${key}.timeout_total ` +
        `(${timeoutTotalMs / 1000} s): the child could never become ready`,
    );
  }
  if (!action || check.problems.length > before) return undefined;
  return {
    ...action,
    role: key,
    initialDelayMs,
    periodMs: period === undefined ? PROBE_DEFAULTS.periodMs : toMs(period),
    timeoutMs: timeout === undefined ? PROBE_DEFAULTS.timeoutMs : Math.max(1, toMs(timeout)),
    successThreshold: successThreshold ?? PROBE_DEFAULTS.successThreshold,
    failureThreshold: failureThreshold ?? PROBE_DEFAULTS.failureThreshold,
    timeoutTotalMs,
  };
}

/** Whole milliseconds from seconds. */
function toMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

/** The one kind the map names, validated. */
function parseAction(
  check: Checker,
  map: Readonly<Record<string, unknown>>,
  key: ProbeRole,
): ProbeAction | undefined {
  const kinds = KINDS.filter((kind) => map[kind] !== undefined);
  const kind = kinds[0];
  if (kind === undefined) {
    return check.fail(
      [key],
      `${key} must have exactly one of tcp, http, exec or log, found none`,
    );
  }
  if (kinds.length > 1) {
    return check.fail(
      [key, kinds[1]!],
      `${key} must have exactly one of tcp, http, exec or log, found ${kinds.join(" and ")}`,
      true,
    );
  }
  const path = [key, kind];
  const value = map[kind];
  switch (kind) {
    case "tcp":
      return parseTcp(check, value, path);
    case "http":
      return parseHttp(check, value, path);
    case "exec":
      return parseExec(check, value, path);
    case "log":
      if (key === "health") {
        return check.fail(
          path,
          "health cannot be a log probe: a line marks a child ready once, but says nothing " +
            "of its health later; use tcp, http or exec",
          true,
        );
      }
      return parseLog(check, value, path);
  }
}

/** `PORT`, `HOST:PORT` or `[IPV6]:PORT`; a bare port means 127.0.0.1. */
function parseTcp(check: Checker, value: unknown, path: YamlPath): TcpProbe | undefined {
  const what = path.join(".");
  const expected =
    `${what} must be PORT, HOST:PORT or [IPV6]:PORT with a port from 1 to 65535, such as ` +
    `5432, 127.0.0.1:5432 or [::1]:5432, found ${quote(value)}`;
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string") return check.fail(path, expected);
  const written = text.trim();
  let host = "127.0.0.1";
  let portText = written;
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(written);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (!/^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[\w.-]+)?$/.test(host)) return check.fail(path, expected);
  } else if (written.includes(":")) {
    const colon = written.lastIndexOf(":");
    host = written.slice(0, colon);
    portText = written.slice(colon + 1);
    if (host.includes(":")) {
      return check.fail(
        path,
        `${what} ${quote(value)} has an IPv6 address without brackets: write it as ` +
          `[ADDRESS]:PORT, such as [::1]:5432`,
      );
    }
    if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/.test(host)) {
      return check.fail(path, expected);
    }
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65_535)) return check.fail(path, expected);
  return { kind: "tcp", host, port };
}

/** An absolute `http:` or `https:` URL with a host. */
function parseHttp(check: Checker, value: unknown, path: YamlPath): HttpProbe | undefined {
  const what = path.join(".");
  const expected = `${what} must be an http:// or https:// URL, such as ` +
    `http://127.0.0.1:8080/healthz, found ${quote(value)}`;
  if (typeof value !== "string") return check.fail(path, expected);
  const url = URL.parse(value.trim());
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    return check.fail(path, expected);
  }
  return { kind: "http", url: url.href };
}

/** A command string split like `sh` splits words, or a list taken word for word. */
function parseExec(check: Checker, value: unknown, path: YamlPath): ExecProbe | undefined {
  const what = path.join(".");
  if (typeof value === "string") {
    let argv: string[];
    try {
      argv = splitCommand(value);
    } catch (error) {
      if (!(error instanceof CommandSyntaxError)) throw error;
      return check.fail(path, `${what} ${quote(value)} cannot be split: ${error.message}`);
    }
    if (argv.length === 0) {
      return check.fail(path, `${what} must name a program to run, found ${quote(value)}`);
    }
    return { kind: "exec", argv };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return check.fail(path, `${what} must not be an empty list`);
    const argv: string[] = [];
    value.forEach((item, index) => {
      const word = check.scalarText(item, [...path, index], `each entry of ${what}`);
      if (word !== undefined) argv.push(word);
    });
    if (argv.length !== value.length) return undefined;
    if (argv[0] === "") return check.fail([...path, 0], "the program to run must not be empty");
    return { kind: "exec", argv };
  }
  return check.fail(path, `${what} must be a string or a list of strings, found ${quote(value)}`);
}

/** A JavaScript regular expression, searched for in each line. */
function parseLog(check: Checker, value: unknown, path: YamlPath): LogProbe | undefined {
  const what = path.join(".");
  const source = check.string(value, path, `${what} (a regular expression)`);
  if (source === undefined) return undefined;
  try {
    return { kind: "log", pattern: new RegExp(source), source };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // V8 says "Invalid regular expression: /SOURCE/: REASON"; the source is quoted already.
    const reason =
      /^Invalid regular expression: \/[^]*\/[a-z]*: ([^]*)$/.exec(error.message)?.[1] ??
        error.message;
    return check.fail(
      path,
      `${what} ${quote(source)} is not a valid regular expression: ${reason}`,
    );
  }
}
