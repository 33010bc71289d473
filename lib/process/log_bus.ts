/**
 * Live lines of a child for `log --follow`: followers subscribe, the output pump publishes.
 *
 * A follower never slows the child: each has a queue bounded in lines and in bytes, and when it
 * is full the oldest lines are dropped and counted, so a stalled follower costs at most
 * {@link FOLLOW_QUEUE_BYTES} of line text and nothing else. How many may follow is bounded too:
 * {@link MAX_FOLLOWERS_PER_CHILD} per child, {@link MAX_FOLLOWERS} in the whole server.
 *
 * Does not own: writing the lines to the client, or the per-listener limit on follow streams
 * (see `lib/server/connection.ts` and `lib/server/listener.ts`).
 *
 * @module
 */
import { SupervisorError } from "../errors.ts";
import { concat } from "./bytes.ts";
import { Feed } from "./feed.ts";
import type { FeedLimits } from "./feed.ts";

/** One line of a child's output. */
export interface LogLine {
  readonly stream: "stdout" | "stderr";
  readonly line: string;
}

export { FOLLOW_QUEUE, FOLLOW_QUEUE_BYTES } from "./feed.ts";

/** Followers one child may have at once. */
export const MAX_FOLLOWERS_PER_CHILD = 64;

/** Followers all the children of one server may have at once. */
export const MAX_FOLLOWERS = 256;

/** The bounds of one follower's queue. */
export type FollowerLimits = FeedLimits;

/**
 * A subscription to the lines of some streams of one child: an async stream of lines, ended by
 * `close()`, bounded as a {@link Feed} is.
 */
export class Follower extends Feed<LogLine> {
  readonly #streams: readonly ("stdout" | "stderr")[];

  constructor(
    streams: readonly ("stdout" | "stderr")[],
    onClose: () => void,
    limits: FollowerLimits = {},
  ) {
    super(onClose, limits);
    this.#streams = streams;
  }

  /** Queues a line of a followed stream (see {@link Feed.offer}); other streams' are ignored. */
  override offer(line: LogLine, bytes: number = utf8Length(line.line)): void {
    if (this.#streams.includes(line.stream)) super.offer(line, bytes);
  }
}

/** The UTF-8 size of `text`, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * How many follow all the children of one server, against a limit. Every {@link LogBus} shares
 * one unless given its own (unit tests do).
 */
export class FollowerCount {
  readonly limit: number;
  #count = 0;

  constructor(limit = MAX_FOLLOWERS) {
    this.limit = limit;
  }

  /** Followers now. */
  get count(): number {
    return this.#count;
  }

  /** Takes a place, or says there is none. */
  take(): boolean {
    if (this.#count >= this.limit) return false;
    this.#count++;
    return true;
  }

  /** Gives a place back. */
  release(): void {
    this.#count = Math.max(0, this.#count - 1);
  }
}

/** The count shared by every bus of this server. */
const SERVER_FOLLOWERS = new FollowerCount();

/** The bounds of one bus. */
export interface LogBusLimits {
  /** Followers of this child at most (default {@link MAX_FOLLOWERS_PER_CHILD}). */
  readonly perChild?: number;
  /** The count across children this bus takes its places from (default: the server's). */
  readonly all?: FollowerCount;
  /** The bounds of each follower's queue. */
  readonly queue?: FollowerLimits;
}

/** Longest unterminated line kept for a follower that joins mid-line. */
const MAX_PARTIAL = 64 * 1024;

const decoder = new TextDecoder();

/** The smallest buffer a partial line is kept in, and the size it shrinks back to. */
const PARTIAL_FIRST_BYTES = 256;

/**
 * The unterminated end of a stream, in a buffer of its own that is reused from chunk to chunk
 * (a busy stream allocates nothing per chunk for it).
 */
class PartialLine {
  #buffer = new Uint8Array(0);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** The bytes, valid until the next change. */
  get bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const needed = this.#length + bytes.length;
    if (needed > this.#buffer.length) {
      let size = Math.max(this.#buffer.length, PARTIAL_FIRST_BYTES);
      while (size < needed) size *= 2;
      const larger = new Uint8Array(size);
      larger.set(this.bytes);
      this.#buffer = larger;
    }
    this.#buffer.set(bytes, this.#length);
    this.#length = needed;
  }

  /** Empties it; a buffer grown for a long line is let go. */
  clear(): void {
    this.#length = 0;
    if (this.#buffer.length > PARTIAL_FIRST_BYTES) this.#buffer = new Uint8Array(0);
  }
}

/**
 * The followers of one child. The bus always remembers the unterminated end of each stream
 * (cheap: no decoding while nobody follows), so a follower that joins mid-line gets that line
 * whole, and the lines before it are exactly those already published.
 */
export class LogBus {
  readonly #followers = new Set<Follower>();
  readonly #perChild: number;
  readonly #all: FollowerCount;
  readonly #queue: FollowerLimits;
  readonly #partial: Record<"stdout" | "stderr", PartialLine> = {
    stdout: new PartialLine(),
    stderr: new PartialLine(),
  };

  constructor(limits: LogBusLimits = {}) {
    this.#perChild = limits.perChild ?? MAX_FOLLOWERS_PER_CHILD;
    this.#all = limits.all ?? SERVER_FOLLOWERS;
    this.#queue = limits.queue ?? {};
  }

  /** Whether anyone follows. */
  get active(): boolean {
    return this.#followers.size > 0;
  }

  /**
   * A new follower of `streams`: it gets every line completed from now on.
   *
   * @throws {SupervisorError} `BUSY` when this child, or the server, has as many followers as
   * it may have.
   */
  follow(streams: readonly ("stdout" | "stderr")[]): Follower {
    if (this.#followers.size >= this.#perChild) {
      throw new SupervisorError(
        "BUSY",
        `Cannot follow: this child has as many followers as it may have (limit ${this.#perChild}); stop one, or try again later`,
      );
    }
    if (!this.#all.take()) {
      throw new SupervisorError(
        "BUSY",
        `Cannot follow: the server has as many followers as it may have (limit ${this.#all.limit}); stop one, or try again later`,
      );
    }
    const follower: Follower = new Follower(streams, () => {
      this.#followers.delete(follower);
      this.#all.release();
    }, this.#queue);
    this.#followers.add(follower);
    return follower;
  }

  /** Publishes the complete lines of `chunk`; a partial line waits for the rest. */
  publish(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    const partial = this.#partial[stream];
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) {
      partial.append(chunk);
      if (partial.length > MAX_PARTIAL) {
        // A line longer than a line may be: what followers get of it is cut here.
        if (this.active) this.#offer(stream, partial.bytes);
        partial.clear();
      }
      return;
    }
    if (this.active) {
      const head = partial.length === 0
        ? chunk.subarray(0, last)
        : concat([partial.bytes, chunk.subarray(0, last)]);
      this.#offer(stream, head);
    }
    partial.clear();
    partial.append(chunk.subarray(last + 1));
  }

  /**
   * Forgets the unterminated end of `stream`: what is published next starts a line (a direct
   * file read back from a line's start).
   */
  startLine(stream: "stdout" | "stderr"): void {
    this.#partial[stream].clear();
  }

  /** Ends every follow (the server is shutting down). */
  closeAll(): void {
    for (const f of [...this.#followers]) f.close();
  }

  /** Offers complete lines (without the final newline) to the followers. */
  #offer(stream: "stdout" | "stderr", bytes: Uint8Array): void {
    for (const line of decoder.decode(bytes).split("\n")) {
      const item = { stream, line };
      const size = utf8Length(line);
      for (const f of this.#followers) f.offer(item, size);
    }
  }
}
