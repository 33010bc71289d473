/**
 * A stream a child writes to its output file itself (`direct: true`): no pipe, no copy through
 * the server, and what it wrote is on disk even if the server dies. The server reads the file
 * back for what it needs: the last lines of a run (the crash context) and, while anyone
 * follows the child, the lines as they come, polled every {@link DIRECT_POLL_MS}.
 *
 * Owns: opening the file before the spawn (`create` truncates it; the run starts at its size),
 * where the run began in the file, how far followers were given it, and polling only while
 * anyone follows. Does not own: the followers (see `log_bus.ts`) or reading lines from a file's
 * end (see `file_tail.ts`).
 *
 * @module
 */
import type { OutputTarget } from "../config/child_config.ts";
import { NEWLINE } from "./bytes.ts";
import { readLastLines } from "./file_tail.ts";
import { openOutput } from "./log_file.ts";
import type { LogBus } from "./log_bus.ts";

/** How often a followed direct file is read for what was added. */
export const DIRECT_POLL_MS = 100;

/** The most one poll reads; a busy file is caught up with over the next polls. */
const POLL_BYTES = 1024 * 1024;

/** How far back a follow that joins mid-line looks for that line's start. */
const LINE_BACK = 64 * 1024;

/** The size of the file at `path`, or undefined when it cannot be read. */
function sizeNow(path: string): number | undefined {
  try {
    return Deno.statSync(path).size;
  } catch {
    return undefined;
  }
}

/** One stream of one run written to its file by the child. */
export class DirectOutput {
  readonly stream: "stdout" | "stderr";
  readonly path: string;
  /** Where this run's output begins in the file. */
  readonly start: number;
  readonly #bus: LogBus;
  /** How much of the file followers were given; undefined while nobody follows. */
  #offset: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reading: Promise<void> | undefined;
  #ended = false;

  constructor(stream: "stdout" | "stderr", path: string, start: number, bus: LogBus) {
    this.stream = stream;
    this.path = path;
    this.start = start;
    this.#bus = bus;
  }

  /** The size of the file at `path` now; 0 when it cannot be read. */
  static sizeOf(path: string): number {
    return sizeNow(path) ?? 0;
  }

  /**
   * Creates (`create`: truncates) the file of `target` before the spawn, as the server, and
   * gives where the run begins in it. Throws when the file cannot be opened.
   */
  static async prepare(target: OutputTarget): Promise<number> {
    const { file, size } = await openOutput(target);
    file.close();
    return size;
  }

  /**
   * How far followers have been given the file, for a `log --follow` answer that must end
   * exactly where its events begin. When nobody followed yet, following begins now: at the
   * start of the line being written (so a follower gets that line whole), and polling starts.
   */
  published(): number {
    if (this.#offset === undefined) {
      this.#offset = this.#lineStart(sizeNow(this.path) ?? this.start);
      this.#bus.startLine(this.stream);
      this.#arm();
    }
    return this.#offset;
  }

  /** The run began: when anyone follows already, they get it all, from its start. */
  begin(): void {
    if (!this.#bus.active || this.#ended || this.#offset !== undefined) return;
    this.#offset = this.start;
    this.#bus.startLine(this.stream);
    this.#arm();
  }

  /** Starts polling if anyone follows (a new follower joined). */
  watch(): void {
    if (!this.#bus.active || this.#ended) return;
    if (this.#offset === undefined) this.published();
    else this.#arm();
  }

  /** The run ended: followers get what is left in the file, then polling stops. */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#reading;
    if (this.#offset !== undefined && this.#bus.active) await this.#readOnce(Infinity);
  }

  /** The last `count` lines this run wrote (at most `maxBytes` read), oldest first. */
  async lines(count: number, maxBytes: number): Promise<string[]> {
    try {
      return await readLastLines(this.path, count, { start: this.start, maxBytes });
    } catch {
      return [];
    }
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#ended) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#bus.active) {
        // Nobody follows any more: the next follower starts from where the file is then.
        this.#offset = undefined;
        return;
      }
      this.#reading = this.#readOnce(POLL_BYTES).finally(() => {
        this.#reading = undefined;
        this.#arm();
      });
    }, DIRECT_POLL_MS);
  }

  /** Gives followers what the file gained since the last read, up to `limit` bytes. */
  async #readOnce(limit: number): Promise<void> {
    try {
      using file = await Deno.open(this.path, { read: true });
      const size = (await file.stat()).size;
      let offset = this.#offset ?? size;
      // Truncated under us (logrotate's copytruncate): the file starts again.
      if (size < offset) offset = 0;
      let left = Math.min(size - offset, limit);
      await file.seek(offset, Deno.SeekMode.Start);
      while (left > 0) {
        const chunk = new Uint8Array(Math.min(left, POLL_BYTES));
        const n = await file.read(chunk);
        if (n === null || n === 0) break;
        this.#bus.publish(this.stream, chunk.subarray(0, n));
        offset += n;
        left -= n;
      }
      this.#offset = offset;
    } catch {
      // The file is gone or unreadable for now: the next poll tries again.
    }
  }

  /** The start of the line that `size` is in the middle of (`size` itself after a newline). */
  #lineStart(size: number): number {
    if (size <= this.start) return size;
    try {
      using file = Deno.openSync(this.path, { read: true });
      const from = Math.max(this.start, size - LINE_BACK);
      const block = new Uint8Array(size - from);
      file.seekSync(from, Deno.SeekMode.Start);
      let read = 0;
      while (read < block.length) {
        const n = file.readSync(block.subarray(read));
        if (n === null || n === 0) break;
        read += n;
      }
      const last = block.subarray(0, read).lastIndexOf(NEWLINE);
      // A line longer than LINE_BACK so far: followers get it from here.
      if (last < 0) return from === this.start ? from : size;
      return from + last + 1;
    } catch {
      return size;
    }
  }
}
