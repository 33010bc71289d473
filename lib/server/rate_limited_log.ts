/**
 * A log line that may repeat thousands of times a second (accept errors under a flood): the
 * first occurrence is logged at once, the next ones within the interval are counted, and the
 * count is logged with the next occurrence after the interval (or on {@link flush}).
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";

/** One rate-limited kind of error line. */
export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastAt = -Infinity;
  #suppressed = 0;

  constructor(logger: Logger, intervalMs: number, now: () => number = () => performance.now()) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Logs `what: error`, or counts it when one was logged less than the interval ago. */
  error(what: string, error: unknown): void {
    const now = this.#now();
    if (now - this.#lastAt < this.#intervalMs) {
      this.#suppressed++;
      return;
    }
    const more = this.#suppressed === 0
      ? ""
      : ` (and ${this.#suppressed} more since the last report)`;
    this.#logger.error(`${what}: ${errorMessage(error)}${more}`);
    this.#lastAt = now;
    this.#suppressed = 0;
  }

  /** Logs the count of lines not logged yet, if any. */
  flush(): void {
    if (this.#suppressed === 0) return;
    this.#logger.error(`${this.#suppressed} more errors of the same kind were not logged`);
    this.#suppressed = 0;
  }
}
