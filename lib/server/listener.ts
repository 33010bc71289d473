/**
 * The control port: accepting connections, bounding how many are served at once, and handing
 * each to its dialect.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { encodeResponse, errorResponse } from "../protocol/messages.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import { serveConnection } from "./connection.ts";
import type { ConnectionLimits, Handlers } from "./connection.ts";

/** Formats a listen address as `host:port`, with brackets for IPv6. */
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Tells whether `hostname` only accepts connections from this machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
}

/** Options of the control port. */
export interface ListenerOptions extends ConnectionLimits {
  readonly hostname: string;
  readonly port: number;
  readonly maxConnections: number;
}

/** A bound control port. */
export class ControlListener {
  readonly #listener: Deno.TcpListener;
  readonly #options: ListenerOptions;
  readonly #logger: Logger;
  readonly #connections = new Set<Deno.Conn>();
  #closed = false;

  private constructor(listener: Deno.TcpListener, options: ListenerOptions, logger: Logger) {
    this.#listener = listener;
    this.#options = options;
    this.#logger = logger;
  }

  /** Binds the port; throws the OS error (address in use, permission denied) as it is. */
  static bind(options: ListenerOptions, logger: Logger): ControlListener {
    const listener = Deno.listen({
      hostname: options.hostname,
      port: options.port,
      transport: "tcp",
    });
    return new ControlListener(listener, options, logger);
  }

  /** `host:port` actually bound (the real port when 0 was asked for). */
  get address(): string {
    const addr = this.#listener.addr;
    return formatAddress(addr.hostname, addr.port);
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  /** Connections being served now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Accepts connections until {@link close}, serving each with `handlers`. */
  async serve(handlers: Handlers): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed) return;
        // Out of file descriptors and the like: log, breathe, go on.
        this.#logger.error(
          `accept failed: ${errorMessage(error)}`,
        );
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (this.#closed) {
        conn.close();
        return;
      }
      void this.#serveOne(conn, handlers);
    }
  }

  async #serveOne(conn: Deno.Conn, handlers: Handlers): Promise<void> {
    const remote = conn.remoteAddr as Deno.NetAddr;
    const peer = formatAddress(remote.hostname, remote.port);
    if (this.#connections.size >= this.#options.maxConnections) {
      const busy = new SupervisorError(
        "BUSY",
        `Too many connections (limit ${this.#options.maxConnections}); try again`,
      );
      try {
        await conn.write(new TextEncoder().encode(encodeResponse(errorResponse(null, busy))));
      } catch {
        // the peer is gone already
      }
      conn.close();
      return;
    }
    this.#connections.add(conn);
    try {
      await serveConnection(conn, {
        peer,
        handlers,
        limits: this.#options,
        logger: this.#logger,
      });
    } finally {
      this.#connections.delete(conn);
    }
  }

  /** Stops accepting and closes every open connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  }
}
