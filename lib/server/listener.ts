/**
 * A control listener — the TCP port, or the local control socket — accepting connections,
 * bounding how many are served at once, and handing each to its dialect.
 *
 * Owns: the slots. When every slot is taken, the connection that has been open longest without
 * ever being answered an admitted request (a silent or refused client) is closed to make room,
 * once it has had {@link EVICTION_GRACE_MS}; only when there is none is the newcomer told BUSY.
 * Follow streams are counted in a pool of their own, so watchers cannot lock operators out.
 * Accepting backs off only when the process is out of file descriptors; other accept errors
 * (a connection reset before it was accepted) are counted and logged at most once a minute.
 * Each listener has its own slots: a flood on the TCP port cannot touch the control socket.
 *
 * @module
 */
import { formatAddress, isLoopback } from "../config/addresses.ts";
import type { Logger } from "../log.ts";
import { encodeResponse, errorResponse } from "../protocol/messages.ts";
import { SupervisorError } from "../errors.ts";
import { serveConnection } from "./connection.ts";
import type { ConnectionLimits, Handlers, Slot } from "./connection.ts";
import { RateLimitedLog } from "./rate_limited_log.ts";

export { formatAddress, isLoopback };

/** How long a new connection may stay silent before it can be evicted for a newcomer. */
export const EVICTION_GRACE_MS = 2_000;

/** How long accepting pauses when the process is out of file descriptors. */
const FD_BACKOFF_MS = 50;

/** Connections served since the last collection that make a burst worth collecting after. */
export const BURST_CONNECTIONS = 200;

/** How long the listeners stay without a connection before a burst's garbage is collected. */
export const AFTER_BURST_MS = 500;

/**
 * Growth of the JS heap's committed size since the last collection that is worth giving back
 * at the next lull (many requests on few connections: a watcher polling `check`, a start of
 * hundreds of children). V8's own collections free the garbage but keep its pages.
 */
export const HEAP_GROWTH_BYTES = 16 * 1024 * 1024;

/** How long the listeners stay without a connection before a grown heap is collected. */
export const LULL_MS = 25;

/** Options of a control listener. */
export interface ListenerOptions extends ConnectionLimits {
  readonly maxConnections: number;
  /** Follow streams served at once on this listener, beyond `maxConnections`. */
  readonly maxFollows: number;
}

/** Where to listen: a TCP address, or a Unix socket path. */
export type ListenAt =
  | { readonly transport: "tcp"; readonly hostname: string; readonly port: number }
  | { readonly transport: "unix"; readonly path: string };

/** One connection's slot. */
class ConnectionSlot implements Slot {
  readonly conn: Deno.Conn;
  readonly openedAt = performance.now();
  answered = 0;
  streaming = false;
  readonly #onStream: (slot: ConnectionSlot) => boolean;

  constructor(conn: Deno.Conn, onStream: (slot: ConnectionSlot) => boolean) {
    this.conn = conn;
    this.#onStream = onStream;
  }

  admittedAnswered(): void {
    this.answered++;
  }

  startStreaming(): boolean {
    return this.#onStream(this);
  }
}

/** Whether an accept error means the process ran out of file descriptors. */
function outOfDescriptors(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/** A bound control listener. */
export class ControlListener {
  readonly #listener: Deno.Listener;
  readonly #at: ListenAt;
  readonly #options: ListenerOptions;
  readonly #logger: Logger;
  readonly #slots = new Set<ConnectionSlot>();
  #accepted = 0;
  readonly #follows = new Set<ConnectionSlot>();
  readonly #acceptErrors: RateLimitedLog;
  #closed = false;

  private constructor(
    listener: Deno.Listener,
    parts: { readonly at: ListenAt; readonly options: ListenerOptions; readonly logger: Logger },
  ) {
    this.#listener = listener;
    this.#at = parts.at;
    this.#options = parts.options;
    this.#logger = parts.logger;
    this.#acceptErrors = new RateLimitedLog(parts.logger, 60_000);
    afterBurst.listenerOpened();
  }

  /** Binds the TCP port; throws the OS error (address in use, permission denied) as it is. */
  static bind(
    at: ListenAt & { readonly transport: "tcp" },
    options: ListenerOptions,
    logger: Logger,
  ): ControlListener {
    const listener = Deno.listen({ hostname: at.hostname, port: at.port, transport: "tcp" });
    return new ControlListener(listener, { at, options, logger });
  }

  /** Wraps a listener bound elsewhere (the control socket, see `control_socket.ts`). */
  static of(
    listener: Deno.Listener,
    at: ListenAt,
    parts: { readonly options: ListenerOptions; readonly logger: Logger },
  ): ControlListener {
    return new ControlListener(listener, { at, ...parts });
  }

  /** `host:port` actually bound (the real port when 0 was asked for), or `unix:PATH`. */
  get address(): string {
    if (this.#at.transport === "unix") return `unix:${this.#at.path}`;
    const addr = this.#listener.addr as Deno.NetAddr;
    return formatAddress(addr.hostname, addr.port);
  }

  get port(): number {
    return this.#at.transport === "tcp" ? (this.#listener.addr as Deno.NetAddr).port : 0;
  }

  /** Connections being served now (follow streams included). */
  get connections(): number {
    return this.#slots.size + this.#follows.size;
  }

  /** Connections accepted since the listener was bound. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Accepts connections until {@link close}, serving each with `handlers`. */
  async serve(handlers: Handlers): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed) return;
        this.#acceptErrors.error("accept failed", error);
        // Out of file descriptors: breathe, so the loop does not spin. Anything else (a
        // connection reset before it was accepted) concerns that connection only.
        if (outOfDescriptors(error)) await new Promise((r) => setTimeout(r, FD_BACKOFF_MS));
        continue;
      }
      if (this.#closed) {
        conn.close();
        return;
      }
      this.#accepted++;
      afterBurst.began();
      void this.#serveOne(conn, handlers);
    }
  }

  #peerOf(conn: Deno.Conn): string {
    if (this.#at.transport === "unix") return "local";
    const remote = conn.remoteAddr as Deno.NetAddr;
    return formatAddress(remote.hostname, remote.port);
  }

  async #serveOne(conn: Deno.Conn, handlers: Handlers): Promise<void> {
    const peer = this.#peerOf(conn);
    if (this.#slots.size >= this.#options.maxConnections && !this.#evictOne()) {
      await refuse(conn, `Too many connections (limit ${this.#options.maxConnections}); try again`);
      afterBurst.ended();
      return;
    }
    const slot = new ConnectionSlot(conn, (s) => this.#toFollows(s));
    this.#slots.add(slot);
    try {
      await serveConnection(conn, {
        peer,
        local: this.#at.transport === "unix",
        handlers,
        limits: this.#options,
        logger: this.#logger,
        slot,
      });
    } finally {
      this.#slots.delete(slot);
      this.#follows.delete(slot);
      if (!slot.streaming) afterBurst.ended();
    }
  }

  /**
   * Closes the connection open longest that was never answered an admitted request and has
   * had its grace period. False when there is none.
   */
  #evictOne(): boolean {
    const now = performance.now();
    let oldest: ConnectionSlot | undefined;
    for (const slot of this.#slots) {
      if (slot.answered > 0 || now - slot.openedAt < EVICTION_GRACE_MS) continue;
      if (!oldest || slot.openedAt < oldest.openedAt) oldest = slot;
    }
    if (!oldest) return false;
    this.#slots.delete(oldest);
    try {
      oldest.conn.close();
    } catch {
      // closed already
    }
    return true;
  }

  /** Moves a connection that starts a follow stream to the follow pool; false when it is full. */
  #toFollows(slot: ConnectionSlot): boolean {
    if (this.#follows.size >= this.#options.maxFollows) return false;
    this.#slots.delete(slot);
    this.#follows.add(slot);
    slot.streaming = true;
    afterBurst.ended();
    return true;
  }

  /** Stops accepting and closes every open connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    afterBurst.listenerClosed();
    this.#acceptErrors.flush();
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const slot of [...this.#slots, ...this.#follows]) {
      try {
        slot.conn.close();
      } catch {
        // already closed
      }
    }
  }
}

/** What the runtime offers to collect garbage: V8's `gc`, with `--v8-flags=--expose-gc`. */
type Collect = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/**
 * Gives the memory of a burst of clients back: V8 keeps the heap a thousand clients at once grew
 * it to, garbage included, until it allocates again (an idle server does not). Once the
 * listeners have had no connection for {@link AFTER_BURST_MS} after {@link BURST_CONNECTIONS}
 * or more, or for {@link LULL_MS} after the heap grew by {@link HEAP_GROWTH_BYTES} since the
 * last collection, the heap is collected with its pages returned to the system (tens of ms,
 * once per burst or growth, and only while no client is connected). Without `--expose-gc` (the
 * runtime then has no `gc`), nothing happens.
 *
 * A connection costs two counts and a clock reading: at most one timer is pending, set when
 * the last client leaves and set again for what is left of the lull when it fires early, and
 * the heap's size (a read of /proc) is looked at only once a lull is complete. Once every
 * listener that opened has closed, the process is shutting down: the connections closing then
 * collect nothing (two full collections, 40-90 ms with 500 children, in the middle of the stops).
 */
export class BurstCollector {
  readonly #collect: () => Collect | undefined;
  readonly #heapSize: () => number;
  readonly #delayMs: number;
  readonly #lullMs: number;
  #served = 0;
  #open = 0;
  /** When the last connection ended (performance.now() ms). */
  #endedAt = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The heap's committed size after the last collection (at first: when it was made). */
  #collectedAt: number;
  /** Listeners open now, and whether any ever opened. */
  #listeners = 0;
  #everListened = false;

  constructor(
    options: {
      readonly collect?: () => Collect | undefined;
      readonly heapSize?: () => number;
      readonly delayMs?: number;
      readonly lullMs?: number;
    } = {},
  ) {
    this.#collect = options.collect ?? (() => (globalThis as { gc?: Collect }).gc);
    this.#heapSize = options.heapSize ?? (() => Deno.memoryUsage().heapTotal);
    this.#delayMs = options.delayMs ?? AFTER_BURST_MS;
    this.#lullMs = options.lullMs ?? LULL_MS;
    this.#collectedAt = this.#heapSize();
  }

  /** A listener opened: its connections count. */
  listenerOpened(): void {
    this.#listeners++;
    this.#everListened = true;
  }

  /** A listener closed; when it was the last, no collection is made any more. */
  listenerClosed(): void {
    this.#listeners = Math.max(0, this.#listeners - 1);
    if (!this.#shutDown) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Whether every listener that opened has closed: the process is shutting down. */
  get #shutDown(): boolean {
    return this.#everListened && this.#listeners === 0;
  }

  /** A connection was accepted. */
  began(): void {
    this.#served++;
    this.#open++;
  }

  /** A connection ended, or turned into a stream (which may stay open for days). */
  ended(): void {
    this.#open = Math.max(0, this.#open - 1);
    this.#endedAt = performance.now();
    if (this.#open > 0 || this.#timer !== undefined || this.#shutDown) return;
    if (this.#collect() === undefined) return;
    this.#wait(this.#lullMs);
  }

  #wait(ms: number): void {
    this.#timer = setTimeout(() => this.#lull(), ms);
    // A pending collection never keeps the process alive.
    Deno.unrefTimer(Number(this.#timer));
  }

  /** The timer fired: collects when the lull is long enough for what there is to collect. */
  #lull(): void {
    this.#timer = undefined;
    // Clients are connected: the last to leave sets the timer again.
    if (this.#open > 0) return;
    const quiet = performance.now() - this.#endedAt;
    if (quiet < this.#lullMs) return this.#wait(this.#lullMs - quiet);
    const grown = this.#heapSize() - this.#collectedAt >= HEAP_GROWTH_BYTES;
    if (!grown && this.#served < BURST_CONNECTIONS) return;
    if (!grown && quiet < this.#delayMs) return this.#wait(this.#delayMs - quiet);
    this.#served = 0;
    this.#collect()?.({ type: "major", execution: "sync", flavor: "last-resort" });
    this.#collectedAt = this.#heapSize();
  }
}

/** The collector of every listener of the process (the heap is the process's). */
const afterBurst = new BurstCollector();

/** Answers BUSY and closes, without waiting long for a peer that does not read. */
async function refuse(conn: Deno.Conn, message: string): Promise<void> {
  const busy = new SupervisorError("BUSY", message);
  const bytes = new TextEncoder().encode(encodeResponse(errorResponse(null, busy)));
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }, 1000);
  try {
    await conn.write(bytes);
  } catch {
    // the peer is gone already
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}
