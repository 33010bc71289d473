/**
 * Named validators that turn `unknown` YAML data into typed values, collecting every problem
 * with its file, line and column.
 *
 * Each validator returns the typed value, or `undefined` after recording a problem; callers
 * read `problems` at the end and throw one {@link ConfigError} naming all of them.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";
import type { YamlPath, YamlSource } from "./yaml_source.ts";
import { suggest } from "../suggest.ts";

/** Quotes a value the way messages show it: strings in double quotes, the rest as JSON. */
export function quote(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "nothing";
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}

/** Collects problems against one YAML source. */
export class Checker {
  readonly source: YamlSource;
  readonly problems: ConfigProblem[] = [];

  constructor(source: YamlSource) {
    this.source = source;
  }

  /** Records a problem at the value (or, with `atKey`, the key) found at `path`. */
  fail(path: YamlPath, message: string, atKey = false): undefined {
    const at = this.source.locate(path, atKey);
    this.problems.push({ file: this.source.file, line: at?.line, col: at?.col, message });
    return undefined;
  }

  /** Throws one error naming every problem recorded, if there is any. */
  throwIfProblems(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  /** A mapping with any keys. */
  record(
    value: unknown,
    path: YamlPath,
    what: string,
  ): Readonly<Record<string, unknown>> | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return this.fail(path, `${what} must be a mapping of keys to values, found ${quote(value)}`);
    }
    return value as Record<string, unknown>;
  }

  /** A mapping whose keys are all in `allowed`; unknown keys are problems with a suggestion. */
  map(
    value: unknown,
    path: YamlPath,
    what: string,
    allowed: readonly string[],
  ): Readonly<Record<string, unknown>> | undefined {
    const record = this.record(value, path, what);
    if (!record) return undefined;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        const close = suggest(key, allowed);
        const hint = close ? ` (did you mean "${close}"?)` : "";
        this.fail(
          [...path, key],
          `unknown key ${quote(key)} in ${what}${hint}; expected one of: ${allowed.join(", ")}`,
          true,
        );
      }
    }
    return record;
  }

  /** A non-empty string. */
  string(value: unknown, path: YamlPath, what: string): string | undefined {
    if (typeof value !== "string" || value.length === 0) {
      return this.fail(path, `${what} must be a non-empty string, found ${quote(value)}`);
    }
    return value;
  }

  /** A string, number or boolean, as a string (environment values, for instance). */
  scalarText(value: unknown, path: YamlPath, what: string): string | undefined {
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return this.fail(path, `${what} must be a string, number or boolean, found ${quote(value)}`);
  }

  /** A list of non-empty strings. */
  strings(value: unknown, path: YamlPath, what: string): string[] | undefined {
    if (!Array.isArray(value)) {
      return this.fail(path, `${what} must be a list, found ${quote(value)}`);
    }
    const out: string[] = [];
    value.forEach((item, index) => {
      const text = this.string(item, [...path, index], `each entry of ${what}`);
      if (text !== undefined) out.push(text);
    });
    return out;
  }

  /** A number within bounds (fractions allowed unless `integer`). */
  number(
    value: unknown,
    path: YamlPath,
    what: string,
    bounds: { min?: number; max?: number; integer?: boolean; minExclusive?: boolean },
  ): number | undefined {
    const { min, max, integer = false, minExclusive = false } = bounds;
    const kind = integer ? "a whole number" : "a number";
    const range = min !== undefined && max !== undefined
      ? minExclusive ? ` greater than ${min} and at most ${max}` : ` from ${min} to ${max}`
      : min !== undefined
      ? minExclusive ? ` greater than ${min}` : ` of at least ${min}`
      : "";
    if (
      typeof value !== "number" || !Number.isFinite(value) ||
      (integer && !Number.isInteger(value)) ||
      (min !== undefined && (minExclusive ? value <= min : value < min)) ||
      (max !== undefined && value > max)
    ) {
      return this.fail(path, `${what} must be ${kind}${range}, found ${quote(value)}`);
    }
    return value;
  }

  /** A boolean; YAML 1.1 words (`on`, `off`, `yes`, `no`) are accepted too, any case. */
  flag(value: unknown, path: YamlPath, what: string): boolean | undefined {
    if (typeof value === "boolean") return value;
    if (typeof value === "string") {
      const word = value.toLowerCase();
      if (["on", "true", "yes"].includes(word)) return true;
      if (["off", "false", "no"].includes(word)) return false;
    }
    return this.fail(path, `${what} must be on or off (or true/false), found ${quote(value)}`);
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(
    value: unknown,
    path: YamlPath,
    what: string,
    choices: readonly T[],
  ): T | undefined {
    if (typeof value === "string" && (choices as readonly string[]).includes(value)) {
      return value as T;
    }
    const close = typeof value === "string" ? suggest(value, choices) : undefined;
    const hint = close ? ` (did you mean "${close}"?)` : "";
    return this.fail(
      path,
      `${what} must be one of ${choices.join(", ")}, found ${quote(value)}${hint}`,
    );
  }
}
