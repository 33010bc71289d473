/**
 * The client's `--help`, written from the same tables the argument parser reads
 * ({@link OPERATIONS}, {@link OPTIONS}, {@link WORDS} in `args.ts`): an operation or option the
 * parser accepts is listed without touching this file, and the help can name nothing the parser
 * would refuse.
 *
 * Owns: the layout of the help, and what the tables have no column for: the defaults shown,
 * a few words more on some operations, the examples of hosts, the closing lines. Does not own:
 * the words the client accepts, nor printing (the entry point prints {@link helpText}).
 *
 * @module
 */
import {
  andList,
  DEFAULT_LOG_LINES,
  DEFAULT_TIMEOUT_S,
  OPERATIONS,
  OPTIONS,
  WORDS,
} from "./args.ts";
import type { OperationSpec, OptionSpec } from "./args.ts";
import { PROGRAM } from "./completions.ts";
import { DEFAULT_PARALLEL } from "./fanout.ts";
import { SSH_COMMAND_ENV } from "./transport.ts";
import { DEFAULT_PORT, VERSION } from "../version.ts";

/** The column where descriptions start; a longer left part puts its description below it. */
const COLUMN = 19;

/** Descriptions wrap before this many characters a line. */
const WIDTH = 92;

type OptionName = typeof OPTIONS[number]["name"];
type Word = typeof WORDS[number];

/** The default an option has when it is not given, for those that take a value. */
const OPTION_DEFAULTS: Readonly<Partial<Record<OptionName, number>>> = {
  "--timeout": DEFAULT_TIMEOUT_S,
  "--parallel": DEFAULT_PARALLEL,
  "--lines": DEFAULT_LOG_LINES,
};

/** A few words more than a completion menu has room for, after an operation's own. */
export const OPERATION_NOTES: Readonly<Record<string, string>> = {
  stop: " (its whole process group)",
  trystart: " (for deploy scripts)",
  check: " in detail",
  kill: " (gracefully)",
  completions: `; asks no server, e.g.\nsource <(${PROGRAM} completions bash)`,
};

/** Each word has a section of its own: its heading, and what to say after its few words. */
const WORD_SECTIONS: Readonly<
  Record<
    Word["name"],
    { readonly heading: string; readonly repeats: boolean; readonly note: string }
  >
> = {
  on: {
    heading: `Hosts (default 127.0.0.1:${DEFAULT_PORT}; several are asked in parallel)`,
    repeats: true,
    note: [
      "",
      `on 127.0.0.1   on localhost:4000   on ::1   on [::1]:4000   on "h1, h2"`,
      "on ssh://user@host[:SSHPORT][/PORT]   through the system's ssh",
      `(-W 127.0.0.1:PORT); $${SSH_COMMAND_ENV} replaces the ssh command,`,
      `e.g. "ssh -i key"`,
      "on unix:/run/supervisor-ts.sock   the server's control_socket on",
      "this machine (a relative path starts from the current directory)",
    ].join("\n"),
  },
  with: {
    heading: "Signing (servers with encrypt: on)",
    repeats: false,
    note: " (Ed25519 or RSA PEM); the key's name is the file stem, and the server checks it " +
      "against pub_keys_path/NAME.pem",
  },
};

/**
 * `left` in the first column and `text` from {@link COLUMN} on, wrapped at {@link WIDTH};
 * a newline in `text` starts a new line. A left part too long for its column gets a line of
 * its own.
 */
function entry(indent: number, left: string, text: string): string[] {
  const head = `${" ".repeat(indent)}${left}`;
  const pad = " ".repeat(COLUMN);
  const lines: string[] = head.length + 2 <= COLUMN ? [] : [head];
  let line = lines.length === 0 ? head.padEnd(COLUMN) : pad;
  let empty = true;
  for (const [i, paragraph] of text.split("\n").entries()) {
    if (i > 0) {
      lines.push(line.trimEnd());
      line = pad;
      empty = true;
    }
    for (const word of paragraph.split(" ")) {
      if (!empty && line.length + 1 + word.length > WIDTH) {
        lines.push(line.trimEnd());
        line = pad + word;
      } else {
        line += empty ? word : ` ${word}`;
      }
      empty = false;
    }
  }
  lines.push(line.trimEnd());
  return lines;
}

/** `bash, zsh or fish`. */
function orList(values: readonly string[]): string {
  return values.length < 2
    ? values.join("")
    : `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;
}

/** `a shell` → `SHELL`: the placeholder of a choice. */
function placeholder(what: string): string {
  return what.replace(/^(a|an|the) /, "").toUpperCase().replace(/\s+/g, "_");
}

/**
 * An operation as typed: `start NAME|all`, `check [NAME]`, `signal NAME|all SIG`,
 * `completions SHELL`.
 */
export function synopsis(op: OperationSpec): string {
  const operand = op.operand;
  switch (operand.kind) {
    case "none":
      return op.name;
    case "child": {
      const name = ["NAME", ...operand.keywords].join("|");
      const next = operand.next === undefined ? "" : ` ${operand.next.placeholder}`;
      return `${op.name} ${operand.required ? name : `[${name}]`}${next}`;
    }
    case "choice":
      return `${op.name} ${placeholder(operand.what)}`;
  }
}

/** `-n, --lines N`. */
function optionLabel(option: OptionSpec): string {
  const short = option.short === undefined ? "" : `${option.short}, `;
  const value = option.value === undefined ? "" : ` ${option.value}`;
  return `${short}${option.name}${value}`;
}

/**
 * The operation an option goes with, when it goes with one alone: it is listed under that
 * operation; an option for several is listed with the others and names them.
 */
function onlyOne(option: OptionSpec): string | undefined {
  return option.only?.length === 1 ? option.only[0] : undefined;
}

function optionEntry(indent: number, option: OptionSpec): string[] {
  const fallback = OPTION_DEFAULTS[option.name as OptionName];
  const notes = [
    ...(fallback === undefined ? [] : [`default ${fallback}`]),
    ...(option.only === undefined || onlyOne(option) !== undefined
      ? []
      : [`with ${andList(option.only)}`]),
  ];
  const about = notes.length === 0 ? option.about : `${option.about} (${notes.join("; ")})`;
  return entry(indent, optionLabel(option), about);
}

function operationEntry(op: OperationSpec, options: readonly OptionSpec[]): string[] {
  const operand = op.operand;
  const choices = operand.kind === "choice" ? `: ${orList(operand.values)}` : "";
  const next = operand.kind === "child" && operand.next !== undefined
    ? `; ${operand.next.placeholder} is ${orList(operand.next.values)}`
    : "";
  const note = Object.hasOwn(OPERATION_NOTES, op.name) ? OPERATION_NOTES[op.name] : "";
  // Another name of an operation lists no option: they are listed under the operation.
  const own = op.aliasOf === undefined ? options.filter((o) => onlyOne(o) === op.name) : [];
  return [
    ...entry(2, synopsis(op), `${op.about}${choices}${note}${next}`),
    ...own.flatMap((o) => optionEntry(4, o)),
  ];
}

function wordSection(word: Word): string[] {
  const section = WORD_SECTIONS[word.name];
  return [
    `${section.heading}:`,
    ...entry(2, `${word.name} ${word.value}`, word.about + section.note),
  ];
}

/** The whole help, as `--help` prints it (without a final newline). */
export function helpText(): string {
  const options: readonly OptionSpec[] = OPTIONS;
  const wordUsage = WORDS.map((w) =>
    `[${w.name} ${w.value}]${WORD_SECTIONS[w.name].repeats ? "..." : ""}`
  );
  return [
    `${PROGRAM} ${VERSION}: drives supervisor-ts servers`,
    "",
    `Usage: ${PROGRAM} <op> [child] ${wordUsage.join(" ")} [options]`,
    "",
    "Operations:",
    ...OPERATIONS.flatMap((op) => operationEntry(op, options)),
    ...WORDS.flatMap((w) => ["", ...wordSection(w)]),
    "",
    "Options:",
    ...options.filter((o) => onlyOne(o) === undefined).flatMap((o) => optionEntry(2, o)),
    "",
    "Colour only on a terminal, and never with NO_COLOR set or with --json.",
    "Exit status: 0 every host succeeded, 1 any host failed, 2 usage error.",
  ].join("\n");
}
