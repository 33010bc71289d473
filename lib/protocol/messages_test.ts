import assert from "node:assert/strict";
import { SupervisorError } from "../errors.ts";
import {
  encodeRequest,
  encodeResponse,
  encodeResponseBytes,
  errorResponse,
  OPS,
  parseRequest,
  parseResponse,
  requestIdOf,
  withJsonText,
} from "./messages.ts";
import type { JsonText, Response } from "./messages.ts";

/** Asserts that `value` is refused with `code`, and returns the message. */
function refusal(value: unknown, code: string): string {
  try {
    parseRequest(value);
  } catch (error) {
    assert.ok(error instanceof SupervisorError, `expected SupervisorError, got ${error}`);
    assert.equal(error.code, code, `${JSON.stringify(value)}: ${error.message}`);
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(value)} to be refused`);
}

Deno.test("a valid request is accepted with its id, op, child and args", () => {
  assert.deepEqual(
    parseRequest({ v: 2, id: 7, op: "start", child: "web", args: { wait: true } }),
    { v: 2, id: 7, op: "start", child: "web", args: { wait: true } },
  );
});

Deno.test("a request without id, child or args gets null, undefined and {}", () => {
  assert.deepEqual(parseRequest({ v: 2, op: "check" }), {
    v: 2,
    id: null,
    op: "check",
    child: undefined,
    args: {},
  });
  assert.equal(parseRequest({ v: 2, id: "abc", op: "info", child: null }).id, "abc");
  assert.equal(parseRequest({ v: 2, op: "check", child: "" }).child, undefined);
});

Deno.test("every operation of the protocol is accepted", () => {
  for (const op of OPS) {
    const request = parseRequest({ v: 2, op, child: "web" });
    assert.equal(request.op, op);
  }
});

Deno.test("a request that is not a JSON object is a BAD_REQUEST", () => {
  for (const value of [null, undefined, 42, "check", true, [], [{ v: 2, op: "check" }]]) {
    assert.equal(refusal(value, "BAD_REQUEST"), "A request must be a JSON object");
  }
});

Deno.test("an unknown field is a BAD_REQUEST naming the field", () => {
  assert.equal(
    refusal({ v: 2, op: "check", name: "web" }, "BAD_REQUEST"),
    'Unknown request field "name"; expected: v, id, op, child, args',
  );
});

Deno.test("a missing or other protocol version is a BAD_REQUEST", () => {
  assert.equal(
    refusal({ op: "check" }, "BAD_REQUEST"),
    'Unsupported protocol version undefined; expected "v": 2',
  );
  assert.equal(
    refusal({ v: 1, op: "check" }, "BAD_REQUEST"),
    'Unsupported protocol version 1; expected "v": 2',
  );
  refusal({ v: "2", op: "check" }, "BAD_REQUEST");
});

Deno.test("an id that is neither string nor number is a BAD_REQUEST", () => {
  assert.equal(
    refusal({ v: 2, id: { n: 1 }, op: "check" }, "BAD_REQUEST"),
    '"id" must be a string or a number',
  );
  refusal({ v: 2, id: true, op: "check" }, "BAD_REQUEST");
});

Deno.test("a missing or non-string op is a BAD_REQUEST", () => {
  assert.equal(refusal({ v: 2 }, "BAD_REQUEST"), '"op" must be a string');
  assert.equal(refusal({ v: 2, op: 3 }, "BAD_REQUEST"), '"op" must be a string');
});

Deno.test("an op the server does not know is UNKNOWN_OP listing the known ones", () => {
  assert.equal(
    refusal({ v: 2, op: "reboot" }, "UNKNOWN_OP"),
    'Unknown operation "reboot"; expected one of: start, stop, restart, trystart, check, info, kill, log, signal, update, events',
  );
  refusal({ v: 2, op: "Start", child: "web" }, "UNKNOWN_OP");
  refusal({ v: 2, op: "" }, "UNKNOWN_OP");
});

Deno.test("a child that is not a string is a BAD_REQUEST", () => {
  assert.equal(refusal({ v: 2, op: "check", child: 5 }, "BAD_REQUEST"), '"child" must be a string');
});

Deno.test("start, stop, restart and trystart without a child are a BAD_REQUEST", () => {
  for (const op of ["start", "stop", "restart", "trystart"]) {
    assert.equal(
      refusal({ v: 2, op }, "BAD_REQUEST"),
      `Operation "${op}" needs a child name in "child"`,
    );
    refusal({ v: 2, op, child: "" }, "BAD_REQUEST");
  }
});

Deno.test("args that are not an object are a BAD_REQUEST", () => {
  for (const args of [[], "x", 1, false]) {
    const message = refusal({ v: 2, op: "check", args }, "BAD_REQUEST");
    assert.equal(message, '"args" must be an object');
  }
});

Deno.test("null args, like null id and child, count as absent", () => {
  assert.deepEqual(parseRequest({ v: 2, id: null, op: "check", child: null, args: null }), {
    v: 2,
    id: null,
    op: "check",
    child: undefined,
    args: {},
  });
});

Deno.test("requestIdOf finds a string or number id in anything, else null", () => {
  assert.equal(requestIdOf({ id: 3 }), 3);
  assert.equal(requestIdOf({ id: "x", op: "bogus" }), "x");
  assert.equal(requestIdOf({ id: { nested: 1 } }), null);
  assert.equal(requestIdOf({}), null);
  assert.equal(requestIdOf(null), null);
  assert.equal(requestIdOf("id"), null);
  assert.equal(requestIdOf(12), null);
});

Deno.test("an encoded response is one line of JSON ending with exactly one newline", () => {
  const line = encodeResponse({
    id: 1,
    ok: true,
    message: "first line\nsecond line",
    data: { text: "a\nb" },
  });
  assert.ok(line.endsWith("\n"));
  assert.ok(!line.endsWith("\n\n"));
  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.deepEqual(JSON.parse(line), {
    id: 1,
    ok: true,
    message: "first line\nsecond line",
    data: { text: "a\nb" },
  });
});

/** Data that writes its own text: the JSON of `value`, one byte at a time. */
function selfWritten(value: Record<string, unknown>): Record<string, unknown> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const text: JsonText = {
    byteLength: bytes.length,
    writeTo(into, at) {
      for (const byte of bytes) into[at++] = byte;
      return at;
    },
  };
  return withJsonText({ ...value }, () => text);
}

Deno.test("a response whose data writes its own text is the same bytes as its JSON", () => {
  const data = { children: [{ name: "wéb ✓", uptime_ms: 12.5 }], problems: ["a\nb"] };
  const responses: Response[] = [
    { id: 7, ok: true, message: "1 child: 1 running", data: selfWritten(data) },
    {
      id: "ünï",
      ok: false,
      code: "SOME_FAILED",
      message: "‘quoted’ \u2028",
      data: selfWritten(data),
    },
    { data: selfWritten(data), id: null, ok: true, message: "data first" } as Response,
    { id: 1, ok: true, message: "empty", data: selfWritten({}) },
    {
      id: 1,
      ok: true,
      message: "no code",
      code: undefined,
      data: selfWritten(data),
    } as unknown as Response,
  ];
  for (const response of responses) {
    const bytes = encodeResponseBytes(response);
    assert.deepEqual(bytes, new TextEncoder().encode(encodeResponse(response)));
    assert.equal(bytes[bytes.length - 1], 0x0a);
  }
  // Data without a text of its own is encoded whole, the same way.
  const plain: Response = { id: 2, ok: true, message: "plain", data: { text: "✓" } };
  assert.deepEqual(encodeResponseBytes(plain), new TextEncoder().encode(encodeResponse(plain)));
});

Deno.test("responses asked again and again around data of their own keep their bytes", () => {
  const data = { children: [{ name: "web" }], problems: [] };
  const expect = (response: Response) =>
    assert.deepEqual(
      encodeResponseBytes(response),
      new TextEncoder().encode(encodeResponse(response)),
    );
  // The same response twice (its head and tail made once), then one member changed at a time,
  // members in another order, one more, one less.
  const base: Response = { id: 1, ok: true, message: "1 child", data: selfWritten(data) };
  expect(base);
  expect({ ...base, data: selfWritten(data) });
  expect({ ...base, id: 2, data: selfWritten(data) });
  expect({ ...base, id: "2", data: selfWritten(data) });
  expect({ ...base, message: "2 children", data: selfWritten(data) });
  expect({ ...base, ok: false, code: "SOME_FAILED", data: selfWritten(data) });
  expect({ ok: true, id: 1, message: "1 child", data: selfWritten(data) } as Response);
  expect({ id: 1, ok: true, data: selfWritten(data) } as unknown as Response);
  expect({ id: 1, ok: true, message: "1 child", data: selfWritten({ other: true }) });
  expect(base);
});

Deno.test("a text that writes other than its length is refused, not sent short", () => {
  const text: JsonText = { byteLength: 4, writeTo: (_, at) => at + 3 };
  const response: Response = { id: 1, ok: true, message: "m", data: withJsonText({}, () => text) };
  assert.throws(() => encodeResponseBytes(response), /wrote 3 bytes, not 4/);
});

Deno.test("errorResponse keeps a SupervisorError's code and message", () => {
  const error = new SupervisorError("NOT_FOUND", 'Cannot find child "x"', { child: "x" });
  assert.deepEqual(errorResponse(4, error), {
    id: 4,
    ok: false,
    code: "NOT_FOUND",
    message: 'Cannot find child "x"',
  });
});

Deno.test("errorResponse turns any other error into INTERNAL", () => {
  assert.deepEqual(errorResponse("a", new TypeError("x is undefined")), {
    id: "a",
    ok: false,
    code: "INTERNAL",
    message: "Internal error: x is undefined",
  });
  assert.deepEqual(errorResponse(null, "plain string"), {
    id: null,
    ok: false,
    code: "INTERNAL",
    message: "Internal error: plain string",
  });
});

Deno.test("an encoded request parses back into the same request", () => {
  const line = encodeRequest({ id: 9, op: "stop", child: "web" });
  assert.ok(line.endsWith("\n"));
  assert.deepEqual(parseRequest(JSON.parse(line)), {
    v: 2,
    id: 9,
    op: "stop",
    child: "web",
    args: {},
  });
  assert.deepEqual(JSON.parse(encodeRequest({ id: null, op: "check" })), {
    v: 2,
    id: null,
    op: "check",
  });
});

Deno.test("parseResponse accepts a response and refuses what lacks ok or message", () => {
  assert.deepEqual(
    parseResponse({ id: 1, ok: false, code: "NOT_FOUND", message: "m", data: { a: 1 } }),
    { id: 1, ok: false, code: "NOT_FOUND", message: "m", data: { a: 1 } },
  );
  assert.deepEqual(parseResponse({ ok: true, message: "m", data: [1] }), {
    id: null,
    ok: true,
    message: "m",
  });
  assert.throws(() => parseResponse([]), { message: "response is not a JSON object" });
  assert.throws(() => parseResponse({ ok: "yes", message: "m" }), {
    message: 'response lacks "ok" or "message"',
  });
});
