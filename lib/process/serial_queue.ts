/**
 * Runs tasks one at a time, in the order given: the per-child queue of operations.
 *
 * @module
 */

/** A FIFO of async tasks; a failing task does not stop the ones after it. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #length = 0;

  /** Tasks queued or running. */
  get length(): number {
    return this.#length;
  }

  /** Runs `task` after every task queued before it has settled. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.#length++;
    const result = this.#tail.then(() => task()).finally(() => this.#length--);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
