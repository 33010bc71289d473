/**
 * What each child costs right now: CPU time, CPU share, memory and process count of everything
 * in its session and process group, from one scan of /proc per call.
 *
 * Every child is started with `setsid`: it leads a session and a process group whose id is its
 * pid. A process belongs to the child led by L when its session or its process group is L
 * (grandchildren may sit in other groups of the same session). A child's CPU time is the sum,
 * over those processes, of their own time and of the time of their children they have already
 * waited for (`cutime`, `cstime`), so the CPU of exited grandchildren is kept. Zombies add
 * their CPU time (it moves into their parent's `cutime` once reaped, so counting it avoids a
 * dip) but are not counted as processes.
 *
 * Owns: membership, the sums, and the CPU share between two samples of the same leader. Does
 * not own: when to sample (see `lib/server/resource_monitor.ts`) or the stat format (see
 * `proc_stat.ts`).
 *
 * @module
 */
import { realClock } from "./clock.ts";
import type { Clock } from "./clock.ts";
import { isZombie, scanProcStats } from "./proc_stat.ts";
import type { ProcStat } from "./proc_stat.ts";

/** One child's resources at one moment. */
export type ResourceSample = {
  /** CPU seconds used by its live processes and the children they reaped. */
  cpuSeconds: number;
  /**
   * Percent of one core since its previous sample (same leader pid); on a run's first sample,
   * its average since it began; null when neither can be told.
   */
  cpuPercent: number | null;
  /** Resident memory of its processes, in bytes. */
  rssBytes: number;
  /** Its live (non-zombie) processes. */
  processes: number;
  /** When it was taken (clock milliseconds). */
  at: number;
};

/** How a sampler reads the system; every field has a default for the real one. */
export interface ResourceSamplerOptions {
  /** Time of samples; the wall clock by default. */
  readonly clock?: Clock;
  /** Clock ticks per second of /proc times (Linux USER_HZ); 100 by default. */
  readonly ticksPerSecond?: number;
  /** Bytes per page of /proc rss; 4096 by default. */
  readonly pageSize?: number;
  /** Where processes are listed; "/proc" by default, a directory of fake stat files in tests. */
  readonly procRoot?: string;
}

/** The sums of one child's processes, in ticks and pages. */
interface Totals {
  ticks: number;
  pages: number;
  live: number;
}

/** A child's previous sample, to compute its CPU share. */
interface Previous {
  readonly leader: number;
  readonly cpuSeconds: number;
  readonly at: number;
}

/** Every CPU tick `stat` stands for: its own and its reaped children's. */
function cpuTicks(stat: ProcStat): number {
  return stat.utime + stat.stime + stat.cutime + stat.cstime;
}

/** The sums per leader pid, for the leaders in `leaderPids`, over `stats`. */
function totalsByLeader(
  stats: readonly ProcStat[],
  leaderPids: ReadonlySet<number>,
): Map<number, Totals> {
  const totals = new Map<number, Totals>();
  for (const stat of stats) {
    const leader = leaderPids.has(stat.session)
      ? stat.session
      : leaderPids.has(stat.pgrp)
      ? stat.pgrp
      : undefined;
    if (leader === undefined) continue;
    let sum = totals.get(leader);
    if (!sum) totals.set(leader, sum = { ticks: 0, pages: 0, live: 0 });
    sum.ticks += cpuTicks(stat);
    if (isZombie(stat)) continue;
    sum.pages += stat.rss;
    sum.live++;
  }
  return totals;
}

/** Percent of one core used between `previous` and now; null without a comparable previous. */
function cpuPercentSince(
  previous: Previous | undefined,
  leader: number,
  cpuSeconds: number,
  at: number,
): number | null {
  if (!previous || previous.leader !== leader) return null;
  const wallSeconds = (at - previous.at) / 1000;
  if (!(wallSeconds > 0)) return null;
  return Math.max(0, (100 * (cpuSeconds - previous.cpuSeconds)) / wallSeconds);
}

/** Samples children's resources; remembers each child's previous sample for its CPU share. */
export class ResourceSampler {
  readonly #clock: Clock;
  readonly #ticksPerSecond: number;
  readonly #pageSize: number;
  readonly #procRoot: string;
  #previous = new Map<string, Previous>();

  constructor(options: ResourceSamplerOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#ticksPerSecond = options.ticksPerSecond ?? 100;
    this.#pageSize = options.pageSize ?? 4096;
    this.#procRoot = options.procRoot ?? "/proc";
  }

  /**
   * One sample per child of `leaders` (child name → pid of its session and group leader), from
   * one scan of /proc. A child none of whose processes is alive gets no entry. A child's
   * previous sample is kept only while it appears in each call.
   */
  async sample(leaders: ReadonlyMap<string, number>): Promise<Map<string, ResourceSample>> {
    const stats = await scanProcStats({ root: this.#procRoot });
    const at = this.#clock.now();
    const totals = totalsByLeader(stats, new Set(leaders.values()));
    // A run's first sample has no previous one: its share is then its average since it began
    // (as ps shows it), from its leader's start and the system's uptime.
    const uptime = await this.#uptimeSeconds();
    const started = new Map(stats.map((stat) => [stat.pid, stat.starttime]));
    const samples = new Map<string, ResourceSample>();
    const previous = new Map<string, Previous>();
    for (const [name, leader] of leaders) {
      const sum = totals.get(leader);
      if (!sum || sum.live === 0) continue;
      const cpuSeconds = sum.ticks / this.#ticksPerSecond;
      samples.set(name, {
        cpuSeconds,
        cpuPercent: cpuPercentSince(this.#previous.get(name), leader, cpuSeconds, at) ??
          this.#averageSinceStart(cpuSeconds, started.get(leader), uptime),
        rssBytes: sum.pages * this.#pageSize,
        processes: sum.live,
        at,
      });
      previous.set(name, { leader, cpuSeconds, at });
    }
    this.#previous = previous;
    return samples;
  }

  /** Percent of one core over the life of a leader started at `starttime` (ticks after boot). */
  #averageSinceStart(
    cpuSeconds: number,
    starttime: number | undefined,
    uptime: number | undefined,
  ): number | null {
    if (starttime === undefined || uptime === undefined) return null;
    const age = uptime - starttime / this.#ticksPerSecond;
    // Younger than a tenth of a second: too short for a share that means anything.
    return age >= 0.1 ? Math.max(0, (100 * cpuSeconds) / age) : null;
  }

  /** Seconds since boot (`/proc/uptime`); undefined when it cannot be read. */
  async #uptimeSeconds(): Promise<number | undefined> {
    try {
      const seconds = Number((await Deno.readTextFile(`${this.#procRoot}/uptime`)).split(" ")[0]);
      return Number.isFinite(seconds) ? seconds : undefined;
    } catch {
      return undefined;
    }
  }
}
