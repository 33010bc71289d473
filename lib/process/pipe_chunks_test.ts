/**
 * Tests of PipeReader and nextBufferSize: chunks come in order, the buffer is reused while its
 * size suits the pipe, grows for a fast writer and shrinks once the child is quiet.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  nextBufferSize,
  PIPE_BUFFER_MAX_BYTES,
  PIPE_FIRST_BYTES,
  PipeReader,
} from "./pipe_chunks.ts";

/**
 * A byte stream like a child's pipe: each read gets the next of `sizes` bytes (at most what the
 * reader's buffer holds), numbered so their order shows.
 */
function bytePipe(sizes: readonly number[]): ReadableStream<Uint8Array> {
  let next = 0;
  let counter = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest!;
      if (next === sizes.length) {
        controller.close();
        request.respond(0);
        return;
      }
      const view = request.view as Uint8Array;
      const n = Math.min(sizes[next++]!, view.length);
      for (let i = 0; i < n; i++) view[i] = counter++ % 251;
      request.respond(n);
    },
  });
}

/** Every chunk of `reader`, with the buffer each came in. */
async function readAll(reader: PipeReader): Promise<{ chunk: Uint8Array; size: number }[]> {
  const out: { chunk: Uint8Array; size: number }[] = [];
  for (;;) {
    const chunk = await reader.read();
    if (chunk === null) return out;
    out.push({ chunk: chunk.slice(), size: chunk.buffer.byteLength });
  }
}

Deno.test("a byte stream is read in order, in chunks as large as the reads", async () => {
  const reader = new PipeReader(bytePipe([10, 500, 1000, 3]));
  const chunks = await readAll(reader);
  assert.deepEqual(chunks.map((c) => c.chunk.length), [10, 500, 1000, 3]);
  let counter = 0;
  for (const { chunk } of chunks) {
    for (const byte of chunk) assert.equal(byte, counter++ % 251);
  }
  reader.release();
});

Deno.test("the buffer doubles while reads fill it, up to its largest size", async () => {
  const sizes = Array.from({ length: 20 }, () => PIPE_BUFFER_MAX_BYTES);
  const chunks = await readAll(new PipeReader(bytePipe(sizes)));
  assert.equal(chunks[0]!.size, PIPE_FIRST_BYTES);
  assert.equal(chunks[1]!.size, PIPE_FIRST_BYTES * 2);
  assert.equal(chunks.at(-1)!.size, PIPE_BUFFER_MAX_BYTES);
});

Deno.test("a busy pipe's buffer keeps its size through reads of varying sizes", async () => {
  const sizes = [1024, 2048, 4096, 8192, 16384, 32768, 65536];
  for (let i = 0; i < 50; i++) sizes.push(65536, 20000, 6000, 65536, 9000);
  const chunks = await readAll(new PipeReader(bytePipe(sizes)));
  const later = new Set(chunks.slice(10).map((c) => c.size));
  assert.deepEqual([...later], [128 * 1024]);
});

Deno.test("a pipe gone quiet shrinks its buffer back to the first size", async () => {
  const sizes = [1024, 2048, 4096, 8192, 16384, 32768, 65536];
  for (let i = 0; i < 40; i++) sizes.push(40);
  const chunks = await readAll(new PipeReader(bytePipe(sizes)));
  assert.equal(chunks.at(-1)!.size, PIPE_FIRST_BYTES);
});

Deno.test("a stream that is not a byte stream is read chunk by chunk", async () => {
  const parts = [Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)];
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
  const chunks = await readAll(new PipeReader(readable));
  assert.deepEqual(chunks.map((c) => [...c.chunk]), [[1, 2], [3]]);
});

Deno.test("nextBufferSize: doubles when filled, halves when quiet, within its bounds", () => {
  assert.equal(nextBufferSize(4096, true, false), 8192);
  assert.equal(nextBufferSize(PIPE_BUFFER_MAX_BYTES, true, false), PIPE_BUFFER_MAX_BYTES);
  assert.equal(nextBufferSize(4096, false, true), 2048);
  assert.equal(nextBufferSize(PIPE_FIRST_BYTES, false, true), PIPE_FIRST_BYTES);
  assert.equal(nextBufferSize(4096, false, false), 4096);
});

Deno.test("a prefix comes back in front of the next chunk, in one array with it", async () => {
  const reader = new PipeReader(bytePipe([10, 20, 5]));
  const first = await reader.read();
  assert.deepEqual([...first!], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const prefix = first!.slice(7);
  const second = await reader.read(prefix);
  assert.equal(second!.length, 3 + 20);
  assert.deepEqual([...second!], Array.from({ length: 23 }, (_, i) => i + 7));
  assert.equal(second!.byteOffset, 0, "the prefix heads the reader's own buffer");
  const third = await reader.read(second!.slice(22));
  assert.deepEqual([...third!], [29, 30, 31, 32, 33, 34]);
  assert.equal(await reader.read(Uint8Array.of(1, 2)), null, "the end: the prefix is the caller's");
  reader.release();
});

Deno.test("a prefix longer than the buffer grows it, leaving room for a read", async () => {
  const reader = new PipeReader(bytePipe([1, 100]));
  await reader.read();
  const prefix = new Uint8Array(3 * PIPE_FIRST_BYTES).fill(7);
  const chunk = await reader.read(prefix);
  assert.equal(chunk!.length, prefix.length + 100);
  assert.ok(chunk!.subarray(0, prefix.length).every((b) => b === 7));
  assert.ok(chunk!.buffer.byteLength >= prefix.length + PIPE_FIRST_BYTES);
  reader.release();
});

Deno.test("a stream that is not a byte stream gets the prefix joined to its chunk", async () => {
  const reader = new PipeReader(ReadableStream.from([Uint8Array.of(3, 4), Uint8Array.of(5)]));
  assert.deepEqual([...(await reader.read(Uint8Array.of(1, 2)))!], [1, 2, 3, 4]);
  assert.deepEqual([...(await reader.read())!], [5]);
  assert.equal(await reader.read(Uint8Array.of(9)), null);
  reader.release();
});

Deno.test("release lets go of a pipe still open, and leaves one that ended as it is", async () => {
  const open = bytePipe([4, 4]);
  const reader = new PipeReader(open);
  await reader.read();
  reader.release();
  assert.equal(open.locked, false, "open: free to be read or cancelled by another");
  const ended = bytePipe([4]);
  const done = new PipeReader(ended);
  await done.read();
  assert.equal(await done.read(), null);
  done.release();
  assert.equal(ended.locked, true, "ended: nothing to release, no rejection built");
});
