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

export { OPS, OPS_NEEDING_CHILD } from "./ops.ts";
export type { Op } from "./ops.ts";

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

/**
 * JSON text in parts, to be written one after the other: byte arrays (UTF-8, kept and shared
 * between responses), strings of ASCII characters only, and numbers (as JSON writes them).
 */
export type JsonParts = readonly (Uint8Array | string | number)[];

/** Data objects that bring their own JSON text (a status of many children, from its parts). */
const jsonParts = new WeakMap<object, () => JsonParts>();

/**
 * Marks `data` as encoded by `parts`, which must give exactly the bytes of
 * `JSON.stringify(data)`: a response carrying it is written from them. Returns `data`.
 */
export function withJsonParts<T extends object>(data: T, parts: () => JsonParts): T {
  jsonParts.set(data, parts);
  return data;
}

const encoder = new TextEncoder();

/** {@link encodeResponse} as UTF-8 bytes, from the data's own parts when it has them. */
export function encodeResponseBytes(response: Response): Uint8Array {
  const dataParts = response.data === undefined ? undefined : jsonParts.get(response.data);
  if (dataParts === undefined) return encoder.encode(encodeResponse(response));
  // What JSON.stringify does for a plain object, with the data's parts in the middle.
  const parts: (Uint8Array | string | number)[] = [];
  let text = "{";
  for (const [key, value] of Object.entries(response)) {
    const json: string | undefined = key === "data" ? "" : JSON.stringify(value);
    if (json === undefined) continue;
    text += `${text === "{" ? "" : ","}${JSON.stringify(key)}:${json}`;
    if (key === "data") {
      parts.push(encoder.encode(text));
      for (const part of dataParts()) parts.push(part);
      text = "";
    }
  }
  parts.push(encoder.encode(`${text}}\n`));
  return joinParts(parts);
}

/** The parts one after the other in one array. */
function joinParts(parts: JsonParts): Uint8Array {
  let length = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    length += typeof part === "number" ? numberLength(part) : part.length;
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (typeof part === "object") {
      bytes.set(part, at);
      at += part.length;
    } else if (typeof part === "number" && isSmallWhole(part)) {
      at = writeWhole(bytes, at, part);
    } else {
      const text = typeof part === "number" ? JSON.stringify(part) : part;
      for (let k = 0; k < text.length; k++) bytes[at++] = text.charCodeAt(k);
    }
  }
  return bytes;
}

/** Whole numbers written digit by digit (JSON writes them without exponent up to 1e21). */
function isSmallWhole(n: number): boolean {
  return Number.isSafeInteger(n) && !Object.is(n, -0);
}

/** The length of `n` as JSON writes it. */
function numberLength(n: number): number {
  if (!isSmallWhole(n)) return JSON.stringify(n).length;
  let length = n < 0 ? 2 : 1;
  for (let rest = Math.abs(n); rest >= 10; rest = Math.floor(rest / 10)) length++;
  return length;
}

/** Writes the digits of the whole number `n` at `at`; returns where they end. */
function writeWhole(bytes: Uint8Array, at: number, n: number): number {
  if (n < 0) {
    bytes[at++] = 0x2d;
    n = -n;
  }
  const end = at + numberLength(n);
  let i = end;
  do {
    bytes[--i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return end;
}

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
