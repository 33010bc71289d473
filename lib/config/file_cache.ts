/**
 * Re-reading configuration at every operation without re-parsing files that did not change.
 *
 * A file is read at each call (config files are small); it is parsed again only when its text
 * differs from the last reading. Comparing text rather than timestamps means a rewrite is seen
 * however fast it follows the last read. Results and failures are both cached, so a broken file
 * is reported the same way each time without being parsed again.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { fileSource, MAX_CONFIG_BYTES } from "./config_source.ts";
import type { ConfigSource } from "./config_source.ts";

interface Entry<T> {
  readonly text: string;
  readonly result: { ok: true; value: T } | { ok: false; error: unknown };
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
  async read(path: string): Promise<T> {
    const text = await this.#source.readText(path, MAX_CONFIG_BYTES);
    if (typeof text !== "string") throw oversized(path, text.oversized);
    return this.#remember(path, text);
  }

  #remember(path: string, text: string): T {
    const cached = this.#entries.get(path);
    if (cached && cached.text === text) {
      if (cached.result.ok) return cached.result.value;
      throw cached.result.error;
    }
    let entry: Entry<T>;
    try {
      entry = { text, result: { ok: true, value: this.#parse(path, text) } };
    } catch (error) {
      entry = { text, result: { ok: false, error } };
    }
    if (this.#entries.size >= this.#limit) this.#entries.clear();
    this.#entries.set(path, entry);
    if (entry.result.ok) return entry.result.value;
    throw entry.result.error;
  }
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
