/**
 * Where configuration files come from: the file system for the server, memory for unit tests.
 *
 * Owns: the few questions the config layer asks of files and directories. Does not own: what
 * the files mean.
 *
 * @module
 */

/** A directory entry, as a loadpath scan needs it. */
export interface SourceEntry {
  readonly name: string;
  readonly isDirectory: boolean;
}

/** The file system as the config layer sees it. */
export interface ConfigSource {
  /** The text of `path`; throws Deno.errors.NotFound when it does not exist. */
  readText(path: string): string;
  /** Whether `path` is a regular file. */
  isFile(path: string): boolean;
  /** The entries of directory `dir`; throws Deno.errors.NotFound when it does not exist. */
  list(dir: string): SourceEntry[];
  /** When directory `dir` last changed (ms since the epoch), or undefined when it is missing. */
  modifiedAt(dir: string): number | undefined;
}

/** The real file system. */
export const fileSource: ConfigSource = {
  readText: (path) => Deno.readTextFileSync(path),
  isFile(path) {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  },
  list: (dir) =>
    [...Deno.readDirSync(dir)].map((e) => ({ name: e.name, isDirectory: e.isDirectory })),
  modifiedAt(dir) {
    try {
      return Deno.statSync(dir).mtime?.getTime() ?? Date.now();
    } catch {
      return undefined;
    }
  },
};
