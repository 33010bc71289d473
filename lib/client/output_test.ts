import assert from "node:assert/strict";
import { printLine } from "./output.ts";
import type { LineSink } from "./output.ts";

const decoder = new TextDecoder();

/** A sink that takes at most `step` bytes a write, and keeps them. */
function sink(step: number): LineSink & { readonly text: () => string; writes: number } {
  const chunks: Uint8Array[] = [];
  return {
    writes: 0,
    writeSync(bytes) {
      this.writes++;
      chunks.push(bytes.slice(0, step));
      return Math.min(step, bytes.length);
    },
    text: () => chunks.map((c) => decoder.decode(c, { stream: true })).join(""),
  };
}

Deno.test("printLine writes the text and a newline in one write", () => {
  const out = sink(1 << 20);
  printLine("NAME  STATE\nweb   RUNNING", out);
  assert.equal(out.text(), "NAME  STATE\nweb   RUNNING\n");
  assert.equal(out.writes, 1);
});

Deno.test("printLine goes on writing until a short write has taken everything", () => {
  const out = sink(3);
  printLine("état: RUNNING ✓", out);
  assert.equal(out.text(), "état: RUNNING ✓\n");
  assert.ok(out.writes > 3, `${out.writes} writes`);
});

Deno.test("printLine ignores a reader that went away, and throws any other failure", () => {
  printLine("lost", {
    writeSync: () => {
      throw new Deno.errors.BrokenPipe("gone");
    },
  });
  assert.throws(
    () =>
      printLine("full", {
        writeSync: () => {
          throw new Error("No space left on device");
        },
      }),
    /No space left/,
  );
});
