import assert from "node:assert/strict";
import { LineTooLongError } from "../errors.ts";
import { LineReader } from "./line_reader.ts";
import type { ByteSource } from "./line_reader.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A source that returns the given chunks one per read (split if the buffer is smaller). */
class ChunkSource implements ByteSource {
  readonly #chunks: Uint8Array[];
  reads = 0;

  constructor(chunks: readonly (string | Uint8Array)[]) {
    this.#chunks = chunks.map((c) => (typeof c === "string" ? encoder.encode(c) : c));
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.reads++;
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    const n = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#chunks.unshift(chunk.subarray(n));
    return Promise.resolve(n);
  }
}

/** Reads every line until null, as text. */
async function readAll(reader: LineReader): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = await reader.next();
    if (line === null) return lines;
    lines.push(decoder.decode(line));
  }
}

Deno.test("a line split across several reads comes out whole", async () => {
  const reader = new LineReader(new ChunkSource(['{"op":', '"check"', "}\n"]), 1024);
  assert.deepEqual(await readAll(reader), ['{"op":"check"}']);
});

Deno.test("several lines in one read come out one by one, without reading again", async () => {
  const source = new ChunkSource(["one\ntwo\nthree\n"]);
  const reader = new LineReader(source, 1024);
  assert.equal(decoder.decode((await reader.next())!), "one");
  assert.equal(decoder.decode((await reader.next())!), "two");
  assert.equal(decoder.decode((await reader.next())!), "three");
  assert.equal(source.reads, 1);
  assert.equal(reader.pending, 0);
  assert.equal(await reader.next(), null);
});

Deno.test("the start of the next line is kept for the next call", async () => {
  const reader = new LineReader(new ChunkSource(["a\nb", "c\nd", "\n"]), 1024);
  assert.equal(decoder.decode((await reader.next())!), "a");
  assert.equal(reader.pending, 1);
  assert.deepEqual(await readAll(reader), ["bc", "d"]);
});

Deno.test("an empty line is returned as an empty array", async () => {
  const reader = new LineReader(new ChunkSource(["\n\nx\n"]), 1024);
  assert.deepEqual(await readAll(reader), ["", "", "x"]);
});

Deno.test("a carriage return before the newline is kept", async () => {
  const reader = new LineReader(new ChunkSource(["check\r\n"]), 1024);
  assert.deepEqual(await readAll(reader), ["check\r"]);
});

Deno.test("at end of stream the unterminated rest is returned, then null", async () => {
  const reader = new LineReader(new ChunkSource(["done\nrest without newline"]), 1024);
  assert.equal(decoder.decode((await reader.next())!), "done");
  assert.equal(decoder.decode((await reader.next())!), "rest without newline");
  assert.equal(await reader.next(), null);
  assert.equal(await reader.next(), null);
});

Deno.test("an empty stream gives null at once", async () => {
  const reader = new LineReader(new ChunkSource([]), 1024);
  assert.equal(await reader.next(), null);
});

Deno.test("multi-byte UTF-8 split between reads is returned byte for byte", async () => {
  const bytes = encoder.encode("héllo 世界\n");
  const reader = new LineReader(
    new ChunkSource([bytes.subarray(0, 2), bytes.subarray(2, 8), bytes.subarray(8)]),
    64,
  );
  assert.deepEqual(await readAll(reader), ["héllo 世界"]);
});

Deno.test("a line of exactly the limit is accepted", async () => {
  const reader = new LineReader(new ChunkSource(["12345\n", "12345"]), 5);
  assert.deepEqual(await readAll(reader), ["12345", "12345"]);
});

Deno.test("a line over the limit with its newline in sight is refused", async () => {
  const reader = new LineReader(new ChunkSource(["ok\n123456\n"]), 5);
  assert.equal(decoder.decode((await reader.next())!), "ok");
  await assert.rejects(reader.next(), (error: unknown) => {
    assert.ok(error instanceof LineTooLongError);
    assert.ok(error instanceof RangeError);
    assert.equal(error.name, "LineTooLongError");
    assert.equal(error.limit, 5);
    assert.equal(error.message, "Request line is longer than the limit of 5 bytes");
    return true;
  });
});

Deno.test("a line over the limit without any newline is refused before the stream ends", async () => {
  // An endless line: the reader must give up once it passes the limit, not wait for more.
  let served = 0;
  const endless: ByteSource = {
    read(buffer) {
      served++;
      if (served > 1000) return Promise.reject(new Error("read far past the limit"));
      buffer.fill(0x61);
      return Promise.resolve(buffer.length);
    },
  };
  const reader = new LineReader(endless, 100);
  await assert.rejects(reader.next(), LineTooLongError);
  assert.ok(reader.pending <= 100 + 101, `buffered ${reader.pending} bytes`);
  assert.equal(served, 1);
});

Deno.test("an unterminated rest over the limit at end of stream is refused", async () => {
  const reader = new LineReader(new ChunkSource(["1234", "56"]), 5);
  await assert.rejects(reader.next(), LineTooLongError);
});

Deno.test("a line longer than the first read buffer comes out whole, the buffer growing", async () => {
  const long = "x".repeat(40_000);
  const source = new ChunkSource([`${long}\nnext\n`]);
  const reader = new LineReader(source, 64 * 1024);
  assert.deepEqual(await readAll(reader), [long, "next"]);
  // 1 KiB, 2, 4, 8, then 16 KiB reads: fewer reads than with a buffer that never grows.
  assert.ok(source.reads < 10, `${source.reads} reads`);
});

Deno.test("a reader given a bigger first buffer reads a long line in one read", async () => {
  const long = "x".repeat(40_000);
  const source = new ChunkSource([`${long}\nnext\n`]);
  const reader = new LineReader(source, 1024 * 1024, undefined, 64 * 1024);
  assert.equal(decoder.decode((await reader.next())!), long);
  assert.equal(source.reads, 1);
  assert.deepEqual(await readAll(reader), ["next"]);
});

Deno.test("a bigger first buffer still stops at the limit", async () => {
  const reader = new LineReader(
    new ChunkSource(["x".repeat(100) + "\n"]),
    50,
    undefined,
    64 * 1024,
  );
  await assert.rejects(reader.next(), LineTooLongError);
});

Deno.test("a line stays as it was after later reads, and the lines after it are whole", async () => {
  const source = new ChunkSource(['{"a":1}\n{"b":', '2}\n{"c":3}\n', '{"d":4}\n']);
  const reader = new LineReader(source, 1024);
  const first = await reader.next();
  const second = await reader.next();
  const third = await reader.next();
  const fourth = await reader.next();
  assert.deepEqual(
    [first, second, third, fourth].map((line) => decoder.decode(line!)),
    ['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}'],
  );
  assert.equal(await reader.next(), null);
});
