import assert from "node:assert/strict";
import { LinePrefixer, SerialSink, writeAll } from "./output.ts";
import type { RawWriter } from "./output.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

function text(data: Uint8Array | null): string | null {
  return data === null ? null : decoder.decode(data);
}

/** A writer that takes at most `max` bytes per call and yields between calls. */
class SlowWriter implements RawWriter {
  readonly received: number[] = [];
  readonly calls: number[] = [];
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  async write(data: Uint8Array): Promise<number> {
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const n = Math.min(this.#max, data.length);
    this.received.push(...data.subarray(0, n));
    this.calls.push(n);
    return n;
  }

  get text(): string {
    return decoder.decode(Uint8Array.from(this.received));
  }
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

Deno.test("writeAll keeps writing until every byte is taken", async () => {
  const writer = new SlowWriter(3);
  await writeAll(writer, bytes("0123456789"));
  assert.equal(writer.text, "0123456789");
  assert.deepEqual(writer.calls, [3, 3, 3, 1]);
});

Deno.test("a SerialSink never interleaves concurrent writes", async () => {
  const writer = new SlowWriter(3);
  const sink = new SerialSink(writer);
  const messages = ["AAAAAAAAAA", "BBBBBBB", "CCCCCCCCCCCCC", "DD"];
  await Promise.all(messages.map((m) => sink.write(bytes(m))));
  assert.equal(writer.text, messages.join(""));
});

Deno.test("a SerialSink write resolves only once its bytes are all written", async () => {
  const writer = new SlowWriter(2);
  const sink = new SerialSink(writer);
  await sink.write(bytes("12345"));
  assert.equal(writer.text, "12345");
});

Deno.test("a failed write rejects its caller and the next write still goes through", async () => {
  let fail = true;
  const received: string[] = [];
  const sink = new SerialSink({
    write(data: Uint8Array) {
      if (fail) {
        fail = false;
        return Promise.reject(new Error("disk full"));
      }
      received.push(decoder.decode(data));
      return Promise.resolve(data.length);
    },
  });
  const first = sink.write(bytes("lost"));
  const second = sink.write(bytes("kept"));
  await assert.rejects(first, { message: "disk full" });
  await second;
  assert.deepEqual(received, ["kept"]);
});
