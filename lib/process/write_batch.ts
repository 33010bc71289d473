/**
 * The bytes of a pipe waiting for their write: a busy child's pipe is read in many small chunks,
 * and its sink takes them in fewer, larger writes, one at a time.
 *
 * Two buffers take turns: one is being written, the other gathers what is read meanwhile. The
 * buffer a write was taken from is kept for the next turn, so a busy pipe allocates nothing per
 * chunk; a quiet one lets both go. For a sink that must get whole lines (a rotating or shared
 * file), what is taken ends at a line's end, and the partial line stays for the next turn.
 *
 * Owns: the buffers, their sizes and bounds, and where a write may end. Does not own: reading
 * the pipe (see `pipe_chunks.ts`) or when to write (see `child_outputs.ts`).
 *
 * @module
 */
import { NEWLINE } from "./bytes.ts";

/**
 * The longest partial line held back from a sink that gets whole lines only: a longer line is
 * cut into pieces of this size, each of which then counts as a line. As large as a batch may
 * gather, so that however the pipe's reads and the writes fall, no line up to this size is
 * ever cut (writes made at once from the pipe's buffer take a chunk at a time, where the
 * batches of writes on worker threads gathered many).
 */
export const MAX_LINE = 256 * 1024;

/**
 * The most a batch gathers while a write is in flight: more waits for that write (and the
 * child with it).
 */
export const BATCH_MAX_BYTES = 256 * 1024;

/** The smallest buffer a batch gathers in. */
const FIRST_BYTES = 1024;

/** Writes in a row that used under an eighth of their buffer before the buffers are let go. */
const SHRINK_AFTER = 8;

/** Bytes gathered for the next write, in two buffers that take turns. */
export class WriteBatch {
  readonly #wholeLines: boolean;
  /** The buffer that gathers; undefined while nothing is gathered and none is kept. */
  #gather: Uint8Array | undefined;
  /** Bytes gathered in it. */
  #size = 0;
  /** The other buffer, free for the next turn; undefined while a write holds it. */
  #spare: Uint8Array | undefined;
  /** The buffer the taken bytes are in, until {@link written}. */
  #taken: Uint8Array | undefined;
  #takenBytes = 0;
  /** Writes in a row that were small for their buffer. */
  #small = 0;

  /** `wholeLines`: what is taken ends at a line's end (but a partial line of MAX_LINE goes). */
  constructor(wholeLines: boolean) {
    this.#wholeLines = wholeLines;
  }

  /** Bytes gathered and not taken yet. */
  get size(): number {
    return this.#size;
  }

  /** Copies `bytes` after what is gathered, growing the buffer when they do not fit. */
  add(bytes: Uint8Array): void {
    const needed = this.#size + bytes.length;
    if (this.#gather === undefined || needed > this.#gather.length) this.#grow(needed);
    this.#gather!.set(bytes, this.#size);
    this.#size = needed;
  }

  /**
   * The bytes that may be written now (all of them with `all`, whole lines otherwise), or
   * undefined when none may. They stay valid until {@link written}, which must come before the
   * next take; what is added meanwhile goes to the other buffer.
   */
  take(all: boolean): Uint8Array | undefined {
    const full = this.#gather;
    if (full === undefined || this.#size === 0 || this.#taken !== undefined) return undefined;
    const end = this.#end(full.subarray(0, this.#size), all);
    if (end === 0) return undefined;
    const rest = this.#size - end;
    let next = this.#spare;
    if (rest > 0 && (next === undefined || next.length < rest)) next = new Uint8Array(full.length);
    if (rest > 0) next!.set(full.subarray(end, this.#size));
    this.#gather = next;
    this.#size = rest;
    this.#spare = undefined;
    this.#taken = full;
    this.#takenBytes = end;
    return full.subarray(0, end);
  }

  /**
   * The write of what was taken is done: its buffer is kept for the next turn, unless writes
   * have been small for their buffers a while (a quiet pipe lets its buffers go).
   */
  written(): void {
    const full = this.#taken;
    if (full === undefined) return;
    this.#taken = undefined;
    this.#small = this.#takenBytes < full.length / 8 ? this.#small + 1 : 0;
    if (this.#small >= SHRINK_AFTER) {
      this.#small = 0;
      if (this.#size === 0) this.#gather = undefined;
      return;
    }
    if (this.#gather === undefined) this.#gather = full;
    else this.#spare = full;
  }

  /** Where the bytes of `data` that may go now end. */
  #end(data: Uint8Array, all: boolean): number {
    if (!this.#wholeLines || all) return data.length;
    const end = data.lastIndexOf(NEWLINE) + 1;
    // A partial line longer than a line may be goes as it is.
    return end === 0 && data.length >= MAX_LINE ? data.length : end;
  }

  /** A gathering buffer of at least `needed` bytes, holding what is gathered. */
  #grow(needed: number): void {
    let length = Math.max(this.#gather?.length ?? 0, FIRST_BYTES);
    while (length < needed) length *= 2;
    const larger = new Uint8Array(length);
    if (this.#gather !== undefined && this.#size > 0) {
      larger.set(this.#gather.subarray(0, this.#size));
    }
    this.#gather = larger;
  }
}
