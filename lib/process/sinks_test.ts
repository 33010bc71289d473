/**
 * Tests of the sink primitives: writeAll and SerialSink.
 *
 * @module
 */
import assert from "node:assert/strict";
import { SerialSink, writeAll } from "./sinks.ts";
import type { RawWriter } from "./sinks.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
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
