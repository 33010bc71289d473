/**
 * The door of the HTTP endpoint: the TCP port of `http_listen`, relaying each connection to the
 * HTTP server, which listens on a Unix socket in a private directory (mode 0700) only this
 * process uses.
 *
 * Why: `Deno.serve` bounds nothing. Idle connections pile up until the process runs out of file
 * descriptors, and then it stops serving HTTP for good, while the control port and the children
 * starve for descriptors too. The gate holds at most {@link HttpGate.maxConnections}; one more
 * closes the connection that has been open longest (a page's stream reconnects by itself), so a
 * flood of idle connections can neither lock out a newcomer nor exhaust descriptors (each
 * connection costs three: ours, the relay's, the server's).
 *
 * Owns: accepting, the bound, eviction, relaying bytes. Does not own: HTTP itself.
 *
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { RateLimitedLog } from "../server/rate_limited_log.ts";

/** How long accepting pauses when the process is out of file descriptors. */
const FD_BACKOFF_MS = 50;

/** One relayed connection. */
interface Relay {
  readonly outside: Deno.Conn;
  inside: Deno.Conn | undefined;
  closed: boolean;
}

/** A bounded TCP door in front of a server on a private Unix socket. */
export class HttpGate {
  readonly #listener: Deno.TcpListener;
  readonly #dir: string;
  /** The Unix socket the HTTP server listens on. */
  readonly socketPath: string;
  readonly maxConnections: number;
  /** Open relays, oldest first (a Set keeps insertion order). */
  readonly #relays = new Set<Relay>();
  readonly #acceptErrors: RateLimitedLog;
  #closed = false;

  private constructor(
    listener: Deno.TcpListener,
    dir: string,
    maxConnections: number,
    logger: Logger,
  ) {
    this.#listener = listener;
    this.#dir = dir;
    this.socketPath = join(dir, "http.sock");
    this.maxConnections = maxConnections;
    this.#acceptErrors = new RateLimitedLog(logger, 60_000);
  }

  /** Binds `hostname:port` and makes the private directory; throws the bind error. */
  static async open(options: {
    readonly hostname: string;
    readonly port: number;
    readonly maxConnections: number;
    readonly logger: Logger;
  }): Promise<HttpGate> {
    const listener = Deno.listen({ hostname: options.hostname, port: options.port });
    try {
      const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-http-" });
      await Deno.chmod(dir, 0o700);
      return new HttpGate(listener, dir, options.maxConnections, options.logger);
    } catch (error) {
      listener.close();
      throw error;
    }
  }

  /** The address bound. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Connections relayed now. */
  get connections(): number {
    return this.#relays.size;
  }

  /** Accepts and relays until {@link close}. */
  async serve(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed) return;
        this.#acceptErrors.error("http: accept failed", error);
        if (/os error 2[34]|Too many open files/.test(String(error))) {
          await new Promise((resolve) => setTimeout(resolve, FD_BACKOFF_MS));
        }
        continue;
      }
      if (this.#closed) {
        conn.close();
        return;
      }
      if (this.#relays.size >= this.maxConnections) {
        const oldest = this.#relays.values().next().value;
        if (oldest) end(oldest, this.#relays);
      }
      void this.#relay(conn);
    }
  }

  /** Stops accepting, ends every connection and removes the private directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // closed already
    }
    for (const relay of [...this.#relays]) end(relay, this.#relays);
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  async #relay(outside: Deno.Conn): Promise<void> {
    const relay: Relay = { outside, inside: undefined, closed: false };
    this.#relays.add(relay);
    try {
      const inside = await Deno.connect({ transport: "unix", path: this.socketPath });
      if (relay.closed) {
        // Evicted while connecting: the outside is closed already, this side is not.
        inside.close();
        return;
      }
      relay.inside = inside;
      // A client that has sent all it will (a half-close) still gets its answer: the server
      // is told, and the relay ends when the server's side does, or either side fails.
      void pump(outside, inside).then(() => inside.closeWrite()).catch(() =>
        end(relay, this.#relays)
      );
      await pump(inside, outside);
    } catch {
      // either side went away, or the server is shutting down
    } finally {
      end(relay, this.#relays);
    }
  }
}

/** Copies `from` to `to` until `from` ends or either fails. */
async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await from.read(buffer);
    if (n === null) return;
    let written = 0;
    while (written < n) written += await to.write(buffer.subarray(written, n));
  }
}

function end(relay: Relay, relays: Set<Relay>): void {
  relays.delete(relay);
  if (relay.closed) return;
  relay.closed = true;
  for (const conn of [relay.outside, relay.inside]) {
    try {
      conn?.close();
    } catch {
      // closed already
    }
  }
}
