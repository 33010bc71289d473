/**
 * A ProcessTable for unit tests: processes that exist only in memory, in groups and sessions,
 * some of them zombies, some deaf to some signals.
 *
 * Owns: the fake processes, the signals they were sent, and how often they were listed. Does
 * not own: the ProcessTable seam (see `lib/process/process_group.ts`) or the child processes
 * of a fake spawner (see `fake_spawner.ts`).
 *
 * @module
 */
import type { Listing, ProcessTable } from "../process/process_group.ts";

/** One fake process of the table. */
export interface FakeTableProcess {
  readonly pgid: number;
  readonly sid: number;
  /** A zombie: dead, waiting to be reaped; a probe finds it, a listing does not. */
  zombie: boolean;
  /** Signals that end it; SIGKILL always does. */
  readonly diesOn: readonly Deno.Signal[];
}

/** Processes in memory, listed and signalled like the real ones. */
export class FakeProcessTable implements ProcessTable {
  readonly processes = new Map<number, FakeTableProcess>();
  /** Every signal sent to a single process, in order. */
  readonly signals: { readonly pid: number; readonly signal: Deno.Signal }[] = [];
  /** Group probes so far. */
  probes = 0;
  /** Listings so far. */
  listings = 0;
  /** The work each listing reports (ms), which the reaper's listing budget is charged. */
  listingWorkMs = 0;

  /** Adds process `pid` (by default in its own group and session, dying on SIGTERM). */
  add(
    pid: number,
    options: { pgid?: number; sid?: number; diesOn?: readonly Deno.Signal[] } = {},
  ): this {
    this.processes.set(pid, {
      pgid: options.pgid ?? pid,
      sid: options.sid ?? options.pgid ?? pid,
      zombie: false,
      diesOn: options.diesOn ?? ["SIGTERM"],
    });
    return this;
  }

  /** Live (non-zombie) pids of group or session `id`, in order. */
  live(id: number): number[] {
    return [...this.processes].filter(([, p]) => !p.zombie && (p.pgid === id || p.sid === id))
      .map(([pid]) => pid);
  }

  /** Sends `signal` to every process of group `pgid`, as `kill(-pgid)` would. */
  signalGroup(pgid: number, signal: Deno.Signal): boolean {
    const pids = [...this.processes].filter(([, p]) => p.pgid === pgid).map(([pid]) => pid);
    for (const pid of pids) this.#deliver(pid, signal);
    return pids.length > 0;
  }

  probeGroup(pgid: number): boolean {
    this.probes++;
    return [...this.processes.values()].some((p) => p.pgid === pgid);
  }

  readonly list = (ids: ReadonlySet<number>): Promise<Listing> => {
    this.listings++;
    const entries = [...this.processes]
      .filter(([, p]) => !p.zombie && (ids.has(p.pgid) || ids.has(p.sid)))
      .map(([pid, p]) => ({ pid, pgid: p.pgid, sid: p.sid }));
    return Promise.resolve({ entries, workMs: this.listingWorkMs });
  };

  signal(pid: number, signal: Deno.Signal): boolean {
    if (!this.processes.has(pid)) return false;
    this.signals.push({ pid, signal });
    this.#deliver(pid, signal);
    return true;
  }

  #deliver(pid: number, signal: Deno.Signal): void {
    const process = this.processes.get(pid);
    if (!process || process.zombie) return;
    if (signal === "SIGKILL" || process.diesOn.includes(signal)) this.processes.delete(pid);
  }
}
