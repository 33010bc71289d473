/**
 * How one run of a child ended, as a record: kept in the child's history, reported by `check`.
 *
 * Has no dependencies, so the client can describe exits without loading the process layer.
 *
 * @module
 */

/** One ended run of a child. */
export interface ExitRecord {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: Deno.Signal | null;
  /** When it ended (ms since the epoch). */
  readonly at: number;
  /** How long it ran, in ms. */
  readonly ranMs: number;
  /** Whether the supervisor asked it to stop. */
  readonly requested: boolean;
  /** Whether it exited with one of its `exit_codes` (a success, not a crash). */
  readonly expected: boolean;
  /** Why the server ended it, when a probe did: `unhealthy`, `not ready`. */
  readonly reason?: string;
  /** The last lines of its stderr when it ended (crash context). */
  readonly stderrTail: readonly string[];
}

/**
 * Short description of how a run ended: `exit code 3`, `signal SIGKILL`, or `exit status
 * unknown` (a run this server adopted is not its child, so its status cannot be read).
 */
export function describeExit(exit: {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason?: string | null | undefined;
}): string {
  const how = exit.signal
    ? `signal ${exit.signal}`
    : exit.code === null
    ? "exit status unknown"
    : `exit code ${exit.code}`;
  return exit.reason ? `${how} (${exit.reason})` : how;
}
