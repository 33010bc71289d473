/**
 * The life cycle of a supervised child, as one table: `(state, event) → state`, and which
 * operations each state allows.
 *
 * Every change of state is an {@link LifeEvent} applied through {@link Lifecycle.apply}, which
 * looks the pair up in {@link TRANSITIONS}, refuses anything the table does not hold, and
 * records an event `{ from, to, at }`. The list of predecessors of each state
 * ({@link ALLOWED_FROM}) is derived from the same table. Owns: states, events, the table and
 * {@link opsAllowed}. Does not own: when events happen (see `child.ts`).
 *
 * @module
 */
import { InvalidTransitionError } from "../errors.ts";

/** States of a child, as supervisord names them. */
export const CHILD_STATES = [
  "STOPPED",
  "STARTING",
  "RUNNING",
  "BACKOFF",
  "STOPPING",
  "EXITED",
  "FATAL",
] as const;

/** One of {@link CHILD_STATES}. */
export type ChildState = typeof CHILD_STATES[number];

/** What can happen to a child. */
export type LifeEvent =
  /** A process is being started (by an operator, or automatically after BACKOFF). */
  | "spawn"
  /** The run stayed up long enough to count as started. */
  | "started"
  /** The process exited on its own and will be started again after a delay. */
  | "crashed"
  /** The supervisor began stopping the process. */
  | "stop"
  /** The process exited on its own and will not be started again. */
  | "exited"
  /** The process could not be started, or exited too often in a row. */
  | "gave-up"
  /** A stop completed: the process and its group are gone. */
  | "stopped"
  /** A pending automatic restart was cancelled. */
  | "cancel-restart";

/**
 * The one table: for each event, the state it leads to from each state where it may happen.
 * A pair that is not here is a bug in the caller.
 */
export const TRANSITIONS: Readonly<
  Record<LifeEvent, Readonly<Partial<Record<ChildState, ChildState>>>>
> = {
  "spawn": { STOPPED: "STARTING", EXITED: "STARTING", FATAL: "STARTING", BACKOFF: "STARTING" },
  "started": { STARTING: "RUNNING" },
  "crashed": { STARTING: "BACKOFF", RUNNING: "BACKOFF" },
  "stop": { STARTING: "STOPPING", RUNNING: "STOPPING" },
  "exited": { STARTING: "EXITED", RUNNING: "EXITED" },
  "gave-up": { STARTING: "FATAL", RUNNING: "FATAL", BACKOFF: "FATAL" },
  "stopped": { STOPPING: "STOPPED" },
  "cancel-restart": { BACKOFF: "STOPPED" },
};

/**
 * For each state, the states it may be entered from (derived from {@link TRANSITIONS}).
 *
 * Marked pure, so that a bundler may leave it out where it is not used: the client imports only
 * {@link CHILD_STATES} (through `lib/protocol/payloads.ts`), and without the mark its bundle
 * would carry this derivation and the table, and run them at every start (issue 15).
 */
export const ALLOWED_FROM: Readonly<Record<ChildState, readonly ChildState[]>> =
  /* @__PURE__ */ (() => {
    const from = Object.fromEntries(CHILD_STATES.map((s) => [s, [] as ChildState[]])) as Record<
      ChildState,
      ChildState[]
    >;
    for (const row of Object.values(TRANSITIONS)) {
      for (const [before, after] of Object.entries(row) as [ChildState, ChildState][]) {
        if (!from[after].includes(before)) from[after].push(before);
      }
    }
    return from;
  })();

/** States in which the child has a live process. */
export const LIVE_STATES: readonly ChildState[] = ["STARTING", "RUNNING", "STOPPING"];

/** Operations on one child that depend on its state. */
export type ChildOp = "start" | "stop" | "restart" | "trystart";

/**
 * Which operations each state allows. `start` needs no live process; `stop` needs one, or a
 * pending restart to cancel; `restart` needs one, or a child waiting to be restarted or that
 * gave up; `trystart` is always allowed.
 */
const OPS_ALLOWED: Readonly<Record<ChildState, readonly ChildOp[]>> = {
  STOPPED: ["start", "trystart"],
  STARTING: ["stop", "restart", "trystart"],
  RUNNING: ["stop", "restart", "trystart"],
  BACKOFF: ["start", "stop", "restart", "trystart"],
  STOPPING: ["stop", "restart", "trystart"],
  EXITED: ["start", "trystart"],
  FATAL: ["start", "restart", "trystart"],
};

/** The operations `state` allows. */
export function opsAllowed(state: ChildState): readonly ChildOp[] {
  return OPS_ALLOWED[state];
}

/** A change of state. */
export interface StateEvent {
  readonly from: ChildState;
  readonly to: ChildState;
  readonly at: number;
}

/** Tells whether the table allows `from -> to` through some event. */
export function canTransition(from: ChildState, to: ChildState): boolean {
  return ALLOWED_FROM[to].includes(from);
}

/** Where `event` leads from `state`, or undefined when it cannot happen there. */
export function nextState(state: ChildState, event: LifeEvent): ChildState | undefined {
  return TRANSITIONS[event][state];
}

/** The current state of one child, changed only by events the table allows. */
export class Lifecycle {
  #state: ChildState = "STOPPED";
  #since: number;
  #changes = 0;
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

  /** Whether a process of this child is alive (starting, running or being stopped). */
  get isLive(): boolean {
    return LIVE_STATES.includes(this.#state);
  }

  /**
   * How many transitions were made: while it stays the same, so do {@link state} and
   * {@link since} (a small whole number, cheaper to compare than a time).
   */
  get changes(): number {
    return this.#changes;
  }

  /** Whether the current state allows `op`. */
  allows(op: ChildOp): boolean {
    return OPS_ALLOWED[this.#state].includes(op);
  }

  /** Calls `listener` after every transition. */
  onTransition(listener: (event: StateEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Applies `event`; throws {@link InvalidTransitionError} if the table does not hold it here. */
  apply(event: LifeEvent, at: number): StateEvent {
    const to = nextState(this.#state, event);
    if (to === undefined) throw new InvalidTransitionError(this.#state, `(${event})`);
    return this.transition(to, at);
  }

  /** Moves to `to`; throws {@link InvalidTransitionError} if no event of the table leads there. */
  transition(to: ChildState, at: number): StateEvent {
    const from = this.#state;
    if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
    this.#state = to;
    this.#since = at;
    this.#changes++;
    const event = { from, to, at };
    for (const listener of this.#listeners) listener(event);
    return event;
  }
}
