/**
 * Reading a YAML file into plain data while keeping the way back to line and column.
 *
 * Owns: YAML syntax errors (reported with their position) and locating a value or a key by its
 * path. Does not own: what the data means; validators in `checker.ts` and the config modules do.
 *
 * @module
 */
import { isMap, isScalar, LineCounter, parseDocument, visit } from "../deps.ts";
import type { Document } from "../deps.ts";
import { ConfigError, errorMessage } from "../errors.ts";

/** A path into parsed YAML: map keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/** A position in a file, 1-based. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** A parsed YAML file: its plain value, and positions of the nodes it came from. */
export class YamlSource {
  readonly file: string;
  readonly value: unknown;
  readonly #doc: Document;
  readonly #lines: LineCounter;

  private constructor(file: string, doc: Document, lines: LineCounter) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
    this.value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  }

  /** Parses `text`; a syntax error becomes a {@link ConfigError} naming `file`, line and column. */
  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    // The library's own duplicate-key check compares every key with every other (quadratic:
    // 23 s for a 40,000-key map); keys are checked here instead, with one set per map.
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
    if (doc.errors.length === 0) {
      const duplicates = duplicateKeys(doc);
      if (duplicates.length > 0) {
        throw new ConfigError(duplicates.map((offset) => {
          const at = lines.linePos(offset);
          return {
            file,
            line: at.line,
            col: at.col,
            message: "invalid YAML: Map keys must be unique",
          };
        }));
      }
    }
    if (doc.errors.length > 0) {
      throw new ConfigError(doc.errors.map((error) => {
        const at = error.linePos?.[0];
        const first = error.message.split("\n")[0] ?? error.message;
        return {
          file,
          line: at?.line,
          col: at?.col,
          message: `invalid YAML: ${first.replace(/ at line \d+, column \d+:?$/, "")}`,
        };
      }));
    }
    try {
      return new YamlSource(file, doc, lines);
    } catch (error) {
      throw new ConfigError([{
        file,
        line: undefined,
        col: undefined,
        message: `invalid YAML: ${errorMessage(error)}`,
      }], { cause: error });
    }
  }

  /** Where the value at `path` starts; with `key`, where its key in the parent map starts. */
  locate(path: YamlPath, key = false): Position | undefined {
    if (path.length === 0) return this.#at(this.#doc.contents?.range?.[0]);
    if (key) {
      const parent = path.length === 1
        ? this.#doc.contents
        : this.#doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const name = path[path.length - 1];
        for (const pair of parent.items) {
          if (isScalar(pair.key) && pair.key.value === name) return this.#at(pair.key.range?.[0]);
        }
      }
    }
    const node = this.#doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === "object" && node.range) return this.#at(node.range[0]);
    return path.length > 1 ? this.locate(path.slice(0, -1)) : undefined;
  }

  #at(offset: number | undefined): Position | undefined {
    return offset === undefined ? undefined : this.#lines.linePos(offset);
  }
}

/** Where each repeated key of a map starts (offsets), in one pass over the document. */
function duplicateKeys(doc: Document): number[] {
  const offsets: number[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) offsets.push((pair.key as { range?: [number] })?.range?.[0] ?? 0);
        else seen.add(key);
      }
    },
  });
  return offsets;
}
