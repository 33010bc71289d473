/**
 * The life cycle of a supervised child: its states and the one table of allowed transitions.
 *
 * Every change of state goes through {@link Lifecycle.transition}, which refuses anything the
 * table does not allow and records an event `{ from, to, at }`.
 *
 * @module
 */
import { InvalidTransitionError } from "../errors.ts";

/** States of a child, as supervisord names them. */
export type ChildState =
  | "STOPPED"
  | "STARTING"
  | "RUNNING"
  | "BACKOFF"
  | "STOPPING"
  | "EXITED"
  | "FATAL";

/** For each state, the states it may be entered from. */
export const ALLOWED_FROM: Readonly<Record<ChildState, readonly ChildState[]>> = {
  STOPPED: ["STOPPING", "BACKOFF"],
  STARTING: ["STOPPED", "EXITED", "FATAL", "BACKOFF"],
  RUNNING: ["STARTING"],
  BACKOFF: ["STARTING", "RUNNING"],
  STOPPING: ["STARTING", "RUNNING"],
  EXITED: ["STARTING", "RUNNING"],
  FATAL: ["STARTING", "RUNNING", "BACKOFF"],
};

/** States in which the child has a live process. */
export const LIVE_STATES: readonly ChildState[] = ["STARTING", "RUNNING", "STOPPING"];

/** A change of state. */
export interface StateEvent {
  readonly from: ChildState;
  readonly to: ChildState;
  readonly at: number;
}

/** Tells whether the table allows `from -> to`. */
export function canTransition(from: ChildState, to: ChildState): boolean {
  return ALLOWED_FROM[to].includes(from);
}

/** The current state of one child, changed only by {@link transition}. */
export class Lifecycle {
  #state: ChildState = "STOPPED";
  #since: number;
  readonly #listeners: ((event: StateEvent) => void)[] = [];

  constructor(now: number) {
    this.#since = now;
  }

  get state(): ChildState {
    return this.#state;
  }

  /** When the current state was entered (ms since the epoch). */
  get since(): number {
    return this.#since;
  }

  /** Calls `listener` after every transition. */
  onTransition(listener: (event: StateEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Moves to `to`; throws {@link InvalidTransitionError} if the table forbids it. */
  transition(to: ChildState, at: number): StateEvent {
    const from = this.#state;
    if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
    this.#state = to;
    this.#since = at;
    const event = { from, to, at };
    for (const listener of this.#listeners) listener(event);
    return event;
  }
}
