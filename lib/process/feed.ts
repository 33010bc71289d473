/**
 * A bounded queue read as an async stream: what a follower of a child's lines (`log --follow`)
 * or of the server's changes of state (`events --follow`) reads from.
 *
 * A feed never slows whoever offers to it: it is bounded in items and in bytes, and when it is
 * full the oldest items are dropped and counted, so a stalled reader costs at most its bounds.
 *
 * Owns: the queue, its bounds and the "dropped N" marker. Does not own: who offers, or writing
 * items to a client.
 *
 * @module
 */

/** Items a feed may have queued before the oldest are dropped. */
export const FOLLOW_QUEUE = 10_000;

/** Bytes (as the offerer counts them) a feed may have queued before the oldest are dropped. */
export const FOLLOW_QUEUE_BYTES = 1024 * 1024;

/** The bounds of one feed. */
export interface FeedLimits {
  /** Items queued at most (default {@link FOLLOW_QUEUE}). */
  readonly maxLines?: number;
  /** Bytes queued at most (default {@link FOLLOW_QUEUE_BYTES}); one item always fits. */
  readonly maxBytes?: number;
}

interface Queued<T> {
  readonly item: T;
  readonly bytes: number;
}

/**
 * An async stream of items, ended by `close()`. When items had to be dropped, one
 * `{ dropped: N }` comes before the next item delivered.
 */
export class Feed<T> implements AsyncIterable<T | { dropped: number }> {
  #queue: Queued<T>[] = [];
  #head = 0;
  #bytes = 0;
  readonly #maxLines: number;
  readonly #maxBytes: number;
  #dropped = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  readonly #onClose: () => void;

  constructor(onClose: () => void, limits: FeedLimits = {}) {
    this.#onClose = onClose;
    this.#maxLines = Math.max(1, limits.maxLines ?? FOLLOW_QUEUE);
    this.#maxBytes = limits.maxBytes ?? FOLLOW_QUEUE_BYTES;
  }

  /** Items waiting to be read. */
  get queuedLines(): number {
    return this.#queue.length - this.#head;
  }

  /** Bytes waiting to be read. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Whether the feed was closed (by its reader, or because the server stops). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues an item of `bytes`; when the queue is then over its bounds, drops the oldest items
   * and counts them.
   */
  offer(item: T, bytes: number): void {
    if (this.#closed) return;
    this.#queue.push({ item, bytes });
    this.#bytes += bytes;
    while (
      this.queuedLines > 1 &&
      (this.queuedLines > this.#maxLines || this.#bytes > this.#maxBytes)
    ) {
      this.#bytes -= this.#shift()!.bytes;
      this.#dropped++;
    }
    this.#wake?.();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T | { dropped: number }> {
    while (true) {
      if (this.queuedLines > 0) {
        if (this.#dropped > 0) {
          const dropped = this.#dropped;
          this.#dropped = 0;
          yield { dropped };
          continue;
        }
        const next = this.#shift()!;
        this.#bytes -= next.bytes;
        yield next.item;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  /** Takes the oldest queued item off (the array is compacted now and then, not at each shift). */
  #shift(): Queued<T> | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const item = this.#queue[this.#head++];
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
