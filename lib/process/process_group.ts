/**
 * What is left of a child's process group and session: the seam over the OS that the group
 * reaper looks through.
 *
 * A child leads its own session and process group. Its descendants stay in that group, unless
 * they move to a group of their own (`set -m` in a shell, job control), which stays in the
 * session; only a process that calls `setsid` itself leaves the session, and with it our reach.
 *
 * Owns: probing a group with one system call, listing the live members of groups and sessions
 * (on Linux, from one asynchronous read of /proc; zombies, already dead and waiting for a parent
 * to reap them, are left out), signalling one process. Does not own: when to look, waiting or
 * killing at a deadline (see `group_reaper.ts`).
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

/** The processes of the system, as far as groups and sessions go. */
export interface ProcessTable {
  /** Whether group `pgid` has any process, zombies included: one system call. */
  probeGroup(pgid: number): boolean;
  /**
   * The live processes whose group or session is one of `ids`, from one look at the system;
   * absent where the system cannot list processes (then only `probeGroup` answers).
   */
  readonly list?: (ids: ReadonlySet<number>) => Promise<ProcessEntry[]>;
  /** Sends `signal` to process `pid`; false when it is gone. */
  signal(pid: number, signal: Deno.Signal): boolean;
}

/** Processes read from /proc at most this many at a time. */
const PROC_READS_IN_FLIGHT = 16;

/** Lists from /proc: each /proc/PID/stat read once, asynchronously, a few at a time. */
export async function listFromProc(ids: ReadonlySet<number>): Promise<ProcessEntry[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    const first = entry.name.charCodeAt(0);
    if (first >= 48 && first <= 57) names.push(entry.name);
  }
  const found: ProcessEntry[] = [];
  let next = 0;
  const reader = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      let stat: string;
      try {
        stat = await Deno.readTextFile(`/proc/${name}/stat`);
      } catch {
        continue; // gone meanwhile
      }
      const entry = parseStat(Number(name), stat);
      if (entry && (ids.has(entry.pgid) || ids.has(entry.sid))) found.push(entry);
    }
  };
  await Promise.all(Array.from({ length: PROC_READS_IN_FLIGHT }, reader));
  return found;
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
