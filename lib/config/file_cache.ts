/**
 * Re-reading configuration at every operation without re-parsing files that did not change.
 *
 * A file is stat'ed at each read; the cached result is reused only while its size, modification
 * time and inode are the same. Results and failures are both cached, so a broken file is
 * reported the same way each time without being parsed again.
 *
 * @module
 */

interface Entry<T> {
  readonly stamp: string;
  readonly result: { ok: true; value: T } | { ok: false; error: unknown };
}

/** A stat-validated cache of `parse(path, text)` results, bounded in size. */
export class ParsedFileCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #parse: (path: string, text: string) => T;
  readonly #limit: number;

  constructor(parse: (path: string, text: string) => T, limit = 4096) {
    this.#parse = parse;
    this.#limit = limit;
  }

  /** The parsed content of `path`, read again only when the file changed. */
  read(path: string): T {
    const info = Deno.statSync(path);
    const stamp = `${info.size}:${info.mtime?.getTime() ?? 0}:${info.ino ?? 0}:${
      info.ctime?.getTime() ?? 0
    }`;
    const cached = this.#entries.get(path);
    if (cached && cached.stamp === stamp) {
      if (cached.result.ok) return cached.result.value;
      throw cached.result.error;
    }
    const text = Deno.readTextFileSync(path);
    let entry: Entry<T>;
    try {
      entry = { stamp, result: { ok: true, value: this.#parse(path, text) } };
    } catch (error) {
      entry = { stamp, result: { ok: false, error } };
    }
    if (this.#entries.size >= this.#limit) this.#entries.clear();
    this.#entries.set(path, entry);
    if (entry.result.ok) return entry.result.value;
    throw entry.result.error;
  }
}
