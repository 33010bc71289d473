/**
 * Where configuration files come from: the file system for the server, memory for unit tests.
 *
 * Every call is asynchronous, so a slow or hung file system delays only the requests that need
 * a file, never the control port; and a file is never read past {@link MAX_CONFIG_BYTES}.
 *
 * Owns: the few questions the config layer asks of files and directories, and the size limit.
 * Does not own: what the files mean.
 *
 * @module
 */

/** The largest config file (server.yml, a child file, a public key) the server reads. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** A directory entry, as a loadpath scan needs it. */
export interface SourceEntry {
  readonly name: string;
  readonly isDirectory: boolean;
}

/** A file too large to be a config file. */
export interface Oversized {
  readonly oversized: number;
}

/**
 * What tells a file's versions apart without reading it: its inode, size and times (ctime
 * changes with every write or rename, and cannot be set back).
 */
export interface FileStamp {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** The file system as the config layer sees it. */
export interface ConfigSource {
  /**
   * The text of `path`, or its size when that is over `maxBytes` (it is not read then); throws
   * Deno.errors.NotFound when it does not exist.
   */
  readText(path: string, maxBytes: number): Promise<string | Oversized>;
  /** Whether `path` is a regular file. */
  isFile(path: string): Promise<boolean>;
  /**
   * The stamp of file `path`; undefined when it is missing or the source cannot tell (then the
   * file is read every time).
   */
  stamp?(path: string): Promise<FileStamp | undefined>;
  /** The entries of directory `dir`; throws Deno.errors.NotFound when it does not exist. */
  list(dir: string): Promise<SourceEntry[]>;
  /** When directory `dir` last changed (ms since the epoch), or undefined when it is missing. */
  modifiedAt(dir: string): Promise<number | undefined>;
}

const decoder = new TextDecoder();

/** The real file system. */
export const fileSource: ConfigSource = {
  async readText(path, maxBytes) {
    using file = await Deno.open(path, { read: true });
    const size = (await file.stat()).size;
    if (size > maxBytes) return { oversized: size };
    // Read at most one byte past the limit: a file that grew since the stat is caught too.
    const buffer = new Uint8Array(Math.min(size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = await file.read(buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
    if (length > maxBytes) return { oversized: length };
    return decoder.decode(buffer.subarray(0, length));
  },
  async stamp(path) {
    try {
      const info = await Deno.stat(path);
      if (!info.isFile || info.ino === null || info.ctime === null || info.mtime === null) {
        return undefined;
      }
      return {
        ino: info.ino,
        size: info.size,
        mtimeMs: info.mtime.getTime(),
        ctimeMs: info.ctime.getTime(),
      };
    } catch {
      return undefined;
    }
  },
  async isFile(path) {
    try {
      return (await Deno.stat(path)).isFile;
    } catch {
      return false;
    }
  },
  async list(dir) {
    const entries: SourceEntry[] = [];
    for await (const e of Deno.readDir(dir)) {
      entries.push({ name: e.name, isDirectory: e.isDirectory });
    }
    return entries;
  },
  async modifiedAt(dir) {
    try {
      return (await Deno.stat(dir)).mtime?.getTime() ?? Date.now();
    } catch {
      return undefined;
    }
  },
};
