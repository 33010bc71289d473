/**
 * The path of every request, whatever its dialect: admission (signature, window, replay),
 * permission, the operation itself, and the audit line.
 *
 * @module
 */
import type { Authenticator } from "../auth/authenticator.ts";
import type { ServerConfig } from "../config/server_config.ts";
import { errorResponse, requestIdOf } from "../protocol/messages.ts";
import type { Request } from "../protocol/messages.ts";
import type { Logger } from "../log.ts";
import type { AuditLog } from "./audit_log.ts";
import { dispatch } from "./dispatch.ts";
import type { Outcome } from "./dispatch.ts";
import type { Supervisor } from "./supervisor.ts";

/** Runs requests for the connections. */
export class RequestPipeline {
  readonly #supervisor: Supervisor;
  readonly #auth: Authenticator;
  readonly #audit: AuditLog;
  readonly #settings: () => ServerConfig | undefined;
  readonly #logger: Logger;

  constructor(
    supervisor: Supervisor,
    auth: Authenticator,
    audit: AuditLog,
    settings: () => ServerConfig | undefined,
    logger: Logger,
  ) {
    this.#supervisor = supervisor;
    this.#auth = auth;
    this.#audit = audit;
    this.#settings = settings;
    this.#logger = logger;
  }

  /** A decoded v2 line: admitted, authorized, run and audited. Never throws. */
  async v2(value: unknown, peer: string): Promise<Outcome> {
    let request: Request;
    let key: string | null;
    try {
      ({ request, key } = this.#auth.admit(value));
    } catch (error) {
      const response = errorResponse(requestIdOf(value), error);
      const named = value !== null && typeof value === "object"
        ? (value as Record<string, unknown>).key
        : undefined;
      const keyName = typeof named === "string" ? named.slice(0, 128) : null;
      this.#logger.warn(`${peer}: refused: ${response.message}`);
      await this.#record(peer, "v2", keyName, null, null, response.ok, response.code ?? null);
      return { response, shutdown: false };
    }
    return await this.run(request, key, peer, "v2");
  }

  /** An admitted request: authorized, run and audited. Never throws. */
  async run(
    request: Request,
    key: string | null,
    peer: string,
    dialect: "v2" | "legacy",
  ): Promise<Outcome> {
    let outcome: Outcome;
    try {
      this.#auth.authorize(key, request.op);
      if (request.op !== "check" && request.op !== "info") {
        const by = key === null ? "" : ` (key ${key})`;
        this.#logger.info(`${peer}${by}: ${request.op}${request.child ? ` ${request.child}` : ""}`);
      }
      outcome = await dispatch(this.#supervisor, request);
    } catch (error) {
      outcome = { response: errorResponse(request.id, error), shutdown: false };
      if (outcome.response.code === "FORBIDDEN") {
        this.#logger.warn(`${peer}: refused: ${outcome.response.message}`);
      }
    }
    const { response } = outcome;
    await this.#record(
      peer,
      dialect,
      key,
      request.op,
      request.child ?? null,
      response.ok,
      response.code ?? null,
    );
    return outcome;
  }

  /** Audits a request refused before it became an operation (the legacy dialect's refusals). */
  async refused(
    peer: string,
    dialect: "v2" | "legacy",
    key: string | null,
    code: string,
  ): Promise<void> {
    this.#logger.warn(`${peer}: refused (${dialect}): ${code}`);
    await this.#record(peer, dialect, key, null, null, false, code);
  }

  /** Closes the audit log so the next line reopens it (SIGHUP). */
  reopenLogs(): void {
    this.#audit.reopen();
  }

  async #record(
    peer: string,
    dialect: "v2" | "legacy",
    key: string | null,
    op: string | null,
    child: string | null,
    ok: boolean,
    code: string | null,
  ): Promise<void> {
    const path = this.#settings()?.auditLog;
    if (path === undefined) return;
    await this.#audit.record(path, {
      time: new Date().toISOString(),
      peer,
      dialect,
      key,
      op,
      child,
      ok,
      code,
    });
  }
}
