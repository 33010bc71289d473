import assert from "node:assert/strict";
import { childData } from "../testing/wire_fixtures.ts";
import { join } from "node:path";
import { COMPLETE_CHILDREN, OPERATIONS, OPTIONS, SHELLS, WORDS } from "./args.ts";
import { childNamesOf, completionScript, PROGRAM } from "./completions.ts";
import { requirePrograms } from "../../tests/requires.ts";
import type { HostResult } from "./fanout.ts";
import { decodeChild } from "../protocol/payloads.ts";

const decoder = new TextDecoder();
const programs = requirePrograms(import.meta, ["zsh", "fish"]);

/** Runs `program args…` with `stdin`; returns its exit code and output. */
async function run(
  program: string,
  args: readonly string[],
  stdin = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(program, {
    args: [...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** How a script names a word: fish declares options as `--long-option NAME`. */
function spelling(shell: string, word: string): string {
  return shell === "fish" && word.startsWith("--") ? `--long-option ${word.slice(2)}` : word;
}

/** Whether `script` has `text` as a whole word. */
function hasWord(script: string, text: string): boolean {
  const escaped = text.replace(/[-.]/g, "\\$&");
  return new RegExp(`(^|[^A-Za-z0-9_-])${escaped}($|[^A-Za-z0-9_-])`, "m").test(script);
}

for (const shell of SHELLS) {
  Deno.test(`the ${shell} script mentions every operation, option and word of the parser`, () => {
    const script = completionScript(shell);
    const words = [
      ...OPERATIONS.map((o) => o.name),
      ...OPTIONS.map((o) => o.name),
      ...WORDS.map((w) => w.name),
    ];
    assert.ok(words.includes("completions") && words.includes("--follow"));
    for (const word of words) assert.ok(hasWord(script, spelling(shell, word)), word);
    assert.ok(hasWord(script, COMPLETE_CHILDREN), "asks the client for child names");
    assert.ok(hasWord(script, PROGRAM));
  });
}

Deno.test("the scripts know the short options that take a value, to skip their value", () => {
  for (const shell of SHELLS) {
    const script = completionScript(shell);
    for (const option of OPTIONS) {
      if ("short" in option && "value" in option) {
        const short = shell === "fish" ? `--short-option ${option.short.slice(1)}` : option.short;
        assert.ok(hasWord(script, short), `${shell}: ${option.short}`);
      }
    }
  }
});

Deno.test("the scripts name the shells that completions takes", () => {
  for (const shell of SHELLS) {
    for (const name of SHELLS) {
      assert.ok(completionScript(shell).includes(name), `${shell}: ${name}`);
    }
  }
});

Deno.test("the bash script passes bash -n", async () => {
  const result = await run("bash", ["-n"], completionScript("bash"));
  assert.equal(result.code, 0, result.stderr);
});

Deno.test({
  name: "the zsh script passes zsh -n",
  ignore: programs.skip("zsh"),
  async fn() {
    programs.check("zsh");
    const result = await run("zsh", ["-n"], completionScript("zsh"));
    assert.equal(result.code, 0, result.stderr);
  },
});

Deno.test({
  name: "the fish script passes fish -n",
  ignore: programs.skip("fish"),
  async fn() {
    programs.check("fish");
    const result = await run("fish", ["-n"], completionScript("fish"));
    assert.equal(result.code, 0, result.stderr);
  },
});

Deno.test("the zsh script starts with #compdef so it can be autoloaded from $fpath", () => {
  assert.match(completionScript("zsh"), /^#compdef supervisor-ts-client\n/);
});

Deno.test("a program name that cannot go into a script unquoted is refused", () => {
  assert.throws(() => completionScript("bash", "bad name;rm"), /Cannot put/);
});

/**
 * Runs the bash completion function for `words` (the last is the word being completed) with a
 * fake client that records its arguments and prints two child names.
 */
async function bashComplete(
  words: readonly string[],
  line?: string,
): Promise<{ replies: string[]; asked: string[] | undefined }> {
  const dir = await Deno.makeTempDir({ prefix: "completions-test-" });
  try {
    const fake = join(dir, "fake-client");
    const record = join(dir, "asked");
    await Deno.writeTextFile(
      fake,
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\nprintf 'alpha\\nbeta\\n'\n`,
    );
    await Deno.chmod(fake, 0o755);
    const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
    const script = [
      completionScript("bash"),
      `COMP_WORDS=(${[fake, ...words].map(quote).join(" ")})`,
      `COMP_CWORD=${words.length}`,
      ...(line === undefined ? [] : [
        `COMP_LINE=${quote(`${fake} ${line}`)}`,
        `COMP_POINT=\${#COMP_LINE}`,
      ]),
      `_supervisor_ts_client`,
      `printf '%s\\n' "\${COMPREPLY[@]}"`,
    ].join("\n");
    const result = await run("bash", ["-c", script]);
    assert.equal(result.code, 0, result.stderr);
    let asked: string[] | undefined;
    try {
      asked = (await Deno.readTextFile(record)).split("\n").filter((l) => l !== "");
    } catch {
      asked = undefined;
    }
    return { replies: result.stdout.split("\n").filter((l) => l !== ""), asked };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("bash completes operations and on/with as the first word", async () => {
  const { replies, asked } = await bashComplete(["st"]);
  assert.deepEqual(replies, ["start", "stop", "status"]);
  assert.equal(asked, undefined, "no server asked for an operation");
  assert.deepEqual(
    (await bashComplete([""])).replies,
    [...OPERATIONS.map((o) => o.name), "on", "with"],
  );
});

Deno.test("bash completes child names from the client, with the on and with words typed", async () => {
  const { replies, asked } = await bashComplete(["on", "h1:4000", "with", "k.pem", "log", ""]);
  assert.deepEqual(replies, ["alpha", "beta"]);
  assert.deepEqual(asked, [COMPLETE_CHILDREN, "on", "h1:4000", "with", "k.pem"]);
});

Deno.test("bash glues back a host:port that COMP_WORDBREAKS split", async () => {
  const { asked } = await bashComplete(
    ["restart", "on", "127.0.0.1", ":", "4000", ""],
    "restart on 127.0.0.1:4000 ",
  );
  assert.deepEqual(asked, [COMPLETE_CHILDREN, "on", "127.0.0.1:4000"]);
});

Deno.test("bash passes a quoted host list without its quotes", async () => {
  const { asked } = await bashComplete(["log", "on", '"h1, h2"', ""], 'log on "h1, h2" ');
  assert.deepEqual(asked, [COMPLETE_CHILDREN, "on", "h1, h2"]);
});

Deno.test("bash offers all besides the children after stop, and on/with once a child is given", async () => {
  for (const op of ["start", "stop", "restart", "signal"]) {
    assert.deepEqual((await bashComplete([op, ""])).replies, ["alpha", "beta", "all"], op);
  }
  assert.deepEqual((await bashComplete(["trystart", ""])).replies, ["alpha", "beta"]);
  assert.deepEqual((await bashComplete(["stop", "web", ""])).replies, ["on", "with"]);
  assert.deepEqual((await bashComplete(["check", ""])).replies, ["on", "with", "alpha", "beta"]);
  assert.deepEqual((await bashComplete(["info", ""])).replies, ["on", "with"]);
  assert.deepEqual((await bashComplete(["update", ""])).replies, ["on", "with"]);
  assert.deepEqual((await bashComplete(["status", ""])).replies, ["on", "with", "alpha", "beta"]);
});

Deno.test("bash offers the signals after signal's child, and on/with after the signal", async () => {
  const { replies, asked } = await bashComplete(["signal", "web", ""]);
  assert.ok(replies.includes("HUP") && replies.includes("USR1") && replies.includes("TERM"));
  assert.ok(!replies.includes("on"), replies.join(" "));
  assert.equal(asked, undefined, "no server asked for a signal");
  assert.deepEqual((await bashComplete(["signal", "all", "US"])).replies, ["USR1", "USR2"]);
  assert.deepEqual((await bashComplete(["signal", "web", "HUP", ""])).replies, ["on", "with"]);
});

Deno.test("bash completes shells after completions and nothing after the shell", async () => {
  assert.deepEqual((await bashComplete(["completions", ""])).replies, ["bash", "zsh", "fish"]);
  assert.deepEqual((await bashComplete(["completions", "bash", ""])).replies, []);
});

Deno.test("bash offers log's options only where they fit", async () => {
  assert.deepEqual((await bashComplete(["log", "web", "--f"])).replies, ["--follow"]);
  assert.deepEqual((await bashComplete(["check", "--f"])).replies, []);
  assert.deepEqual((await bashComplete(["--t"])).replies, ["--timeout"]);
});

Deno.test("bash offers --no-wait where children start and --main with signal", async () => {
  for (const op of ["start", "restart", "trystart"]) {
    assert.deepEqual((await bashComplete([op, "web", "--no"])).replies, ["--no-wait"], op);
  }
  assert.deepEqual((await bashComplete(["update", "--no"])).replies, ["--no-wait"]);
  assert.deepEqual((await bashComplete(["stop", "web", "--no"])).replies, []);
  assert.deepEqual((await bashComplete(["signal", "web", "HUP", "--m"])).replies, ["--main"]);
  assert.deepEqual((await bashComplete(["start", "web", "--m"])).replies, []);
  // Before an operation, each option that goes with some is offered once.
  assert.deepEqual((await bashComplete(["--no"])).replies, ["--no-wait"]);
});

Deno.test("bash offers nothing for the value of an option or of on", async () => {
  assert.deepEqual((await bashComplete(["check", "--timeout", ""])).replies, []);
  assert.deepEqual((await bashComplete(["check", "on", ""])).replies, []);
});

Deno.test("bash completes file paths after with", async () => {
  const dir = await Deno.makeTempDir({ prefix: "completions-keys-" });
  try {
    await Deno.writeTextFile(join(dir, "ops.pem"), "");
    const { replies } = await bashComplete(["check", "with", join(dir, "op")]);
    assert.deepEqual(replies, [join(dir, "ops.pem")]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A successful `check` answer naming `names`, as the decoder gives it. */
function checked(host: string, names: readonly string[]): HostResult {
  const children = names.map((name) => decodeChild(childData({ name })));
  return { host, ok: true, message: "", data: { children, problems: [] } };
}

Deno.test("child names are taken from successful answers, each once, sorted", () => {
  const results: HostResult[] = [
    checked("a", ["web", "api"]),
    { host: "b", ok: false, code: "UNREACHABLE", message: "refused" },
    checked("c", ["web"]),
    // Malformed children (`{ name: 3 }`, null, a string for the list) never reach the names:
    // the client reports such an answer as a failure.
    {
      host: "d",
      ok: false,
      code: "UNREACHABLE",
      message: 'd gave a bad answer: data.children must be a list; found "nope"',
      reason: 'bad answer: data.children must be a list; found "nope"',
    },
  ];
  assert.deepEqual(childNamesOf(results), ["api", "web"]);
  assert.deepEqual(childNamesOf([]), []);
});
