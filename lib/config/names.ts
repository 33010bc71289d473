/**
 * What a child may be called: the file stem rule and the reserved words.
 *
 * @module
 */
import { SupervisorError } from "../errors.ts";
import type { NameProblem } from "../errors.ts";
import { OPS } from "../protocol/ops.ts";

/** Operation words of the client and server; none of them can name a child. */
export const OPERATIONS: readonly string[] = [...OPS, "help"];

/** Words reserved by the command line and protocol (`stop all`, `on HOST`, `with KEY`). */
export const RESERVED_NAMES: readonly string[] = ["all", "on", "with", ...OPERATIONS];

/** The lengths of the reserved words. */
const RESERVED_LENGTHS: ReadonlySet<number> = new Set(RESERVED_NAMES.map((n) => n.length));

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Longest child name accepted; keeps file names and log prefixes sane. */
export const MAX_NAME_LENGTH = 128;

/** Why `name` cannot name a child, with the code the wire carries; `undefined` when it can. */
export function nameProblem(name: string): NameProblem | undefined {
  // Lower-cased only when as long as a reserved word (a status checks every name each time).
  if (RESERVED_LENGTHS.has(name.length) && RESERVED_NAMES.includes(name.toLowerCase())) {
    return {
      code: "RESERVED_NAME",
      message: `"${name}" is a reserved word and cannot name a child`,
    };
  }
  if (name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    return {
      code: "BAD_NAME",
      message:
        `"${name}" is not a valid child name: expected a letter or digit, then letters, digits, ".", "_" or "-" (at most ${MAX_NAME_LENGTH} characters)`,
    };
  }
  return undefined;
}

/**
 * Throws the SupervisorError (BAD_NAME or RESERVED_NAME) for a name no child can have; a copy of
 * a child with `instances` (`web:1`) is named by its file's name and its number.
 */
export function assertChildName(name: string): void {
  const copy = /^(.+):\d{1,4}$/.exec(name);
  const problem = nameProblem(copy ? copy[1]! : name);
  if (problem) throw new SupervisorError(problem.code, problem.message, { child: name });
}

/** Why `name` cannot name a signing key (it becomes a file name: no path characters). */
export function keyNameProblem(name: string): string | undefined {
  if (name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    return `key name ${
      JSON.stringify(name)
    } is not valid: expected a letter or digit, then letters, digits, ".", "_" or "-"`;
  }
  return undefined;
}
