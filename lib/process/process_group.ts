/**
 * What is left of a child's process group and session: the seam over the OS that the group
 * reaper looks through.
 *
 * A child leads its own session and process group. Its descendants stay in that group, unless
 * they move to a group of their own (`set -m` in a shell, job control), which stays in the
 * session; only a process that calls `setsid` itself leaves the session, and with it our reach.
 *
 * Owns: probing a group with one system call, listing the live members of groups and sessions
 * (on Linux, from one read of /proc; zombies, already dead and waiting for a parent to reap
 * them, are left out), signalling one process. Does not own: when to look, waiting or killing
 * at a deadline (see `group_reaper.ts`).
 *
 * @module
 */
import { signalProcess, signalProcessGroup } from "./spawner.ts";

/** Counts processes in group `pgid` (for tests and callers that bring their own count). */
export type GroupProbe = (pgid: number) => number;

/** A live process, as a listing sees it. */
export interface ProcessEntry {
  readonly pid: number;
  /** Its process group. */
  readonly pgid: number;
  /** Its session. */
  readonly sid: number;
}

/** What one look at the system found, and what it cost. */
export interface Listing {
  readonly entries: ProcessEntry[];
  /**
   * Milliseconds the server itself spent on it, which a budget of listing time is charged:
   * not the time it waited between its slices while the server did other work.
   */
  readonly workMs: number;
}

/** The processes of the system, as far as groups and sessions go. */
export interface ProcessTable {
  /** Whether group `pgid` has any process, zombies included: one system call. */
  probeGroup(pgid: number): boolean;
  /**
   * The live processes whose group or session is one of `ids`, from one look at the system;
   * absent where the system cannot list processes (then only `probeGroup` answers).
   */
  readonly list?: (ids: ReadonlySet<number>) => Promise<Listing>;
  /** Sends `signal` to process `pid`; false when it is gone. */
  signal(pid: number, signal: Deno.Signal): boolean;
}

/** /proc/PID/stat files read in one go, before the server's other work gets its turn. */
const PROC_SLICE = 32;

/**
 * Lists from /proc, each /proc/PID/stat read once. The directory is listed asynchronously (on
 * a host of 8,000 processes a synchronous listing held the server 17-19 ms); the stat files are
 * read synchronously, a slice of {@link PROC_SLICE} at a time (about 0.5 ms), the slices
 * separated by one asynchronous read, which lets the server's other work run in between. A read
 * of /proc/PID/stat is answered from the kernel's memory, never from a disk or a network, and
 * takes no lock that may sleep, so it cannot hang the way a file system can; and a synchronous
 * read costs the server a fraction of an asynchronous one, whose handing to a worker thread and
 * back is most of its cost (measured with 560 processes: 9 ms against 11 ms, and an
 * asynchronous listing while the server is busy took 40-70 ms of wall time, all of it charged
 * to the listing budget of `group_reaper.ts`, which then held back a shutdown of 500 children
 * for a second). The work charged is the slices', not the waits between them.
 */
export async function listFromProc(ids: ReadonlySet<number>): Promise<Listing> {
  const names: string[] = [];
  for await (const { name } of Deno.readDir("/proc")) {
    const first = name.charCodeAt(0);
    if (first >= 48 && first <= 57) names.push(name);
  }
  const entries: ProcessEntry[] = [];
  const take = (name: string, stat: string | undefined) => {
    const entry = stat === undefined ? undefined : parseStat(Number(name), stat);
    if (entry && (ids.has(entry.pgid) || ids.has(entry.sid))) entries.push(entry);
  };
  let workMs = 0;
  let since = performance.now();
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const path = `/proc/${name}/stat`;
    if ((i + 1) % PROC_SLICE !== 0) {
      take(name, readOrGone(path));
      continue;
    }
    workMs += performance.now() - since;
    take(name, await Deno.readTextFile(path).catch(() => undefined));
    since = performance.now();
  }
  return { entries, workMs: workMs + performance.now() - since };
}

/** The text of a /proc file, or undefined when its process is gone meanwhile. */
function readOrGone(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The group and session of a live process from its /proc/PID/stat line
 * (`pid (comm) S ppid pgrp session …`; comm may hold spaces and parentheses); undefined for a
 * zombie or a line that does not parse.
 */
export function parseStat(pid: number, stat: string): ProcessEntry | undefined {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const pgid = Number(fields[2]);
  const sid = Number(fields[3]);
  if (state === undefined || state === "Z" || state === "X") return undefined;
  if (!Number.isInteger(pgid) || !Number.isInteger(sid)) return undefined;
  return { pid, pgid, sid };
}

/** Probes by signalling: any member, zombie or not, counts. */
export function signalGroupProbe(pgid: number): number {
  return signalProcessGroup(pgid, "SIGCONT") ? 1 : 0;
}

/** The real system: probes by signal, lists from /proc where it is mounted (Linux). */
export function systemProcessTable(): ProcessTable {
  const table: ProcessTable = {
    probeGroup: (pgid) => signalGroupProbe(pgid) > 0,
    signal: signalProcess,
  };
  if (Deno.build.os !== "linux") return table;
  try {
    Deno.statSync("/proc/self/stat");
  } catch {
    return table; // no /proc mounted
  }
  return { ...table, list: listFromProc };
}

/**
 * A table that knows groups only through `probe`, and cannot list or signal anything: for
 * unit tests with fake processes, where no real process may be touched.
 */
export function probeProcessTable(probe: GroupProbe): ProcessTable {
  return { probeGroup: (pgid) => probe(pgid) > 0, signal: () => false };
}
