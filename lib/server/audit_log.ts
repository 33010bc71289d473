/**
 * The audit log: one JSON line per request (time, peer, dialect, key, op, child, result),
 * appended to the file named by `audit_log` in server.yml.
 *
 * The path is re-read with the config; the file is opened in append mode, created when missing,
 * and reopened when the path changes or on {@link AuditLog.reopen} (SIGHUP, for logrotate).
 *
 * Refusals cannot flood it: a refusal identical to one written less than
 * {@link REPEAT_WINDOW_MS} ago (same peer address, port aside; same dialect; same code) is only
 * counted, and the count is written as one summary line ({@link AuditSummary}) when that window
 * closes, before the next line written, or when the file is closed or reopened. Successful
 * operations are always written.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { callOff } from "../process/clock.ts";
import type { Clock } from "../process/clock.ts";
import { SerialSink } from "../process/sinks.ts";

/** One audited request. */
export interface AuditEntry {
  readonly time: string;
  readonly peer: string;
  readonly dialect: "v2" | "legacy" | "http";
  readonly key: string | null;
  readonly op: string | null;
  readonly child: string | null;
  readonly ok: boolean;
  readonly code: string | null;
}

/**
 * Refusals not written one by one: `repeated` more like the line written before them from
 * `peer` (an address without its port), refused with `code`, since `since`.
 */
export interface AuditSummary extends AuditEntry {
  readonly key: null;
  readonly op: null;
  readonly child: null;
  readonly ok: false;
  readonly since: string;
  readonly repeated: number;
}

/** How long identical refusals after a written one are counted instead of written. */
export const REPEAT_WINDOW_MS = 10_000;

/** Kinds of refusal counted at once; beyond, the oldest are summed up and forgotten. */
const MAX_REPEAT_GROUPS = 1024;

/** Identical refusals being counted. */
interface Repeats {
  readonly peer: string;
  readonly dialect: AuditEntry["dialect"];
  readonly code: string | null;
  /** When the window that the written refusal opened closes. */
  readonly until: number;
  count: number;
  /** When the first of those counted was refused. */
  since: number;
  /** Wakes at `until` to write the count; set while `count` > 0. */
  timer: AbortController | undefined;
}

const encoder = new TextEncoder();

/** Appends audit entries to a file. */
export class AuditLog {
  readonly #logger: Logger;
  readonly #clock: Clock;
  #path: string | undefined;
  /** The file, being opened or open (asynchronously: a slow disk never holds a request up). */
  #file: Promise<Deno.FsFile> | undefined;
  #sink: SerialSink | undefined;
  #failed = false;
  readonly #repeats = new Map<string, Repeats>();

  constructor(logger: Logger, clock: Clock) {
    this.#logger = logger;
    this.#clock = clock;
  }

  /**
   * Appends `entry`, stamped with the time now, to the file at `path` (nothing when `path` is
   * undefined) — or, for a refusal like one written within {@link REPEAT_WINDOW_MS}, counts it.
   */
  async record(path: string | undefined, entry: Omit<AuditEntry, "time">): Promise<void> {
    if (path === undefined) return await this.close();
    if (path !== this.#path) void this.close();
    const now = this.#clock.now();
    const lines: AuditEntry[] = [];
    if (!entry.ok) {
      const id = repeatId(entry);
      const group = this.#repeats.get(id);
      if (group && now < group.until) {
        if (group.count === 0) this.#arm(id, group, now);
        group.count++;
        return;
      }
      if (group) this.#forget(id, group, now, lines);
      this.#takeCounts(now, lines);
      this.#repeats.set(id, {
        peer: addressOf(entry.peer),
        dialect: entry.dialect,
        code: entry.code,
        until: now + REPEAT_WINDOW_MS,
        count: 0,
        since: now,
        timer: undefined,
      });
      this.#trim(now, lines);
    } else {
      this.#takeCounts(now, lines);
    }
    lines.push({ time: isoTime(now), ...entry });
    await this.#write(path, lines);
  }

  /** Writes what is counted and closes the file; the next entry opens the path again. */
  reopen(): Promise<void> {
    return this.close();
  }

  /** Writes what is counted, then closes the file (once the writes before have ended). */
  async close(): Promise<void> {
    const lines: AuditEntry[] = [];
    const now = this.#clock.now();
    for (const [id, group] of this.#repeats) this.#forget(id, group, now, lines);
    await this.#closeFile(lines);
  }

  /** Writes `lines` to the open file, if any, then closes it; the next write opens a new one. */
  async #closeFile(lines: readonly AuditEntry[] = []): Promise<void> {
    const file = this.#file;
    const sink = this.#sink;
    this.#file = undefined;
    this.#sink = undefined;
    this.#path = undefined;
    if (sink) {
      try {
        // Also waits for the writes queued before.
        await sink.write(encodeLines(lines));
      } catch {
        // reported by the write that failed first
      }
    }
    try {
      (await file?.catch(() => undefined))?.close();
    } catch {
      // closed already
    }
  }

  /** Wakes at the end of `group`'s window to write its count. */
  #arm(id: string, group: Repeats, now: number): void {
    const timer = new AbortController();
    group.timer = timer;
    group.since = now;
    this.#clock.sleep(group.until - now, timer.signal).then(
      () => {
        if (this.#repeats.get(id) !== group || this.#path === undefined) return;
        const lines: AuditEntry[] = [];
        this.#forget(id, group, this.#clock.now(), lines);
        void this.#write(this.#path, lines);
      },
      () => {}, // written earlier
    );
  }

  /** Moves the counts of every kind of refusal into `lines`; their windows go on. */
  #takeCounts(now: number, lines: AuditEntry[]): void {
    for (const group of this.#repeats.values()) {
      if (group.count > 0) lines.push(takeSummary(group, now));
    }
  }

  /** Stops counting `group`, moving its count into `lines`. */
  #forget(id: string, group: Repeats, now: number, lines: AuditEntry[]): void {
    this.#repeats.delete(id);
    if (group.count > 0) lines.push(takeSummary(group, now));
  }

  /** Keeps at most {@link MAX_REPEAT_GROUPS} kinds: closed windows go first, then the oldest. */
  #trim(now: number, lines: AuditEntry[]): void {
    if (this.#repeats.size <= MAX_REPEAT_GROUPS) return;
    for (const [id, group] of this.#repeats) {
      if (group.until <= now) this.#forget(id, group, now, lines);
    }
    for (const [id, group] of this.#repeats) {
      if (this.#repeats.size <= MAX_REPEAT_GROUPS) break;
      this.#forget(id, group, now, lines);
    }
  }

  async #write(path: string, lines: readonly AuditEntry[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      if (path !== this.#path || !this.#sink) this.#open(path);
      await this.#sink!.write(encodeLines(lines));
      this.#failed = false;
    } catch (error) {
      if (!this.#failed) {
        this.#logger.error(
          `cannot write audit log "${path}": ${errorMessage(error)}`,
        );
      }
      this.#failed = true;
      void this.#closeFile();
    }
  }

  #open(path: string): void {
    void this.#closeFile();
    const file = Deno.open(path, { append: true, create: true });
    file.catch(() => {}); // reported by the write that needs it
    this.#file = file;
    this.#sink = new SerialSink({ write: async (bytes) => (await file).write(bytes) });
    this.#path = path;
  }
}

/** What makes two refusals the same for counting. */
function repeatId(entry: Omit<AuditEntry, "time">): string {
  return `${addressOf(entry.peer)}\u0000${entry.dialect}\u0000${entry.code}`;
}

/** A peer without its port: `203.0.113.7:5000` → `203.0.113.7`, `[::1]:5000` → `::1`. */
export function addressOf(peer: string): string {
  const bracketed = /^\[(.*)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1]!;
  const plain = /^([^:]*):\d+$/.exec(peer);
  return plain ? plain[1]! : peer;
}

/** The summary line of `group`'s count, which starts again from 0. */
function takeSummary(group: Repeats, now: number): AuditSummary {
  callOff(group.timer);
  group.timer = undefined;
  const summary: AuditSummary = {
    time: isoTime(now),
    peer: group.peer,
    dialect: group.dialect,
    key: null,
    op: null,
    child: null,
    ok: false,
    code: group.code,
    since: isoTime(group.since),
    repeated: group.count,
  };
  group.count = 0;
  return summary;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function encodeLines(lines: readonly AuditEntry[]): Uint8Array {
  return encoder.encode(lines.map((line) => JSON.stringify(line) + "\n").join(""));
}
