/**
 * Live lines of a child for `log --follow`: followers subscribe, the output pump publishes.
 *
 * A follower never slows the child: each has a bounded queue, and lines beyond it are dropped
 * and counted, so a stalled follower costs memory up to its bound and nothing else.
 *
 * @module
 */

/** One line of a child's output. */
export interface LogLine {
  readonly stream: "stdout" | "stderr";
  readonly line: string;
}

/** Lines a follower may have queued before new ones are dropped. */
export const FOLLOW_QUEUE = 10_000;

/** A subscription: an async stream of lines, ended by `close()`. */
export class Follower implements AsyncIterable<LogLine | { dropped: number }> {
  readonly #queue: (LogLine | { dropped: number })[] = [];
  readonly #limit: number;
  readonly #streams: readonly ("stdout" | "stderr")[];
  #dropped = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  readonly #onClose: () => void;

  constructor(
    streams: readonly ("stdout" | "stderr")[],
    onClose: () => void,
    limit = FOLLOW_QUEUE,
  ) {
    this.#streams = streams;
    this.#onClose = onClose;
    this.#limit = limit;
  }

  /** Queues a line (or counts it as dropped when the queue is full). */
  offer(line: LogLine): void {
    if (this.#closed || !this.#streams.includes(line.stream)) return;
    if (this.#queue.length >= this.#limit) {
      this.#dropped++;
      return;
    }
    if (this.#dropped > 0) {
      this.#queue.push({ dropped: this.#dropped });
      this.#dropped = 0;
    }
    this.#queue.push(line);
    this.#wake?.();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogLine | { dropped: number }> {
    while (true) {
      const next = this.#queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

/** The followers of one child. */
export class LogBus {
  readonly #followers = new Set<Follower>();
  readonly #partial = { stdout: "", stderr: "" };
  /** One decoder per stream, so a character split between chunks is decoded whole. */
  readonly #decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  /** Whether anyone follows (the pump skips line splitting otherwise). */
  get active(): boolean {
    return this.#followers.size > 0;
  }

  /** A new follower of `streams`. */
  follow(streams: readonly ("stdout" | "stderr")[]): Follower {
    const follower: Follower = new Follower(streams, () => this.#followers.delete(follower));
    this.#followers.add(follower);
    return follower;
  }

  /** Publishes the complete lines of `chunk`; a partial line waits for the rest. */
  publish(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    if (!this.active) {
      if (this.#partial[stream] !== "") {
        this.#partial[stream] = "";
        this.#decoders[stream] = new TextDecoder();
      }
      return;
    }
    const text = this.#partial[stream] + this.#decoders[stream].decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#partial[stream] = lines.pop() ?? "";
    for (const line of lines) for (const f of this.#followers) f.offer({ stream, line });
  }

  /** Ends every follow (the server is shutting down). */
  closeAll(): void {
    for (const f of [...this.#followers]) f.close();
  }
}
