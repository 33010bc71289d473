/**
 * Error classes shared by the server and the client, and the stable error codes of the wire.
 *
 * Codes are part of the protocol: clients and scripts match on them, so a code is never renamed.
 * Messages are for people and may improve.
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
  "LEGACY_DISABLED",
  "SHUTTING_DOWN",
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

/** Text of any thrown value, with its cause chain (`a: b: c`). */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? current.message : String(current));
    // A config error names the file and the problem already; its cause is an OS detail.
    if (current instanceof ConfigError) break;
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}
