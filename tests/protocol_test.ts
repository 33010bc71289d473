/**
 * Black-box tests of the v2 wire protocol (SPEC §6): bad input of every kind gets its stable
 * error code or a closed connection, and the server keeps serving everyone else without losing
 * a child. Every test runs a real server on an ephemeral loopback port.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  delay,
  exchange,
  isAlive,
  readAll,
  runClient,
  startServer,
  type TestServer,
  waitUntil,
} from "./harness.ts";

/** A v2 response as it comes off the wire. */
interface Reply {
  id: unknown;
  ok: boolean;
  code?: string;
  message: string;
  data?: Record<string, unknown>;
}

/** A child that stays up until it is stopped. */
const SLEEPER = { sleeper: "command: sleep 1000\n" };

const encoder = new TextEncoder();

/** One request line of protocol v2. */
function line(body: Record<string, unknown>): string {
  return JSON.stringify({ v: 2, ...body }) + "\n";
}

/** Parses every response line of `text`; each must be a JSON object with `ok` and `message`. */
function replies(text: string): Reply[] {
  assert.ok(text.endsWith("\n"), `responses must end with a newline; got ${JSON.stringify(text)}`);
  return text.split("\n").filter((l) => l !== "").map((l) => {
    const value = JSON.parse(l) as Reply;
    assert.equal(typeof value.ok, "boolean", `no "ok" in ${l}`);
    assert.equal(typeof value.message, "string", `no "message" in ${l}`);
    return value;
  });
}

/** Concatenates byte arrays and strings into one buffer. */
function bytesOf(...parts: (string | Uint8Array | number[])[]): Uint8Array {
  const chunks = parts.map((p) =>
    typeof p === "string" ? encoder.encode(p) : p instanceof Uint8Array ? p : new Uint8Array(p)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Asserts a failed response with `code`, a message matching `message`, and id `id`. */
function assertError(reply: Reply | undefined, code: string, message: RegExp, id: unknown = null) {
  assert.ok(reply, `expected a ${code} response, got none`);
  assert.equal(reply.ok, false, `expected a failure, got ${JSON.stringify(reply)}`);
  assert.equal(reply.code, code, `wrong code in ${JSON.stringify(reply)}`);
  assert.match(reply.message, message);
  assert.deepEqual(reply.id, id, `wrong id in ${JSON.stringify(reply)}`);
  assert.equal(reply.data, undefined);
}

/** Asserts a successful `check` response with id `id`. */
function assertCheckOk(reply: Reply | undefined, id: unknown) {
  assert.ok(reply, "expected a check response, got none");
  assert.equal(reply.ok, true, `check failed: ${JSON.stringify(reply)}`);
  assert.equal(reply.code, undefined);
  assert.deepEqual(reply.id, id);
  assert.match(reply.message, /^\d+ (child|children)\b/);
  assert.ok(Array.isArray(reply.data?.children), `no children in ${JSON.stringify(reply)}`);
}

/** Starts the `sleeper` child over the wire and returns its pid. */
async function startSleeper(server: TestServer): Promise<number> {
  const reply = await server.request({ op: "start", child: "sleeper" }) as unknown as Reply;
  assert.equal(reply.ok, true, `start failed: ${JSON.stringify(reply)}`);
  const pid = reply.data?.pid;
  assert.equal(typeof pid, "number");
  assert.ok(isAlive(pid as number), `child pid ${pid} is not alive after start`);
  return pid as number;
}

/**
 * Asserts that the server answers `check` correctly on a new connection, and, given a pid,
 * that the sleeper is still up with that very pid.
 */
async function assertStillServing(server: TestServer, sleeperPid?: number): Promise<void> {
  const reply = await server.request({ op: "check" }) as unknown as Reply;
  assertCheckOk(reply, 1);
  if (sleeperPid === undefined) return;
  const children = reply.data!.children as { name: string; state: string; pid: number | null }[];
  const sleeper = children.find((c) => c.name === "sleeper");
  assert.ok(sleeper, `sleeper missing from ${JSON.stringify(children)}`);
  assert.ok(["STARTING", "RUNNING"].includes(sleeper.state), `sleeper is ${sleeper.state}`);
  assert.equal(sleeper.pid, sleeperPid, "the sleeper's pid changed");
  assert.ok(isAlive(sleeperPid), `sleeper pid ${sleeperPid} is no longer alive`);
}

/** Writes all of `bytes` to `conn`. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** Connects to the server's loopback port. */
function connect(server: TestServer): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port: server.port });
}

/**
 * A test of one bad line: it is answered with `code` on a connection that then goes on to
 * answer a valid request, and the server and its child are unharmed.
 */
function badLineTest(
  name: string,
  bad: string | Uint8Array,
  code: string,
  message: RegExp,
  id: unknown = null,
): void {
  Deno.test(name, async () => {
    await using server = await startServer({ children: SLEEPER });
    const pid = await startSleeper(server);
    const text = await exchange(server.port, bytesOf(bad, line({ id: "after", op: "check" })));
    const got = replies(text);
    assert.equal(got.length, 2, `expected two responses, got:\n${text}`);
    assertError(got[0], code, message, id);
    assertCheckOk(got[1], "after");
    await assertStillServing(server, pid);
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Empty lines; several requests per connection.

Deno.test("an empty line is answered EMPTY_REQUEST and the same connection then answers a valid request", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const text = await exchange(server.port, "\n" + line({ id: 7, op: "check" }));
  const got = replies(text);
  assert.equal(got.length, 2, `expected two responses, got:\n${text}`);
  assertError(got[0], "EMPTY_REQUEST", /empty/i);
  assertCheckOk(got[1], 7);
  await assertStillServing(server, pid);
});

Deno.test("a line of only blanks or a bare CR is answered EMPTY_REQUEST", async () => {
  await using server = await startServer();
  // A valid request first: the connection is plainly a v2 one before the blanks arrive.
  const input = line({ id: 0, op: "check" }) + "   \t \n\r\n" + line({ id: 1, op: "check" });
  const got = replies(await exchange(server.port, input));
  assert.equal(got.length, 4);
  assertCheckOk(got[0], 0);
  assertError(got[1], "EMPTY_REQUEST", /empty/i);
  assertError(got[2], "EMPTY_REQUEST", /empty/i);
  assertCheckOk(got[3], 1);
  await assertStillServing(server);
});

Deno.test("several requests on one connection are answered in order, each with its id echoed", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const input = line({ id: 1, op: "check" }) +
    line({ id: "two", op: "info" }) +
    "\n" +
    line({ id: 3, op: "check", child: "sleeper" }) +
    line({ id: "four", op: "dance" }) +
    line({ id: 5.5, op: "check", child: "nobody" }) +
    line({ id: 6, op: "check" });
  const text = await exchange(server.port, input);
  const got = replies(text);
  assert.deepEqual(got.map((r) => r.id), [1, "two", null, 3, "four", 5.5, 6], text);
  assertCheckOk(got[0], 1);
  assert.equal(got[1]!.ok, true);
  assert.equal(got[1]!.data?.pid, server.pid, "info reports the server's pid");
  assertError(got[2], "EMPTY_REQUEST", /empty/i);
  assertCheckOk(got[3], 3);
  const children = got[3]!.data!.children as { name: string; pid: number }[];
  assert.deepEqual(children.map((c) => [c.name, c.pid]), [["sleeper", pid]]);
  assertError(got[4], "UNKNOWN_OP", /"dance"/, "four");
  assertError(got[5], "NOT_FOUND", /"nobody"/, 5.5);
  assertCheckOk(got[6], 6);
  await assertStillServing(server, pid);
});

Deno.test("requests written one at a time on one open connection are each answered before the next is sent", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const conn = await connect(server);
  try {
    const buffer = new Uint8Array(64 * 1024);
    for (let i = 0; i < 5; i++) {
      await writeAll(conn, encoder.encode(line({ id: `r${i}`, op: "check" })));
      let text = "";
      while (!text.endsWith("\n")) {
        const n = await conn.read(buffer);
        assert.notEqual(n, null, "the server closed the connection between requests");
        text += new TextDecoder().decode(buffer.subarray(0, n!));
      }
      const got = replies(text);
      assert.equal(got.length, 1);
      assertCheckOk(got[0], `r${i}`);
    }
  } finally {
    conn.close();
  }
  await assertStillServing(server, pid);
});

Deno.test("a request line ending in CRLF is accepted", async () => {
  await using server = await startServer();
  const got = replies(
    await exchange(server.port, JSON.stringify({ v: 2, id: "crlf", op: "check" }) + "\r\n"),
  );
  assert.equal(got.length, 1);
  assertCheckOk(got[0], "crlf");
});

// ---------------------------------------------------------------------------------------------
// 2. Encoding.

// A connection's first byte picks the dialect: "{" or blank space is v2, anything else the
// supervisor-rs text dialect (tests/legacy_test.ts). Bad first lines below start with a space.

badLineTest(
  "bytes that are not UTF-8 are answered BAD_ENCODING and the connection goes on",
  new Uint8Array([0x20, 0xff, 0xfe, 0x0a]),
  "BAD_ENCODING",
  /UTF-8/,
);

Deno.test("a JSON request with invalid UTF-8 inside a string, a truncated sequence or an overlong encoding is answered BAD_ENCODING", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const input = bytesOf(
    '{"v":2,"id":1,"op":"check","child":"a', // a child name with a lone continuation byte
    [0x80],
    '"}\n',
    "{", // a truncated three-byte sequence
    [0xe2, 0x82],
    "}\n",
    [0xc0, 0xaf, 0x0a], // an overlong "/"
    [0xed, 0xa0, 0x80, 0x0a], // a UTF-16 surrogate encoded as UTF-8
    line({ id: "after", op: "check" }),
  );
  const got = replies(await exchange(server.port, input));
  assert.equal(got.length, 5);
  for (const reply of got.slice(0, 4)) assertError(reply, "BAD_ENCODING", /UTF-8/);
  assertCheckOk(got[4], "after");
  await assertStillServing(server, pid);
});

// ---------------------------------------------------------------------------------------------
// 3. Malformed requests.

badLineTest(
  "a line that is not JSON is answered BAD_JSON",
  "{not json}\n",
  "BAD_JSON",
  /not valid JSON/,
);

badLineTest(
  "a JSON array is answered BAD_REQUEST because a request must be an object",
  " [1]\n",
  "BAD_REQUEST",
  /must be a JSON object/,
);

Deno.test("JSON scalars (null, a number, a string, true) are answered BAD_REQUEST", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const input = line({ id: 0, op: "check" }) + 'null\n42\n"check"\ntrue\n';
  const got = replies(await exchange(server.port, input));
  assert.equal(got.length, 5);
  assertCheckOk(got[0], 0);
  for (const reply of got.slice(1)) assertError(reply, "BAD_REQUEST", /must be a JSON object/);
  await assertStillServing(server, pid);
});

badLineTest(
  "a request with a wrong protocol version is answered BAD_REQUEST with its id echoed",
  JSON.stringify({ v: 1, id: "req-7", op: "check" }) + "\n",
  "BAD_REQUEST",
  /version 1\b.*"v": 2/,
  "req-7",
);

badLineTest(
  "a request without a protocol version is answered BAD_REQUEST with its id echoed",
  JSON.stringify({ id: 8, op: "check" }) + "\n",
  "BAD_REQUEST",
  /version/,
  8,
);

badLineTest(
  "a request with the version as a string is answered BAD_REQUEST",
  JSON.stringify({ v: "2", id: 9, op: "check" }) + "\n",
  "BAD_REQUEST",
  /version "2"/,
  9,
);

badLineTest(
  "a request with an unknown field is answered BAD_REQUEST naming the field, with its id echoed",
  line({ id: 42, op: "check", colour: "blue" }),
  "BAD_REQUEST",
  /Unknown request field "colour"/,
  42,
);

badLineTest(
  "an unknown operation is answered UNKNOWN_OP naming it and listing the known ones",
  line({ id: "x1", op: "explode" }),
  "UNKNOWN_OP",
  /"explode".*check/,
  "x1",
);

badLineTest(
  "a request without an op is answered BAD_REQUEST",
  line({ id: "no-op" }),
  "BAD_REQUEST",
  /"op"/,
  "no-op",
);

badLineTest(
  "start without a child is answered BAD_REQUEST saying a child name is needed",
  line({ id: 11, op: "start" }),
  "BAD_REQUEST",
  /"start" needs a child name/,
  11,
);

badLineTest(
  "start with an empty child name is answered BAD_REQUEST",
  line({ id: 12, op: "start", child: "" }),
  "BAD_REQUEST",
  /"start" needs a child name/,
  12,
);

badLineTest(
  "a child that is not a string is answered BAD_REQUEST",
  line({ id: 13, op: "stop", child: 5 }),
  "BAD_REQUEST",
  /"child" must be a string/,
  13,
);

badLineTest(
  "args that are not an object are answered BAD_REQUEST",
  line({ id: 14, op: "check", args: [1, 2] }),
  "BAD_REQUEST",
  /"args" must be an object/,
  14,
);

Deno.test("a bad request's id is echoed back when it is a string or a number, and null otherwise", async () => {
  await using server = await startServer();
  const input = line({ id: "abc", op: "nope" }) +
    line({ id: 0, op: "nope" }) +
    line({ id: -3.25, op: "start" }) +
    line({ id: { nested: true }, op: "check" }) +
    line({ op: "nope" });
  const got = replies(await exchange(server.port, input));
  assert.equal(got.length, 5);
  assertError(got[0], "UNKNOWN_OP", /"nope"/, "abc");
  assertError(got[1], "UNKNOWN_OP", /"nope"/, 0);
  assertError(got[2], "BAD_REQUEST", /needs a child name/, -3.25);
  assertError(got[3], "BAD_REQUEST", /"id" must be a string or a number/, null);
  assertError(got[4], "UNKNOWN_OP", /"nope"/, null);
  await assertStillServing(server);
});

// ---------------------------------------------------------------------------------------------
// 4. Size limit.

const SMALL_LIMIT = "limits:\n  max_request_bytes: 1024";

Deno.test("a line longer than max_request_bytes is answered TOO_LARGE and the connection is closed", async () => {
  await using server = await startServer({ serverYaml: SMALL_LIMIT, children: SLEEPER });
  const pid = await startSleeper(server);
  const started = Date.now();
  // Keep our side open: only the server may end this connection.
  const text = await exchange(
    server.port,
    "{" + "x".repeat(4999) + "\n" + line({ id: "never", op: "check" }),
    { halfClose: false, ms: 8000 },
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 5000, `the server did not close the connection (${elapsed} ms)`);
  const got = replies(text);
  assert.equal(got.length, 1, `expected only TOO_LARGE, got:\n${text}`);
  assertError(got[0], "TOO_LARGE", /limit of 1024 bytes/);
  await assertStillServing(server, pid);
});

Deno.test("an oversized line is answered TOO_LARGE as soon as the limit is passed, before any newline", async () => {
  await using server = await startServer({ serverYaml: SMALL_LIMIT, children: SLEEPER });
  const pid = await startSleeper(server);
  const conn = await connect(server);
  const started = Date.now();
  await writeAll(conn, encoder.encode("{".repeat(2000)));
  const text = await readAll(conn, 5000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 4000, `the server did not close the connection (${elapsed} ms)`);
  const got = replies(text);
  assert.equal(got.length, 1);
  assertError(got[0], "TOO_LARGE", /limit of 1024 bytes/);
  await assertStillServing(server, pid);
});

Deno.test("a request line of exactly max_request_bytes is accepted, one byte more is TOO_LARGE", async () => {
  await using server = await startServer({ serverYaml: SMALL_LIMIT });
  const base = JSON.stringify({ v: 2, id: "edge", op: "check" });
  const exact = base.slice(0, -1) + " ".repeat(1024 - base.length) + "}";
  assert.equal(encoder.encode(exact).length, 1024);
  const ok = replies(await exchange(server.port, exact + "\n"));
  assert.equal(ok.length, 1);
  assertCheckOk(ok[0], "edge");
  const over = exact.slice(0, -1) + " }";
  const tooLarge = replies(await exchange(server.port, over + "\n"));
  assert.equal(tooLarge.length, 1);
  assertError(tooLarge[0], "TOO_LARGE", /limit of 1024 bytes/);
  await assertStillServing(server);
});

// ---------------------------------------------------------------------------------------------
// 5. Timeouts.

const SHORT_TIMEOUT = "limits:\n  read_timeout: 0.5";

/** Reads until the server closes `conn`; returns the text and how long that took. */
async function untilClosed(conn: Deno.Conn, started: number): Promise<[string, number]> {
  const text = await readAll(conn, 5000);
  return [text, Date.now() - started];
}

Deno.test("a line that never ends is answered TIMEOUT after read_timeout and the connection is closed", async () => {
  await using server = await startServer({ serverYaml: SHORT_TIMEOUT, children: SLEEPER });
  const pid = await startSleeper(server);
  const started = Date.now();
  const conn = await connect(server);
  await writeAll(conn, encoder.encode('{"v":2,"id":1,"op":"check"' + " ".repeat(73)));
  const [text, elapsed] = await untilClosed(conn, started);
  assert.ok(elapsed >= 400, `closed too early (${elapsed} ms)`);
  assert.ok(elapsed < 2000, `not closed within 2 s (${elapsed} ms)`);
  const got = replies(text);
  assert.equal(got.length, 1, text);
  assertError(got[0], "TIMEOUT", /within 0\.5s/);
  await assertStillServing(server, pid);
});

Deno.test("a silent client is answered TIMEOUT after read_timeout and the connection is closed", async () => {
  await using server = await startServer({ serverYaml: SHORT_TIMEOUT, children: SLEEPER });
  const pid = await startSleeper(server);
  const started = Date.now();
  const conn = await connect(server);
  const [text, elapsed] = await untilClosed(conn, started);
  assert.ok(elapsed >= 400, `closed too early (${elapsed} ms)`);
  assert.ok(elapsed < 2000, `not closed within 2 s (${elapsed} ms)`);
  const got = replies(text);
  assert.equal(got.length, 1, text);
  assertError(got[0], "TIMEOUT", /No complete request within 0\.5s/);
  await assertStillServing(server, pid);
});

Deno.test("a slow client trickling one byte at a time is cut off by read_timeout", async () => {
  await using server = await startServer({ serverYaml: SHORT_TIMEOUT });
  const started = Date.now();
  const conn = await connect(server);
  const reading = untilClosed(conn, started);
  const request = line({ id: 1, op: "check" });
  try {
    for (const ch of request) {
      await writeAll(conn, encoder.encode(ch));
      await delay(100);
      if (Date.now() - started > 2500) break;
    }
  } catch {
    // the server closed the connection under us, as it should
  }
  const [text, elapsed] = await reading;
  assert.ok(elapsed < 2500, `not closed within 2.5 s (${elapsed} ms)`);
  const got = replies(text);
  assert.equal(got.length, 1, text);
  assertError(got[0], "TIMEOUT", /within 0\.5s/);
  await assertStillServing(server);
});

Deno.test("a client that floods requests and never reads the responses is disconnected", async () => {
  await using server = await startServer({ serverYaml: SHORT_TIMEOUT, children: SLEEPER });
  const pid = await startSleeper(server);
  const conn = await connect(server);
  // 800 batches of 1000 requests (about 22 MB) cannot all fit in the kernel's buffers while
  // nobody reads the answers: the writes stall until the server gives up on us.
  const batch = encoder.encode(line({ id: 1, op: "info" }).repeat(1000));
  let failure: unknown;
  let batches = 0;
  const flooding = (async () => {
    try {
      for (; batches < 800; batches++) await writeAll(conn, batch);
    } catch (error) {
      failure = error;
    }
  })();
  const ended = await Promise.race([flooding.then(() => true), delay(20_000).then(() => false)]);
  conn.close();
  await flooding;
  assert.ok(ended, `the flood was still being taken after 20 s (${batches} batches)`);
  assert.ok(failure !== undefined, `all ${batches} batches were taken; the server never closed`);
  assert.ok(
    failure instanceof Deno.errors.ConnectionReset || failure instanceof Deno.errors.BrokenPipe,
    `expected the server to reset the connection, got ${String(failure)}`,
  );
  await assertStillServing(server, pid);
});

Deno.test("a client pipelining a burst of requests does not hold up another client's request", async () => {
  // Ten defined children make each `check` cost a directory scan, as on a real server.
  const children: Record<string, string> = {};
  for (let i = 0; i < 10; i++) children[`c${i}`] = "command: sleep 1000\n";
  await using server = await startServer({ children });
  const count = 3000;
  const burst = encoder.encode(
    Array.from({ length: count }, (_, i) => line({ id: i, op: "check" })).join(""),
  );
  const conn = await connect(server);
  let firstAt = 0;
  let endAt = 0;
  let text = "";
  const reading = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    const decoder = new TextDecoder();
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
      if (firstAt === 0 && text.includes("\n")) firstAt = Date.now();
    }
    endAt = Date.now();
    conn.close();
  })();
  await writeAll(conn, burst);
  await conn.closeWrite();
  await waitUntil(() => firstAt > 0 || endAt > 0, 10_000, "the burst's first answer");
  const sent = Date.now();
  const other = await server.request({ op: "check" }) as unknown as Reply;
  const waited = Date.now() - sent;
  await reading;
  assertCheckOk(other, 1);
  const got = replies(text);
  assert.equal(got.length, count);
  got.forEach((reply, i) => assertCheckOk(reply, i));
  const rest = endAt - sent;
  assert.ok(
    waited < rest / 2,
    `another client waited ${waited} ms for one check, while the burst took ${rest} ms more: ` +
      "the server answers the whole burst before looking at anyone else",
  );
});

// ---------------------------------------------------------------------------------------------
// 6. Connection limit.

Deno.test("beyond max_connections a new connection gets a BUSY line and is closed; after the others close, a new connection works", async () => {
  await using server = await startServer({
    serverYaml: "limits:\n  max_connections: 2",
    children: SLEEPER,
  });
  const pid = await startSleeper(server);
  const held = [await connect(server), await connect(server)];
  try {
    // Both held connections are really being served: each answers a request and stays open.
    for (const [i, conn] of held.entries()) {
      await writeAll(conn, encoder.encode(line({ id: `held${i}`, op: "check" })));
      const buffer = new Uint8Array(64 * 1024);
      let text = "";
      while (!text.endsWith("\n")) {
        const n = await conn.read(buffer);
        assert.notEqual(n, null);
        text += new TextDecoder().decode(buffer.subarray(0, n!));
      }
      assertCheckOk(replies(text)[0], `held${i}`);
    }
    const started = Date.now();
    const text = await exchange(server.port, line({ id: "third", op: "check" }), {
      halfClose: false,
      ms: 5000,
    });
    assert.ok(Date.now() - started < 4000, "the BUSY connection was not closed by the server");
    const got = replies(text);
    assert.equal(got.length, 1, text);
    assertError(got[0], "BUSY", /Too many connections \(limit 2\)/);
  } finally {
    for (const conn of held) conn.close();
  }
  // The server notices the closes asynchronously; a new connection must work shortly after.
  let last: Reply | undefined;
  await waitUntil(
    async () => {
      last = await server.request({ op: "check" }) as unknown as Reply;
      return last.ok;
    },
    3000,
    "a connection slot to be free again",
  );
  assertCheckOk(last, 1);
  await assertStillServing(server, pid);
});

// ---------------------------------------------------------------------------------------------
// 7. Many clients.

Deno.test("200 concurrent raw clients each sending one check are all answered ok with their own id", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const texts = await Promise.all(
    Array.from({ length: 200 }, (_, i) => exchange(server.port, line({ id: i, op: "check" }))),
  );
  texts.forEach((text, i) => {
    const got = replies(text);
    assert.equal(got.length, 1, `client ${i} got:\n${text}`);
    assertCheckOk(got[0], i);
    const children = got[0]!.data!.children as { name: string; pid: number }[];
    assert.equal(children.find((c) => c.name === "sleeper")?.pid, pid);
  });
  await assertStillServing(server, pid);
});

Deno.test("20 concurrent runs of the real client doing check all exit 0", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const runs = await Promise.all(
    Array.from({ length: 20 }, () => runClient(["check", "on", `127.0.0.1:${server.port}`])),
  );
  for (const run of runs) {
    assert.equal(run.code, 0, `client failed:\n${run.stdout}\n${run.stderr}`);
    assert.ok(
      run.stdout.includes(`Server 127.0.0.1:${server.port} response:`),
      `unexpected output:\n${run.stdout}`,
    );
    assert.ok(run.stdout.includes("sleeper"), `sleeper missing from:\n${run.stdout}`);
  }
  await assertStillServing(server, pid);
});

// ---------------------------------------------------------------------------------------------
// 8. Clients that go away.

Deno.test("a client that connects and immediately closes does not disturb the server", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  for (let i = 0; i < 20; i++) (await connect(server)).close();
  await assertStillServing(server, pid);
});

Deno.test("a client that sends half a request and then resets the connection does not disturb the server", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  for (let i = 0; i < 5; i++) {
    const conn = await connect(server);
    // A whole request, whose response we never read, then half of the next one. Closing a
    // socket with unread data makes the kernel send RST instead of FIN.
    await writeAll(conn, encoder.encode(line({ id: 1, op: "check" }) + '{"v":2,"id":2,"op":"ch'));
    await delay(100);
    conn.close();
  }
  // And half a request closed in the ordinary way: the rest is no request at all.
  const text = await exchange(server.port, '{"v":2,"id":3,"op":"che');
  assertError(replies(text)[0], "BAD_JSON", /not valid JSON/);
  await assertStillServing(server, pid);
});

// ---------------------------------------------------------------------------------------------
// 9. Child names over the wire.

Deno.test('trystart of child "all" is answered RESERVED_NAME (start all starts every child)', async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const reply = await server.request({ op: "trystart", child: "all" }) as unknown as Reply;
  assertError(reply, "RESERVED_NAME", /"all" is a reserved word/, 1);
  for (const word of ["on", "with", "check"]) {
    const r = await server.request({ op: "restart", child: word }) as unknown as Reply;
    assertError(r, "RESERVED_NAME", new RegExp(`"${word}" is a reserved word`), 1);
  }
  await assertStillServing(server, pid);
});

Deno.test('start of child "../etc/passwd" is answered BAD_NAME', async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  for (const op of ["start", "trystart", "restart", "stop"]) {
    const reply = await server.request({ op, child: "../etc/passwd" }) as unknown as Reply;
    assertError(reply, "BAD_NAME", /"\.\.\/etc\/passwd" is not a valid child name/, 1);
  }
  for (const name of ["/etc/passwd", ".hidden", "a b", "a/b", "-x"]) {
    const reply = await server.request({ op: "start", child: name }) as unknown as Reply;
    assertError(reply, "BAD_NAME", /is not a valid child name/, 1);
  }
  await assertStillServing(server, pid);
});

Deno.test("start and check of a child nobody defined are answered NOT_FOUND", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const start = await server.request({ op: "start", child: "ghost" }) as unknown as Reply;
  assertError(start, "NOT_FOUND", /ghost/, 1);
  const check = await server.request({ op: "check", child: "ghost" }) as unknown as Reply;
  assertError(check, "NOT_FOUND", /"ghost".*no such child/, 1);
  await assertStillServing(server, pid);
});

// ---------------------------------------------------------------------------------------------
// 10. kill.

Deno.test("kill is answered ok before the connection closes, then the server stops its children and exits 0", async () => {
  await using server = await startServer({ children: SLEEPER });
  const pid = await startSleeper(server);
  const conn = await connect(server);
  const started = Date.now();
  await writeAll(conn, encoder.encode(line({ id: "bye", op: "kill" })));
  const text = await readAll(conn, 10_000);
  assert.ok(Date.now() - started < 9000, "the server did not close the connection after kill");
  const got = replies(text);
  assert.equal(got.length, 1, text);
  assert.equal(got[0]!.ok, true, text);
  assert.equal(got[0]!.id, "bye");
  assert.match(got[0]!.message, /kill/);
  const status = await server.exited;
  assert.equal(status.code, 0, `server exited with ${status.code}:\n${server.stderr.text}`);
  assert.equal(isAlive(pid), false, `child ${pid} survived the server's kill`);
  await assert.rejects(() => connect(server), Deno.errors.ConnectionRefused);
});
