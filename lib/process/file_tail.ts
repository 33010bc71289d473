/**
 * The last lines of a file, read from its end in blocks: `log NAME` for children whose output
 * goes to a file. Reads at most `maxBytes`, however long the file. With rotated backups
 * ({@link readLastLinesAcross}), the lines the current file lacks come from the newest backup,
 * then the next older one, within the same byte bound.
 *
 * @module
 */

const BLOCK = 64 * 1024;
const NEWLINE = 0x0a;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const decoder = new TextDecoder();

/** Where to stop reading, and what to keep. */
export interface TailOptions {
  /** Read the (current) file as if it ended here (bytes); default: its size now. */
  readonly end?: number | undefined;
  /** Read the (current) file as if it began here (bytes): no line before it; default 0. */
  readonly start?: number | undefined;
  /** Leave out an unterminated last line of the (current) file. */
  readonly complete?: boolean;
  /** Read at most this many bytes from the end, over every file read. */
  readonly maxBytes?: number;
}

/** What one file gave. */
interface FileTail {
  /** Its last lines, oldest first, every one whole. */
  readonly lines: string[];
  /** Bytes read from it. */
  readonly bytes: number;
  /** Whether it was read from its start (there is nothing older in it). */
  readonly whole: boolean;
}

/** The last `count` lines of `path` (without newlines), oldest first. */
export async function readLastLines(
  path: string,
  count: number,
  options: TailOptions = {},
): Promise<string[]> {
  if (count <= 0) return [];
  using file = await Deno.open(path, { read: true });
  const { lines } = await tailOf(file, count, {
    end: options.end,
    start: options.start ?? 0,
    complete: options.complete ?? false,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
  });
  return lines;
}

/**
 * The last `count` lines of a file and of its rotated backups, oldest first: `paths` is the
 * current file, then its backups newest first (`web.log`, `web.log.1`, `web.log.2` …). An older
 * file is read only when every newer one was read whole and still gave too few lines; `end`
 * and `complete` apply to the current file, `maxBytes` to all the reading together. A backup
 * that does not exist ends the walk (older ones cannot be newer than it); a missing current
 * file throws NotFound, as for {@link readLastLines}, unless `end` is 0 (nothing of it is
 * wanted then). A backup that is the same file as one already read — a rotation happened
 * while they were being opened — is skipped, so no line comes twice.
 */
export async function readLastLinesAcross(
  paths: readonly string[],
  count: number,
  options: TailOptions = {},
): Promise<string[]> {
  if (count <= 0 || paths.length === 0) return [];
  // Opened newest first: a rotation in between makes a later path name a file already open,
  // which its inode tells; the file after it is then the next older one, as wanted.
  const files: Deno.FsFile[] = [];
  const seen = new Set<string>();
  try {
    for (const [i, path] of paths.entries()) {
      if (i === 0 && options.end === 0) continue;
      let file: Deno.FsFile;
      try {
        file = await Deno.open(path, { read: true });
      } catch (error) {
        if (i > 0 && error instanceof Deno.errors.NotFound) break;
        throw error;
      }
      const { dev, ino } = await file.stat();
      const id = `${dev}:${ino}`;
      if (ino !== null && seen.has(id)) {
        file.close();
        continue;
      }
      seen.add(id);
      files.push(file);
    }
    let budget = options.maxBytes ?? DEFAULT_MAX_BYTES;
    let wanted = count;
    const parts: string[][] = [];
    for (const [i, file] of files.entries()) {
      const current = i === 0 && options.end !== 0;
      const tail = await tailOf(file, wanted, {
        end: current ? options.end : undefined,
        start: current ? options.start ?? 0 : 0,
        complete: current ? options.complete ?? false : false,
        maxBytes: budget,
      });
      parts.unshift(tail.lines);
      wanted -= tail.lines.length;
      budget -= tail.bytes;
      if (!tail.whole || wanted <= 0 || budget <= 0) break;
    }
    return parts.flat();
  } finally {
    for (const file of files) file.close();
  }
}

/** The last `count` whole lines of an open file, reading at most `maxBytes` from its end. */
async function tailOf(
  file: Deno.FsFile,
  count: number,
  options: { end: number | undefined; start: number; complete: boolean; maxBytes: number },
): Promise<FileTail> {
  const size = Math.min(options.end ?? Infinity, (await file.stat()).size);
  const start = Math.min(options.start, size);
  const floor = Math.max(start, size - options.maxBytes);
  let position = size;
  let newlines = 0;
  const blocks: Uint8Array[] = [];
  while (position > floor && newlines <= count) {
    const length = Math.min(BLOCK, position - floor);
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
    for (let i = 0; i < read; i++) if (block[i] === NEWLINE) newlines++;
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
  if (position > start) lines.shift();
  return { lines: lines.slice(-count), bytes: size - position, whole: position === start };
}
