/**
 * The last bytes a child wrote to one stream, kept in memory so its recent lines can be shown
 * (`log NAME` for children without an output file, crash context in `check NAME`).
 *
 * Costs one copy of what is kept per chunk and nothing per line: lines are found only when
 * someone asks.
 *
 * @module
 */

/** Default bytes kept per stream. */
export const TAIL_BYTES = 64 * 1024;

const decoder = new TextDecoder();

/** A bounded window on the end of a byte stream. */
export class ByteTail {
  readonly #capacity: number;
  #chunks: Uint8Array[] = [];
  #size = 0;
  /** Whether bytes were dropped from the front (the first line kept may be partial). */
  #cut = false;

  constructor(capacity = TAIL_BYTES) {
    this.#capacity = capacity;
  }

  /** Appends a copy of `bytes`, dropping the oldest bytes beyond the capacity. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const kept = bytes.length > this.#capacity
      ? bytes.subarray(bytes.length - this.#capacity)
      : bytes;
    if (kept !== bytes) this.#cut = true;
    this.#chunks.push(kept.slice());
    this.#size += kept.length;
    while (this.#size - this.#chunks[0]!.length >= this.#capacity) {
      this.#size -= this.#chunks.shift()!.length;
      this.#cut = true;
    }
  }

  /** Marks the end of a run: a partial last line is ended, so runs never share a line. */
  endRun(): void {
    const last = this.#chunks[this.#chunks.length - 1];
    if (last && last[last.length - 1] !== 0x0a) this.push(Uint8Array.of(0x0a));
  }

  /** The last `count` lines (without newlines), oldest first. */
  lines(count: number): string[] {
    if (count <= 0 || this.#size === 0) return [];
    const all = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    let start = 0;
    const overflow = this.#size > this.#capacity ? this.#size - this.#capacity : 0;
    if (this.#cut || overflow > 0) {
      // The first line may have lost its beginning: skip it.
      const newline = all.indexOf(0x0a, overflow);
      start = newline < 0 ? all.length : newline + 1;
    }
    const text = decoder.decode(all.subarray(start));
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-count);
  }
}
