/**
 * Re-reading configuration at every operation without re-parsing files that did not change.
 *
 * A file is parsed again only when its text differs from the last reading, and read again
 * unless its stamp (inode, size, mtime, ctime) is the one it had then AND it had been settled
 * for {@link SETTLED_MS} when it was read: a rewrite within the timestamps' granularity of the
 * last read would keep the stamp, so a file that changed that recently is read every time until
 * it settles. Comparing text, not only stamps, means a rewrite is seen however fast it follows
 * the last read. Results and failures are both cached, so a broken file is reported the same
 * way each time without being parsed again.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { fileSource, MAX_CONFIG_BYTES } from "./config_source.ts";
import type { ConfigSource, FileStamp } from "./config_source.ts";

/** How long a file must have been unchanged, when read, for its stamp to be trusted after. */
export const SETTLED_MS = 2000;

interface Entry<T> {
  readonly text: string;
  readonly result: { ok: true; value: T } | { ok: false; error: unknown };
  /** The stamp taken before the text was read, when it may be trusted later. */
  readonly stamp: FileStamp | undefined;
  /** When the file was last read or its stamp checked (ms since the epoch). */
  checkedAt: number;
  /**
   * The share (from half to all) of a status's trust this check earns: drawn at each check, so
   * the files one status checked are not all due again at the same request.
   */
  share: number;
  /** Whether a later reading of the file took its place (or the cache was emptied). */
  superseded: boolean;
}

/**
 * A file's reading as the cache held it when asked ({@link ParsedFileCache.current}): asked
 * again with {@link ParsedFileCache.trustedReading}, without looking the file up.
 */
export interface CachedReading {
  readonly superseded: boolean;
}

/** A stat-validated cache of `parse(path, text)` results, bounded in size. */
export class ParsedFileCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #parse: (path: string, text: string) => T;
  readonly #limit: number;
  readonly #source: ConfigSource;

  constructor(
    parse: (path: string, text: string) => T,
    options: { readonly limit?: number; readonly source?: ConfigSource } = {},
  ) {
    this.#parse = parse;
    this.#limit = options.limit ?? 4096;
    this.#source = options.source ?? fileSource;
  }

  /**
   * The parsed content of `path`, parsed again only when its text changed. A file over
   * {@link MAX_CONFIG_BYTES} is a ConfigError naming the file and the limit (it is not read).
   */
  async read(path: string, options: { readonly trustMs?: number } = {}): Promise<T> {
    const cached = this.#entries.get(path);
    const trustMs = options.trustMs ?? 0;
    if (cached !== undefined && trusted(cached, trustMs)) return outcome(cached);
    const stamp = await this.#source.stamp?.(path);
    if (stamp && cached?.stamp && sameStamp(stamp, cached.stamp)) {
      cached.checkedAt = Date.now();
      cached.share = share();
      return outcome(cached);
    }
    const text = await this.#source.readText(path, MAX_CONFIG_BYTES);
    if (typeof text !== "string") throw oversized(path, text.oversized);
    // Taken before the read: a write after it changes the stamp, so the next call reads again.
    const settled = stamp && Date.now() - Math.max(stamp.ctimeMs, stamp.mtimeMs) > SETTLED_MS
      ? stamp
      : undefined;
    return this.#remember(path, text, settled);
  }

  /**
   * The parsed content of `path` without waiting, when a read with `trustMs` would take it as
   * checked (a status of many files in one go); undefined when it must be read, or its
   * reading failed (a read reports that). `now` (ms since the epoch) saves asking the clock
   * once per file when many are asked in one go.
   */
  trusted(path: string, trustMs: number, now = Date.now()): T | undefined {
    const cached = this.#entries.get(path);
    if (cached === undefined || !trusted(cached, trustMs, now) || !cached.result.ok) {
      return undefined;
    }
    return cached.result.value;
  }

  /**
   * The reading of `path` the cache holds now, to be asked with {@link trustedReading}; undefined
   * when it holds none.
   */
  current(path: string): CachedReading | undefined {
    return this.#entries.get(path);
  }

  /**
   * What {@link trusted} gives for the file of `reading`, when it is still the cache's reading
   * of it; undefined when it is not (ask {@link current} again), or as trusted says. `now`: ms
   * since the epoch.
   */
  trustedReading(reading: CachedReading, trustMs: number, now = Date.now()): T | undefined {
    const entry = reading as Entry<T>;
    if (entry.superseded || !trusted(entry, trustMs, now) || !entry.result.ok) return undefined;
    return entry.result.value;
  }

  #remember(path: string, text: string, stamp: FileStamp | undefined): T {
    const cached = this.#entries.get(path);
    const checkedAt = Date.now();
    if (cached && cached.text === text) {
      cached.superseded = true;
      this.#entries.set(path, { ...cached, stamp, checkedAt, share: share(), superseded: false });
      return outcome(cached);
    }
    let entry: Entry<T>;
    const checked = { text, stamp, checkedAt, share: share(), superseded: false };
    try {
      entry = { ...checked, result: { ok: true, value: this.#parse(path, text) } };
    } catch (error) {
      entry = { ...checked, result: { ok: false, error } };
    }
    if (this.#entries.size >= this.#limit) {
      for (const old of this.#entries.values()) old.superseded = true;
      this.#entries.clear();
    }
    if (cached !== undefined) cached.superseded = true;
    this.#entries.set(path, entry);
    if (entry.result.ok) return entry.result.value;
    throw entry.result.error;
  }
}

/**
 * Whether a status may take `entry` as checked: its stamp settled, and checked within its share
 * of `trustMs` (a status (check, /metrics) may take a settled file as checked for a while: a
 * thousand concurrent checks then cost a few stats, not one per child each).
 */
function trusted(entry: Entry<unknown>, trustMs: number, now = Date.now()): boolean {
  return entry.stamp !== undefined && trustMs > 0 && now - entry.checkedAt < trustMs * entry.share;
}

/** A share of the trust, from half to all of it. */
function share(): number {
  return 0.5 + Math.random() / 2;
}

function outcome<T>(entry: Entry<T>): T {
  if (entry.result.ok) return entry.result.value;
  throw entry.result.error;
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs;
}

function oversized(path: string, size: number): ConfigError {
  return new ConfigError([{
    file: path,
    line: undefined,
    col: undefined,
    message: `the file is ${size} bytes, over the limit of ${MAX_CONFIG_BYTES} bytes (${
      MAX_CONFIG_BYTES / 1024 / 1024
    } MiB) for a config file; it was not read`,
  }]);
}
