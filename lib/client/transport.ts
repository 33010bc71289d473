/**
 * Sending one v2 request to one server and reading its response, within a time limit.
 *
 * @module
 */
import { LineReader } from "../protocol/line_reader.ts";
import { parseResponse } from "../protocol/messages.ts";
import type { Response } from "../protocol/messages.ts";
import type { HostTarget } from "./hosts.ts";

/** Largest response line accepted (a `check` of a big fleet is large). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A host that could not be asked: unreachable, timed out, or answered with garbage. */
export class TransportError extends Error {
  readonly host: string;

  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransportError";
    this.host = host;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionRefused) {
    return "connection refused (is the server running on that port?)";
  }
  if (error instanceof Deno.errors.ConnectionReset) return "connection reset by the server";
  if (error instanceof Deno.errors.TimedOut) return "connection timed out";
  if (error instanceof Deno.errors.NotFound) return "host name not found";
  return error instanceof Error ? error.message : String(error);
}

/** Sends `line` to `host` and returns its one-line response. */
export async function request(
  host: HostTarget,
  line: string,
  timeoutMs: number,
): Promise<Response> {
  let conn: Deno.TcpConn | undefined;
  let timedOut = false;
  let expire!: (error: Error) => void;
  const expired = new Promise<never>((_, reject) => (expire = reject));
  expired.catch(() => {});
  const timer = setTimeout(() => {
    timedOut = true;
    expire(new Deno.errors.TimedOut("timed out"));
    try {
      conn?.close();
    } catch {
      // closed already
    }
  }, timeoutMs);
  try {
    const connecting = Deno.connect({ hostname: host.hostname, port: host.port, transport: "tcp" });
    connecting.then((c) => timedOut && c.close(), () => {});
    conn = await Promise.race([connecting, expired]);
    const bytes = new TextEncoder().encode(line);
    let offset = 0;
    while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
    const reader = new LineReader(conn, MAX_RESPONSE_BYTES);
    const reply = await Promise.race([reader.next(), expired]);
    if (reply === null) throw new Error("the server closed the connection without answering");
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(reply));
    } catch {
      throw new Error(
        "the server's answer is not protocol v2 JSON (an older supervisor-rs server?)",
      );
    }
    return parseResponse(value);
  } catch (error) {
    if (timedOut) {
      throw new TransportError(
        host.label,
        `no answer from ${host.label} within ${timeoutMs / 1000}s`,
        { cause: error },
      );
    }
    throw new TransportError(host.label, `cannot reach ${host.label}: ${reasonOf(error)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // closed already
    }
  }
}
