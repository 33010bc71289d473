/**
 * Telling a process apart from a later one that reuses its pid: its start time (clock ticks
 * since boot, field 22 of /proc/PID/stat) and the boot it belongs to
 * (/proc/sys/kernel/random/boot_id). Linux only; elsewhere nothing can be told and the answers
 * are undefined.
 *
 * Owns: telling processes apart. Does not own: the stat format (see `proc_stat.ts`).
 *
 * @module
 */
import { isZombie, readProcStat } from "./proc_stat.ts";
import type { ProcStat } from "./proc_stat.ts";

/** Who a process is: its pid, and when it started in which boot. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Clock ticks from boot to the process's start. */
  readonly startTicks: number;
  readonly bootId: string;
}

let cachedBootId: Promise<string | undefined> | undefined;

/** This boot's id, or undefined where /proc does not tell it. */
export function bootId(): Promise<string | undefined> {
  cachedBootId ??= Deno.readTextFile("/proc/sys/kernel/random/boot_id")
    .then((text) => text.trim() || undefined, () => undefined);
  return cachedBootId;
}

/** Field 22 of /proc/PID/stat for `pid`, with whether it is a zombie; undefined when gone. */
async function readStart(pid: number): Promise<{ ticks: number; zombie: boolean } | undefined> {
  let stat: ProcStat | undefined;
  try {
    stat = await readProcStat(pid);
  } catch {
    return undefined;
  }
  return stat && { ticks: stat.starttime, zombie: isZombie(stat) };
}

/** The identity of live process `pid`, or undefined when it is gone (or a zombie). */
export async function identify(pid: number): Promise<ProcessIdentity | undefined> {
  const [start, boot] = await Promise.all([readStart(pid), bootId()]);
  if (!start || start.zombie || boot === undefined) return undefined;
  return { pid, startTicks: start.ticks, bootId: boot };
}

/** Whether the process `identity` describes is still alive (not a reused pid, not a zombie). */
export async function stillAlive(identity: ProcessIdentity): Promise<boolean> {
  const now = await identify(identity.pid);
  return now !== undefined && now.startTicks === identity.startTicks &&
    now.bootId === identity.bootId;
}
