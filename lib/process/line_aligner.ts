/**
 * Writing only whole lines to files that rotate or that stdout and stderr share, so a rotation
 * never cuts a line and the two streams never mix within one.
 *
 * Owns: holding back the unterminated end of each chunk. Does not own: the files themselves
 * (see `log_file.ts`) or which stream gets an aligner (see `child_outputs.ts`).
 *
 * @module
 */
import { concat, NEWLINE } from "./bytes.ts";

/**
 * Holds back the unterminated end of each chunk so only whole lines are written, for files
 * that rotate or that both streams share. A partial line longer than `maxLine` is let through.
 */
export class LineAligner {
  readonly #maxLine: number;
  #partial: Uint8Array = new Uint8Array(0);

  constructor(maxLine = 64 * 1024) {
    this.#maxLine = maxLine;
  }

  /** The whole lines of what came so far, or null. */
  push(chunk: Uint8Array): Uint8Array | null {
    const data = this.#partial.length === 0 ? chunk : concat([this.#partial, chunk]);
    const last = data.lastIndexOf(NEWLINE);
    if (last < 0 && data.length <= this.#maxLine) {
      this.#partial = data.slice();
      return null;
    }
    const end = last < 0 ? data.length : last + 1;
    this.#partial = data.slice(end);
    // `data` may be the caller's reused buffer: what is returned is written before the next read.
    return data.subarray(0, end);
  }

  /** The unterminated rest, or null. */
  end(): Uint8Array | null {
    const rest = this.#partial;
    this.#partial = new Uint8Array(0);
    return rest.length === 0 ? null : rest;
  }
}
