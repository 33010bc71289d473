/**
 * Reading /proc/PID/stat: parsing one line into the fields the supervisor uses, reading one
 * process, and scanning every process of the system in one pass.
 *
 * A stat line is `pid (comm) state ppid pgrp session … utime stime cutime cstime … starttime
 * vsize rss …`. The command name may hold spaces and parentheses (`a) (b`), so the line is cut
 * at its last `)`, and fields are counted from there.
 *
 * A scan lists the root directory once and reads each numeric entry's `stat` once. A process
 * whose stat cannot be read is left out: it ended during the scan (`NotFound`; or `ESRCH` once
 * the file is open, which Deno 2.9 throws as a plain `Error` without a code), or it is hidden
 * (`PermissionDenied` under `hidepid`). Deno's own refusal (`NotCapable`: it refuses /proc
 * reads unless the program runs with `--allow-all`) concerns every process and is thrown.
 *
 * How a scan reads, measured on Linux (2 cores, Deno 2.9.6) over 600 processes, CPU per scan
 * from /proc/self/stat (400 scans each): asynchronous reads, 4 to 64 at a time, 17-21 ms of
 * CPU (10-16 ms wall; each read crosses to Deno's blocking-I/O threads and back); synchronous
 * reads all at once, 7-8 ms of CPU but the event loop blocked 4-6 ms; synchronous reads in
 * batches of 64 with a yield through `setImmediate` in between, 7-8 ms of CPU and at most
 * about 0.8 ms blocked at a time (yielding through `setTimeout(0)` instead costs 9-10 ms of
 * CPU and stretches a scan to 28 ms of wall time). The scan reads synchronously in batches of
 * {@link SCAN_BATCH} and yields through `setImmediate`, which lets timers and I/O run.
 *
 * Owns: the stat format and the scan. Does not own: what the fields mean for a child (see
 * `resource_sampler.ts`, `proc_identity.ts`) or the group listing of the reaper (see
 * `process_group.ts`).
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** One process as its /proc/PID/stat line tells it. Times are in clock ticks. */
export interface ProcStat {
  readonly pid: number;
  /** The command name, without the parentheses around it. */
  readonly comm: string;
  /** One letter: R, S, D, Z (zombie), X (dead), T, … */
  readonly state: string;
  readonly ppid: number;
  /** The process group. */
  readonly pgrp: number;
  readonly session: number;
  /** CPU time in user mode, in clock ticks. */
  readonly utime: number;
  /** CPU time in kernel mode, in clock ticks. */
  readonly stime: number;
  /** User CPU time of children it has waited for, in clock ticks. */
  readonly cutime: number;
  /** Kernel CPU time of children it has waited for, in clock ticks. */
  readonly cstime: number;
  /** Clock ticks from boot to the process's start. */
  readonly starttime: number;
  /** Resident set size, in pages. */
  readonly rss: number;
}

/** Processes read synchronously between two yields to the event loop. */
export const SCAN_BATCH = 64;

/** Where each field sits among the fields after the command name (field 3, state, is 0). */
const FIELD = {
  state: 0,
  ppid: 1,
  pgrp: 2,
  session: 3,
  utime: 11,
  stime: 12,
  cutime: 13,
  cstime: 14,
  starttime: 19,
  rss: 21,
} as const;

/** The integer at `index` of `fields`, or NaN. */
function integerAt(fields: readonly string[], index: number): number {
  const text = fields[index];
  return text === undefined || text === "" ? NaN : Number(text);
}

/** Parses a /proc/PID/stat line; undefined when it does not have the expected shape. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf(" (");
  const close = text.lastIndexOf(")");
  if (open <= 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open));
  const fields = text.slice(close + 2).trimEnd().split(" ");
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 2, close),
    state: fields[FIELD.state] ?? "",
    ppid: integerAt(fields, FIELD.ppid),
    pgrp: integerAt(fields, FIELD.pgrp),
    session: integerAt(fields, FIELD.session),
    utime: integerAt(fields, FIELD.utime),
    stime: integerAt(fields, FIELD.stime),
    cutime: integerAt(fields, FIELD.cutime),
    cstime: integerAt(fields, FIELD.cstime),
    starttime: integerAt(fields, FIELD.starttime),
    rss: integerAt(fields, FIELD.rss),
  };
  return hasIntegerFields(stat) && stat.state.length === 1 ? stat : undefined;
}

/** Whether every numeric field of `stat` is an integer. */
function hasIntegerFields(stat: ProcStat): boolean {
  return [
    stat.pid,
    stat.ppid,
    stat.pgrp,
    stat.session,
    stat.utime,
    stat.stime,
    stat.cutime,
    stat.cstime,
    stat.starttime,
    stat.rss,
  ].every(Number.isInteger);
}

/** Whether the process is dead and only waits to be reaped (state Z or X). */
export function isZombie(stat: ProcStat): boolean {
  return stat.state === "Z" || stat.state === "X";
}

/** Whether `error` is Deno refusing the read (a permission of the program, not of a process). */
function isRefusedByDeno(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable;
}

/**
 * The stat of process `pid` under `root`; undefined when it is gone, hidden, or does not
 * parse. Throws when Deno refuses the read.
 */
export async function readProcStat(pid: number, root = "/proc"): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${root}/${pid}/stat`);
  } catch (error) {
    if (isRefusedByDeno(error)) throw error;
    return undefined;
  }
  return parseProcStat(text);
}

/** How to scan. */
export interface ScanOptions {
  /** Where processes are listed; "/proc" unless a test brings its own directory. */
  readonly root?: string;
  /** Processes read between two yields to the event loop; {@link SCAN_BATCH} by default. */
  readonly batch?: number;
}

/** Whether a directory entry's name is a pid (all digits). */
function isPidName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** The names of the process directories under `root`, from one listing. */
function pidNames(root: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(root)) {
    if (isPidName(entry.name)) names.push(entry.name);
  }
  return names;
}

/** The stat text at `path`, or undefined when the process is gone or hidden. */
function readStatText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (isRefusedByDeno(error)) throw error;
    return undefined;
  }
}

/** Lets timers and I/O run before the scan goes on. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Every process under `root` (zombies included), from one listing and one read of each stat
 * file; processes that end meanwhile, and lines that do not parse, are left out.
 */
export async function scanProcStats(options: ScanOptions = {}): Promise<ProcStat[]> {
  const root = options.root ?? "/proc";
  const batch = Math.max(1, options.batch ?? SCAN_BATCH);
  const names = pidNames(root);
  const stats: ProcStat[] = [];
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && i % batch === 0) await yieldToEventLoop();
    const text = readStatText(`${root}/${names[i]}/stat`);
    const stat = text === undefined ? undefined : parseProcStat(text);
    if (stat) stats.push(stat);
  }
  return stats;
}
