import assert from "node:assert/strict";
import { ByteTail, TAIL_BYTES } from "./byte_tail.ts";

const encoder = new TextEncoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

function numbered(from: number, to: number, width = 0): string[] {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(`line ${String(i).padStart(width, "0")}`);
  return out;
}

Deno.test("an empty tail has no lines, and asking for 0 lines gives none", () => {
  const tail = new ByteTail();
  assert.deepEqual(tail.lines(5), []);
  tail.push(bytes("a\nb\n"));
  assert.deepEqual(tail.lines(0), []);
  assert.deepEqual(tail.lines(-1), []);
});

Deno.test("the last N lines, oldest first, without newlines", () => {
  const tail = new ByteTail();
  tail.push(bytes(numbered(1, 30).join("\n") + "\n"));
  assert.deepEqual(tail.lines(3), ["line 28", "line 29", "line 30"]);
  assert.deepEqual(tail.lines(100), numbered(1, 30));
});

Deno.test("lines split across chunks come back whole", () => {
  const tail = new ByteTail();
  for (const piece of ["fir", "st\nsec", "ond\n", "", "th", "i", "rd\n"]) tail.push(bytes(piece));
  assert.deepEqual(tail.lines(10), ["first", "second", "third"]);
});

Deno.test("an unterminated last line is shown as it is so far", () => {
  const tail = new ByteTail();
  tail.push(bytes("done\nhalf"));
  assert.deepEqual(tail.lines(2), ["done", "half"]);
});

Deno.test("empty lines count as lines", () => {
  const tail = new ByteTail();
  tail.push(bytes("a\n\n\nb\n"));
  assert.deepEqual(tail.lines(3), ["", "", "b"]);
});

Deno.test("endRun ends a partial line so the next run starts on its own line", () => {
  const tail = new ByteTail();
  tail.push(bytes("run one\nno newline"));
  tail.endRun();
  tail.push(bytes("run two\n"));
  tail.endRun();
  assert.deepEqual(tail.lines(5), ["run one", "no newline", "run two"]);
});

Deno.test("endRun adds nothing after a complete line or on an empty tail", () => {
  const tail = new ByteTail();
  tail.endRun();
  assert.deepEqual(tail.lines(5), []);
  tail.push(bytes("x\n"));
  tail.endRun();
  tail.endRun();
  assert.deepEqual(tail.lines(5), ["x"]);
});

Deno.test("memory is bounded: only about capacity bytes are kept, as whole lines", () => {
  const capacity = 1024;
  const tail = new ByteTail(capacity);
  const lines = numbered(1, 5000, 6); // 12 bytes each with the newline
  for (let i = 0; i < lines.length; i += 7) {
    tail.push(bytes(lines.slice(i, i + 7).join("\n") + "\n"));
  }
  const kept = tail.lines(10_000);
  // Never more than capacity bytes' worth, and never a partial first line.
  assert.ok(kept.length <= capacity / 12, `${kept.length} lines kept`);
  assert.ok(kept.length >= capacity / 12 - 2, `only ${kept.length} lines kept`);
  assert.deepEqual(kept, lines.slice(-kept.length));
  assert.deepEqual(tail.lines(20), lines.slice(-20));
});

Deno.test("a line cut at the front of the window is never shown in part", () => {
  for (const chunk of [1, 3, 5, 13, 100, 700]) {
    const tail = new ByteTail(256);
    const text = numbered(1, 400).join("\n") + "\n";
    for (let i = 0; i < text.length; i += chunk) tail.push(bytes(text.slice(i, i + chunk)));
    const kept = tail.lines(1000);
    assert.ok(kept.length > 0);
    const all = numbered(1, 400);
    assert.deepEqual(kept, all.slice(-kept.length), `chunk ${chunk}: ${kept[0]}`);
  }
});

Deno.test("one chunk larger than the capacity keeps only its end", () => {
  const tail = new ByteTail(100);
  tail.push(bytes("z".repeat(500) + "\n" + numbered(1, 5).join("\n") + "\n"));
  assert.deepEqual(tail.lines(10), numbered(1, 5));
});

Deno.test("a single line longer than the capacity yields nothing rather than a fragment", () => {
  const tail = new ByteTail(100);
  tail.push(bytes("w".repeat(300)));
  tail.push(bytes("w".repeat(300) + "\n"));
  assert.deepEqual(tail.lines(3), []);
  tail.push(bytes("short\n"));
  assert.deepEqual(tail.lines(3), ["short"]);
});

Deno.test("pushed buffers are copied: reusing them later does not change the tail", () => {
  const tail = new ByteTail();
  const buffer = bytes("kept\n");
  tail.push(buffer);
  buffer.fill(0x41);
  assert.deepEqual(tail.lines(1), ["kept"]);
});

Deno.test("multi-byte characters split between chunks are whole in the lines", () => {
  const tail = new ByteTail();
  const data = bytes("café ünïcode ✓\n");
  for (let i = 0; i < data.length; i++) tail.push(data.subarray(i, i + 1));
  assert.deepEqual(tail.lines(1), ["café ünïcode ✓"]);
});

Deno.test("the default capacity is 64 KiB", () => {
  assert.equal(TAIL_BYTES, 64 * 1024);
  const tail = new ByteTail();
  const line = "k".repeat(1023) + "\n";
  for (let i = 0; i < 200; i++) tail.push(bytes(line));
  const kept = tail.lines(1000);
  assert.ok(kept.length >= 62 && kept.length <= 64, `${kept.length} lines of 1 KiB kept`);
});
