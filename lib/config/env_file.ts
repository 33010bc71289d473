/**
 * A child's `env_file`: environment variables in dotenv form, read when the child starts.
 *
 * The format, exactly:
 *
 * - One `NAME=VALUE` per line. NAME is a letter or `_`, then letters, digits or `_`. Spaces or
 *   tabs may surround the `=`; an `export ` before NAME is allowed and ignored.
 * - Blank lines, and lines whose first non-blank character is `#`, are skipped. Lines may end
 *   in CRLF.
 * - A VALUE that starts with `'` runs to the next `'`, taken literally. One that starts with `"`
 *   runs to the next unescaped `"`; inside, `\n`, `\t`, `\r`, `\"` and `\\` are escapes, and any
 *   other backslash is an error. After the closing quote only blanks and a `#` comment may
 *   follow. A quoted value cannot span lines (write `\n` in double quotes).
 * - Any other VALUE is the rest of the line, up to a `#` that follows a blank (a comment),
 *   without the blanks around it. Quotes and backslashes inside it are literal.
 * - Nothing is expanded: `$OTHER`, `${OTHER}`, `~` and backquotes stay as written.
 * - A name given twice: the later line wins.
 *
 * Owns: that format, its errors (`FILE:LINE:COL: what`), and reading several files in order,
 * later ones overriding earlier ones, asynchronously and never past 1 MiB each. Does not own:
 * where the files are (the child config resolves them) or how they merge with `env` (see
 * `lib/process/spawn_spec.ts`).
 *
 * @module
 */
import { ConfigError, errorMessage } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";
import { fileSource, MAX_CONFIG_BYTES } from "./config_source.ts";
import type { ConfigSource } from "./config_source.ts";

const ASSIGNMENT = /^([ \t]*)(export[ \t]+)?([^=\s]*)[ \t]*=/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  t: "\t",
  r: "\r",
  '"': '"',
  "\\": "\\",
};

/**
 * The variables of an env file's `text`; every malformed line is reported, with `file`, its
 * line and column, in one {@link ConfigError}.
 */
export function parseEnvFile(file: string, text: string): Record<string, string> {
  const env: Record<string, string> = {};
  const problems: ConfigProblem[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const fail = (col: number, message: string) =>
      problems.push({ file, line: index + 1, col, message });
    const trimmed = line.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const match = ASSIGNMENT.exec(line);
    if (!match) {
      fail(line.length - trimmed.length + 1, `expected NAME=VALUE, found ${show(line)}`);
      return;
    }
    const [head, indent = "", exported = "", name = ""] = match;
    const nameCol = indent.length + exported.length + 1;
    if (!VARIABLE.test(name)) {
      fail(
        nameCol,
        name === ""
          ? `expected a variable name before "=", found ${show(line)}`
          : `${
            show(name)
          } is not a valid variable name: expected a letter or "_", then letters, digits or "_"`,
      );
      return;
    }
    const value = parseValue(line.slice(head.length), head.length + 1);
    if (typeof value === "string") {
      if (value.includes("\0")) {
        fail(head.length + 1, `the value of ${name} contains a NUL character`);
        return;
      }
      env[name] = value;
    } else {
      fail(value.col, value.problem);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return env;
}

/**
 * The variables of the env files at `paths`, read in order, a later file overriding an earlier
 * one. A file that is missing, unreadable, over 1 MiB or malformed throws, naming it.
 */
export async function readEnvFiles(
  paths: readonly string[],
  source: ConfigSource = fileSource,
): Promise<Record<string, string>> {
  const texts = await Promise.all(paths.map((path) => readEnvText(path, source)));
  const env: Record<string, string> = {};
  texts.forEach((text, index) => Object.assign(env, parseEnvFile(paths[index]!, text)));
  return env;
}

async function readEnvText(path: string, source: ConfigSource): Promise<string> {
  let text;
  try {
    text = await source.readText(path, MAX_CONFIG_BYTES);
  } catch (error) {
    // A plain Error, never Deno.errors.NotFound: a start reports that one as "command not found".
    const why = error instanceof Deno.errors.NotFound
      ? "it does not exist"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : errorMessage(error);
    throw new Error(`env_file ${JSON.stringify(path)} cannot be read: ${why}`, { cause: error });
  }
  if (typeof text !== "string") {
    throw new Error(
      `env_file ${
        JSON.stringify(path)
      } is ${text.oversized} bytes, over the limit of ${MAX_CONFIG_BYTES} bytes (1 MiB); it was not read`,
    );
  }
  return text;
}

/** The value at the start of `rest` (column `col` of its line), or where and why it is wrong. */
function parseValue(
  afterEquals: string,
  colAfterEquals: number,
): string | { col: number; problem: string } {
  const blanks = /^[ \t]*/.exec(afterEquals)![0].length;
  const rest = afterEquals.slice(blanks);
  const col = colAfterEquals + blanks;
  const quote = rest[0];
  if (quote !== "'" && quote !== '"') {
    // A "#" starts a comment after a blank only, so that `KEY= # note` is empty and `KEY=#1` is "#1".
    const comment = /\s#/.exec(afterEquals);
    return (comment ? afterEquals.slice(0, comment.index) : afterEquals).trim();
  }
  let value = "";
  let end = -1;
  for (let i = 1; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === quote) {
      end = i;
      break;
    }
    if (c === "\\" && quote === '"') {
      const next = rest[i + 1];
      const escaped = next === undefined ? undefined : ESCAPES[next];
      if (escaped === undefined) {
        return {
          col: col + i,
          problem: `unknown escape "\\${
            next ?? ""
          }" in double quotes: only \\n, \\t, \\r, \\" and \\\\ are escapes (use single quotes for a literal backslash)`,
        };
      }
      value += escaped;
      i++;
      continue;
    }
    value += c;
  }
  if (end < 0) {
    const kind = quote === "'" ? "single" : "double";
    return {
      col,
      problem: `unterminated ${kind} quote: a quoted value must end on the same line`,
    };
  }
  const after = rest.slice(end + 1);
  if (!/^\s*(#.*)?$/.test(after)) {
    return {
      col: col + end + 1,
      problem: `unexpected text after the closing quote: ${show(after.trim())}`,
    };
  }
  return value;
}

function show(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
