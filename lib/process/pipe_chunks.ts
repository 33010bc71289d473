/**
 * Reading a child's stdout or stderr pipe into buffers the caller hands over, and how large
 * those buffers should be: tiny while a child is quiet, growing while it writes fast.
 *
 * Owns: the reader of one pipe and the sizes of its buffers. Does not own: what is done with
 * the bytes (see `child_outputs.ts`).
 *
 * @module
 */

/**
 * The first buffer of a pipe, and the size a quiet pipe shrinks back to: a pending read holds
 * one, so an idle fleet of 500 children holds 1 MiB of them.
 */
export const PIPE_FIRST_BYTES = 1024;

/** The largest buffer a busy pipe grows to (several pipe reads gathered into one write). */
export const PIPE_BUFFER_MAX_BYTES = 256 * 1024;

/** What one read gave: the buffer, which may be a new one holding the old one's bytes. */
export interface PipeRead {
  /** The buffer that now holds every byte: the one given is detached by a byte stream read. */
  readonly buffer: ArrayBuffer;
  /** Bytes read into it at the offset asked (0 at the end). */
  readonly bytes: number;
  /** Whether the pipe ended (nothing more will come). */
  readonly done: boolean;
}

/**
 * Reads a pipe straight into the caller's buffer at an offset, so a chunk is never copied on
 * its way from the pipe to the sink. A stream that is not a byte stream (test doubles) is read
 * chunk by chunk and copied.
 */
export class PipeReader {
  readonly #byob: ReadableStreamBYOBReader | undefined;
  readonly #plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The unread rest of a chunk of a stream that is not a byte stream. */
  #left: Uint8Array | undefined;

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

  /** Reads into `buffer` from `offset` (which must leave room) up to its end. */
  async read(buffer: ArrayBuffer, offset: number): Promise<PipeRead> {
    if (this.#byob) {
      const view = new Uint8Array(buffer, offset, buffer.byteLength - offset);
      const { value, done } = await this.#byob.read(view);
      if (!value) return { buffer, bytes: 0, done: true };
      return { buffer: value.buffer as ArrayBuffer, bytes: done ? 0 : value.length, done };
    }
    let chunk = this.#left;
    while (chunk === undefined || chunk.length === 0) {
      const { value, done } = await this.#plain!.read();
      if (done) return { buffer, bytes: 0, done: true };
      chunk = value;
    }
    const bytes = Math.min(chunk.length, buffer.byteLength - offset);
    new Uint8Array(buffer, offset, bytes).set(chunk.subarray(0, bytes));
    this.#left = bytes < chunk.length ? chunk.subarray(bytes) : undefined;
    return { buffer, bytes, done: false };
  }

  /** Lets go of the stream. */
  release(): void {
    try {
      (this.#byob ?? this.#plain)!.releaseLock();
    } catch {
      // released already
    }
  }
}

/**
 * The size of a pipe's next buffer: doubled when one filled up before its bytes could be
 * written (a fast writer: fewer, larger writes), halved when one is written less than a
 * quarter full (the child went quiet).
 */
export function nextBufferSize(size: number, used: number, filled: boolean): number {
  if (filled && size < PIPE_BUFFER_MAX_BYTES) return size * 2;
  if (used < size / 4 && size > PIPE_FIRST_BYTES) return size / 2;
  return size;
}
