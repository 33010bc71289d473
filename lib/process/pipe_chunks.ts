/**
 * Reading a child's stdout or stderr pipe, chunk by chunk, into a buffer of the reader's own
 * whose size follows the pipe: tiny while the child is quiet, growing while it writes fast.
 *
 * Owns: the reader of one pipe and the size of its buffer. Does not own: what is done with the
 * bytes (see `child_outputs.ts`).
 *
 * @module
 */

/**
 * The first buffer of a pipe, and the size a quiet pipe shrinks back to: a pending read holds
 * one, so an idle fleet of 500 children holds 1 MiB of them.
 */
export const PIPE_FIRST_BYTES = 1024;

/** The largest buffer a busy pipe grows to. */
export const PIPE_BUFFER_MAX_BYTES = 256 * 1024;

/**
 * Reads in a row that used less than a sixteenth of the buffer before it is halved: a busy
 * pipe's reads vary in size, and a buffer resized at each of them would be allocated again and
 * again.
 */
const SHRINK_AFTER = 2;

/**
 * Reads a pipe into a buffer it reuses from read to read, so a busy pipe allocates nothing per
 * chunk. A stream that is not a byte stream (test doubles) is read chunk by chunk as it comes.
 */
export class PipeReader {
  readonly #byob: ReadableStreamBYOBReader | undefined;
  readonly #plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #buffer = new ArrayBuffer(PIPE_FIRST_BYTES);
  /** Reads in a row that used less than a sixteenth of the buffer. */
  #small = 0;
  /** Whether the pipe ended: a read gave null. */
  #ended = false;

  constructor(readable: ReadableStream<Uint8Array>) {
    let byob: ReadableStreamBYOBReader | undefined;
    try {
      byob = readable.getReader({ mode: "byob" });
    } catch {
      byob = undefined;
    }
    this.#byob = byob;
    this.#plain = byob ? undefined : readable.getReader();
  }

  /**
   * The next chunk, or null once the pipe ended. It is valid until the next read: the buffer it
   * is in is read into again.
   *
   * With `prefix` (bytes the caller kept from an earlier chunk: the partial line at its end),
   * the chunk is `prefix` followed by what was read, in one array: only `prefix` is copied,
   * to the front of the buffer, and the pipe is read into the buffer right after it. `prefix`
   * must be the caller's own copy (the read detaches the buffer of the previous chunk); on
   * null, it was not consumed.
   */
  async read(prefix?: Uint8Array): Promise<Uint8Array | null> {
    const kept = prefix?.length ?? 0;
    if (!this.#byob) {
      for (;;) {
        const { value, done } = await this.#plain!.read();
        if (done) return this.#end();
        if (value.length === 0) continue;
        if (kept === 0) return value;
        const joined = new Uint8Array(kept + value.length);
        joined.set(prefix!);
        joined.set(value, kept);
        return joined;
      }
    }
    if (kept > 0 && this.#buffer.byteLength < kept + PIPE_FIRST_BYTES) {
      // Room for the prefix and a read after it.
      let size = this.#buffer.byteLength;
      while (size < kept + PIPE_FIRST_BYTES) size *= 2;
      this.#buffer = new ArrayBuffer(size);
    }
    if (kept > 0) new Uint8Array(this.#buffer).set(prefix!);
    const room = this.#buffer.byteLength - kept;
    const { value, done } = await this.#byob.read(new Uint8Array(this.#buffer, kept, room));
    if (!value || done) return this.#end();
    // A byte stream read detaches the buffer given and hands its memory back in a new one
    // (the prefix in front of what was read included).
    const buffer = value.buffer as ArrayBuffer;
    this.#buffer = this.#sized(buffer, value.length, room);
    return new Uint8Array(buffer, 0, kept + value.length);
  }

  /**
   * Lets go of the stream, unless it ended: a stream that ended holds nothing, and releasing it
   * would only build the TypeError its reader's `closed` promise is rejected with (about 6 µs,
   * twice at each exit of a child, on the path from a crash to its restart).
   */
  release(): void {
    if (this.#ended) return;
    try {
      (this.#byob ?? this.#plain)!.releaseLock();
    } catch {
      // released already
    }
  }

  #end(): null {
    this.#ended = true;
    return null;
  }

  /**
   * The buffer for the next read: `buffer` again, or a new one when the reads call for another
   * size (the chunk just read stays in `buffer` either way). `used` of `room` bytes were read.
   */
  #sized(buffer: ArrayBuffer, used: number, room: number): ArrayBuffer {
    const size = buffer.byteLength;
    this.#small = used < size / 16 ? this.#small + 1 : 0;
    const next = nextBufferSize(size, used === room, this.#small >= SHRINK_AFTER);
    if (next === size) return buffer;
    this.#small = 0;
    return new ArrayBuffer(next);
  }
}

/**
 * The size of a pipe's next buffer: doubled when one filled up (a fast writer), halved when
 * reads have used little of it a while (`quiet`: the child went quiet).
 */
export function nextBufferSize(size: number, filled: boolean, quiet: boolean): number {
  if (filled && size < PIPE_BUFFER_MAX_BYTES) return size * 2;
  if (quiet && size > PIPE_FIRST_BYTES) return size / 2;
  return size;
}
