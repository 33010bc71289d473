/**
 * Telling a process apart from a later one that reuses its pid: its start time (clock ticks
 * since boot, field 22 of /proc/PID/stat) and the boot it belongs to
 * (/proc/sys/kernel/random/boot_id). Linux only; elsewhere nothing can be told and the answers
 * are undefined.
 *
 * @module
 */

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

/** The fields after the command name in /proc/PID/stat (the name may hold spaces and parens). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Field 22 of /proc/PID/stat for `pid`, with whether it is a zombie; undefined when gone. */
async function readStart(pid: number): Promise<{ ticks: number; zombie: boolean } | undefined> {
  let stat: string;
  try {
    stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  const fields = statFields(stat);
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const ticks = Number(fields[19]);
  if (!Number.isFinite(ticks)) return undefined;
  return { ticks, zombie: fields[0] === "Z" || fields[0] === "X" };
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
