/**
 * The HTTP endpoint (`http_listen`): the status page, `/metrics` for Prometheus, and a JSON
 * API whose answers are the control protocol's own responses (`lib/protocol/payloads.ts`), so
 * there is one shape of the data however it is asked for.
 *
 * Every operation goes through the server's request pipeline (audited, counted, refused while
 * shutting down) as the `http` dialect. Reading needs what {@link HttpAuth} admits; acting
 * (start, stop, restart) needs `http_actions: on` too, and a request a browser cannot be made to
 * send from another site (`X-Requested-With: supervisor-ts`, or a bearer token).
 *
 * Owns: routes, status codes, headers, the event streams of the page. Does not own: who is
 * admitted (`http_auth.ts`), the page (`assets.ts`), the metrics text (`prometheus.ts`), or
 * what an operation does.
 *
 * @module
 */
import { formatAddress } from "../config/addresses.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { concat } from "../process/bytes.ts";
import type { Feed } from "../process/feed.ts";
import type { LogLine } from "../process/log_bus.ts";
import type { ResourceSample } from "../process/resource_sampler.ts";
import type { Request as OpRequest, Response as OpResponse } from "../protocol/messages.ts";
import type { Op } from "../protocol/ops.ts";
import { encodeChange, encodeResources } from "../protocol/payloads.ts";
import type { CheckData, InfoData } from "../protocol/payloads.ts";
import type { ChildEvents } from "../server/child_events.ts";
import type { Outcome } from "../server/outcome.ts";
import { ASSETS } from "./assets.ts";
import type { HttpAuth } from "./http_auth.ts";
import { METRICS_CONTENT_TYPE } from "./prometheus.ts";
import { EventStream } from "./sse.ts";
import { HttpGate } from "./http_gate.ts";
import { RateLimitedLog } from "../server/rate_limited_log.ts";

/** What the endpoint shows and acts on. */
export interface WebHost {
  /** Runs `request` as the control protocol would, for `peer`; never throws. */
  run(request: OpRequest, peer: string): Promise<Outcome>;
  /** The metrics text, with a fresh sample of CPU and memory. */
  metrics(): Promise<string>;
  /** `check` and `info` as the page's first view has them (not counted as requests). */
  status(): Promise<{ readonly check: CheckData; readonly info: InfoData }>;
  /** Changes of state as they happen. */
  readonly changes: ChildEvents;
  /** Samples of CPU and memory. */
  readonly resources: ResourceWatch;
  readonly logger: Logger;
}

/** What the endpoint needs of the sampling of CPU and memory. */
export interface ResourceWatch {
  readonly periodMs: number;
  /** Keeps sampling every period until the returned function is called. */
  hold(): () => void;
  /** The samples kept of each child, oldest first. */
  histories(): ReadonlyMap<string, readonly ResourceSample[]>;
  /** Calls `listener` after each sample until the returned function is called. */
  listen(listener: (at: number, latest: ReadonlyMap<string, ResourceSample>) => void): () => void;
}

/** Options of {@link HttpEndpoint.start}. */
export interface HttpOptions {
  readonly hostname: string;
  readonly port: number;
  readonly auth: HttpAuth;
  /** Whether the page may start, stop and restart children. */
  readonly actions: boolean;
  /** Event streams served at once (the page's and log tails'); more are told 503. */
  readonly maxStreams: number;
  /** Connections open at once; one more closes the oldest. */
  readonly maxConnections: number;
}

/** The paths served by GET. */
const KNOWN_PATHS: readonly string[] = [
  "/metrics",
  "/api/check",
  "/api/info",
  "/api/changes",
  "/api/log",
  "/api/resources",
  "/api/events",
  "/api/log/follow",
];

/** Operations the page may run. */
const ACTIONS: readonly Op[] = ["start", "stop", "restart"];

/** Largest request body read (an action's `{"child": "web"}`, a login form). */
const MAX_BODY_BYTES = 4096;

/** Lines of a child's output the page's log tail starts with, at most. */
const MAX_TAIL_LINES = 1000;

/** How long closing waits for requests still in flight. */
const CLOSE_GRACE_MS = 1000;

/** How long a request body may take to arrive. */
const BODY_TIMEOUT_MS = 10_000;

/** How long after a change the pages get the fresh reports of the children that changed. */
const CHILD_REPORT_DELAY_MS = 50;

/** Headers of every answer. */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** The page may load its own files and talk to its own server, nothing else. */
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A running HTTP endpoint. */
export class HttpEndpoint {
  #server: Deno.HttpServer<Deno.UnixAddr>;
  readonly #gate: HttpGate;
  #closing = false;
  /** Wrong logins, logged once a minute with a count. */
  readonly #wrongLogins: RateLimitedLog;
  readonly #streams = new Set<EventStream>();
  /** The streams of open pages (`/api/events`). */
  readonly #pages = new Set<EventStream>();
  readonly #unsubscribers: (() => void)[] = [];
  /** Children that changed since the last reports sent to the pages. */
  readonly #changed = new Set<string>();
  #reportTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #host: WebHost;
  readonly #options: HttpOptions;
  /** `http://127.0.0.1:9310/`. */
  readonly url: string;

  private constructor(host: WebHost, options: HttpOptions, gate: HttpGate) {
    this.#host = host;
    this.#options = options;
    this.#gate = gate;
    this.#wrongLogins = new RateLimitedLog(host.logger, 60_000);
    this.#server = this.#serve();
    void gate.serve();
    this.url = `http://${formatAddress(gate.addr.hostname, gate.addr.port)}/`;
  }

  /** Binds and serves; throws the bind error (address in use, permission denied). */
  static async start(host: WebHost, options: HttpOptions): Promise<HttpEndpoint> {
    const gate = await HttpGate.open({
      hostname: options.hostname,
      port: options.port,
      maxConnections: options.maxConnections,
      logger: host.logger,
    });
    return new HttpEndpoint(host, options, gate);
  }

  /** The port bound (for `http_listen: …:0`). */
  get port(): number {
    return this.#gate.addr.port;
  }

  /** Connections open now. */
  get connections(): number {
    return this.#gate.connections;
  }

  /**
   * Ends every event stream and connection, and stops serving; a request still being read
   * (a client that never finishes its body) is not waited for beyond {@link CLOSE_GRACE_MS}.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#unsubscribe();
    for (const stream of [...this.#streams]) stream.close();
    await this.#gate.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#server.shutdown().catch(() => {}),
      new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
    ]);
    clearTimeout(timer);
  }

  /** The HTTP server on the gate's socket, served again should it ever fail. */
  #serve(): Deno.HttpServer<Deno.UnixAddr> {
    const host = this.#host;
    const server = Deno.serve({
      path: this.#gate.socketPath,
      onListen: () => {},
      onError: (error) => {
        host.logger.error(`http: ${errorMessage(error)}`);
        return json(500, failure("INTERNAL", "Internal error; see the server's log"));
      },
    }, (request) => this.#handle(request));
    server.finished.catch((error) => {
      if (this.#closing) return;
      host.logger.error(`http: the server failed (${errorMessage(error)}); serving again`);
      setTimeout(() => {
        if (!this.#closing) this.#server = this.#serve();
      }, 1000);
    });
    return server;
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    const method = request.method;
    const asset = ASSETS.get(path === "/index.html" ? "/" : path);
    if (asset && (method === "GET" || method === "HEAD")) return serveAsset(request, asset);
    const admission = this.#options.auth.check(request);
    if (path === "/login" && method === "POST") return await this.#login(request);
    if (path === "/logout" && method === "POST") {
      return new Response(null, {
        status: 204,
        headers: { ...COMMON_HEADERS, "set-cookie": this.#options.auth.logout(request) },
      });
    }
    if (!admission.ok) {
      const code: ErrorCode = admission.status === 401 ? "AUTH_REQUIRED" : "FORBIDDEN";
      return json(admission.status, failure(code, admission.message), {
        ...(admission.status === 401 ? { "www-authenticate": 'Bearer realm="supervisor-ts"' } : {}),
      });
    }
    const peer = "http";
    if (method === "POST" && path.startsWith("/api/")) {
      const op = path.slice("/api/".length) as Op;
      if (!ACTIONS.includes(op)) return notFound(path);
      return await this.#act(request, op, { peer, via: admission.via });
    }
    if (method !== "GET" && method !== "HEAD") {
      if (!KNOWN_PATHS.includes(path)) return notFound(path);
      return json(405, failure("BAD_REQUEST", `${method} is not allowed on ${path}`), {
        allow: "GET, HEAD",
      });
    }
    switch (path) {
      case "/metrics":
        return new Response(await this.#host.metrics(), {
          headers: { ...COMMON_HEADERS, "content-type": METRICS_CONTENT_TYPE },
        });
      case "/api/check":
        return await this.#op(peer, "check", url.searchParams.get("child") ?? undefined, {});
      case "/api/info":
        return await this.#op(peer, "info", undefined, {});
      case "/api/changes":
        return await this.#op(peer, "events", undefined, {});
      case "/api/log":
        return await this.#op(peer, "log", url.searchParams.get("child") ?? "", {
          stream: streamParam(url),
          lines: linesParam(url),
        });
      case "/api/resources":
        return json(200, this.#histories());
      case "/api/events":
        return await this.#events(admission.via);
      case "/api/log/follow":
        return await this.#follow(peer, url);
      default:
        return notFound(path);
    }
  }

  /** An operation's answer as JSON: its response, with 200 or the status its code calls for. */
  async #op(
    peer: string,
    op: Op,
    child: string | undefined,
    args: Record<string, unknown>,
  ): Promise<Response> {
    const outcome = await this.#host.run({ v: 2, id: null, op, child, args }, peer);
    if (outcome.kind === "stream") outcome.follow.close();
    return json(outcome.response.ok ? 200 : statusOf(outcome.response.code), outcome.response);
  }

  async #act(
    request: Request,
    op: Op,
    who: { readonly peer: string; readonly via: "open" | "bearer" | "cookie" },
  ): Promise<Response> {
    if (!this.#options.actions) {
      return json(
        403,
        failure(
          "FORBIDDEN",
          `The page is read-only: set "http_actions: on" (with http_token_file) in server.yml to ${op} children from it`,
        ),
      );
    }
    if (who.via === "open") {
      return json(401, failure("AUTH_REQUIRED", "Actions need the token of http_token_file"));
    }
    // A cookie is sent with any request to this host, even one another site's page makes; a
    // custom header is not, unless this server allowed it (it allows no other origin).
    if (who.via === "cookie" && request.headers.get("x-requested-with") !== "supervisor-ts") {
      return json(
        403,
        failure("FORBIDDEN", 'An action from a browser needs "X-Requested-With: supervisor-ts"'),
      );
    }
    let child: unknown;
    try {
      const text = await readBody(request);
      child = text === "" ? new URL(request.url).searchParams.get("child") : JSON.parse(text).child;
    } catch (error) {
      if (error instanceof SupervisorError) {
        return json(statusOf(error.code), failure(error.code, error.message));
      }
      return json(
        400,
        failure("BAD_REQUEST", `The body must be {"child": "NAME"}: ${errorMessage(error)}`),
      );
    }
    if (typeof child !== "string" || child === "") {
      return json(400, failure("BAD_REQUEST", 'The body must be {"child": "NAME"}'));
    }
    return await this.#op(who.peer, op, child, {});
  }

  async #login(request: Request): Promise<Response> {
    let token = "";
    try {
      token = new URLSearchParams(await readBody(request)).get("token") ?? "";
    } catch (error) {
      const code = error instanceof SupervisorError ? error.code : "BAD_REQUEST";
      return json(statusOf(code), failure(code, errorMessage(error)));
    }
    const cookie = this.#options.auth.login(token);
    if (cookie === undefined) {
      this.#wrongLogins.error("http: a login with a wrong token was refused", "wrong token");
      return json(401, failure("AUTH_REQUIRED", "Wrong token"));
    }
    return new Response(null, {
      status: 204,
      headers: { ...COMMON_HEADERS, "set-cookie": cookie },
    });
  }

  /** The page's stream: the server and every child, then each change and each sample. */
  async #events(via: "open" | "bearer" | "cookie"): Promise<Response> {
    const stream = this.#stream();
    if (stream instanceof Response) return stream;
    const { check, info } = await this.#host.status();
    stream.send("hello", {
      actions: this.#options.actions,
      authenticated: via !== "open",
      period_ms: this.#host.resources.periodMs,
      info,
    });
    stream.send("check", check);
    const release = this.#host.resources.hold();
    this.#pages.add(stream);
    this.#subscribe();
    stream.onClose(() => {
      release();
      this.#pages.delete(stream);
      if (this.#pages.size === 0) this.#unsubscribe();
    });
    return stream.response;
  }

  /**
   * While any page is open: each change goes to every page at once; the fresh reports of the
   * children that changed follow, gathered in one `check` for every page every
   * {@link CHILD_REPORT_DELAY_MS}, so a crash loop costs one report per interval, not per page
   * and change.
   */
  #subscribe(): void {
    if (this.#unsubscribers.length > 0) return;
    const broadcast = (name: string, data: unknown) => {
      for (const page of this.#pages) page.send(name, data);
    };
    this.#unsubscribers.push(
      this.#host.changes.listen((change) => {
        broadcast("change", encodeChange(change));
        this.#changed.add(change.child);
        this.#reportTimer ??= setTimeout(
          () => void this.#reportChanged(broadcast),
          CHILD_REPORT_DELAY_MS,
        );
      }),
      this.#host.resources.listen((at, latest) => {
        const children: Record<string, unknown> = {};
        for (const [name, sample] of latest) children[name] = encodeResources(sample);
        broadcast("resources", { at: new Date(at).toISOString(), children });
      }),
    );
  }

  #unsubscribe(): void {
    for (const unsubscribe of this.#unsubscribers.splice(0)) unsubscribe();
    clearTimeout(this.#reportTimer);
    this.#reportTimer = undefined;
    this.#changed.clear();
  }

  async #reportChanged(broadcast: (name: string, data: unknown) => void): Promise<void> {
    const names = new Set(this.#changed);
    this.#changed.clear();
    try {
      const { check } = await this.#host.status();
      for (const child of check.children) if (names.has(child.name)) broadcast("child", child);
    } catch (error) {
      this.#host.logger.warn(`http: a report for the page failed: ${errorMessage(error)}`);
    } finally {
      this.#reportTimer = undefined;
      if (this.#changed.size > 0 && this.#pages.size > 0) {
        this.#reportTimer = setTimeout(
          () => void this.#reportChanged(broadcast),
          CHILD_REPORT_DELAY_MS,
        );
      }
    }
  }

  /** A log tail: the lines of `log … --follow` as events, until the page goes away. */
  async #follow(peer: string, url: URL): Promise<Response> {
    const child = url.searchParams.get("child") ?? "";
    const outcome = await this.#host.run(
      {
        v: 2,
        id: null,
        op: "log",
        child,
        args: { stream: streamParam(url), lines: linesParam(url, 0), follow: true },
      },
      peer,
    );
    if (outcome.kind !== "stream") {
      return json(outcome.response.ok ? 500 : statusOf(outcome.response.code), outcome.response);
    }
    const feed = outcome.follow as Feed<LogLine>;
    const stream = this.#stream();
    if (stream instanceof Response) {
      feed.close();
      return stream;
    }
    stream.send("log", outcome.response.data);
    stream.onClose(() => feed.close());
    void (async () => {
      for await (const item of feed) {
        if ("dropped" in item) stream.send("dropped", { count: item.dropped });
        else stream.send("line", { stream: item.stream, line: item.line });
      }
      stream.send("end", {});
      stream.close();
    })();
    return stream.response;
  }

  /** A new event stream, or the 503 when there are as many as there may be. */
  #stream(): EventStream | Response {
    if (this.#streams.size >= this.#options.maxStreams) {
      return json(
        503,
        failure(
          "BUSY",
          `Too many event streams (limit ${this.#options.maxStreams}); close a page, or try again later`,
        ),
        { "retry-after": "5" },
      );
    }
    const stream = new EventStream(COMMON_HEADERS);
    this.#streams.add(stream);
    stream.onClose(() => this.#streams.delete(stream));
    return stream;
  }

  #histories(): { period_ms: number; children: Record<string, unknown[]> } {
    const children: Record<string, unknown[]> = {};
    for (const [name, samples] of this.#host.resources.histories()) {
      children[name] = samples.map(encodeResources);
    }
    return { period_ms: this.#host.resources.periodMs, children };
  }
}

/** A file of the page, or 304 when the browser has it already. */
function serveAsset(request: Request, asset: { contentType: string; body: string; etag: string }) {
  const headers = {
    ...COMMON_HEADERS,
    "cache-control": "no-cache",
    "content-type": asset.contentType,
    etag: asset.etag,
    "content-security-policy": PAGE_POLICY,
    "x-frame-options": "DENY",
  };
  if (request.headers.get("if-none-match") === asset.etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : asset.body, { headers });
}

function failure(code: ErrorCode, message: string): OpResponse {
  return { id: null, ok: false, code, message };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...COMMON_HEADERS, "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function notFound(path: string): Response {
  return json(404, failure("NOT_FOUND", `No such page: ${path}`));
}

/** The HTTP status of a failed operation's code. */
function statusOf(code: ErrorCode | undefined): number {
  switch (code) {
    case "NOT_FOUND":
      return 404;
    case "BAD_REQUEST":
    case "BAD_NAME":
    case "RESERVED_NAME":
      return 400;
    case "FORBIDDEN":
      return 403;
    case "BUSY":
    case "SHUTTING_DOWN":
      return 503;
    case "TOO_LARGE":
      return 413;
    case "TIMEOUT":
      return 408;
    case "INTERNAL":
      return 500;
    default:
      // The operation was understood and refused or failed (ALREADY_RUNNING, EXITED_EARLY…).
      return 409;
  }
}

function streamParam(url: URL): string {
  return url.searchParams.get("stream") ?? "stdout";
}

function linesParam(url: URL, fallback = 100): number {
  const text = url.searchParams.get("lines");
  const lines = text === null ? fallback : Number(text);
  return Number.isInteger(lines) ? Math.min(Math.max(lines, 0), MAX_TAIL_LINES) : fallback;
}

/** The body as text, refusing one longer than {@link MAX_BODY_BYTES}. */
async function readBody(request: Request): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const late = Date.now() + BODY_TIMEOUT_MS;
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), late - Date.now()))),
    ]);
    clearTimeout(timer);
    if (next === null) {
      await reader.cancel().catch(() => {});
      throw new SupervisorError(
        "TIMEOUT",
        `The body did not arrive within ${BODY_TIMEOUT_MS / 1000}s`,
      );
    }
    const { done, value } = next;
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new SupervisorError("TOO_LARGE", `The body is longer than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(concat(chunks));
}
