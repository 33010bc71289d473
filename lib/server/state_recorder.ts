/**
 * Keeps the state file in step with the children: after every change of state, the runs alive
 * now — each with its pid, start time and boot — are recorded, so that a server started after
 * this one was killed can tell which processes are this server's children.
 *
 * Owns: what is recorded and when. Changes are coalesced: the first change of a quiet spell
 * is written at once, later ones at most once per {@link COALESCE_MS} (a zero-delay timer
 * for every change would put its write on the path of the restart that caused it: measured
 * slower); at most one write is in flight and one pending, the pending one taking the state
 * as it is when it begins. A burst of 500 starts, or a crash loop, writes the file tens of
 * times a second, not three times per start; a run is in the file within about
 * {@link COALESCE_MS} plus a write of its start (a server killed before that leaves it
 * unrecorded, as one killed during the write always could). A change that leaves the records
 * as they were written (STARTING to RUNNING, say) writes nothing (a write that failed is
 * tried again at the next change of the records, or the next {@link StateRecorder.record}).
 * What each child contributes (its identity, start time and config file) is taken once per
 * run, so a write costs O(live children). Does not own: the file's format or writing it
 * (`state_file.ts`), or adoption (`adoption.ts`).
 *
 * @module
 */
import type { Child } from "../process/child.ts";
import { identify } from "../process/proc_identity.ts";
import type { ProcessIdentity } from "../process/proc_identity.ts";
import type { ChildRecord, StateFile } from "./state_file.ts";

/** The least time between the starts of two writes caused by changes. */
export const COALESCE_MS = 20;

/** What a run contributes to the file, taken once when its identity is read. */
interface RunRecord {
  readonly child: Child;
  readonly record: ChildRecord;
}

/** Records the live runs of the children it watches. */
export class StateRecorder {
  readonly #file: StateFile;
  readonly #server: ProcessIdentity;
  /** Each child's current run, once its identity is read from /proc. */
  readonly #runs = new Map<string, RunRecord>();
  #closed = false;
  /** The last drain: writes go on while {@link #pending}. */
  #writing: Promise<void> | undefined;
  #draining = false;
  #pending = false;
  /** The records of the last write, to skip a write that would change nothing. */
  #written: readonly ChildRecord[] | undefined;
  /** The coalescing timer of changes, while one is due. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the last write began (performance.now()). */
  #wroteAt = -Infinity;

  constructor(file: StateFile, server: ProcessIdentity) {
    this.#file = file;
    this.#server = server;
  }

  /** Follows `child` from now on. */
  watch(child: Child): void {
    child.onRunStarted(() => {
      const pid = child.pid;
      if (pid === null) return;
      const status = child.status();
      const startedAt = status.startedAt ?? 0;
      const configPath = status.configPath ?? "";
      void identify(pid).then((identity) => {
        if (identity && child.pid === pid) {
          this.#runs.set(child.name, {
            child,
            record: { name: child.name, identity, startedAt, configPath },
          });
        }
        this.#changed();
      });
    });
    child.onStateChange(() => this.#changed());
  }

  /** Records the state now; resolves once it (or a newer one) is on disk. */
  record(): Promise<void> {
    return this.#schedule(true);
  }

  /** At a clean shutdown: nothing is left to adopt, so the file goes. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#file.remove();
  }

  #changed(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const wait = this.#wroteAt + COALESCE_MS - performance.now();
    if (wait <= 0) {
      // The first change of a quiet spell is written at once (after the write in flight).
      void this.#schedule(false);
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) void this.#schedule(false);
    }, wait);
  }

  /**
   * A write of the state as it is when the write begins: now when none is in flight, else
   * once the one in flight is done (changes meanwhile share that one pending write). `always`
   * writes even when the records are those last written.
   */
  #schedule(always: boolean): Promise<void> {
    if (always) this.#written = undefined;
    this.#pending = true;
    if (!this.#draining) this.#writing = this.#drain();
    return this.#writing ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    // Set before the first await: a drain with nothing to write ends without one.
    this.#draining = true;
    try {
      while (this.#pending && !this.#closed) {
        this.#pending = false;
        const children = this.#records();
        if (this.#written !== undefined && sameRecords(this.#written, children)) continue;
        this.#written = children;
        this.#wroteAt = performance.now();
        await this.#file.record({ server: this.#server, children });
      }
    } finally {
      this.#draining = false;
    }
  }

  #records(): ChildRecord[] {
    const records: ChildRecord[] = [];
    for (const [name, run] of this.#runs) {
      const { child, record } = run;
      if (!child.isLive || record.identity.pid !== child.pid) {
        if (!child.isLive) this.#runs.delete(name);
        continue;
      }
      records.push(record);
    }
    return records;
  }
}

/** Whether `a` and `b` hold the same records (the same objects, in the same order). */
function sameRecords(a: readonly ChildRecord[], b: readonly ChildRecord[]): boolean {
  return a.length === b.length && a.every((record, i) => record === b[i]);
}
