/**
 * Prefixing every line of a byte stream, for children that write to the server's own stdout
 * and stderr: `web | listening on 8080`.
 *
 * Owns: cutting a stream into lines whatever its chunking, and cutting an overlong line into
 * pieces so memory stays bounded. Does not own: where the lines go (see `child_outputs.ts`).
 *
 * @module
 */
import { concat, NEWLINE } from "./bytes.ts";

const NEWLINE_BYTES = Uint8Array.of(NEWLINE);

/**
 * Splits a byte stream into lines and puts a prefix before each; a line longer than `maxLine`
 * is cut into several prefixed lines so memory stays bounded.
 */
export class LinePrefixer {
  readonly #prefix: Uint8Array;
  readonly #maxLine: number;
  #partial: Uint8Array = new Uint8Array(0);

  constructor(prefix: string, maxLine = 64 * 1024) {
    this.#prefix = new TextEncoder().encode(prefix);
    this.#maxLine = maxLine;
  }

  /**
   * The complete lines of `chunk` (with what was left from before), prefixed; or null. A line
   * longer than `maxLine` is cut into pieces of `maxLine` bytes, however it was chunked.
   */
  push(chunk: Uint8Array): Uint8Array | null {
    const data = this.#partial.length === 0 ? chunk : concat([this.#partial, chunk]);
    const pieces: Uint8Array[] = [];
    const emit = (from: number, to: number, newline: boolean) => {
      pieces.push(this.#prefix, data.subarray(from, to));
      if (newline) pieces.push(NEWLINE_BYTES);
    };
    let start = 0;
    for (;;) {
      const newline = data.indexOf(NEWLINE, start);
      if (newline < 0) break;
      while (newline - start > this.#maxLine) {
        emit(start, start + this.#maxLine, true);
        start += this.#maxLine;
      }
      emit(start, newline + 1, false);
      start = newline + 1;
    }
    // An unterminated rest longer than a line may be: cut what is certain to be a full piece.
    while (data.length - start > this.#maxLine) {
      emit(start, start + this.#maxLine, true);
      start += this.#maxLine;
    }
    this.#partial = data.slice(start);
    return pieces.length === 0 ? null : concat(pieces);
  }

  /** What is left of an unterminated last line, prefixed and ended with a newline; or null. */
  end(): Uint8Array | null {
    if (this.#partial.length === 0) return null;
    const out = concat([this.#prefix, this.#partial, NEWLINE_BYTES]);
    this.#partial = new Uint8Array(0);
    return out;
  }
}
