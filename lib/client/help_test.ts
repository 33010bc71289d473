import assert from "node:assert/strict";
import { OPERATIONS, OPTIONS, parseClientArgs, WORDS } from "./args.ts";
import type { OperationSpec } from "./args.ts";
import { helpText, OPERATION_NOTES, synopsis } from "./help.ts";
import { DEFAULT_LOG_LINES } from "./args.ts";
import { parseHostList } from "./hosts.ts";

const HELP = helpText();

/** The lines of the help's section that starts with `heading`, up to the next blank line. */
function section(heading: string): string[] {
  const lines = HELP.split("\n");
  const start = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(start >= 0, `no section "${heading}"`);
  const end = lines.indexOf("", start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Whether the help has `word` as a whole word. */
function hasWord(word: string): boolean {
  const escaped = word.replace(/[-.\[\]|]/g, "\\$&");
  return new RegExp(`(^|[^A-Za-z0-9_-])${escaped}($|[^A-Za-z0-9_-])`, "m").test(HELP);
}

/**
 * A command line the parser should accept for an operation, from its help synopsis: its
 * operand, and the word that follows the child when there is one (`signal web HUP`).
 */
function argvFor(op: OperationSpec, operand: string | undefined): string[] {
  if (operand === undefined) return [op.name];
  const next = op.operand.kind === "child" ? op.operand.next : undefined;
  return next === undefined ? [op.name, operand] : [op.name, operand, next.example];
}

Deno.test("help lists every operation of the parser with its synopsis", () => {
  const operations = section("Operations:");
  for (const op of OPERATIONS) {
    assert.ok(
      operations.some((l) => l.startsWith(`  ${synopsis(op)} `) || l === `  ${synopsis(op)}`),
      synopsis(op),
    );
  }
  assert.ok(OPERATIONS.some((o) => o.name === "completions"));
});

Deno.test("help names every option, short option and word of the parser", () => {
  for (const option of OPTIONS) {
    assert.ok(hasWord(option.name), option.name);
    if ("short" in option) assert.ok(hasWord(option.short), option.short);
    if ("value" in option) assert.ok(hasWord(`${option.name} ${option.value}`), option.name);
  }
  for (const word of WORDS) assert.ok(hasWord(`${word.name} ${word.value}`), word.name);
});

Deno.test("help lists no operation that the parser rejects", () => {
  const names = section("Operations:")
    .filter((l) => /^ {2}\S/.test(l))
    .map((l) => l.trim().split(/\s{2,}/)[0]!.split(" "));
  assert.equal(names.length, OPERATIONS.length);
  for (const [name, operand] of names) {
    const op = OPERATIONS.find((o) => o.name === name);
    assert.ok(op, `help lists "${name}", which is not an operation of the parser`);
    const choices = op.operand.kind === "choice" ? op.operand.values : [];
    const keywords = op.operand.kind === "child" ? op.operand.keywords : [];
    const operands = operand === undefined
      ? [undefined]
      : choices.length > 0
      ? choices
      : ["web", ...keywords, ...(operand.startsWith("[") ? [undefined] : [])];
    for (const value of operands) {
      const argv = argvFor(op, value);
      assert.doesNotThrow(() => parseClientArgs(argv), argv.join(" "));
    }
  }
});

Deno.test("every note of the help is about an operation of the parser", () => {
  for (const name of Object.keys(OPERATION_NOTES)) {
    assert.ok(OPERATIONS.some((o) => o.name === name), name);
  }
});

Deno.test("help shows the defaults the parser applies", () => {
  const command = parseClientArgs(["log", "web"]);
  assert.ok(command.kind === "op");
  assert.equal(command.log.lines, DEFAULT_LOG_LINES);
  assert.match(HELP, new RegExp(`--lines N .*\\(default ${command.log.lines}\\)`));
  assert.match(HELP, new RegExp(`--timeout S .*\\(default ${command.timeoutMs / 1000}\\)`));
  assert.match(HELP, new RegExp(`--parallel N .*\\(default ${command.parallel}\\)`));
});

Deno.test("help starts with the usage line and keeps every line within 100 characters", () => {
  assert.match(HELP, /^Usage: supervisor-ts-client <op> \[child\] \[on HOST\]\.\.\./m);
  assert.match(HELP, /^ {2}completions SHELL/m);
  for (const line of HELP.split("\n")) {
    assert.ok(line.length <= 100, line);
    assert.equal(line, line.trimEnd(), "no trailing spaces");
  }
});

Deno.test("help shows the unix:PATH host form, and every host it shows parses", () => {
  const hosts = section("Hosts").join("\n");
  const shown = [...hosts.matchAll(/\bon ("[^"]+"|\S+)/g)].map((m) => m[1]!.replaceAll('"', ""))
    .filter((h) => h !== "HOST");
  assert.ok(shown.includes("unix:/run/supervisor-ts.sock"), shown.join(" "));
  for (const host of shown) {
    const forms = host.replace("[:SSHPORT][/PORT]", "");
    assert.doesNotThrow(() => parseHostList(forms), host);
  }
});

Deno.test("help shows signal's second word with the signals, and --main under signal", () => {
  const operations = section("Operations:").join("\n");
  assert.match(operations, /^ {2}signal NAME\|all SIG\n/m);
  assert.match(operations, /SIG is HUP, INT, .* or PWR/s);
  assert.match(operations, /^ {2}signal [^]*?\n {4}--main {2,}/m);
});

Deno.test("help lists status, and an option for several operations with the options, naming them", () => {
  assert.match(HELP, /^ {2}status \[NAME\] {2,}the same as check/m);
  const options = section("Options:").join("\n");
  assert.match(options, /--no-wait .*\(with start, restart,\s+trystart and update\)/s);
  assert.doesNotMatch(section("Operations:").join("\n"), /--no-wait/);
});
