/**
 * Whether a process group still has live members, so that a stop leaves nothing behind.
 *
 * On Linux the answer comes from /proc and ignores zombies (members already dead, waiting for
 * their new parent to reap them). Elsewhere a harmless SIGCONT to the group tells whether any
 * member exists.
 *
 * @module
 */
import { signalProcessGroup } from "./spawner.ts";

/** Counts processes in group `pgid` that are not zombies. */
export type GroupProbe = (pgid: number) => number;

/** Reads the process group and state of every process in /proc. */
export function procGroupProbe(pgid: number): number {
  let count = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    const first = entry.name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue;
    }
    // "pid (comm) S ppid pgrp ..." — comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") count++;
  }
  return count;
}

/** Probes by signalling: any member, zombie or not, counts. */
export function signalGroupProbe(pgid: number): number {
  return signalProcessGroup(pgid, "SIGCONT") ? 1 : 0;
}

/**
 * The best probe for this OS. On Linux a signal probe answers first (one system call); only
 * when the group still has members, zombies included, is /proc read to leave zombies out.
 */
export function defaultGroupProbe(): GroupProbe {
  if (Deno.build.os === "linux") {
    try {
      Deno.statSync("/proc/self/stat");
      return (pgid) => (signalGroupProbe(pgid) === 0 ? 0 : procGroupProbe(pgid));
    } catch {
      // no /proc mounted
    }
  }
  return signalGroupProbe;
}
