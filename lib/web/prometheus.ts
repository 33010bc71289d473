/**
 * The server's state as Prometheus metrics: one pure function from the wire's data (children
 * as `check` reports them, the server as `info` reports it, request and connection counts, the
 * build) to the text exposition format 0.0.4 that `GET /metrics` serves.
 *
 * Owns: the metric names, their types and help texts, label escaping, the order of the lines
 * (families in a fixed order, children by name, so the same data gives the same text) and how
 * numbers are written. Does not own: HTTP (who may scrape, the content type header, status
 * codes: `http_server.ts` sends {@link METRICS_CONTENT_TYPE}), gathering the data, or printing.
 *
 * @module
 */
import type { ChildData, ExitData, InfoData } from "../protocol/payloads.ts";
import { CHILD_STATES } from "../process/state.ts";

/** The `Content-Type` of the text {@link renderMetrics} returns. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** How many requests ended with one code, for one operation. */
export interface RequestCount {
  /** The operation: `start`, `check` … */
  readonly op: string;
  /** `OK` for a success, else the error code the response carried (`EXITED_EARLY` …). */
  readonly code: string;
  readonly count: number;
}

/** The build a server runs. */
export interface BuildData {
  /** supervisor-ts's version. */
  readonly version: string;
  /** `Deno.version`'s three fields. */
  readonly deno: string;
  readonly v8: string;
  readonly typescript: string;
}

/** Everything {@link renderMetrics} reads. */
export interface MetricsInput {
  /** Every child, as `check` reports it (any order: the output sorts them by name). */
  readonly children: readonly ChildData[];
  /** The server, as `info` reports it. */
  readonly info: InfoData;
  /** Requests answered since the server started (duplicates of an op and code are added). */
  readonly requests: readonly RequestCount[];
  /** Connections to the control port: open now, and accepted since the server started. */
  readonly connections: { readonly open: number; readonly accepted: number };
  readonly build: BuildData;
}

/** A metric family's type, as `# TYPE` declares it. */
type MetricType = "gauge" | "counter";

/** Label name and value pairs, in the order they are written. */
type Labels = readonly (readonly [string, string])[];

/** One line of a family: its labels and its value. */
interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** One family: written as `# HELP`, `# TYPE`, then its samples. */
interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: readonly Sample[];
}

/**
 * The metrics of `input` in the Prometheus text exposition format 0.0.4, ending with a newline.
 * Every family has `# HELP` and `# TYPE`, even with no sample (no child sampled yet, say).
 */
export function renderMetrics(input: MetricsInput): string {
  const children = [...input.children].sort((a, b) => compare(a.name, b.name));
  const families = [...childFamilies(children), ...serverFamilies(input, children)];
  return families.map(renderFamily).join("");
}

/** The families with one sample (or one per state) for each child. */
function childFamilies(children: readonly ChildData[]): Family[] {
  const each = (value: (child: ChildData) => number | null): Sample[] =>
    children.flatMap((child) => {
      const v = value(child);
      return v === null ? [] : [{ labels: [["child", child.name]], value: v }];
    });
  return [
    {
      name: "supervisor_child_state",
      type: "gauge",
      help: `The child's state: 1 for the one it is in, 0 for the others (${
        CHILD_STATES.join(", ")
      }).`,
      samples: children.flatMap((child) =>
        CHILD_STATES.map((state) => ({
          labels: [["child", child.name], ["state", state]] as const,
          value: child.state === state ? 1 : 0,
        }))
      ),
    },
    {
      name: "supervisor_child_up",
      type: "gauge",
      help: "1 when the child is RUNNING, else 0.",
      samples: each((child) => child.state === "RUNNING" ? 1 : 0),
    },
    {
      name: "supervisor_child_restarts_total",
      type: "counter",
      help: "Starts of the child after its first one since the server started " +
        "(automatic restarts and operators' starts alike).",
      samples: each((child) => child.restarts),
    },
    {
      name: "supervisor_child_crashes_total",
      type: "counter",
      help: "Runs of the child that ended on their own with an exit not in its exit_codes, or " +
        "that the server ended (unhealthy, never ready, memory limit), since the server " +
        "started. A stop, restart or update asked for never counts, so deploys leave it flat: " +
        "its increase is the signal for crash loops.",
      samples: each((child) => child.crashes),
    },
    {
      name: "supervisor_child_last_exit_code",
      type: "gauge",
      help: "How the child's last run ended: its exit code, or 128 plus the signal's number " +
        "when a signal ended it (as a shell reports it; the signal's name is in " +
        "supervisor_child_last_exit_signal). Absent before its first exit, and when the status " +
        "of an adopted run could not be read.",
      samples: each((child) => child.last_exit === null ? null : exitCode(child.last_exit)),
    },
    {
      name: "supervisor_child_last_exit_signal",
      type: "gauge",
      help: "1, labelled with the signal's name, when a signal ended the child's last run; " +
        "absent when it exited with a code.",
      samples: children.flatMap((child) => {
        const signal = child.last_exit?.signal ?? null;
        return signal === null
          ? []
          : [{ labels: [["child", child.name], ["signal", signal]] as const, value: 1 }];
      }),
    },
    {
      name: "supervisor_child_cpu_seconds_total",
      type: "counter",
      help: "CPU time (user and system) used by the processes of the child's current run; " +
        "starts again from 0 with each run. Only for a child whose resources were sampled.",
      samples: each((child) => child.resources ? seconds(child.resources.cpu_seconds) : null),
    },
    {
      name: "supervisor_child_resident_memory_bytes",
      type: "gauge",
      help: "Resident memory of the processes of the child's current run, at the last sample. " +
        "Only for a child whose resources were sampled.",
      samples: each((child) => child.resources ? child.resources.rss_bytes : null),
    },
    {
      name: "supervisor_child_processes",
      type: "gauge",
      help: "Processes in the child's current run (its process group), at the last sample. " +
        "Only for a child whose resources were sampled.",
      samples: each((child) => child.resources ? child.resources.processes : null),
    },
    {
      name: "supervisor_child_start_time_seconds",
      type: "gauge",
      help: "When the child's current process started, in seconds since the Unix epoch. Only " +
        "while it has a process (STARTING, RUNNING or STOPPING).",
      samples: each((child) => child.started_at === null ? null : unixSeconds(child.started_at)),
    },
    {
      name: "supervisor_child_ready",
      type: "gauge",
      help: "1 when the child's readiness probe passed for the current run, else 0. Only for " +
        "a child with a readiness probe.",
      samples: each((child) => child.ready === null ? null : child.ready ? 1 : 0),
    },
  ];
}

/** The families of the server itself. */
function serverFamilies(input: MetricsInput, children: readonly ChildData[]): Family[] {
  const { info, connections, build } = input;
  return [
    {
      name: "supervisor_start_time_seconds",
      type: "gauge",
      help: "When the server started, in seconds since the Unix epoch.",
      samples: [{ labels: [], value: unixSeconds(info.started_at) }],
    },
    {
      name: "supervisor_uptime_seconds",
      type: "gauge",
      help: "How long the server has run, in seconds.",
      samples: [{ labels: [], value: seconds(info.uptime_ms / 1000) }],
    },
    {
      name: "supervisor_children",
      type: "gauge",
      help: "Children in each state (every state listed, 0 included; they add up to the " +
        "number of supervisor_child_up series).",
      samples: CHILD_STATES.map((state) => ({
        labels: [["state", state]] as const,
        value: children.filter((child) => child.state === state).length,
      })),
    },
    {
      name: "supervisor_requests_total",
      type: "counter",
      help: 'Requests the server answered, by operation and by code ("OK" for a success, ' +
        "else the error code of the response).",
      samples: requestSamples(input.requests),
    },
    {
      name: "supervisor_connections_open",
      type: "gauge",
      help: "Connections to the control port open now.",
      samples: [{ labels: [], value: connections.open }],
    },
    {
      name: "supervisor_connections_accepted_total",
      type: "counter",
      help: "Connections to the control port accepted since the server started.",
      samples: [{ labels: [], value: connections.accepted }],
    },
    {
      name: "supervisor_repeat_timers",
      type: "gauge",
      help: "Repeat timers pending (children with a repeat schedule).",
      samples: [{ labels: [], value: info.repeat_timers }],
    },
    {
      name: "supervisor_build_info",
      type: "gauge",
      help: "Always 1; the labels say which supervisor-ts runs, on which Deno, V8 and " +
        "TypeScript.",
      samples: [{
        labels: [
          ["version", build.version],
          ["deno", build.deno],
          ["v8", build.v8],
          ["typescript", build.typescript],
        ],
        value: 1,
      }],
    },
  ];
}

/** One sample per operation and code, sorted; counts of the same pair added. */
function requestSamples(requests: readonly RequestCount[]): Sample[] {
  const totals = new Map<string, { op: string; code: string; count: number }>();
  for (const { op, code, count } of requests) {
    const key = JSON.stringify([op, code]);
    const total = totals.get(key);
    if (total) total.count += count;
    else totals.set(key, { op, code, count });
  }
  return [...totals.values()]
    .sort((a, b) => compare(a.op, b.op) || compare(a.code, b.code))
    .map(({ op, code, count }) => ({ labels: [["op", op], ["code", code]], value: count }));
}

/** The exit code of `exit`, 128 plus the signal's number for a signal; null when unknown. */
function exitCode(exit: ExitData): number | null {
  if (exit.signal !== null) {
    const number = signalNumber(exit.signal);
    return number === undefined ? null : 128 + number;
  }
  return exit.code;
}

/** Signal numbers on Linux (every architecture Deno builds for), by name. */
const LINUX_SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/** Signal numbers on macOS, by name. */
const DARWIN_SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGEMT: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGBUS: 10,
  SIGSEGV: 11,
  SIGSYS: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGURG: 16,
  SIGSTOP: 17,
  SIGTSTP: 18,
  SIGCONT: 19,
  SIGCHLD: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGIO: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGINFO: 29,
  SIGUSR1: 30,
  SIGUSR2: 31,
};

/**
 * The number of the signal `name` (`SIGKILL`) on `os` (this machine's by default: a child died
 * here), or undefined for a name the table lacks.
 */
export function signalNumber(
  name: string,
  os: typeof Deno.build.os = Deno.build.os,
): number | undefined {
  const table = os === "darwin" ? DARWIN_SIGNALS : LINUX_SIGNALS;
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** One family's lines, each ending with a newline. */
function renderFamily(family: Family): string {
  const lines = [
    `# HELP ${family.name} ${escapeHelp(family.help)}`,
    `# TYPE ${family.name} ${family.type}`,
    ...family.samples.map((sample) =>
      `${family.name}${renderLabels(sample.labels)} ${formatValue(sample.value)}`
    ),
  ];
  return lines.map((line) => `${line}\n`).join("");
}

function renderLabels(labels: Labels): string {
  if (labels.length === 0) return "";
  return `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

/** A label value as the format writes it: `\`, `"` and newlines escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** A help text as the format writes it: `\` and newlines escaped. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/**
 * A sample value: integers as integers, other numbers as JavaScript's shortest form, the
 * non-finite ones as the format spells them (`NaN`, `+Inf`, `-Inf`).
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Object.is(value, -0)) return "0";
  return String(value);
}

/** Seconds rounded to the millisecond, so that sums of fractions print without noise. */
function seconds(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** An ISO 8601 time as seconds since the Unix epoch (to the millisecond). */
function unixSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

/** Orders by UTF-16 code units: the same everywhere, unlike `localeCompare`. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
