/**
 * One connection's time limit on what it waits for: a request line from its peer, or the peer
 * taking a response.
 *
 * A timer made and cleared for every wait costs two timers a request, about a seventh of the
 * garbage a one-child `check` leaves. Here a connection has at most one timer at a time: a new
 * wait only moves the deadline, and the timer, when it fires before the deadline (the waits it
 * was set for ended in time), is set again for what is left. A wait that overruns its limit
 * runs the connection's `expired` callback once; the connection ends it from there (it answers
 * TIMEOUT, or closes the socket under a pending read or write).
 *
 * @module
 */

/** The time limit of one connection's waits. */
export class WaitLimit {
  /** When the current wait overruns (performance.now() ms); Infinity while none runs. */
  #deadline = Infinity;
  /** Called when the current wait overruns. */
  #expired: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires (performance.now() ms). */
  #firesAt = Infinity;
  #closed = false;

  /** Starts a wait of at most `ms`; `expired` runs once if it has not stopped by then. */
  start(ms: number, expired: () => void): void {
    if (this.#closed) return;
    this.#deadline = performance.now() + ms;
    this.#expired = expired;
    if (this.#timer !== undefined && this.#firesAt <= this.#deadline) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#schedule(ms);
  }

  /** The current wait ended in time (the timer stays, for the next wait). */
  stop(): void {
    this.#deadline = Infinity;
    this.#expired = undefined;
  }

  /** No more waits: the timer is cleared. */
  close(): void {
    this.#closed = true;
    this.stop();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    this.#firesAt = performance.now() + ms;
    this.#timer = setTimeout(() => this.#fire(), ms);
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#deadline === Infinity) return;
    const left = this.#deadline - performance.now();
    if (left > 0) {
      this.#schedule(left);
      return;
    }
    const expired = this.#expired;
    this.stop();
    expired?.();
  }
}
