/**
 * The `log` operation: the last lines of a child's stdout or stderr — from its output file when
 * it has one (reaching back into its rotated backups, newest first, when the current file has
 * fewer lines than asked), else from the tail kept in memory — and with `follow`, a follower of
 * the lines to come whose first event starts exactly where the answer ends.
 *
 * Owns: where the lines come from and the seam between answer and events. Does not own: the
 * child's queue or state (reading a log never waits behind an operation).
 *
 * @module
 */
import type { ChildConfig } from "../config/child_config.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import type { Child } from "../process/child.ts";
import { readLastLinesAcross } from "../process/file_tail.ts";
import { backupPaths } from "../process/log_file.ts";
import type { Logged, LogResult } from "./results.ts";

/** What `log` shows. */
export interface LogOptions {
  readonly stream: "stdout" | "stderr";
  readonly lines: number;
  readonly follow: boolean;
}

/** The size of the file at `path`, or 0 when it cannot be read. */
async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** Answers `log` for `child`, whose config (as it is now, or of its last run) is `config`. */
export async function readLog(
  child: Child,
  config: ChildConfig | undefined,
  options: LogOptions,
): Promise<Logged> {
  const target = config?.[options.stream];
  // Subscribe and take the published size in one synchronous step: the pump publishes a chunk
  // and records the file's size in one step, so the answer ends exactly where events begin.
  // (Only a child that never ran in this server has no published size: its file is read as is.)
  const follow = options.follow ? child.follow([options.stream]) : undefined;
  const published = target ? child.publishedEnd(options.stream) : undefined;
  let log: LogResult;
  try {
    if (target) {
      const end = published ?? await sizeOf(target.path);
      // Older lines come from the backups; the answer still ends at `end` of the current file.
      const lines = await readLastLinesAcross(
        [target.path, ...backupPaths(target)],
        options.lines,
        { end, complete: options.follow },
      );
      log = { child: child.name, stream: options.stream, source: "file", path: target.path, lines };
    } else {
      const lines = child.recentLines(options.stream, options.lines, options.follow);
      log = { child: child.name, stream: options.stream, source: "memory", path: null, lines };
    }
  } catch (error) {
    follow?.close();
    throw new SupervisorError("INTERNAL", `Cannot read "${target?.path}": ${errorMessage(error)}`);
  }
  const count = log.lines.length;
  const message = `${count} ${count === 1 ? "line" : "lines"} of ${child.name} ${options.stream}${
    follow ? ", following" : ""
  }`;
  return follow ? { kind: "log", message, log, follow } : { kind: "log", message, log };
}
