/**
 * The changes of state of every child, as they happen: kept (the last {@link RECENT_CHANGES})
 * for `events`, and offered to followers (`events --follow`, the status page).
 *
 * Owns: what a change records (the exit that caused it, and why) and the bounds on followers.
 * Does not own: the states themselves (`lib/process/state.ts`) or writing to clients.
 *
 * @module
 */
import { SupervisorError } from "../errors.ts";
import type { Child } from "../process/child.ts";
import type { ExitRecord } from "../process/exit_record.ts";
import { Feed } from "../process/feed.ts";
import { LIVE_STATES } from "../process/state.ts";
import type { StateEvent } from "../process/state.ts";
import type { ChildChange } from "./results.ts";

/** Changes kept for `events`. */
export const RECENT_CHANGES = 200;

/** Changes one follower may have queued before the oldest are dropped. */
const FOLLOW_QUEUE = 10_000;

/** The changes of state of the children registered with it. */
export class ChildEvents {
  readonly #recent: ChildChange[] = [];
  readonly #feeds = new Set<Feed<ChildChange>>();
  readonly #listeners = new Set<(change: ChildChange) => void>();
  readonly #maxFollowers: number;
  /** The last exit each child's changes reported: a change reports an exit once. */
  readonly #reported = new Map<string, ExitRecord>();

  constructor(options: { readonly maxFollowers: number }) {
    this.#maxFollowers = options.maxFollowers;
  }

  /** Records every change of `child` from now on. */
  watch(child: Child): void {
    child.onStateChange((event) => this.#publish(this.#changeOf(child, event)));
  }

  /** The last changes, oldest first. */
  recent(): readonly ChildChange[] {
    return [...this.#recent];
  }

  /**
   * A follower of every change from now on.
   *
   * @throws {SupervisorError} `BUSY` when the server has as many as it may have.
   */
  follow(): Feed<ChildChange> {
    if (this.#feeds.size >= this.#maxFollowers) {
      throw new SupervisorError(
        "BUSY",
        `Cannot follow events: the server has as many followers as it may have (limit ${this.#maxFollowers}); stop one, or try again later`,
      );
    }
    const feed: Feed<ChildChange> = new Feed(() => this.#feeds.delete(feed), {
      maxLines: FOLLOW_QUEUE,
      maxBytes: Number.MAX_SAFE_INTEGER,
    });
    this.#feeds.add(feed);
    return feed;
  }

  /** Calls `listener` with each change until the returned function is called. */
  listen(listener: (change: ChildChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Ends every follow (the server is shutting down). */
  closeAll(): void {
    for (const feed of [...this.#feeds]) feed.close();
    this.#listeners.clear();
  }

  #publish(change: ChildChange): void {
    this.#recent.push(change);
    if (this.#recent.length > RECENT_CHANGES) this.#recent.shift();
    for (const feed of this.#feeds) feed.offer(change, 1);
    for (const listener of this.#listeners) listener(change);
  }

  /**
   * A change of `child`: with the exit when a live run ended (not when a start failed before
   * any run), and the server's reason when it ended the run itself (`memory limit`,
   * `unhealthy`; a stop asked for shows in the exit's `requested`).
   */
  #changeOf(child: Child, event: StateEvent): ChildChange {
    const ended = LIVE_STATES.includes(event.from) && !LIVE_STATES.includes(event.to);
    const last = ended ? child.status().lastExit : null;
    const exit = last && this.#reported.get(child.name) !== last ? last : null;
    if (exit) this.#reported.set(child.name, exit);
    return {
      child: child.name,
      from: event.from,
      to: event.to,
      at: event.at,
      exit,
      reason: exit?.reason ?? null,
    };
  }
}
