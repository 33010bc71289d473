/**
 * Tests of WriteBatch: what a write may take, the partial lines it keeps back, and buffers that
 * are reused while the pipe is busy.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MAX_LINE, WriteBatch } from "./write_batch.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Takes what may go, as text, and marks it written. */
function takeText(batch: WriteBatch, all = false): string | undefined {
  const taken = batch.take(all);
  if (taken === undefined) return undefined;
  const text = decoder.decode(taken);
  batch.written();
  return text;
}

Deno.test("a batch gives what was added, in order, in one take", () => {
  const batch = new WriteBatch(false);
  batch.add(bytes("one\n"));
  batch.add(bytes("two\nthr"));
  assert.equal(batch.size, 11);
  assert.equal(takeText(batch), "one\ntwo\nthr");
  assert.equal(batch.size, 0);
  assert.equal(batch.take(false), undefined, "nothing is left");
});

Deno.test("whole lines only: the partial line stays for the next take", () => {
  const batch = new WriteBatch(true);
  batch.add(bytes("one\ntw"));
  assert.equal(takeText(batch), "one\n");
  assert.equal(batch.size, 2);
  batch.add(bytes("o"));
  assert.equal(batch.take(false), undefined, "no line ended yet");
  batch.add(bytes("\nthree"));
  assert.equal(takeText(batch), "two\n");
  assert.equal(takeText(batch, true), "three", "all: the partial line goes too");
});

Deno.test("whole lines only: a partial line of MAX_LINE bytes goes as it is", () => {
  const batch = new WriteBatch(true);
  batch.add(new Uint8Array(MAX_LINE - 1).fill(0x61));
  assert.equal(batch.take(false), undefined);
  batch.add(bytes("b"));
  assert.equal(batch.take(false)?.length, MAX_LINE);
});

Deno.test("what is added while a write holds the taken bytes goes to the next take", () => {
  const batch = new WriteBatch(false);
  batch.add(bytes("first\n"));
  const taken = batch.take(false)!;
  batch.add(bytes("second\n"));
  assert.equal(batch.take(false), undefined, "one write at a time");
  assert.equal(decoder.decode(taken), "first\n", "the taken bytes are untouched meanwhile");
  batch.written();
  assert.equal(takeText(batch), "second\n");
});

Deno.test("a busy batch reuses its two buffers instead of allocating", () => {
  const batch = new WriteBatch(true);
  const chunk = bytes("x".repeat(99) + "\n");
  const buffers = new Set<ArrayBufferLike>();
  batch.add(chunk);
  for (let turn = 0; turn < 50; turn++) {
    const taken = batch.take(false)!;
    // The first turns grow the buffers to what the pipe needs.
    if (turn >= 5) buffers.add(taken.buffer);
    // Chunks read while the write is in flight, the last one ending mid-line.
    for (let i = 0; i < 10; i++) batch.add(chunk);
    batch.add(chunk.subarray(0, 40));
    batch.written();
    batch.add(chunk.subarray(40));
  }
  assert.equal(buffers.size, 2);
});

Deno.test("a quiet batch lets its buffers go after a run of small writes", () => {
  const batch = new WriteBatch(false);
  batch.add(new Uint8Array(64 * 1024));
  const big = batch.take(false)!.buffer;
  batch.written();
  const seen = new Set<ArrayBufferLike>();
  for (let i = 0; i < 20; i++) {
    batch.add(bytes("a short line\n"));
    seen.add(batch.take(false)!.buffer);
    batch.written();
  }
  assert.ok(seen.has(big), "kept for a while");
  assert.ok([...seen].some((buffer) => buffer.byteLength < big.byteLength), "then let go");
});
