import assert from "node:assert/strict";
import { join } from "node:path";
import { TransportError } from "../errors.ts";
import { decodeCheckData } from "../protocol/payloads.ts";
import { parseHost } from "./hosts.ts";
import { openExchange, request, timeLimit, unixFailure } from "./transport.ts";

/** Runs `body` with a fresh directory for sockets, removed afterwards. */
async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "transport_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A server on a Unix socket at `path` that reads one request line per connection, hands it to
 * `lines`, and answers with `answer`.
 */
function serveUnix(path: string, answer: string, lines: string[] = []) {
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    for await (const conn of listener) {
      const buffer = new Uint8Array(4096);
      let text = "";
      while (!text.includes("\n")) {
        const n = await conn.read(buffer);
        if (n === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
      lines.push(text);
      await conn.write(new TextEncoder().encode(answer));
      conn.close();
    }
  })().catch(() => {});
  return {
    lines,
    async [Symbol.asyncDispose]() {
      listener.close();
      await served;
    },
  };
}

/** The TransportError that `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TransportError, `not a TransportError: ${error}`);
    return error;
  }
  throw new Error("the request did not fail");
}

const CHECK = `{"v":2,"id":1,"op":"check"}\n`;

Deno.test("a request to unix:PATH is answered by the server on that socket", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "control.sock");
    const data = { children: [], problems: [] };
    await using server = serveUnix(
      path,
      JSON.stringify({ id: 1, ok: true, message: "x", data }) + "\n",
    );
    const response = await request(parseHost(`unix:${path}`), CHECK, 2000);
    assert.equal(response.ok, true);
    assert.equal(response.message, "x");
    assert.deepEqual(decodeCheckData(response.data), data);
    assert.deepEqual(server.lines, [CHECK]);
  });
});

Deno.test("a follow over unix:PATH keeps the socket open for the events after the response", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "control.sock");
    await using _server = serveUnix(
      path,
      `{"id":1,"ok":true,"message":"0 lines, following","data":{}}\n` +
        `{"id":1,"event":"line","data":{"stream":"stdout","line":"hi"}}\n` +
        `{"id":1,"event":"end","data":{}}\n`,
    );
    const exchange = await openExchange(parseHost(`unix:${path}`), CHECK, 2000);
    const events = [];
    for await (const event of exchange.events()) events.push(event.event);
    exchange.close();
    assert.deepEqual(events, ["line", "end"]);
  });
});

Deno.test("unix:PATH with no socket there is refused, saying there is no socket at PATH", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "missing.sock");
    const error = await failure(request(parseHost(`unix:${path}`), CHECK, 2000));
    assert.equal(error.code, "REFUSED");
    assert.equal(error.reason, `no socket at ${path}`);
    assert.equal(error.host, `unix:${path}`);
  });
});

Deno.test("a socket file that no server listens on any more is refused", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "stale.sock");
    const listener = Deno.listen({ transport: "unix", path });
    listener.close(); // Deno leaves the file behind, like a server that crashed
    try {
      Deno.statSync(path);
    } catch {
      // Deno removed it: make a socket file that nobody listens on another way.
      Deno.listen({ transport: "unix", path }).close();
    }
    const error = await failure(request(parseHost(`unix:${path}`), CHECK, 2000));
    assert.equal(error.code, "REFUSED");
  });
});

Deno.test({
  name: "a socket the client may not open is reported as permission denied",
  // root opens any socket whatever its mode.
  ignore: Deno.uid() === 0,
  async fn() {
    await withDir(async (dir) => {
      const path = join(dir, "private.sock");
      await using _server = serveUnix(path, `{"id":1,"ok":true,"message":"x"}\n`);
      Deno.chmodSync(path, 0o000);
      const error = await failure(request(parseHost(`unix:${path}`), CHECK, 2000));
      assert.equal(error.code, "OTHER");
      assert.equal(error.reason, "permission denied");
    });
  },
});

Deno.test("connect errors on a Unix socket map to refused, no socket, and permission denied", () => {
  assert.deepEqual(unixFailure(new Deno.errors.NotFound("ENOENT"), "/run/s.sock"), {
    code: "REFUSED",
    reason: "no socket at /run/s.sock",
  });
  assert.deepEqual(unixFailure(new Deno.errors.ConnectionRefused("ECONNREFUSED"), "/run/s.sock"), {
    code: "REFUSED",
    reason: "connection refused",
  });
  assert.deepEqual(unixFailure(new Deno.errors.PermissionDenied("EACCES"), "/run/s.sock"), {
    code: "PERMISSION_DENIED",
    reason: "permission denied",
  });
});

Deno.test("a time limit runs out after its time while a connection is pending", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = listener.accept().catch(() => undefined);
  try {
    const t0 = performance.now();
    assert.equal(await timeLimit(60).expired, true);
    assert.ok(performance.now() - t0 >= 55, `ran out after ${performance.now() - t0} ms`);
  } finally {
    listener.close();
    await accepting;
  }
});

Deno.test("a cancelled time limit says it did not run out, at once", async () => {
  const limit = timeLimit(60_000);
  const t0 = performance.now();
  limit.cancel();
  assert.equal(await limit.expired, false);
  assert.ok(performance.now() - t0 < 1000);
});

Deno.test("a server that never answers is reported as timed out, within the time allowed", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "silent.sock");
    const listener = Deno.listen({ transport: "unix", path });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) held.push(conn);
    })().catch(() => {});
    try {
      const t0 = performance.now();
      const error = await failure(request(parseHost(`unix:${path}`), CHECK, 300));
      const took = performance.now() - t0;
      assert.equal(error.code, "TIMED_OUT");
      assert.ok(took >= 290 && took < 5000, `timed out after ${took} ms`);
    } finally {
      listener.close();
      for (const conn of held) conn.close();
      await accepting;
    }
  });
});
