/**
 * The server's own log: what it did and what went wrong, one line per event, each with its time
 * and level.
 *
 * A line reads `2026-12-01T07:17:07.123Z warn  message`: the time in ISO 8601, UTC, to the
 * millisecond, then the level word padded to five characters (`info `, `warn `, `error`), so
 * `grep ' error '` or a column cut finds them. When systemd's journal reads the server's stderr
 * (`JOURNAL_STREAM` is set), the time is left out — the journal records its own — and each line
 * starts with the journal's priority prefix instead (`<6>` info, `<4>` warning, `<3>` error;
 * sd-daemon(3)), so `journalctl -p warning` selects by level. A message of several lines gets the
 * prefix on each, so none of its lines lose their level.
 *
 * Modules take a {@link Logger}; only the entry point decides where lines go and passes the
 * clock and the environment in. Does not own: the logger of unit tests (see
 * `lib/testing/memory_logger.ts`).
 *
 * @module
 */

/** Where the server reports events. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What {@link lineLogger} needs from its surroundings. */
export interface LineLoggerOptions {
  /** Milliseconds since the epoch (`Date.now`): the time each line carries. */
  readonly now: () => number;
  /**
   * `JOURNAL_STREAM` from the environment (set by systemd when the journal reads stderr):
   * when it is set, lines carry the journal's priority prefix and no time.
   */
  readonly journalStream: string | undefined;
}

type Level = keyof Logger;

/** Each level's word, padded to one width, and its syslog priority (sd-daemon(3) SD_*). */
const LEVELS: Readonly<Record<Level, { readonly word: string; readonly priority: number }>> = {
  info: { word: "info ", priority: 6 },
  warn: { word: "warn ", priority: 4 },
  error: { word: "error", priority: 3 },
};

/** A logger that hands each formatted line (several for a message of several) to `write`. */
export function lineLogger(write: (line: string) => void, options: LineLoggerOptions): Logger {
  const journal = options.journalStream !== undefined && options.journalStream !== "";
  const log = (level: Level) => (message: string) => {
    const { word, priority } = LEVELS[level];
    const head = journal
      ? `<${priority}>${word}`
      : `${new Date(options.now()).toISOString()} ${word}`;
    write(message.split("\n").map((line) => `${head} ${line}`).join("\n"));
  };
  return { info: log("info"), warn: log("warn"), error: log("error") };
}
