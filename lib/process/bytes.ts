/**
 * Byte helpers the line shapers share: the newline byte and joining chunks.
 *
 * Owns: nothing with state. Does not own: splitting streams into lines (see `line_prefixer.ts`
 * and `child_outputs.ts`).
 *
 * @module
 */

/** The byte that ends a line. */
export const NEWLINE = 0x0a;

/** One new array holding `parts` one after another. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
