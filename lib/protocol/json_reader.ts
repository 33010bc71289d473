/**
 * Reading a decoded JSON value field by field with its type checked, for the client's
 * validating decoders: a wrong field throws a {@link WireFormatError} naming its path
 * (`children[3].pid`), never a TypeError from deep inside a renderer.
 *
 * Owns: the checks. Does not own: which fields a payload has (see `payloads.ts`).
 *
 * @module
 */
import { WireFormatError } from "../errors.ts";

/** One JSON object being read, with the path that led to it. */
export class JsonReader {
  readonly path: string;
  readonly #record: Readonly<Record<string, unknown>>;

  constructor(value: unknown, path = "data") {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new WireFormatError(path, "an object", value);
    }
    this.path = path;
    this.#record = value as Record<string, unknown>;
  }

  #at(key: string): string {
    return `${this.path}.${key}`;
  }

  /** Whether `key` is present (and not undefined). */
  has(key: string): boolean {
    return this.#record[key] !== undefined;
  }

  /** The raw value of `key`. */
  raw(key: string): unknown {
    return this.#record[key];
  }

  string(key: string): string {
    const value = this.#record[key];
    if (typeof value !== "string") throw new WireFormatError(this.#at(key), "a string", value);
    return value;
  }

  number(key: string): number {
    const value = this.#record[key];
    if (typeof value !== "number") throw new WireFormatError(this.#at(key), "a number", value);
    return value;
  }

  boolean(key: string): boolean {
    const value = this.#record[key];
    if (typeof value !== "boolean") {
      throw new WireFormatError(this.#at(key), "true or false", value);
    }
    return value;
  }

  stringOrNull(key: string): string | null {
    return this.#record[key] === null ? null : this.string(key);
  }

  numberOrNull(key: string): number | null {
    return this.#record[key] === null ? null : this.number(key);
  }

  /** One of `allowed`. */
  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const value = this.#record[key];
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      throw new WireFormatError(this.#at(key), `one of ${allowed.join(", ")}`, value);
    }
    return value as T;
  }

  /** A nested object. */
  object(key: string): JsonReader {
    return new JsonReader(this.#record[key], this.#at(key));
  }

  /** A nested object or null. */
  objectOrNull(key: string): JsonReader | null {
    return this.#record[key] === null ? null : this.object(key);
  }

  /** A list, each element read by `item`. */
  list<T>(key: string, item: (value: unknown, path: string) => T): T[] {
    const value = this.#record[key];
    if (!Array.isArray(value)) throw new WireFormatError(this.#at(key), "a list", value);
    return value.map((element, i) => item(element, `${this.#at(key)}[${i}]`));
  }

  /** A list of strings. */
  strings(key: string): string[] {
    return this.list(key, (value, path) => {
      if (typeof value !== "string") throw new WireFormatError(path, "a string", value);
      return value;
    });
  }

  /** A map of numbers (`counts`). */
  numbers(key: string): Record<string, number> {
    const nested = this.object(key);
    const out: Record<string, number> = {};
    for (const name of Object.keys(nested.#record)) out[name] = nested.number(name);
    return out;
  }
}
