/**
 * A {@link ConfigSource} held in memory, for unit tests of the server's operations: files are
 * set, changed and removed by path, and every change moves its directory's modification time.
 *
 * @module
 */
import { dirname } from "node:path";
import type { ConfigSource, Oversized, SourceEntry } from "../config/config_source.ts";

/** Config files in memory. */
export class MemoryConfigSource implements ConfigSource {
  readonly #files = new Map<string, string>();
  readonly #dirs = new Map<string, number>();
  #tick = 0;

  /** Creates or replaces the file at `path` (an absolute path). */
  write(path: string, text: string): void {
    this.#files.set(path, text);
    this.#touch(dirname(path));
  }

  /** Removes the file at `path`. */
  remove(path: string): void {
    this.#files.delete(path);
    this.#touch(dirname(path));
  }

  readText(path: string, maxBytes: number): Promise<string | Oversized> {
    const text = this.#files.get(path);
    if (text === undefined) {
      return Promise.reject(new Deno.errors.NotFound(`No such file: ${path}`));
    }
    const size = new TextEncoder().encode(text).length;
    return Promise.resolve(size > maxBytes ? { oversized: size } : text);
  }

  isFile(path: string): Promise<boolean> {
    return Promise.resolve(this.#files.has(path));
  }

  list(dir: string): Promise<SourceEntry[]> {
    try {
      return Promise.resolve(this.#list(dir));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  modifiedAt(dir: string): Promise<number | undefined> {
    return Promise.resolve(this.#dirs.get(dir));
  }

  #list(dir: string): SourceEntry[] {
    if (!this.#dirs.has(dir)) throw new Deno.errors.NotFound(`No such directory: ${dir}`);
    const prefix = dir.endsWith("/") ? dir : `${dir}/`;
    return [...this.#files.keys()]
      .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/"))
      .map((p) => ({ name: p.slice(prefix.length), isDirectory: false }));
  }

  #touch(dir: string): void {
    // Far in the past, so listings are reused until the next change; each change is distinct.
    this.#dirs.set(dir, ++this.#tick);
  }
}
