/**
 * The refusal of a start whose run did not hold: it exited (or was ended: never ready) before
 * it counted as started — with how it ended and its last stderr lines, for the operator.
 *
 * @module
 */
import { SupervisorError } from "../errors.ts";
import type { StartOutcome } from "../process/child.ts";
import { describeExit } from "../process/exit_record.ts";

/** The refusal of a start whose run ended before it counted as started. */
export function exitedEarly(facts: {
  readonly name: string;
  readonly op: string;
  readonly pid: number;
  readonly outcome: Extract<StartOutcome, { started: false }>;
}): SupervisorError {
  const { name, op, pid, outcome } = facts;
  const { exit, state } = outcome;
  const how = exit.requested
    ? `it (pid ${pid}) was stopped before it counted as started`
    : `it (pid ${pid}) exited ${formatMs(exit.ranMs)} after it started (${describeExit(exit)})`;
  const next = state === "BACKOFF"
    ? "; it will be tried again (restart policy)"
    : state === "FATAL"
    ? "; it gave up (max_restarts)"
    : "";
  const tail = exit.stderrTail.slice(-10);
  const context = tail.length === 0
    ? ""
    : `; its last stderr lines:\n${tail.map((line) => `  ${line}`).join("\n")}`;
  return new SupervisorError(
    "EXITED_EARLY",
    `Cannot ${op} child "${name}": ${how}${next}${context}`,
    { child: name },
  );
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
