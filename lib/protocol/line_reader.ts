/**
 * Reading newline-delimited frames off a byte stream with a hard limit on a line's length.
 *
 * Memory per connection stays below the limit plus one read buffer, however the peer behaves;
 * the read buffer starts small (a request line fits) and grows only while reads fill it.
 *
 * @module
 */
import { LineTooLongError } from "../errors.ts";

/** What the reader needs of a connection. */
export interface ByteSource {
  read(buffer: Uint8Array): Promise<number | null>;
}

const NEWLINE = 0x0a;

/** The first read buffer of a reader: a request line fits; longer lines grow it. */
const FIRST_CHUNK = 1024;

/** The largest read buffer. */
const MAX_CHUNK = 16 * 1024;

/**
 * Splits a byte source into lines (without the newline; a trailing `\r` is kept). A line is a
 * view of bytes the reader never writes again: it stays as it is after later reads.
 */
export class LineReader {
  readonly #source: ByteSource;
  readonly #limit: number;
  /** The size of the first read buffer, and the most it grows to (at least {@link MAX_CHUNK}). */
  readonly #firstChunk: number;
  readonly #maxChunk: number;
  /** The read buffer: made at the first read, doubled each time a read fills it. */
  #chunk: Uint8Array | undefined;
  #buffer = new Uint8Array(0);
  #eof = false;

  /**
   * `initial` holds bytes already read from `source` (a sniffed first chunk). `firstChunk` is
   * the size of the first read buffer: small by default, for a server reading short requests
   * from many connections; a client that expects one long answer reads it in fewer reads with a
   * bigger one (a `check` of 50 children is about 40 KB: six reads from 1 KiB, one from 64 KiB).
   */
  constructor(source: ByteSource, limit: number, initial?: Uint8Array, firstChunk = FIRST_CHUNK) {
    this.#source = source;
    this.#limit = limit;
    this.#firstChunk = Math.min(limit + 1, firstChunk);
    this.#maxChunk = Math.min(limit + 1, Math.max(MAX_CHUNK, firstChunk));
    if (initial) this.#buffer = initial.slice();
  }

  /** Bytes received and not yet returned as a line. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Whether a whole line is buffered: {@link next} then answers without reading. */
  get hasLine(): boolean {
    return this.#buffer.includes(NEWLINE);
  }

  /**
   * The next line; at end of stream, the unterminated rest (if any), then null. Throws
   * {@link LineTooLongError} as soon as a line exceeds the limit.
   */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const newline = this.#buffer.indexOf(NEWLINE);
      if (newline >= 0) {
        if (newline > this.#limit) throw new LineTooLongError(this.#limit);
        // Views, not copies: a buffer is never written once filled (a read fills a new one).
        const line = this.#buffer.subarray(0, newline);
        this.#buffer = this.#buffer.subarray(newline + 1);
        return line;
      }
      if (this.#buffer.length > this.#limit) throw new LineTooLongError(this.#limit);
      if (this.#eof) {
        if (this.#buffer.length === 0) return null;
        const rest = this.#buffer;
        this.#buffer = new Uint8Array(0);
        return rest;
      }
      const chunk = this.#chunk ??= new Uint8Array(this.#firstChunk);
      const n = await this.#source.read(chunk);
      if (n === null) {
        this.#eof = true;
        continue;
      }
      if (this.#buffer.length === 0) {
        this.#buffer = chunk.slice(0, n);
      } else {
        const next = new Uint8Array(this.#buffer.length + n);
        next.set(this.#buffer);
        next.set(chunk.subarray(0, n), this.#buffer.length);
        this.#buffer = next;
      }
      if (n === chunk.length && chunk.length < this.#maxChunk) {
        this.#chunk = new Uint8Array(Math.min(chunk.length * 2, this.#maxChunk));
      }
    }
  }
}
