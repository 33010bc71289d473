/**
 * The server's own log: what it did and what went wrong, one line per event.
 *
 * Modules take a {@link Logger}; only the entry point decides where lines go. Does not own:
 * the logger of unit tests (see `lib/testing/memory_logger.ts`).
 *
 * @module
 */

/** Where the server reports events. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that hands each formatted line to `write`, with a level word. */
export function lineLogger(write: (line: string) => void): Logger {
  return {
    info: (message) => write(`supervisor-ts: ${message}`),
    warn: (message) => write(`supervisor-ts: warning: ${message}`),
    error: (message) => write(`supervisor-ts: error: ${message}`),
  };
}
