/**
 * The audit log: one JSON line per request (time, peer, dialect, key, op, child, result),
 * appended to the file named by `audit_log` in server.yml.
 *
 * The path is re-read with the config; the file is opened in append mode, created when missing,
 * and reopened when the path changes or on {@link AuditLog.reopen} (SIGHUP, for logrotate).
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "../process/clock.ts";
import { SerialSink } from "../process/sinks.ts";

/** One audited request. */
export interface AuditEntry {
  readonly time: string;
  readonly peer: string;
  readonly dialect: "v2" | "legacy";
  readonly key: string | null;
  readonly op: string | null;
  readonly child: string | null;
  readonly ok: boolean;
  readonly code: string | null;
}

/** Appends audit entries to a file. */
export class AuditLog {
  readonly #logger: Logger;
  readonly #clock: Clock;
  #path: string | undefined;
  #file: Deno.FsFile | undefined;
  #sink: SerialSink | undefined;
  #failed = false;

  constructor(logger: Logger, clock: Clock) {
    this.#logger = logger;
    this.#clock = clock;
  }

  /**
   * Appends `entry`, stamped with the time now, to the file at `path` (nothing when `path` is
   * undefined).
   */
  async record(path: string | undefined, entry: Omit<AuditEntry, "time">): Promise<void> {
    if (path === undefined) return this.close();
    const line: AuditEntry = { time: new Date(this.#clock.now()).toISOString(), ...entry };
    try {
      if (path !== this.#path || !this.#sink) this.#open(path);
      await this.#sink!.write(new TextEncoder().encode(JSON.stringify(line) + "\n"));
      this.#failed = false;
    } catch (error) {
      if (!this.#failed) {
        this.#logger.error(
          `cannot write audit log "${path}": ${errorMessage(error)}`,
        );
      }
      this.#failed = true;
      this.close();
    }
  }

  /** Closes the file; the next entry opens the path again (after an external move). */
  reopen(): void {
    this.close();
  }

  close(): void {
    try {
      this.#file?.close();
    } catch {
      // closed already
    }
    this.#file = undefined;
    this.#sink = undefined;
    this.#path = undefined;
  }

  #open(path: string): void {
    this.close();
    this.#file = Deno.openSync(path, { append: true, create: true });
    this.#sink = new SerialSink(this.#file);
    this.#path = path;
  }
}
