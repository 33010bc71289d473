/**
 * A Logger for unit tests that keeps every line in memory, so a test can assert what was
 * reported.
 *
 * Owns: the kept lines and their level words. Does not own: the Logger interface or the
 * server's real log (see `lib/log.ts`).
 *
 * @module
 */
import type { Logger } from "../log.ts";

/** A logger that keeps lines in memory (unit tests). */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info: ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn: ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
}
