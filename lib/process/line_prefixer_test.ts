/**
 * Tests of LinePrefixer: lines prefixed one by one, however the stream is chunked.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LinePrefixer } from "./line_prefixer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

function text(data: Uint8Array | null): string | null {
  return data === null ? null : decoder.decode(data);
}

Deno.test("complete lines are prefixed one by one", () => {
  const prefixer = new LinePrefixer("web | ");
  assert.equal(text(prefixer.push(bytes("one\ntwo\n"))), "web | one\nweb | two\n");
  assert.equal(prefixer.end(), null);
});

Deno.test("a chunk without a newline yields nothing until its line is completed", () => {
  const prefixer = new LinePrefixer("p ");
  assert.equal(prefixer.push(bytes("hel")), null);
  assert.equal(prefixer.push(bytes("lo")), null);
  assert.equal(text(prefixer.push(bytes(" world\nnext"))), "p hello world\n");
  assert.equal(text(prefixer.push(bytes("\n"))), "p next\n");
});

Deno.test("an empty line is still a line and gets its prefix", () => {
  const prefixer = new LinePrefixer("p ");
  assert.equal(text(prefixer.push(bytes("\n\na\n"))), "p \np \np a\n");
});

Deno.test("end flushes an unterminated last line with a newline, once", () => {
  const prefixer = new LinePrefixer("p ");
  assert.equal(text(prefixer.push(bytes("done\nno newline"))), "p done\n");
  assert.equal(text(prefixer.end()), "p no newline\n");
  assert.equal(prefixer.end(), null);
});

Deno.test("a line longer than maxLine arriving in pieces is cut into prefixed lines", () => {
  const prefixer = new LinePrefixer("p ", 4);
  assert.equal(text(prefixer.push(bytes("abcdef"))), "p abcd\n");
  // "ijkl" could still be a whole line of exactly maxLine bytes: it waits for the next byte.
  assert.equal(text(prefixer.push(bytes("ghijkl"))), "p efgh\n");
  assert.equal(text(prefixer.push(bytes("m\n"))), "p ijkl\np m\n");
});

Deno.test("a line longer than maxLine is cut even when its newline is in the same chunk", () => {
  const prefixer = new LinePrefixer("p ", 4);
  assert.equal(text(prefixer.push(bytes("abcdefghij\nok\n"))), "p abcd\np efgh\np ij\np ok\n");
});

Deno.test("a line of exactly maxLine bytes is not cut and gains no empty line", () => {
  const prefixer = new LinePrefixer("p ", 4);
  assert.equal(text(prefixer.push(bytes("abcd\n"))), "p abcd\n");
  // The same line with its newline in the next chunk must come out the same.
  const split = new LinePrefixer("p ", 4);
  const out = [split.push(bytes("abcd")), split.push(bytes("\n")), split.end()]
    .map(text).filter((s) => s !== null).join("");
  assert.equal(out, "p abcd\n");
});

Deno.test("how a stream is chunked never changes the prefixed output", () => {
  const input = "alpha\nbeta gamma delta\n\nepsilon zeta eta theta iota\nkappa";
  const expected = "> alpha\n> beta gam\n> ma delta\n> \n> epsilon \n> zeta eta\n>  theta i\n" +
    "> ota\n> kappa\n";
  const data = bytes(input);
  for (let size = 1; size <= data.length; size++) {
    const prefixer = new LinePrefixer("> ", 8);
    let out = "";
    for (let i = 0; i < data.length; i += size) {
      out += text(prefixer.push(data.subarray(i, i + size))) ?? "";
    }
    out += text(prefixer.end()) ?? "";
    assert.equal(out, expected, `chunks of ${size} bytes`);
  }
});

Deno.test("multi-byte UTF-8 split across chunks is reassembled byte for byte", () => {
  const line = bytes("héllo → 世界 🎉\n");
  const prefixer = new LinePrefixer("name | ");
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < line.length; i++) {
    const out = prefixer.push(line.subarray(i, i + 1));
    if (out) chunks.push(out);
  }
  assert.equal(chunks.length, 1);
  const expected = new Uint8Array([...bytes("name | "), ...line]);
  assert.deepEqual(chunks[0], expected);
  assert.equal(decoder.decode(chunks[0]), "name | héllo → 世界 🎉\n");
});

Deno.test("pushed chunks are not kept by reference once a partial line is stored", () => {
  const prefixer = new LinePrefixer("p ");
  const chunk = bytes("abc");
  prefixer.push(chunk);
  chunk.fill(0x21); // the caller reuses its buffer
  assert.equal(text(prefixer.push(bytes("\n"))), "p abc\n");
});
