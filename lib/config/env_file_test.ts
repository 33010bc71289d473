import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";
import { parseEnvFile, readEnvFiles } from "./env_file.ts";

const FILE = "/srv/web.env";

function problemsOf(text: string): readonly ConfigProblem[] {
  try {
    parseEnvFile(FILE, text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

Deno.test("an env file holds NAME=VALUE lines, comments, blank lines and export prefixes", () => {
  const text = [
    "# database",
    "",
    "DB_HOST=db.internal",
    "  export DB_PORT = 5432  ",
    "\tEMPTY=",
    "export=yes",
    "WITH_SPACES=a b  c",
    "DB_HOST=db2.internal",
  ].join("\n");
  assert.deepEqual(parseEnvFile(FILE, text), {
    DB_HOST: "db2.internal",
    DB_PORT: "5432",
    EMPTY: "",
    export: "yes",
    WITH_SPACES: "a b  c",
  });
});

Deno.test("an unquoted value ends at a # after a blank; quotes and backslashes in it are literal", () => {
  assert.deepEqual(
    parseEnvFile(FILE, 'A=x # note\nB=#1\nC=a#b\nD= # nothing\nE=it\'s \\n "so"\n'),
    { A: "x", B: "#1", C: "a#b", D: "", E: 'it\'s \\n "so"' },
  );
});

Deno.test('single quotes are literal; double quotes know \\n \\t \\r \\" and \\\\', () => {
  const text = [
    "SINGLE='a \"b\" \\n $HOME # not a comment'",
    'DOUBLE="line1\\nline2\\t\\"q\\" \\\\ $HOME"   # comment',
    "EMPTY_SINGLE=''",
    'EMPTY_DOUBLE=""',
    "CRLF='x'\r",
    "  SPACED =  'kept  '",
  ].join("\n");
  assert.deepEqual(parseEnvFile(FILE, text), {
    SINGLE: 'a "b" \\n $HOME # not a comment',
    DOUBLE: 'line1\nline2\t"q" \\ $HOME',
    EMPTY_SINGLE: "",
    EMPTY_DOUBLE: "",
    CRLF: "x",
    SPACED: "kept  ",
  });
});

Deno.test("nothing is expanded", () => {
  assert.deepEqual(parseEnvFile(FILE, "A=$HOME/x\nB=${USER}\nC=~/y\nD=`date`\n"), {
    A: "$HOME/x",
    B: "${USER}",
    C: "~/y",
    D: "`date`",
  });
});

Deno.test("every malformed line is reported with the file, line and column", () => {
  const text = [
    "OK=1",
    "just words",
    "1BAD=x",
    "BAD-NAME=x",
    "=x",
    "Q='open",
    'D="bad \\x escape"',
    "T='a' b",
    'U="never closed',
  ].join("\n");
  assert.deepEqual(problemsOf(text), [
    { file: FILE, line: 2, col: 1, message: 'expected NAME=VALUE, found "just words"' },
    {
      file: FILE,
      line: 3,
      col: 1,
      message: '"1BAD" is not a valid variable name: expected a letter or "_", then letters, ' +
        'digits or "_"',
    },
    {
      file: FILE,
      line: 4,
      col: 1,
      message: '"BAD-NAME" is not a valid variable name: expected a letter or "_", then letters, ' +
        'digits or "_"',
    },
    { file: FILE, line: 5, col: 1, message: 'expected a variable name before "=", found "=x"' },
    {
      file: FILE,
      line: 6,
      col: 3,
      message: "unterminated single quote: a quoted value must end on the same line",
    },
    {
      file: FILE,
      line: 7,
      col: 8,
      message: 'unknown escape "\\x" in double quotes: only \\n, \\t, \\r, \\" and \\\\ are ' +
        "escapes (use single quotes for a literal backslash)",
    },
    {
      file: FILE,
      line: 8,
      col: 6,
      message: 'unexpected text after the closing quote: "b"',
    },
    {
      file: FILE,
      line: 9,
      col: 3,
      message: "unterminated double quote: a quoted value must end on the same line",
    },
  ]);
});

Deno.test("the rendered error reads FILE:LINE:COL: what", () => {
  assert.throws(
    () => parseEnvFile(FILE, "A=1\nexport\n"),
    (error: Error) => error.message === '/srv/web.env:2:1: expected NAME=VALUE, found "export"',
  );
});

Deno.test("env files are read in order, later ones overriding earlier ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "env-file-test-" });
  try {
    const common = join(dir, "common.env");
    const web = join(dir, "web.env");
    await Deno.writeTextFile(common, "A=common\nB=common\n");
    await Deno.writeTextFile(web, "B=web\nC=web\n");
    assert.deepEqual(await readEnvFiles([common, web]), { A: "common", B: "web", C: "web" });
    assert.deepEqual(await readEnvFiles([web, common]), { A: "common", B: "common", C: "web" });
    assert.deepEqual(await readEnvFiles([]), {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing env file is an error naming it, and not a NotFound", async () => {
  const missing = "/nonexistent/supervisor-ts/web.env";
  await assert.rejects(
    readEnvFiles([missing]),
    (error: Error) =>
      !(error instanceof Deno.errors.NotFound) &&
      error.message === `env_file "${missing}" cannot be read: it does not exist`,
  );
});

Deno.test("an env file over 1 MiB is not read", async () => {
  const source = {
    readText: () => Promise.resolve({ oversized: 2_000_000 }),
    isFile: () => Promise.resolve(true),
    list: () => Promise.resolve([]),
    modifiedAt: () => Promise.resolve(undefined),
  };
  await assert.rejects(
    readEnvFiles(["/big.env"], source),
    /^Error: env_file "\/big.env" is 2000000 bytes, over the limit of 1048576 bytes \(1 MiB\); it was not read$/,
  );
});
