import assert from "node:assert/strict";
import { join } from "node:path";
import { parseChildConfig } from "../config/child_config.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { ChildOutputs, OUTPUT_RETRY_MS } from "./child_outputs.ts";
import { newTaps } from "./output_taps.ts";
import type { ByteSink } from "./sinks.ts";
import { BATCH_MAX_BYTES } from "./write_batch.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A sink that fails its first `failures` writes, like a full disk, then takes everything. */
class FlakySink implements ByteSink {
  failures: number;
  attempts = 0;
  #bytes: number[] = [];

  constructor(failures: number) {
    this.failures = failures;
  }

  write(bytes: Uint8Array): Promise<void> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error("No space left on device (os error 28)"));
    }
    this.#bytes.push(...bytes);
    return Promise.resolve();
  }

  get text(): string {
    return decoder.decode(Uint8Array.from(this.#bytes));
  }
}

/** A pipe the test writes into. */
function pipe(): { readable: ReadableStream<Uint8Array>; write(text: string): void; end(): void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return {
    readable,
    write: (text) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}

/** Lets the pump take what was written. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Outputs of a child "web" without output files: both streams go to `stdout`, prefixed. */
async function setup(stdout: ByteSink) {
  const clock = new FakeClock();
  const logger = new MemoryLogger();
  const config = parseChildConfig(join("/srv", "web.yml"), "command: server\n");
  const quiet = { write: () => Promise.resolve() };
  const outputs = await ChildOutputs.open(
    config,
    { stdout, stderr: quiet },
    logger,
    newTaps(),
    clock,
  );
  const out = pipe();
  const err = pipe();
  const pumped = outputs.pump(out.readable, err.readable);
  const end = async () => {
    out.end();
    err.end();
    await pumped;
  };
  return { clock, logger, outputs, out, end };
}

Deno.test("an output that failed is written again once writing works, and the drop is logged once", async () => {
  const sink = new FlakySink(2);
  const t = await setup(sink);
  t.out.write("one\n");
  await settle();
  t.out.write("two\n");
  await settle();
  assert.equal(sink.attempts, 1, "while failing, chunks are dropped without a write");
  await t.clock.advance(OUTPUT_RETRY_MS);
  t.out.write("three\n");
  await settle();
  assert.equal(sink.attempts, 2, "a later chunk tries again after the delay");
  await t.clock.advance(OUTPUT_RETRY_MS);
  t.out.write("four\n");
  await settle();
  t.out.write("five\n");
  await t.end();
  assert.equal(sink.text, "web | four\nweb | five\n");
  const dropped = "web | one\nweb | two\nweb | three\n".length;
  assert.deepEqual(t.logger.lines, [
    `error: child "web": cannot write stdout, dropping its output until writing works again (tried every ${
      OUTPUT_RETRY_MS / 1000
    } s): No space left on device (os error 28)`,
    `info: child "web": writing stdout again; ${dropped} bytes were dropped`,
  ]);
});

Deno.test("reopen (SIGHUP) makes a failed output try again at the next chunk", async () => {
  const sink = new FlakySink(1);
  const t = await setup(sink);
  t.out.write("lost\n");
  await settle();
  await t.outputs.reopen();
  t.out.write("kept\n");
  await t.end();
  assert.equal(sink.attempts, 2);
  assert.equal(sink.text, "web | kept\n");
  assert.equal(t.logger.lines.length, 2, t.logger.lines.join("\n"));
  assert.match(t.logger.lines[1]!, /writing stdout again; 11 bytes were dropped$/);
});

Deno.test("an output that keeps failing is tried at most once per delay", async () => {
  const sink = new FlakySink(Infinity);
  const t = await setup(sink);
  for (let i = 0; i < 100; i++) {
    t.out.write(`line ${i}\n`);
    await settle();
    await t.clock.advance(OUTPUT_RETRY_MS / 10);
  }
  await t.end();
  assert.ok(sink.attempts <= 11, `${sink.attempts} writes tried in 10 delays`);
  const dropped = Array.from({ length: 100 }, (_, i) => `web | line ${i}\n`).join("").length;
  assert.deepEqual(t.logger.lines.slice(1), [
    `error: child "web": stdout ended while its sink was failing; ${dropped} bytes were dropped`,
  ], "the failure is logged once, and the loss when the stream ends");
});

/** A sink whose writes wait until the test lets them through. */
class GatedSink implements ByteSink {
  bytes = 0;
  writes = 0;
  #open: (() => void)[] = [];

  write(bytes: Uint8Array): Promise<void> {
    this.writes++;
    return new Promise((resolve) => {
      this.#open.push(() => {
        this.bytes += bytes.length;
        resolve();
      });
    });
  }

  /** Lets every waiting write finish. */
  release(): void {
    for (const open of this.#open.splice(0)) open();
  }
}

Deno.test("a sink that does not keep up slows the pipe: what is read waits in a bounded batch", async () => {
  const sink = new GatedSink();
  const line = encoder.encode("x".repeat(1023) + "\n");
  const total = 4 * BATCH_MAX_BYTES;
  let pulled = 0;
  const readable = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === total) return controller.close();
      pulled += line.length;
      controller.enqueue(line);
    },
  }, { highWaterMark: 0 });
  const clock = new FakeClock();
  const config = parseChildConfig(join("/srv", "web.yml"), "command: server\n");
  const quiet = { write: () => Promise.resolve() };
  const outputs = await ChildOutputs.open(
    config,
    { stdout: sink, stderr: quiet },
    new MemoryLogger(),
    newTaps(),
    clock,
  );
  const pumped = outputs.pump(readable, null);
  await settle();
  assert.equal(sink.writes, 1, "one write in flight");
  assert.ok(pulled <= BATCH_MAX_BYTES + 2 * line.length, `${pulled} bytes read while it waits`);
  const before = pulled;
  sink.release();
  await settle();
  assert.equal(sink.writes, 2, "the batch goes in one write once the first is done");
  assert.ok(pulled > before, "reading goes on");
  let done = false;
  pumped.then(() => {
    done = true;
  });
  while (!done) {
    sink.release();
    await settle();
  }
  const prefix = "web | ".length;
  assert.equal(sink.bytes, total / line.length * (line.length + prefix), "every line, once");
});

Deno.test("a line from a quiet child reaches its sink without waiting for more output", async () => {
  const received: string[] = [];
  const t = await setup({
    write: (bytes) => {
      received.push(decoder.decode(bytes));
      return Promise.resolve();
    },
  });
  t.out.write("ready\n");
  await settle();
  assert.deepEqual(received, ["web | ready\n"]);
  t.out.write("one\n");
  t.out.write("two\n");
  await settle();
  assert.equal(received.join(""), "web | ready\nweb | one\nweb | two\n");
  await t.end();
});

Deno.test("a large chunk with nothing after it reaches its sink without waiting for more", async () => {
  const received: string[] = [];
  const t = await setup({
    write: (bytes) => {
      received.push(decoder.decode(bytes));
      return Promise.resolve();
    },
  });
  const burst = "y".repeat(16 * 1024) + "\n";
  t.out.write(burst);
  await settle();
  assert.deepEqual(received, [`web | ${burst}`]);
  await t.end();
});
