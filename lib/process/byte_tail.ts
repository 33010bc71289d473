/**
 * The last bytes a child wrote to one stream, kept in memory so its recent lines can be shown
 * (`log NAME` for children without an output file, crash context in `check NAME`).
 *
 * A fixed ring: a push copies at most the ring's size and allocates nothing, so a fast writer
 * costs little; lines are found only when someone asks.
 *
 * @module
 */

/** Default bytes kept per stream. */
export const TAIL_BYTES = 64 * 1024;

const decoder = new TextDecoder();

/** Bytes a tail starts with; it grows to its capacity only for children that write that much. */
const INITIAL_BYTES = 1024;

const EMPTY = new Uint8Array(0);

/** A bounded window on the end of a byte stream. */
export class ByteTail {
  readonly #capacity: number;
  #ring: Uint8Array;
  /** Where the next byte goes. */
  #head = 0;
  /** Bytes held (at most the ring's size). */
  #size = 0;
  /** Whether bytes were ever dropped from the front (the oldest line kept may be partial). */
  #cut = false;
  #lastByte = -1;
  /** Bytes pushed since the tail was made (a mark for {@link linesSince}). */
  #total = 0;

  constructor(capacity = TAIL_BYTES) {
    this.#capacity = capacity;
    // Allocated at the first push: a child that never writes holds no ring.
    this.#ring = EMPTY;
  }

  /** Appends `bytes`, dropping the oldest bytes beyond the capacity. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#total += bytes.length;
    if (this.#size + bytes.length > this.#ring.length && this.#ring.length < this.#capacity) {
      this.#grow(this.#size + bytes.length);
    }
    const capacity = this.#ring.length;
    this.#lastByte = bytes[bytes.length - 1]!;
    let data = bytes;
    if (data.length >= capacity) {
      data = data.subarray(data.length - capacity);
      this.#ring.set(data);
      this.#head = 0;
      this.#cut ||= bytes.length > capacity || this.#size > 0;
      this.#size = capacity;
      return;
    }
    const first = Math.min(data.length, capacity - this.#head);
    this.#ring.set(data.subarray(0, first), this.#head);
    if (first < data.length) this.#ring.set(data.subarray(first), 0);
    this.#head = (this.#head + data.length) % capacity;
    if (this.#size + data.length > capacity) this.#cut = true;
    this.#size = Math.min(capacity, this.#size + data.length);
  }

  /** A larger ring (up to the capacity) holding what is kept, oldest first. */
  #grow(needed: number): void {
    let length = Math.max(this.#ring.length, Math.min(this.#capacity, INITIAL_BYTES));
    while (length < needed && length < this.#capacity) length *= 2;
    const ring = new Uint8Array(Math.min(length, this.#capacity));
    ring.set(this.#contents());
    this.#ring = ring;
    this.#head = this.#size % ring.length;
  }

  /** What is kept, oldest first, as one array. */
  #contents(): Uint8Array {
    const capacity = this.#ring.length;
    const start = (this.#head - this.#size + capacity) % capacity;
    const all = new Uint8Array(this.#size);
    const first = Math.min(this.#size, capacity - start);
    all.set(this.#ring.subarray(start, start + first));
    if (first < this.#size) all.set(this.#ring.subarray(0, this.#size - first), first);
    return all;
  }

  /** Marks the end of a run: a partial last line is ended, so runs never share a line. */
  endRun(): void {
    if (this.#size > 0 && this.#lastByte !== 0x0a) this.push(Uint8Array.of(0x0a));
  }

  /** How many bytes were pushed so far: a mark to read {@link linesSince}. */
  get written(): number {
    return this.#total;
  }

  /** The last `count` lines of what was pushed after `mark` (a value of {@link written}). */
  linesSince(mark: number, count: number): string[] {
    const fresh = this.#total - mark;
    if (fresh <= 0 || count <= 0) return [];
    if (fresh >= this.#size) return this.lines(count);
    const all = this.#contents();
    const lines = decoder.decode(all.subarray(all.length - fresh)).split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-count);
  }

  /**
   * The last `count` lines (without newlines), oldest first; with `complete`, an unterminated
   * last line is left out (a follower will get it whole).
   */
  lines(count: number, complete = false): string[] {
    if (count <= 0 || this.#size === 0) return [];
    const all = this.#contents();
    let from = 0;
    if (this.#cut) {
      // The oldest line may have lost its beginning: skip it.
      const newline = all.indexOf(0x0a);
      from = newline < 0 ? all.length : newline + 1;
    }
    const lines = decoder.decode(all.subarray(from)).split("\n");
    if (lines[lines.length - 1] === "" || complete) lines.pop();
    return lines.slice(-count);
  }
}
