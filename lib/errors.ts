/**
 * Every error class of the project, the stable error codes of the wire, and the one way to turn
 * a thrown value into text ({@link errorMessage}, {@link describeError}).
 *
 * Codes are part of the protocol: clients and scripts match on them, so a code is never renamed.
 * Messages are for people and may improve. Code decides by `code` or by class, never by message
 * text.
 *
 * @module
 */

/** Stable error codes carried in `code` of a failed v2 response. */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "BAD_JSON",
  "BAD_ENCODING",
  "EMPTY_REQUEST",
  "TOO_LARGE",
  "TIMEOUT",
  "BUSY",
  "UNKNOWN_OP",
  "BAD_NAME",
  "RESERVED_NAME",
  "NOT_FOUND",
  "ALREADY_RUNNING",
  "NOT_RUNNING",
  "CONFIG_INVALID",
  "SPAWN_FAILED",
  "HOOK_CYCLE",
  "HOOK_FAILED",
  "SIGNATURE_REQUIRED",
  "BAD_KEY_NAME",
  "UNKNOWN_KEY",
  "BAD_SIGNATURE",
  "STALE_REQUEST",
  "REPLAYED",
  "FORBIDDEN",
  "AUTH_REQUIRED",
  "LEGACY_DISABLED",
  "SHUTTING_DOWN",
  "EXITED_EARLY",
  "SOME_FAILED",
  "BAD_SIGNAL",
  "INTERNAL",
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = typeof ERROR_CODES[number];

/** Tells whether a string is one of the stable error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** A failure of an operation, with the stable code the wire carries. */
export class SupervisorError extends Error {
  readonly code: ErrorCode;
  readonly child: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { child?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SupervisorError";
    this.code = code;
    this.child = options?.child;
  }
}

/** Where in a configuration file a problem was found. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number | undefined;
  readonly col: number | undefined;
  readonly message: string;
}

/** Renders a problem as `file:line:col: message`, the form editors and terminals link. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined
    ? problem.file
    : `${problem.file}:${problem.line}:${problem.col ?? 1}`;
  return `${where}: ${problem.message}`;
}

/** A configuration file that could not be read or is not valid; carries every problem found. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(problems.map(formatProblem).join("\n"), options);
    this.name = "ConfigError";
    this.problems = problems;
  }

  /** The file of the first problem. */
  get file(): string {
    return this.problems[0]?.file ?? "";
  }
}

/** The message of any thrown value: an Error's message, anything else as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Text of any thrown value, with its cause chain (`a: b: c`). */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(errorMessage(current));
    // A config error names the file and the problem already; its cause is an OS detail.
    if (current instanceof ConfigError) break;
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}

/** Why a word cannot name a child: reserved, or not of the allowed form. */
export type NameCode = "BAD_NAME" | "RESERVED_NAME";

/** A name that cannot be used, with the code the wire carries for it. */
export interface NameProblem {
  readonly code: NameCode;
  readonly message: string;
}

/** A command string that cannot be split: an unterminated quote or a trailing backslash. */
export class CommandSyntaxError extends SyntaxError {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = "CommandSyntaxError";
    this.offset = offset;
  }
}

/** A state transition the lifecycle table does not allow: a bug in the caller, never a user error. */
export class InvalidTransitionError extends Error {
  readonly from: string;
  readonly to: string;

  constructor(from: string, to: string) {
    super(`Invalid state transition: ${from} -> ${to}`);
    this.name = "InvalidTransitionError";
    this.from = from;
    this.to = to;
  }
}

/** A line longer than the limit: the rest of the stream can no longer be framed. */
export class LineTooLongError extends RangeError {
  readonly limit: number;

  constructor(limit: number) {
    super(`Request line is longer than the limit of ${limit} bytes`);
    this.name = "LineTooLongError";
    this.limit = limit;
  }
}

/** Something that did not complete before its deadline (a read, a write, a wait). */
export class DeadlineError extends Error {
  readonly ms: number;

  constructor(ms: number, what = "operation") {
    super(`${what} did not complete within ${ms} ms`);
    this.name = "DeadlineError";
    this.ms = ms;
  }
}

/** A host argument of the client that cannot be understood. */
export class HostSyntaxError extends SyntaxError {
  constructor(message: string) {
    super(message);
    this.name = "HostSyntaxError";
  }
}

/** A usage error: the client prints it with a short help and exits 2. */
export class UsageError extends Error {
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Why a host could not be asked; the client's hints and summaries decide by this code. */
export type TransportCode =
  | "REFUSED"
  | "PERMISSION_DENIED"
  | "RESET"
  | "TIMED_OUT"
  | "HOST_NOT_FOUND"
  | "CLOSED"
  | "NOT_V2"
  | "BAD_ANSWER"
  | "SSH_NOT_FOUND"
  | "SSH_FAILED"
  | "OTHER";

/** A host that could not be asked: unreachable, timed out, or answered with garbage. */
export class TransportError extends Error {
  readonly host: string;
  readonly code: TransportCode;
  /** A few words for summaries: `connection refused`, `timed out`, `ssh: Permission denied`. */
  readonly reason: string;

  constructor(
    host: string,
    failure: { readonly code: TransportCode; readonly reason: string },
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TransportError";
    this.host = host;
    this.code = failure.code;
    this.reason = failure.reason;
  }
}

/** A payload from the wire that does not have the declared shape. */
export class WireFormatError extends TypeError {
  readonly path: string;

  constructor(path: string, expected: string, found: unknown) {
    const shown = found === undefined ? "nothing" : JSON.stringify(found)?.slice(0, 60);
    super(`${path} must be ${expected}; found ${shown}`);
    this.name = "WireFormatError";
    this.path = path;
  }
}

/** Why a signing key file given to the client cannot be used. */
export type KeyFileCode = "UNREADABLE" | "NOT_PEM" | "WRONG_TYPE";

/** A signing key file that cannot be used, with the reason as a code. */
export class KeyFileError extends Error {
  readonly code: KeyFileCode;

  constructor(code: KeyFileCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KeyFileError";
    this.code = code;
  }
}

/** A `user` or `group` the system does not know. */
export class UnknownAccountError extends Error {
  /** Which setting named it. */
  readonly key: "user" | "group";
  /** The value as the config gave it. */
  readonly value: string;

  constructor(key: "user" | "group", value: string, message: string) {
    super(message);
    this.name = "UnknownAccountError";
    this.key = key;
    this.value = value;
  }
}
