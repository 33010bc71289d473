/**
 * One client connection: which dialect it speaks, and the v2 dialect's rules.
 *
 * The first byte decides: `{` (or blank space) is protocol v2, anything else the supervisor-rs
 * 0.8 text dialect, handed to its own handler. In v2, a line longer than the limit is answered
 * TOO_LARGE and the connection closed; a request that does not arrive in time (a silent client,
 * a line that never ends) is answered TIMEOUT and closed; empty, non-UTF-8 and non-JSON lines
 * are answered with their error and the connection goes on. Requests of one connection are
 * answered in order, and a client sending many at once yields to the others every few ms.
 *
 * @module
 */
import { deadline } from "../deadline.ts";
import { DeadlineError, errorMessage, LineTooLongError, SupervisorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { writeAll } from "../process/sinks.ts";
import { LineReader } from "../protocol/line_reader.ts";
import {
  encodeResponseBytes,
  errorResponse,
  requestIdOf,
  responseWritten,
} from "../protocol/messages.ts";
import type { RequestId, Response } from "../protocol/messages.ts";
import { encodeChange, encodeFollowEvent } from "../protocol/payloads.ts";
import type { FollowEvent } from "../protocol/payloads.ts";
import type { Outcome, Stream, StreamItem } from "./outcome.ts";
import { WaitLimit } from "./wait_limit.ts";

/** What the connection needs of a socket. */
export interface Socket {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/** How requests are served, by dialect, and what happens once an outcome was delivered. */
export interface Handlers {
  /** Runs one decoded v2 line (any JSON value); never throws. */
  v2(value: unknown, from: { readonly peer: string; readonly local: boolean }): Promise<Outcome>;
  /** Serves a legacy connection whose first bytes were `first`; returns its outcome. */
  legacy(first: Uint8Array, socket: Socket, peer: string): Promise<Outcome | undefined>;
  /** Called once the response of `outcome` has been sent (a `kill` shuts the server down). */
  delivered(outcome: Outcome): void;
}

/** Limits of one connection. */
export interface ConnectionLimits {
  readonly maxRequestBytes: number;
  readonly readTimeoutMs: number;
  /** Follow streams served at once by the connection's listener. */
  readonly maxFollows: number;
}

/** The connection's place in its listener's pool. */
export interface Slot {
  /** An admitted request was answered: the connection is a real client, not to be evicted. */
  admittedAnswered(): void;
  /** The connection turns into a follow stream; false when the follow pool is full. */
  startStreaming(): boolean;
}

/** What serving one connection needs. */
export interface ConnectionContext {
  readonly peer: string;
  /** Whether it came through the local control socket (trusted by its file mode). */
  readonly local: boolean;
  readonly handlers: Handlers;
  readonly limits: ConnectionLimits;
  readonly logger: Logger;
  readonly slot: Slot;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The first read of a connection: a request line fits (the line reader reads on if not). */
const FIRST_READ_BYTES = 1024;

const EMPTY = new Uint8Array(0);

/** How long one connection may be served before others get a turn. */
const FAIRNESS_SLICE_MS = 5;

/** Bytes that start a v2 connection. */
function isV2Start(byte: number): boolean {
  return byte === 0x7b || byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** Decodes one v2 line to a JSON value, or explains with a SupervisorError why it is not one. */
export function decodeLine(line: Uint8Array): { value: unknown } | { error: SupervisorError } {
  let text: string;
  try {
    text = decoder.decode(line);
  } catch {
    return { error: new SupervisorError("BAD_ENCODING", "Request is not valid UTF-8") };
  }
  if (text.endsWith("\r")) text = text.slice(0, -1);
  if (text.trim() === "") {
    return {
      error: new SupervisorError(
        "EMPTY_REQUEST",
        "Request is empty: expected one JSON object per line",
      ),
    };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return {
      error: new SupervisorError("BAD_JSON", `Request is not valid JSON: ${errorMessage(error)}`),
    };
  }
}

/**
 * Serves `socket` until the peer closes, breaks a rule, or a `kill` is answered; hands every
 * outcome to `handlers.delivered` once its response is sent. Always closes the socket.
 */
export async function serveConnection(socket: Socket, ctx: ConnectionContext): Promise<void> {
  const { peer, handlers, limits, logger, slot } = ctx;
  const limit = new WaitLimit();
  /** What overran its time limit, once something did: the connection then ends. */
  let late: "request" | "response" | undefined;
  const closeSocket = () => {
    try {
      socket.close();
    } catch {
      // already closed
    }
  };
  // A response the peer does not take in time: the socket is closed under the write.
  const responseLate = () => {
    late ??= "response";
    closeSocket();
  };
  // A request that does not come in time: answered TIMEOUT (if the peer takes it in time), and
  // the socket closed under the pending read.
  const requestLate = () => {
    late ??= "request";
    limit.start(limits.readTimeoutMs, closeSocket);
    void writeAll(socket, encodeResponseBytes(errorResponse(null, timeoutError(limits))))
      .catch(() => {})
      .finally(() => {
        limit.stop();
        closeSocket();
      });
  };
  const write = async (bytes: Uint8Array) => {
    limit.start(limits.readTimeoutMs, responseLate);
    try {
      await writeAll(socket, bytes);
    } finally {
      limit.stop();
    }
    // Written in full: a status's bytes may be used again for a later line.
    responseWritten(bytes);
  };
  // A response that carries its id already is sent as it is (the same members, in order).
  const send = (id: RequestId, response: Response) =>
    write(encodeResponseBytes(response.id === id ? response : { ...response, id }));
  try {
    // Requests are small: a small first read keeps a thousand idle connections cheap (the line
    // reader copies what it holds, and reads on with a buffer of its own).
    let head: Uint8Array;
    const first = new Uint8Array(Math.min(limits.maxRequestBytes + 1, FIRST_READ_BYTES));
    limit.start(limits.readTimeoutMs, requestLate);
    try {
      const n = await socket.read(first);
      if (n === null || n === 0 || late) return;
      head = first.subarray(0, n);
    } catch {
      return;
    } finally {
      limit.stop();
    }
    if (!isV2Start(head[0]!)) {
      const outcome = await handlers.legacy(head, socket, peer);
      if (outcome) handlers.delivered(outcome);
      return;
    }

    const reader = new LineReader(socket, limits.maxRequestBytes, head);
    /** Who sends this connection's requests: the same for each. */
    const from = { peer, local: ctx.local } as const;
    head = EMPTY;
    let lastYield = performance.now();
    for (;;) {
      let line: Uint8Array | null;
      // Nothing buffered: this read waits on the network, a turn of the event loop for the
      // others, so the busy time measured for fairness starts again after it.
      const waits = reader.pending === 0;
      try {
        // A whole line already buffered (a pipelining client) needs no time limit.
        if (reader.hasLine) {
          line = await reader.next();
        } else {
          limit.start(limits.readTimeoutMs, requestLate);
          try {
            line = await reader.next();
          } finally {
            limit.stop();
          }
        }
        if (waits) lastYield = performance.now();
      } catch (error) {
        if (!late && error instanceof LineTooLongError) {
          await send(null, errorResponse(null, new SupervisorError("TOO_LARGE", error.message)));
        }
        return;
      }
      if (line === null || late) return;
      const decoded = decodeLine(line);
      if ("error" in decoded) {
        await send(null, errorResponse(null, decoded.error));
        continue;
      }
      const outcome = await handlers.v2(decoded.value, from);
      const id = outcome.response.id ?? requestIdOf(decoded.value);
      if (outcome.kind === "stream" && !slot.startStreaming()) {
        outcome.follow.close();
        await send(id, errorResponse(id, tooManyFollows(limits)));
        continue;
      }
      if (outcome.kind === "reply") {
        // Only the bytes are kept while they are written: a thousand clients answered at once
        // do not each hold their result (a status of every child) meanwhile.
        const admitted = !outcome.refused;
        await send(id, outcome.response);
        if (admitted) slot.admittedAnswered();
      } else {
        await send(id, outcome.response);
        slot.admittedAnswered();
        if (outcome.kind === "shutdown") {
          handlers.delivered(outcome);
          return;
        }
        const emit = (event: FollowEvent) => write(encoder.encode(encodeFollowEvent(event) + "\n"));
        await streamFollow({ reader, id, follower: outcome.follow, emit })
          .finally(() => outcome.follow.close());
        return;
      }
      // Buffered requests are answered without a trip through the event loop; give other
      // connections their turn after a few milliseconds of busy time so one pipelining client
      // cannot hog it (a client that waits between requests never pays for the yield).
      if (performance.now() - lastYield > FAIRNESS_SLICE_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
    }
  } catch (error) {
    // The peer went away or stopped reading; nothing to answer.
    const reason = late === "response" ? PEER_NOT_READING : errorMessage(error);
    logger.info(`connection from ${peer} closed: ${reason}`);
  } finally {
    limit.close();
    closeSocket();
  }
}

/**
 * After a `log --follow` response: one event line per line of output, until the client closes
 * (or sends anything), stops reading for longer than the read timeout, or the server stops.
 */
async function streamFollow(
  stream: {
    readonly reader: LineReader;
    readonly id: RequestId;
    readonly follower: Stream;
    readonly emit: (event: FollowEvent) => Promise<void>;
  },
): Promise<void> {
  const { reader, id, follower, emit } = stream;
  void reader.next().catch(() => null).then(() => follower.close());
  for await (const item of follower as AsyncIterable<StreamItem>) await emit(followEvent(id, item));
  await emit({ id, event: "end", data: {} }).catch(() => {});
}

/** One item of a stream as its event line. */
export function followEvent(id: RequestId, item: StreamItem): FollowEvent {
  if ("dropped" in item) return { id, event: "dropped", data: { count: item.dropped } };
  if ("line" in item) return { id, event: "line", data: { stream: item.stream, line: item.line } };
  return { id, event: "change", data: encodeChange(item) };
}

function tooManyFollows(limits: ConnectionLimits): SupervisorError {
  return new SupervisorError(
    "BUSY",
    `Too many follow streams on this listener (limit ${limits.maxFollows}); stop one, or try again later`,
  );
}

function timeoutError(limits: ConnectionLimits): SupervisorError {
  return new SupervisorError(
    "TIMEOUT",
    `No complete request within ${limits.readTimeoutMs / 1000}s; closing the connection`,
  );
}

/** Why a connection whose peer did not take a response in time was closed. */
const PEER_NOT_READING = "peer does not read its responses";

/** Writes `text` in full, or throws when the peer does not take it within `ms`. */
export function writeWithin(socket: Socket, text: string | Uint8Array, ms: number): Promise<void> {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  return deadline(writeAll(socket, bytes), ms).catch((error) => {
    throw error instanceof DeadlineError ? new Error(PEER_NOT_READING) : error;
  });
}
