import assert from "node:assert/strict";
import { join } from "node:path";
import { parseChildConfig } from "../config/child_config.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { ChildOutputs, OUTPUT_RETRY_MS } from "./child_outputs.ts";
import { newTaps } from "./output_taps.ts";
import type { ByteSink } from "./sinks.ts";
import { BATCH_MAX_BYTES } from "./write_batch.ts";
import { realClock } from "./clock.ts";
import { TestGate } from "../testing/test_gate.ts";

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

/**
 * A real child writing numbered lines of random length (0 to 300 bytes of text; every 2000th
 * `long` bytes) in awk's bursts; `streams`: to stdout, or alternately to stdout and stderr
 * (`out N …`, `err N …`).
 */
function burstCommand(
  seed: number,
  lines: number,
  streams: "stdout" | "both",
  long = 70_000,
): string[] {
  const print = streams === "stdout"
    ? `printf "%d %s\\n", i, substr(x, 1, n)`
    : `if (i % 2) printf "err %d %s\\n", i, substr(x, 1, n) > "/dev/stderr"; else printf "out %d %s\\n", i, substr(x, 1, n)`;
  return [
    "awk",
    "-v",
    `LONG=${long}`,
    `BEGIN { srand(${seed}); x = "x"; while (length(x) < LONG) x = x x;
      for (i = 0; i < ${lines}; i++) { n = (i % 2000 == 1999) ? LONG : int(rand() * 300); ${print} } }`,
  ];
}

/**
 * A byte stream (as a child's pipe is) giving `chunks` one read each, or in several when the
 * reader's buffer is smaller.
 */
function byteStream(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  let at = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest!;
      if (next === chunks.length) {
        controller.close();
        request.respond(0);
        return;
      }
      const view = request.view as Uint8Array;
      const bytes = chunks[next]!.subarray(at, at + view.length);
      view.set(bytes);
      at += bytes.length;
      if (at === chunks[next]!.length) {
        next++;
        at = 0;
      }
      request.respond(bytes.length);
    },
  });
}

/** `path`, `path.1` … newest first, as long as they exist. */
function filesOf(path: string): { name: string; text: string }[] {
  const files: { name: string; text: string }[] = [];
  for (let i = 0;; i++) {
    const name = i === 0 ? path : `${path}.${i}`;
    try {
      files.push({ name, text: Deno.readTextFileSync(name) });
    } catch {
      return files;
    }
  }
}

/** Every rotated file ends at a line's end and holds at most max_bytes, or one long line. */
function assertWholeLines(files: readonly { name: string; text: string }[], max: number): void {
  for (const { name, text } of files) {
    if (text.length === 0) continue;
    assert.ok(text.endsWith("\n"), `${name} ends in the middle of a line`);
    const lines = text.slice(0, -1).split("\n").length;
    assert.ok(text.length <= max || lines === 1, `${name}: ${text.length} bytes, ${lines} lines`);
  }
}

/** Pumps a real `argv` into outputs of `yaml` (child "burst" in `dir`), with `gate`. */
async function pumpChild(
  dir: string,
  yaml: string,
  argv: string[],
  gate: TestGate,
  taps = newTaps(),
): Promise<void> {
  const config = parseChildConfig(join(dir, "burst.yml"), `command: x\n${yaml}`);
  const quiet = { write: () => Promise.resolve() };
  const outputs = await ChildOutputs.open(
    config,
    { stdout: quiet, stderr: quiet },
    new MemoryLogger(),
    taps,
    realClock,
    gate,
  );
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  await outputs.pump(child.stdout, child.stderr);
  assert.equal((await child.status).code, 0);
}

/** Gates for each way a chunk may go: always at once, never (worker threads), alternating. */
function gates(): { name: string; gate: TestGate }[] {
  const closed = new TestGate();
  closed.open = false;
  const alternating = new TestGate();
  let asks = 0;
  alternating.onAsk = () => void (alternating.open = ++asks % 3 !== 0);
  return [
    { name: "synchronous", gate: new TestGate() },
    { name: "worker threads", gate: closed },
    { name: "alternating", gate: alternating },
  ];
}

Deno.test("a real child's bursts to a rotating file: every line once, each file whole lines within max_bytes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "outputs-burst-" });
  try {
    const argv = burstCommand(11, 30_000, "stdout");
    const expected = new TextDecoder().decode(
      (await new Deno.Command(argv[0]!, { args: argv.slice(1) }).output()).stdout,
    );
    const max = 65536;
    for (const { name, gate } of gates()) {
      const path = join(dir, `${name.replace(" ", "-")}.log`);
      const yaml = `output:\n  - stdout: ${path}\n    max_bytes: ${max}\n    backups: 500\n`;
      await pumpChild(dir, yaml, argv, gate);
      const files = filesOf(path);
      assert.ok(files.length > 40, `${name}: ${files.length} files`);
      assertWholeLines(files, max);
      assert.ok(files.map((f) => f.text).reverse().join("") === expected, `${name}: lines lost`);
      if (name !== "worker threads") assert.ok(gate.writes > 0, `${name}: no synchronous write`);
      else assert.equal(gate.writes, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a real child's bursts to one file for both streams: lines never mix, none lost", async () => {
  const dir = await Deno.makeTempDir({ prefix: "outputs-shared-" });
  try {
    const argv = burstCommand(12, 20_000, "both");
    for (const { name, gate } of gates()) {
      const path = join(dir, `${name.replace(" ", "-")}.log`);
      const entry = `    max_bytes: 65536\n    backups: 500\n`;
      const yaml = `output:\n  - stdout: ${path}\n${entry}  - stderr: ${path}\n${entry}`;
      await pumpChild(dir, yaml, argv, gate);
      const files = filesOf(path);
      assertWholeLines(files, 65536);
      const lines = files.map((f) => f.text).reverse().join("").split("\n");
      assert.equal(lines.pop(), "");
      assert.equal(lines.length, 20_000, name);
      const next = { out: 0, err: 1 };
      for (const line of lines) {
        const match = /^(out|err) (\d+) x*$/.exec(line);
        assert.ok(match, `${name}: a mixed line: ${line.slice(0, 80)}`);
        const stream = match[1] as "out" | "err";
        assert.equal(Number(match[2]), next[stream], `${name}: ${stream} out of order`);
        next[stream] += 2;
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("written at once, the output still reaches the tail and every follower", async () => {
  const dir = await Deno.makeTempDir({ prefix: "outputs-taps-" });
  try {
    const path = join(dir, "out.log");
    const taps = newTaps();
    const follower = taps.bus.follow(["stdout"]);
    const gate = new TestGate();
    const argv = ["awk", 'BEGIN { for (i = 0; i < 3000; i++) print "line " i }'];
    await pumpChild(dir, `output:\n  - stdout: ${path}\n`, argv, gate, taps);
    assert.ok(gate.writes > 0);
    const size = Deno.statSync(path).size;
    assert.equal(taps.published.stdout, size, "published up to the end of the file");
    assert.deepEqual(taps.stdout.lines(2), ["line 2998", "line 2999"]);
    taps.bus.closeAll();
    const got: string[] = [];
    for await (const item of follower) if ("line" in item) got.push(item.line);
    assert.equal(got.length, 3000);
    assert.ok(got.every((line, i) => line === `line ${i}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rotating file gets one write per chunk read: the partial line is read back in front", async () => {
  const dir = await Deno.makeTempDir({ prefix: "outputs-carry-" });
  try {
    const path = join(dir, "out.log");
    const chunks = ["one\ntwo\nth", "ree\nfour\nfi", "ve\nsix\nse", "ven\n"];
    const readable = byteStream(chunks.map((c) => encoder.encode(c)));
    const config = parseChildConfig(
      join(dir, "w.yml"),
      `command: x\noutput:\n  - stdout: ${path}\n    max_bytes: 1024\n`,
    );
    const gate = new TestGate();
    const quiet = { write: () => Promise.resolve() };
    const outputs = await ChildOutputs.open(
      config,
      { stdout: quiet, stderr: quiet },
      new MemoryLogger(),
      newTaps(),
      realClock,
      gate,
    );
    await outputs.pump(readable, null);
    const text = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
    assert.equal(Deno.readTextFileSync(path), text);
    assert.equal(gate.writes, chunks.length, "one write per chunk");
    assert.equal(gate.bytes, text.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a line longer than 64 KiB, read in small chunks, stays whole in a file of its own", async () => {
  const dir = await Deno.makeTempDir({ prefix: "outputs-long-" });
  try {
    const path = join(dir, "out.log");
    const long = "L".repeat(100 * 1024) + "\n";
    const text = "before\n" + long + "after\n";
    const bytes = encoder.encode(text);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 16 * 1024) {
      chunks.push(bytes.slice(at, at + 16 * 1024));
    }
    const config = parseChildConfig(
      join(dir, "w.yml"),
      `command: x\noutput:\n  - stdout: ${path}\n    max_bytes: 1024\n    backups: 5\n`,
    );
    const quiet = { write: () => Promise.resolve() };
    const outputs = await ChildOutputs.open(
      config,
      { stdout: quiet, stderr: quiet },
      new MemoryLogger(),
      newTaps(),
      realClock,
      new TestGate(),
    );
    await outputs.pump(byteStream(chunks), null);
    assert.deepEqual(filesOf(path).map((f) => f.text).reverse(), ["before\n", long, "after\n"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
