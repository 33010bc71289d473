/**
 * The path of every request, whatever its dialect: one config snapshot taken at the entry,
 * admission (signature, window, replay), permission, the operation itself, and the audit line.
 *
 * @module
 */
import type { Authenticator } from "../auth/authenticator.ts";
import type { ConfigSnapshot, ConfigStore } from "../config/store.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { errorResponse, requestIdOf } from "../protocol/messages.ts";
import type { Request } from "../protocol/messages.ts";
import type { AuditLog } from "./audit_log.ts";
import type { RequestStats } from "./request_stats.ts";
import { dispatch } from "./dispatch.ts";
import type { Operations } from "./dispatch.ts";
import type { Outcome } from "./outcome.ts";

/** Operations that only read, asked often (a page, a watcher): not logged one by one. */
const QUIET_OPS: readonly string[] = ["check", "info", "events"];

/**
 * Reading operations run at once; more wait their turn. A thousand clients asking for status
 * together are then answered a few at a time, each status made and let go before the next,
 * instead of all of them built side by side (and the heap grown to hold them). Operations that
 * act are never queued: one may wait long (a start, a stop) and must not hold the others.
 */
export const QUIET_AT_ONCE = 8;

/** What the pipeline is made of. */
export interface PipelineParts {
  readonly ops: Operations;
  readonly auth: Authenticator;
  readonly audit: AuditLog;
  readonly store: ConfigStore;
  readonly logger: Logger;
  /** Counts of requests by operation and result, for /metrics. */
  readonly stats?: RequestStats;
}

/** Who sent a request, and how. */
export interface Origin {
  readonly peer: string;
  readonly dialect: "v2" | "legacy" | "http";
  /** The key that signed it; null when unsigned. */
  readonly key: string | null;
}

/** One line of the audit log, before its time and path are added. */
interface AuditFacts extends Origin {
  readonly op: string | null;
  readonly child: string | null;
  readonly ok: boolean;
  readonly code: string | null;
}

/** Runs requests for the connections. */
export class RequestPipeline {
  readonly #parts: PipelineParts;
  readonly #quiet = new Turns(QUIET_AT_ONCE);

  constructor(parts: PipelineParts) {
    this.#parts = parts;
  }

  /**
   * The configuration for one request: take it at the request's entry and pass it down. An
   * unsigned request that only reads (`status`) may take what a request checked within the
   * last second; a signed one is authorized by server.yml as it is now (its permissions).
   */
  snapshot(status = false): ConfigSnapshot {
    return status ? this.#parts.store.statusSnapshot() : this.#parts.store.snapshot();
  }

  /** Whether `op` only reads (a status), asked often. */
  static reads(op: string): boolean {
    return QUIET_OPS.includes(op);
  }

  /**
   * A decoded v2 line: admitted, authorized, run and audited. Never throws. A `local` request
   * came through the control socket, whose file mode is its authentication: it needs no
   * signature (a signed one is still verified).
   */
  v2(value: unknown, from: { readonly peer: string; readonly local: boolean }): Promise<Outcome> {
    const op = value !== null && typeof value === "object"
      ? (value as Record<string, unknown>).op
      : undefined;
    if (typeof op !== "string" || !QUIET_OPS.includes(op)) return this.#v2(value, from, false);
    // Its admission too: the whole request is made and let go in its turn.
    const signed = "signed" in (value as Record<string, unknown>);
    return this.#v2(value, from, !signed, true);
  }

  /**
   * `status`: an unsigned request that only reads (see {@link snapshot}); `quiet`: one asked
   * often, run in its turn.
   */
  async #v2(
    value: unknown,
    from: { readonly peer: string; readonly local: boolean },
    status: boolean,
    quiet = false,
  ): Promise<Outcome> {
    if (quiet) {
      const turn = this.#quiet.enter();
      if (turn !== undefined) await turn;
    }
    try {
      const { peer } = from;
      const snap = this.snapshot(status);
      let admitted;
      try {
        const { auth } = this.#parts;
        // A status's reading of server.yml is there already, and an unsigned line needs no key:
        // then it is admitted without waiting.
        const settings = snap.settingsNow() ?? await snap.settings();
        admitted = auth.admitUnsigned(value, from.local) ??
          await auth.admit(value, settings, { local: from.local });
      } catch (error) {
        const response = errorResponse(requestIdOf(value), error);
        const named = value !== null && typeof value === "object"
          ? (value as Record<string, unknown>).key
          : undefined;
        const key = typeof named === "string" ? named.slice(0, 128) : null;
        // The client gets the message; the log also gets the cause (which key file, which path).
        this.#parts.logger.warn(`${peer}: refused: ${describeError(error)}`);
        const recording = this.#record(snap, { peer, dialect: "v2", key }, null, null, response);
        if (recording !== undefined) await recording;
        return { kind: "reply", response, refused: true };
      }
      return await this.#run(admitted.request, { peer, dialect: "v2", key: admitted.key }, snap);
    } finally {
      if (quiet) this.#quiet.leave();
    }
  }

  /** An admitted request: authorized, run and audited. Never throws. */
  async run(request: Request, origin: Origin, snap: ConfigSnapshot): Promise<Outcome> {
    if (!QUIET_OPS.includes(request.op)) return await this.#run(request, origin, snap);
    const turn = this.#quiet.enter();
    if (turn !== undefined) await turn;
    try {
      return await this.#run(request, origin, snap);
    } finally {
      this.#quiet.leave();
    }
  }

  async #run(request: Request, origin: Origin, snap: ConfigSnapshot): Promise<Outcome> {
    const { auth, logger, ops } = this.#parts;
    let outcome: Outcome;
    try {
      auth.authorize(origin.key, request.op, snap.settingsNow() ?? await snap.settings());
      if (!QUIET_OPS.includes(request.op)) {
        const by = origin.key === null ? "" : ` (key ${origin.key})`;
        logger.info(
          `${origin.peer}${by}: ${request.op}${request.child ? ` ${request.child}` : ""}`,
        );
      }
      outcome = await dispatch(ops, request, snap);
    } catch (error) {
      outcome = { kind: "reply", response: errorResponse(request.id, error) };
      if (outcome.response.code === "FORBIDDEN") {
        logger.warn(`${origin.peer}: refused: ${outcome.response.message}`);
      }
    }
    const recording = this.#record(
      snap,
      origin,
      request.op,
      request.child ?? null,
      outcome.response,
    );
    if (recording !== undefined) await recording;
    return outcome;
  }

  /** Audits a request refused before it became an operation (the legacy dialect's refusals). */
  async refused(origin: Origin, code: string, snap: ConfigSnapshot): Promise<void> {
    this.#parts.logger.warn(`${origin.peer}: refused (${origin.dialect}): ${code}`);
    const recording = this.#record(snap, origin, null, null, { ok: false, code });
    if (recording !== undefined) await recording;
  }

  /** Closes the audit log so the next line reopens it (SIGHUP). */
  async reopenLogs(): Promise<void> {
    await this.#parts.audit.reopen();
  }

  /** Writes what the audit log holds back (counts of repeated refusals) and closes it. */
  async close(): Promise<void> {
    await this.#parts.audit.close();
  }

  /**
   * Counts a request and writes its audit line, if server.yml names an audit log. A status
   * whose reading of server.yml names none is done without waiting.
   */
  #record(
    snap: ConfigSnapshot,
    origin: Origin,
    op: string | null,
    child: string | null,
    result: { readonly ok: boolean; readonly code?: string | undefined },
  ): Promise<void> | undefined {
    const code = result.code ?? null;
    this.#parts.stats?.count(op, code);
    const settings = snap.settingsNow();
    if (settings !== undefined && settings.auditLog === undefined) return undefined;
    return this.#audit(snap, {
      peer: origin.peer,
      dialect: origin.dialect,
      key: origin.key,
      op,
      child,
      ok: result.ok,
      code,
    });
  }

  async #audit(snap: ConfigSnapshot, facts: AuditFacts): Promise<void> {
    let path: string | undefined;
    try {
      path = (await snap.settings()).auditLog;
    } catch {
      return; // server.yml was never read well: nowhere to audit to
    }
    if (path === undefined) return;
    await this.#parts.audit.record(path, facts);
  }
}

/**
 * At most `limit` tasks at once; the others wait, first come first served. A task takes its
 * turn with {@link enter} (a promise to wait for when none is free) and gives it back with
 * {@link leave}.
 */
class Turns {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Takes a turn: undefined when one was free, or a promise settled once one is handed over. */
  enter(): Promise<void> | undefined {
    if (this.#running < this.#limit) {
      this.#running++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Gives a turn back: to the first waiting, if any. */
  leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}
