/**
 * One shared watch over what stopped children leave behind: the members of their process
 * groups and sessions that are still alive after the leader exited.
 *
 * A child registers its group with a deadline and gets a promise that settles once no live
 * process is left in the group or the session, or once SIGKILL was sent to what was left at the
 * deadline (and it ended, or a grace period passed). However many groups linger, there is one
 * timer, and each look at the system serves every registered group: first a signal probe per
 * group (one system call: does the group still have members?), then, only when needed, one
 * listing of the process table (on Linux one read of /proc) for all of them at once. A
 * registration is looked at right away (with every other one made meanwhile), then looks come
 * every {@link REAP_MIN_INTERVAL_MS} and back off while groups linger (doubling up to
 * {@link REAP_MAX_INTERVAL_MS}). However many processes the host runs and however many
 * children stop, listings take a tenth of the server's time at most, after a short burst: a
 * listing is charged the work it did, not the time it waited between its slices while the
 * server was busy (see `process_group.ts`).
 *
 * Owns: when to look, deadlines, SIGKILL to the session's processes outside the group, and
 * sending a signal to those at a stop. Does not own: the process table itself (see
 * `process_group.ts`), signalling the group (the child does that through its spawned
 * process), or what is logged (see `child.ts`).
 *
 * @module
 */
import { callOff } from "./clock.ts";
import type { Clock } from "./clock.ts";
import type { ProcessEntry, ProcessTable } from "./process_group.ts";

/** The interval between the first looks after a group registers. */
export const REAP_MIN_INTERVAL_MS = 10;

/** The longest interval between looks while groups linger. */
export const REAP_MAX_INTERVAL_MS = 500;

/**
 * How often a group whose probe still finds members is listed anyway: a probe counts zombies,
 * a listing does not (a group of zombies nobody reaps is empty; in a container whose init does
 * not reap, every process left behind ends as one).
 */
export const REAP_LIST_EVERY_MS = 500;

/** How long processes sent SIGKILL get to disappear before the reaper stops waiting. */
export const KILL_GRACE_MS = 1000;

/** The share of time listings may take in the long run. */
const LIST_SHARE = 0.1;

/** Listing time (ms) that may be spent at once, after a quiet spell (a burst of stops). */
const LIST_BURST_MS = 100;

/** A group and session to clear: those of `leader`, the pid of a child that has exited. */
export interface ReapTarget {
  /** The child's pid: it led its own process group and session. */
  readonly leader: number;
  /** When what is left gets SIGKILL (clock time). */
  readonly deadline: number;
  /**
   * Sends SIGKILL to the process group, at the deadline, if live processes are left in the
   * group or the session (through the child's own seam). The reaper sends SIGKILL to the
   * session's processes outside the group itself.
   */
  readonly killGroup: () => void;
}

/** How a group and session were cleared. */
export interface Reaped {
  /** Whether SIGKILL was sent to what was left at the deadline. */
  readonly killed: boolean;
  /** Live processes still there when the reaper stopped waiting; 0 when all are gone. */
  readonly left: number;
}

interface Watch {
  readonly target: ReapTarget;
  readonly resolve: (reaped: Reaped) => void;
  /** When it was last listed (or registered). */
  listedAt: number;
  killedAt: number | undefined;
}

interface SessionSignal {
  readonly leader: number;
  readonly signal: Deno.Signal;
  readonly resolve: (signalled: number) => void;
}

/** The live members of one group and session, from one listing. */
interface Members {
  readonly count: number;
  /** Pids in the session but outside the group. */
  readonly outsiders: readonly number[];
}

/** The shared watch over lingering groups; one per server. */
export class GroupReaper {
  readonly #table: ProcessTable;
  readonly #clock: Clock;
  readonly #watches = new Set<Watch>();
  #signals: SessionSignal[] = [];
  #interval = REAP_MIN_INTERVAL_MS;
  #timer: { readonly at: number; readonly abort: AbortController } | undefined;
  #ticking = false;
  /** Something registered during the current look: look again right after it. */
  #again = false;
  /** A look is queued to run once the current task is done. */
  #queued = false;
  /** A listing was wanted but the listing budget was spent. */
  #deferred = false;
  /** Listing work (ms) that may be done now; earns LIST_SHARE of every ms back. */
  #budget = LIST_BURST_MS;
  #budgetAt = -Infinity;
  #looks = 0;
  #listings = 0;

  constructor(table: ProcessTable, clock: Clock) {
    this.#table = table;
    this.#clock = clock;
  }

  /** Looks at the system so far, and how many of them listed the process table. */
  get counts(): { readonly looks: number; readonly listings: number } {
    return { looks: this.#looks, listings: this.#listings };
  }

  /** Whether process group `pgid` has any process left (zombies included): one system call. */
  groupAlive(pgid: number): boolean {
    return this.#table.probeGroup(pgid);
  }

  /**
   * Sends `signal` to the live processes of the session led by `leader` that are outside its
   * process group (the caller signals the group itself, at once), at the next look: within
   * {@link REAP_MIN_INTERVAL_MS}, or sooner with the look of a group that registers meanwhile
   * (the leader's, when it exits at once: one listing serves both). Resolves with how many were
   * signalled; 0 at once where the process table cannot be listed.
   */
  signalSession(leader: number, signal: Deno.Signal): Promise<number> {
    if (!this.#table.list) return Promise.resolve(0);
    return new Promise((resolve) => {
      this.#signals.push({ leader, signal, resolve });
      this.#registered(REAP_MIN_INTERVAL_MS);
    });
  }

  /**
   * Waits until no live process is left in the group or session of `target.leader`; at the
   * deadline, what is left gets SIGKILL and {@link KILL_GRACE_MS} to disappear. The first look
   * comes once the current task is done (`now`: a stop waits for it), or within
   * {@link REAP_MIN_INTERVAL_MS} (`soon`: what a child that exited by itself left behind, so
   * that the listing it may take does not delay that child's restart).
   */
  clear(target: ReapTarget, first: "now" | "soon" = "now"): Promise<Reaped> {
    if (!this.#table.list && !this.#table.probeGroup(target.leader)) {
      return Promise.resolve({ killed: false, left: 0 });
    }
    return new Promise((resolve) => {
      this.#watches.add({ target, resolve, listedAt: this.#clock.now(), killedAt: undefined });
      this.#registered(first === "now" ? 0 : REAP_MIN_INTERVAL_MS);
    });
  }

  /**
   * Something new to look at: look within `ms` (0: once the current task is done, so that what
   * else registers meanwhile shares the look), and back off from the start again.
   */
  #registered(ms: number): void {
    this.#interval = REAP_MIN_INTERVAL_MS;
    if (this.#ticking) {
      this.#again = true;
    } else if (ms > 0) {
      this.#wake(this.#clock.now() + ms);
    } else if (!this.#queued) {
      // Not a timer: a zero timer can take milliseconds, and a stop waits for this look.
      this.#queued = true;
      queueMicrotask(() => {
        this.#queued = false;
        void this.#tick();
      });
    }
  }

  /** Makes sure the one timer fires by `at`. */
  #wake(at: number): void {
    if (this.#timer && this.#timer.at <= at) return;
    callOff(this.#timer?.abort);
    const abort = new AbortController();
    this.#timer = { at, abort };
    this.#clock.sleep(Math.max(0, at - this.#clock.now()), abort.signal).then(() => {
      this.#timer = undefined;
      void this.#tick();
    }, () => {});
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    // This look reschedules: a timer set for a later one is not needed.
    callOff(this.#timer?.abort);
    this.#timer = undefined;
    this.#ticking = true;
    try {
      await this.#look();
    } finally {
      this.#ticking = false;
    }
    this.#scheduleNext();
  }

  /** One look: a probe per group, then at most one listing for every group and signal. */
  async #look(): Promise<void> {
    const list = this.#table.list;
    const now = this.#clock.now();
    this.#looks++;
    const watches = [...this.#watches];
    const emptyGroups = new Set(watches.filter((w) => !this.#table.probeGroup(w.target.leader)));
    if (!list) {
      for (const watch of watches) {
        this.#judge(watch, { count: emptyGroups.has(watch) ? 0 : 1, outsiders: [] }, now);
      }
      return;
    }
    // Listed: a group the probe finds empty (is the rest of the session?), one killed (what
    // SIGKILL leaves are zombies), one due, one not listed for a while.
    const wanted = this.#signals.length > 0 ||
      watches.some((w) =>
        emptyGroups.has(w) || w.killedAt !== undefined || now >= this.#dueAt(w) ||
        now - w.listedAt >= REAP_LIST_EVERY_MS
      );
    this.#budget = Math.min(LIST_BURST_MS, this.#budget + (now - this.#budgetAt) * LIST_SHARE);
    this.#budgetAt = now;
    this.#deferred = wanted && this.#budget <= 0;
    if (!wanted || this.#deferred) return;
    const signals = this.#signals;
    this.#signals = [];
    const leaders = new Set([
      ...watches.map((w) => w.target.leader),
      ...signals.map((s) => s.leader),
    ]);
    let entries: ProcessEntry[] | undefined;
    let workMs: number;
    try {
      ({ entries, workMs } = await list(leaders));
    } catch {
      entries = undefined; // unreadable this time: the probe answers alone
      workMs = this.#clock.now() - now; // what it cost is unknown: the time it took
    }
    const listed = this.#clock.now();
    this.#listings++;
    this.#budget -= workMs;
    const membersOf = (leader: number): Members | undefined => entries && tally(entries, leader);
    for (const { leader, signal, resolve } of signals) {
      const outsiders = membersOf(leader)?.outsiders ?? [];
      resolve(outsiders.filter((pid) => this.#table.signal(pid, signal)).length);
    }
    for (const watch of watches) {
      watch.listedAt = listed;
      const members = membersOf(watch.target.leader) ??
        { count: emptyGroups.has(watch) ? 0 : 1, outsiders: [] };
      this.#judge(watch, members, listed);
    }
  }

  /** Settles `watch` when its group and session are empty; kills at the deadline. */
  #judge(watch: Watch, members: Members, now: number): void {
    if (members.count === 0) {
      return this.#settle(watch, { killed: watch.killedAt !== undefined, left: 0 });
    }
    if (watch.killedAt === undefined) {
      if (now < watch.target.deadline) return;
      watch.target.killGroup();
      for (const pid of members.outsiders) this.#table.signal(pid, "SIGKILL");
      watch.killedAt = now;
      this.#interval = REAP_MIN_INTERVAL_MS;
      return;
    }
    if (now >= watch.killedAt + KILL_GRACE_MS) {
      this.#settle(watch, { killed: true, left: members.count });
    }
  }

  #settle(watch: Watch, reaped: Reaped): void {
    this.#watches.delete(watch);
    watch.resolve(reaped);
  }

  /** When `watch` must be looked at whatever its probe says: its deadline, or its grace's end. */
  #dueAt(watch: Watch): number {
    return watch.killedAt === undefined ? watch.target.deadline : watch.killedAt + KILL_GRACE_MS;
  }

  #scheduleNext(): void {
    if (this.#watches.size === 0 && this.#signals.length === 0) return;
    const now = this.#clock.now();
    let at = now + this.#interval;
    this.#interval = Math.min(this.#interval * 2, REAP_MAX_INTERVAL_MS);
    for (const watch of this.#watches) at = Math.min(at, this.#dueAt(watch));
    if (this.#again) at = now;
    this.#again = false;
    // Spent: wait until the budget is earned back.
    if (this.#deferred) at = Math.max(at, this.#budgetAt - this.#budget / LIST_SHARE);
    this.#wake(Math.max(at, now + 1));
  }
}

/** The live members of the group and session of `leader` among `entries`. */
function tally(entries: readonly ProcessEntry[], leader: number): Members {
  let count = 0;
  const outsiders: number[] = [];
  for (const entry of entries) {
    if (entry.pgid !== leader && entry.sid !== leader) continue;
    count++;
    if (entry.pgid !== leader) outsiders.push(entry.pid);
  }
  return { count, outsiders };
}
