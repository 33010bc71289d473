/**
 * The v2 protocol's messages: one JSON object per line, requests in, responses out.
 *
 * Owns: the shapes of requests and responses, parsing and validating a request line, and
 * encoding a response line. Does not own: reading lines off a socket (see `line_reader.ts`).
 *
 * @module
 */
import { errorMessage, SupervisorError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";
import { PROTOCOL_VERSION } from "../version.ts";
import { OPS, OPS_NEEDING_CHILD } from "./ops.ts";
import type { Op } from "./ops.ts";
import type { JsonText } from "./json_bytes.ts";

export { OPS, OPS_NEEDING_CHILD } from "./ops.ts";
export type { Op } from "./ops.ts";
export type { JsonText } from "./json_bytes.ts";

/** A request id: echoed back so a client can match responses. */
export type RequestId = string | number | null;

/** A validated v2 request. */
export interface Request {
  readonly v: 2;
  readonly id: RequestId;
  readonly op: Op;
  readonly child: string | undefined;
  readonly args: Readonly<Record<string, unknown>>;
}

/** A v2 response. */
export interface Response {
  readonly id: RequestId;
  readonly ok: boolean;
  readonly code?: ErrorCode;
  readonly message: string;
  readonly data?: Record<string, unknown>;
}

const REQUEST_KEYS = ["v", "id", "op", "child", "args"];

/** Reads `id` from anything that looks like a request, so even a bad one gets its id back. */
export function requestIdOf(value: unknown): RequestId {
  if (value === null || typeof value !== "object") return null;
  const id = (value as Record<string, unknown>).id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

/** Validates a decoded JSON value as a request; throws BAD_REQUEST or UNKNOWN_OP. */
export function parseRequest(value: unknown): Request {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SupervisorError("BAD_REQUEST", "A request must be a JSON object");
  }
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !REQUEST_KEYS.includes(k));
  if (extra.length > 0) {
    throw new SupervisorError(
      "BAD_REQUEST",
      `Unknown request field ${JSON.stringify(extra[0])}; expected: ${REQUEST_KEYS.join(", ")}`,
    );
  }
  if (record.v !== PROTOCOL_VERSION) {
    throw new SupervisorError(
      "BAD_REQUEST",
      `Unsupported protocol version ${JSON.stringify(record.v)}; expected "v": ${PROTOCOL_VERSION}`,
    );
  }
  const id = record.id;
  if (id !== undefined && id !== null && typeof id !== "string" && typeof id !== "number") {
    throw new SupervisorError("BAD_REQUEST", `"id" must be a string or a number`);
  }
  const op = record.op;
  if (typeof op !== "string") throw new SupervisorError("BAD_REQUEST", `"op" must be a string`);
  if (!(OPS as readonly string[]).includes(op)) {
    throw new SupervisorError(
      "UNKNOWN_OP",
      `Unknown operation ${JSON.stringify(op)}; expected one of: ${OPS.join(", ")}`,
    );
  }
  const child = record.child;
  if (child !== undefined && child !== null && typeof child !== "string") {
    throw new SupervisorError("BAD_REQUEST", `"child" must be a string`);
  }
  if (OPS_NEEDING_CHILD.includes(op as Op) && (typeof child !== "string" || child === "")) {
    throw new SupervisorError("BAD_REQUEST", `Operation "${op}" needs a child name in "child"`);
  }
  const args = record.args ?? {};
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw new SupervisorError("BAD_REQUEST", `"args" must be an object`);
  }
  return {
    v: PROTOCOL_VERSION,
    id: (id ?? null) as RequestId,
    op: op as Op,
    child: typeof child === "string" && child !== "" ? child : undefined,
    args: args as Record<string, unknown>,
  };
}

/** Encodes a response as one line of JSON, newline included. */
export function encodeResponse(response: Response): string {
  return JSON.stringify(response) + "\n";
}

/** Data objects that bring their own JSON text (a status of many children, from its parts). */
const jsonTexts = new WeakMap<object, () => JsonText>();

/**
 * Marks `data` as encoded by `text`, which must give exactly the bytes of
 * `JSON.stringify(data)`: a response carrying it is written from them. Returns `data`.
 */
export function withJsonText<T extends object>(data: T, text: () => JsonText): T {
  jsonTexts.set(data, text);
  return data;
}

const encoder = new TextEncoder();

/**
 * {@link encodeResponse} as UTF-8 bytes, from the data's own text when it has one: written
 * into one array of the line's length, or into the bytes the text made ready for it (new ones
 * each time either way: the socket may still be writing the last).
 */
export function encodeResponseBytes(response: Response): Uint8Array {
  const data = response.data === undefined ? undefined : jsonTexts.get(response.data);
  if (data === undefined) return encoder.encode(encodeResponse(response));
  const around = aroundData(response);
  if (around === undefined) return encoder.encode(encodeResponse(response));
  const { head, tail } = around;
  const text = data();
  const ready = text.line?.(head, tail);
  if (ready !== undefined) {
    if (text.written !== undefined) lent.set(ready, text);
    return ready;
  }
  const bytes = new Uint8Array(head.length + text.byteLength + tail.length);
  bytes.set(head, 0);
  const end = text.writeTo(bytes, head.length);
  if (end !== head.length + text.byteLength) {
    throw new Error(`JSON text wrote ${end - head.length} bytes, not ${text.byteLength}`);
  }
  bytes.set(tail, end);
  return bytes;
}

/** Lines in bytes their data's text made ready, until written out ({@link responseWritten}). */
const lent = new WeakMap<Uint8Array, JsonText>();

/**
 * `bytes` from {@link encodeResponseBytes} were written out in full and are not held any more:
 * the text they were made from may use them again (a status asked again and again then writes
 * into the same few arrays instead of a new one each time). Bytes not written out in full must
 * not be handed back: a socket may still be reading them.
 */
export function responseWritten(bytes: Uint8Array): void {
  const text = lent.get(bytes);
  if (text === undefined) return;
  lent.delete(bytes);
  text.written?.(bytes);
}

/** The bytes of a response line before and after its data's text. */
interface AroundData {
  /** The response's members other than `data`, by name, in order, as last encoded. */
  readonly keys: readonly string[];
  readonly values: readonly unknown[];
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
}

/**
 * The last {@link AroundData} made: a client asking for the same status again (the same id,
 * the same summary) gets the same bytes around its data, made once (they are only copied).
 */
let lastAround: AroundData | undefined;

/** What comes before and after `response.data` in its line; undefined without a `data` member. */
function aroundData(response: Response): AroundData | undefined {
  const last = lastAround;
  if (last !== undefined) {
    let i = 0;
    let same = true;
    for (const key in response) {
      const value = (response as unknown as Record<string, unknown>)[key];
      if (
        i >= last.keys.length || last.keys[i] !== key ||
        (key !== "data" && !Object.is(last.values[i], value))
      ) {
        same = false;
        break;
      }
      i++;
    }
    if (same && i === last.keys.length) return last;
  }
  // What JSON.stringify does for a plain object, with the data's text in the middle.
  const keys: string[] = [];
  const values: unknown[] = [];
  let before = "{";
  let after: string | undefined;
  for (const [key, value] of Object.entries(response)) {
    keys.push(key);
    // The data's own value is not compared: its text is written anew for every response.
    values.push(key === "data" ? DATA : value);
    const json: string | undefined = key === "data" ? "" : JSON.stringify(value);
    if (json === undefined) continue;
    const member = `${JSON.stringify(key)}:${json}`;
    if (after !== undefined) after += `,${member}`;
    else before += `${before === "{" ? "" : ","}${member}`;
    if (key === "data") after = "";
  }
  if (after === undefined) return undefined;
  const around = {
    keys,
    values,
    head: encoder.encode(before),
    tail: encoder.encode(`${after}}\n`),
  };
  // Only members whose JSON cannot change without the value changing are compared by value.
  if (values.every((v) => v === DATA || v === null || typeof v !== "object")) lastAround = around;
  return around;
}

/** Stands for the data member in {@link AroundData.values}. */
const DATA = Symbol("data");

/** A failed response for `error` (a SupervisorError keeps its code; anything else is INTERNAL). */
export function errorResponse(id: RequestId, error: unknown): Response {
  if (error instanceof SupervisorError) {
    return { id, ok: false, code: error.code, message: error.message };
  }
  const message = errorMessage(error);
  return { id, ok: false, code: "INTERNAL", message: `Internal error: ${message}` };
}

/** Builds the request line a client sends. */
export function encodeRequest(request: {
  id: RequestId;
  op: Op;
  child?: string | undefined;
  args?: Record<string, unknown> | undefined;
}): string {
  const body: Record<string, unknown> = { v: PROTOCOL_VERSION, id: request.id, op: request.op };
  if (request.child !== undefined) body.child = request.child;
  if (request.args !== undefined) body.args = request.args;
  return JSON.stringify(body) + "\n";
}

/** Validates a decoded JSON value as a response; throws when it is not one. */
export function parseResponse(value: unknown): Response {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("response is not a JSON object");
  }
  const r = value as Record<string, unknown>;
  if (typeof r.ok !== "boolean" || typeof r.message !== "string") {
    throw new Error(`response lacks "ok" or "message"`);
  }
  const response: {
    id: RequestId;
    ok: boolean;
    message: string;
    code?: ErrorCode;
    data?: Record<string, unknown>;
  } = { id: requestIdOf(r), ok: r.ok, message: r.message };
  if (typeof r.code === "string") response.code = r.code as ErrorCode;
  if (r.data !== null && typeof r.data === "object" && !Array.isArray(r.data)) {
    response.data = r.data as Record<string, unknown>;
  }
  return response;
}
