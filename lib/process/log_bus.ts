/**
 * Live lines of a child for `log --follow`: followers subscribe, the output pump publishes.
 *
 * A follower never slows the child: each has a bounded queue, and lines beyond it are dropped
 * and counted, so a stalled follower costs memory up to its bound and nothing else.
 *
 * @module
 */
import { concat } from "./bytes.ts";

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

/** Longest unterminated line kept for a follower that joins mid-line. */
const MAX_PARTIAL = 64 * 1024;

const decoder = new TextDecoder();

/**
 * The followers of one child. The bus always remembers the unterminated end of each stream
 * (cheap: no decoding while nobody follows), so a follower that joins mid-line gets that line
 * whole, and the lines before it are exactly those already published.
 */
export class LogBus {
  readonly #followers = new Set<Follower>();
  readonly #partial: Record<"stdout" | "stderr", Uint8Array> = {
    stdout: new Uint8Array(0),
    stderr: new Uint8Array(0),
  };

  /** Whether anyone follows. */
  get active(): boolean {
    return this.#followers.size > 0;
  }

  /** A new follower of `streams`: it gets every line completed from now on. */
  follow(streams: readonly ("stdout" | "stderr")[]): Follower {
    const follower: Follower = new Follower(streams, () => this.#followers.delete(follower));
    this.#followers.add(follower);
    return follower;
  }

  /** Publishes the complete lines of `chunk`; a partial line waits for the rest. */
  publish(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) {
      let partial = concat([this.#partial[stream], chunk]);
      if (partial.length > MAX_PARTIAL) {
        // A line longer than a line may be: what followers get of it is cut here.
        if (this.active) this.#offer(stream, partial);
        partial = new Uint8Array(0);
      }
      this.#partial[stream] = partial;
      return;
    }
    if (this.active) {
      const head = this.#partial[stream].length === 0
        ? chunk.subarray(0, last)
        : concat([this.#partial[stream], chunk.subarray(0, last)]);
      this.#offer(stream, head);
    }
    this.#partial[stream] = chunk.slice(last + 1);
  }

  /** Ends every follow (the server is shutting down). */
  closeAll(): void {
    for (const f of [...this.#followers]) f.close();
  }

  /** Offers complete lines (without the final newline) to the followers. */
  #offer(stream: "stdout" | "stderr", bytes: Uint8Array): void {
    for (const line of decoder.decode(bytes).split("\n")) {
      for (const f of this.#followers) f.offer({ stream, line });
    }
  }
}
