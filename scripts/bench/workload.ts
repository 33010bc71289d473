/**
 * What every workload shares: the systems measured, where they write, how a system is started
 * for one workload and always torn down, and how a failure of one system becomes a cell and a
 * note instead of ending the run.
 *
 * @module
 */
import { errorMessage } from "../../lib/errors.ts";
import { join } from "node:path";
import type { CFloor } from "./c_floor.ts";
import type { ChildSpec, Instance, Peer } from "./peers/peer.ts";
import { noCell } from "./stats.ts";
import type { Cell, Row } from "./stats.ts";

/** Where a workload writes a line of progress. */
export type Log = (line: string) => void;

/** The run's settings, handed to every workload. */
export interface Context {
  /** The run's temporary directory. */
  readonly tmp: string;
  readonly log: Log;
  /** supervisor-ts first, then every peer found. */
  readonly systems: readonly Peer[];
  /** Shorter windows and fewer rounds, for development. */
  readonly quick: boolean;
  /** The C floor program, or why it was skipped (no C compiler). */
  readonly cFloor: CFloor;
}

/** What a workload hands back. */
export interface WorkloadResult {
  readonly rows: Row[];
  readonly notes: string[];
}

/** A fresh directory `<tmp>/<workload>-<system>`. */
export async function systemDir(ctx: Context, workload: string, peer: Peer): Promise<string> {
  const dir = join(ctx.tmp, `${workload}-${peer.name.replace(/[^a-z0-9]+/gi, "")}`);
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** The error's message, one line. */
export function messageOf(error: unknown): string {
  return (errorMessage(error)).split("\n")[0]!.slice(0, 300);
}

/**
 * Starts `peer` with `children`, runs `body`, and makes sure the supervisor and its children
 * are gone afterwards: `body` may shut it down itself (and time it, calling `markShutDown`
 * first); otherwise, and after an error, it is asked to shut down and killed when it does not
 * within `limitMs`.
 */
export async function withInstance<T>(
  peer: Peer,
  dir: string,
  children: readonly ChildSpec[],
  body: (instance: Instance, markShutDown: () => void) => Promise<T>,
  limitMs = 60_000,
): Promise<T> {
  const instance = await peer.start(dir, children);
  let shutDown = false;
  try {
    return await body(instance, () => (shutDown = true));
  } catch (error) {
    if (!shutDown) {
      shutDown = true;
      // Gracefully first, so its children go with it rather than waiting for the final sweep.
      if (!(await instance.shutdown(limitMs).catch(() => false))) {
        await instance.kill().catch(() => {});
      }
    }
    throw error;
  } finally {
    if (!shutDown && !(await instance.shutdown(limitMs).catch(() => false))) {
      await instance.kill().catch(() => {});
    }
  }
}

/**
 * Runs `measure` for every system; a system that throws gets `failed` cells in `cells` for
 * each of `rowKeys` and a note, and the others go on.
 */
export async function forEachSystem(
  ctx: Context,
  workload: string,
  cells: Map<string, Map<string, Cell>>,
  notes: string[],
  measure: (peer: Peer) => Promise<void>,
): Promise<void> {
  for (const peer of ctx.systems) {
    try {
      await measure(peer);
    } catch (error) {
      const message = `${peer.name}: ${workload} failed: ${messageOf(error)}`;
      ctx.log(message);
      notes.push(message);
      for (const row of cells.values()) {
        if (!row.has(peer.name)) row.set(peer.name, noCell("failed"));
      }
    }
  }
}

/** An empty cell map per row key. */
export function cellMaps(keys: readonly string[]): Map<string, Map<string, Cell>> {
  return new Map(keys.map((k) => [k, new Map<string, Cell>()]));
}

/**
 * How old every config file must be before status samples: supervisor-ts reads a file changed
 * within the last 2 s at every request (file timestamps are coarse), by design, and only
 * stat-s it once settled; a status is measured on settled files, as on a server in service.
 */
export const CONFIG_SETTLED_MS = 2100;

/** Waits until no file under `dir` has changed within {@link CONFIG_SETTLED_MS}. */
export async function configSettled(dir: string): Promise<void> {
  const newest = (path: string): number => {
    let latest = 0;
    for (const entry of Deno.readDirSync(path)) {
      const full = join(path, entry.name);
      if (entry.isDirectory) {
        latest = Math.max(latest, newest(full));
        continue;
      }
      const info = Deno.statSync(full);
      latest = Math.max(latest, info.mtime?.getTime() ?? 0, info.ctime?.getTime() ?? 0);
    }
    return latest;
  };
  const wait = newest(dir) + CONFIG_SETTLED_MS - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Polls `instance` until it reports `count` running children; ms waited. Throws after `ms`. */
export async function waitRunning(
  instance: Instance,
  count: number,
  ms: number,
  pollMs = 20,
): Promise<number[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    const pids = await instance.runningPids();
    if (pids.length >= count) return pids;
    if (performance.now() > deadline) {
      throw new Error(`only ${pids.length} of ${count} children running after ${ms / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
