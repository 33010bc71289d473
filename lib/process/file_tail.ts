/**
 * The last lines of a file, read from its end in blocks: `log NAME` for children whose output
 * goes to a file. Reads at most `maxBytes`, however long the file.
 *
 * @module
 */

const BLOCK = 64 * 1024;
const decoder = new TextDecoder();

/** Where to stop reading, and what to keep. */
export interface TailOptions {
  /** Read the file as if it ended here (bytes); default: its size now. */
  readonly end?: number | undefined;
  /** Leave out an unterminated last line. */
  readonly complete?: boolean;
  /** Read at most this many bytes from the end. */
  readonly maxBytes?: number;
}

/** The last `count` lines of `path` (without newlines), oldest first. */
export async function readLastLines(
  path: string,
  count: number,
  options: TailOptions = {},
): Promise<string[]> {
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  if (count <= 0) return [];
  using file = await Deno.open(path, { read: true });
  const size = Math.min(options.end ?? Infinity, (await file.stat()).size);
  let position = size;
  let newlines = 0;
  const blocks: Uint8Array[] = [];
  while (position > 0 && size - position < maxBytes && newlines <= count) {
    const length = Math.min(BLOCK, position);
    position -= length;
    await file.seek(position, Deno.SeekMode.Start);
    const block = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const n = await file.read(block.subarray(read));
      if (n === null) break;
      read += n;
    }
    blocks.unshift(block.subarray(0, read));
    for (let i = 0; i < read; i++) if (block[i] === 0x0a) newlines++;
  }
  const total = blocks.reduce((sum, b) => sum + b.length, 0);
  const all = new Uint8Array(total);
  let offset = 0;
  for (const block of blocks) {
    all.set(block, offset);
    offset += block.length;
  }
  const lines = decoder.decode(all).split("\n");
  if (lines[lines.length - 1] === "" || options.complete) lines.pop();
  // Unless the file was read from its start, the first line may be partial.
  if (position > 0) lines.shift();
  return lines.slice(-count);
}
