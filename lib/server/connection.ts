/**
 * One client connection of the v2 dialect: frames in, responses out, with limits.
 *
 * Owns: the per-connection rules — a line longer than the limit is answered TOO_LARGE and the
 * connection closed; a request that does not arrive in time (a silent client, a line that never
 * ends) is answered TIMEOUT and closed; empty, non-UTF-8 and non-JSON lines are answered with
 * their error and the connection goes on. Requests of one connection are answered in order.
 *
 * @module
 */
import type { SupervisorError } from "../errors.ts";
import { SupervisorError as Failure } from "../errors.ts";
import type { Logger } from "../log.ts";
import { LineReader, LineTooLongError } from "../protocol/line_reader.ts";
import { encodeResponse, errorResponse, parseRequest, requestIdOf } from "../protocol/messages.ts";
import type { Request, Response } from "../protocol/messages.ts";
import type { Outcome } from "./dispatch.ts";

/** Runs one request; never throws. */
export type RequestHandler = (request: Request, peer: string) => Promise<Outcome>;

/** What the connection needs of a socket. */
export interface Socket {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/** Limits of one connection. */
export interface ConnectionLimits {
  readonly maxRequestBytes: number;
  readonly readTimeoutMs: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** How long one connection may be served before others get a turn. */
const FAIRNESS_SLICE_MS = 5;
const encoder = new TextEncoder();

/** Decodes one request line, or explains with a SupervisorError why it is not a request. */
export function decodeRequestLine(
  line: Uint8Array,
): { request: Request } | { error: SupervisorError; id: Request["id"] } {
  let text: string;
  try {
    text = decoder.decode(line);
  } catch {
    return { error: new Failure("BAD_ENCODING", "Request is not valid UTF-8"), id: null };
  }
  if (text.endsWith("\r")) text = text.slice(0, -1);
  if (text.trim() === "") {
    return {
      error: new Failure("EMPTY_REQUEST", "Request is empty: expected one JSON object per line"),
      id: null,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { error: new Failure("BAD_JSON", `Request is not valid JSON: ${reason}`), id: null };
  }
  try {
    return { request: parseRequest(value) };
  } catch (error) {
    return { error: error as SupervisorError, id: requestIdOf(value) };
  }
}

/**
 * Serves `socket` until the peer closes, breaks a rule, or a `kill` is answered. Returns
 * whether the server must shut down.
 */
export async function serveConnection(
  socket: Socket,
  peer: string,
  handle: RequestHandler,
  limits: ConnectionLimits,
  logger: Logger,
): Promise<{ shutdown: boolean }> {
  const reader = new LineReader(socket, limits.maxRequestBytes);
  let lastYield = performance.now();
  const send = (response: Response) =>
    writeWithin(socket, encodeResponse(response), limits.readTimeoutMs);
  try {
    for (;;) {
      let line: Uint8Array | null;
      try {
        line = await readWithin(reader, limits.readTimeoutMs);
      } catch (error) {
        if (error instanceof LineTooLongError) {
          await send(errorResponse(null, new Failure("TOO_LARGE", error.message)));
        } else if (error instanceof ReadTimeout) {
          await send(
            errorResponse(
              null,
              new Failure(
                "TIMEOUT",
                `No complete request within ${
                  limits.readTimeoutMs / 1000
                }s; closing the connection`,
              ),
            ),
          );
        }
        return { shutdown: false };
      }
      if (line === null) return { shutdown: false };
      const decoded = decodeRequestLine(line);
      if ("error" in decoded) {
        await send(errorResponse(decoded.id, decoded.error));
        continue;
      }
      const outcome = await handle(decoded.request, peer);
      await send(outcome.response);
      if (outcome.shutdown) return { shutdown: true };
      // Buffered requests are answered without a trip through the event loop; give other
      // connections their turn every few milliseconds so one pipelining client cannot hog it.
      if (performance.now() - lastYield > FAIRNESS_SLICE_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
    }
  } catch (error) {
    // The peer went away or stopped reading; nothing to answer.
    logger.info(
      `connection from ${peer} closed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return { shutdown: false };
  } finally {
    try {
      socket.close();
    } catch {
      // already closed
    }
  }
}

class ReadTimeout extends Error {}

/** The next line, or ReadTimeout when it does not come within `ms` (the socket is then closed). */
function readWithin(reader: LineReader, ms: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ReadTimeout()), ms);
    reader.next().then(
      (line) => {
        clearTimeout(timer);
        resolve(line);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Writes `text` in full, or throws when the peer does not take it within `ms`. */
function writeWithin(socket: Socket, text: string, ms: number): Promise<void> {
  const bytes = encoder.encode(text);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error("peer does not read its responses"));
    }, ms);
    (async () => {
      let offset = 0;
      while (offset < bytes.length) offset += await socket.write(bytes.subarray(offset));
    })().then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
