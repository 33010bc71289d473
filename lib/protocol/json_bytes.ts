/**
 * JSON text written straight into bytes: a response line made of many kept parts (a status of
 * every child) is measured first, then written into one array of exactly its length, with no
 * list of its parts in between.
 *
 * Owns: the {@link JsonText} contract, and writing numbers and ASCII text as JSON writes them.
 * Does not own: what the parts are (`payloads.ts`) or the line around them (`messages.ts`).
 *
 * @module
 */

/** JSON text that writes itself: its length in bytes, then its bytes. */
export interface JsonText {
  /** Its length in bytes (UTF-8). */
  readonly byteLength: number;
  /** Writes its {@link byteLength} bytes into `bytes` at `at`; returns where they end. */
  writeTo(bytes: Uint8Array, at: number): number;
  /**
   * The whole line, `head`, this text and `tail`, in bytes of their own that were made ready
   * before they were asked for (a view of them); undefined when none are ready, and the line is
   * then written with {@link writeTo}.
   */
  line?(head: Uint8Array, tail: Uint8Array): Uint8Array | undefined;
  /**
   * A line {@link line} gave was written out in full, and nothing holds it any more: its bytes
   * may be written again for a later line.
   */
  written?(line: Uint8Array): void;
}

/** Whole numbers written digit by digit (JSON writes them without exponent up to 1e21). */
function isSmallWhole(n: number): boolean {
  return Number.isSafeInteger(n) && !Object.is(n, -0);
}

/** The length of `n` as JSON writes it (`null` for NaN and the infinities). */
export function numberLength(n: number): number {
  if (!isSmallWhole(n)) return JSON.stringify(n).length;
  let length = n < 0 ? 2 : 1;
  const size = Math.abs(n);
  for (let bound = 10; size >= bound; bound *= 10) length++;
  return length;
}

/** Writes `n` as JSON writes it at `at`; returns where it ends. */
export function writeNumber(bytes: Uint8Array, at: number, n: number): number {
  if (!isSmallWhole(n)) return writeAscii(bytes, at, JSON.stringify(n));
  if (n < 0) {
    bytes[at++] = 0x2d;
    n = -n;
  }
  const end = at + numberLength(n);
  let i = end;
  do {
    bytes[--i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return end;
}

/** Writes `text`, of ASCII characters only, at `at`; returns where it ends. */
export function writeAscii(bytes: Uint8Array, at: number, text: string): number {
  for (let k = 0; k < text.length; k++) bytes[at++] = text.charCodeAt(k);
  return at;
}
