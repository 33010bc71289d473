/**
 * Repeat timers: after a run of a child with `repeat` starts, `action NAME` fires after
 * `seconds` — unless another run has started since, or the child was stopped.
 *
 * One timer per child at most; every timer is cancellable and none outlives a stop or a
 * shutdown.
 *
 * @module
 */
import { callOff } from "../process/clock.ts";
import type { Clock } from "../process/clock.ts";

interface Armed {
  readonly run: number;
  readonly at: number;
  readonly timer: AbortController;
}

/** The pending repeat timers of a server. */
export class RepeatTimers {
  readonly #clock: Clock;
  readonly #armed = new Map<string, Armed>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Number of pending timers. */
  get size(): number {
    return this.#armed.size;
  }

  /**
   * Arms the timer of `name` for run number `run`, replacing any earlier one. When it fires,
   * `fire` is called only if `currentRun()` is still `run`.
   */
  arm(timer: {
    readonly name: string;
    readonly run: number;
    readonly seconds: number;
    readonly currentRun: () => number;
    readonly fire: () => void;
  }): void {
    const { name, run, seconds, currentRun, fire } = timer;
    this.cancel(name);
    const abort = new AbortController();
    const at = this.#clock.now() + seconds * 1000;
    const armed = { run, at, timer: abort };
    this.#armed.set(name, armed);
    this.#clock.sleep(seconds * 1000, abort.signal).then(() => {
      if (this.#armed.get(name) === armed) this.#armed.delete(name);
      if (currentRun() === run) fire();
    }, () => {});
  }

  /** When the timer of `name` fires, if one is pending. */
  dueAt(name: string): number | undefined {
    return this.#armed.get(name)?.at;
  }

  /** Cancels the timer of `name`, if any. */
  cancel(name: string): void {
    callOff(this.#armed.get(name)?.timer);
    this.#armed.delete(name);
  }

  /** Cancels every timer. */
  cancelAll(): void {
    for (const name of [...this.#armed.keys()]) this.cancel(name);
  }
}
