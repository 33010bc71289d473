import assert from "node:assert/strict";
import { join } from "node:path";
import type { OutputTarget } from "../config/child_config.ts";
import { LogFile } from "./log_file.ts";
import { TestGate } from "../testing/test_gate.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function target(path: string, options: Partial<OutputTarget> = {}): OutputTarget {
  return { path, mode: "create", maxBytes: undefined, backups: 5, direct: false, ...options };
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "log-file-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function readOr(path: string, fallback: string | undefined): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return fallback;
    throw error;
  }
}

/** `name`, then `name.1` … for as long as they exist, newest first. */
function rotatedFiles(path: string): { name: string; text: string }[] {
  const files: { name: string; text: string }[] = [];
  const current = readOr(path, undefined);
  if (current !== undefined) files.push({ name: path, text: current });
  for (let i = 1;; i++) {
    const text = readOr(`${path}.${i}`, undefined);
    if (text === undefined) break;
    files.push({ name: `${path}.${i}`, text });
  }
  return files;
}

/** Closes `file` and waits until its pending writes are done (release runs after them). */
async function finish(file: LogFile): Promise<void> {
  file.release();
  // A write queued after release is never issued; a reopen after close resolves at once.
  await file.reopen();
}

/**
 * Lines of varied length, numbered so each is unique: most up to 200 bytes with the newline,
 * one in twenty up to `longest`.
 */
function makeLines(count: number, longest: number, next: () => number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const head = `${i} `;
    const most = next() < 0.05 ? longest : Math.min(200, longest);
    const length = Math.max(head.length + 1, Math.floor(next() * most) + 1);
    lines.push(head + "x".repeat(length - head.length - 1) + "\n");
  }
  return lines;
}

/** Groups `lines` into chunks of 1 … `most` whole lines. */
function groupLines(lines: readonly string[], most: number, next: () => number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < lines.length;) {
    const n = 1 + Math.floor(next() * most);
    chunks.push(lines.slice(i, i + n).join(""));
    i += n;
  }
  return chunks;
}

function checkFiles(
  files: readonly { name: string; text: string }[],
  maxBytes: number,
): void {
  for (const { name, text } of files) {
    const size = encoder.encode(text).length;
    if (size === 0) continue;
    assert.ok(text.endsWith("\n"), `${name} ends in the middle of a line`);
    const lines = text.slice(0, -1).split("\n");
    assert.ok(
      size <= maxBytes || lines.length === 1,
      `${name} has ${size} bytes in ${lines.length} lines, above max_bytes ${maxBytes}`,
    );
  }
}

Deno.test("rotation keeps whole lines, respects max_bytes and loses nothing (random chunks)", async () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    await withDir(async (dir) => {
      const next = random(seed);
      const maxBytes = 1024 + Math.floor(next() * 4096);
      const path = join(dir, "out.log");
      // Some lines are longer than max_bytes: each of those must sit alone in its file.
      const lines = makeLines(600, Math.floor(maxBytes * 1.3), next);
      const written = lines.join("");
      const file = (await LogFile.open(target(path, { maxBytes, backups: 100 }))).use();
      assert.equal(file.rotates, true);
      for (const chunk of groupLines(lines, 12, next)) await file.write(encoder.encode(chunk));
      await finish(file);

      const files = rotatedFiles(path);
      assert.ok(files.length > 20, `seed ${seed}: only ${files.length} files`);
      assert.ok(
        files.length < 100,
        `seed ${seed}: ${files.length} files, backups may have dropped some`,
      );
      checkFiles(files, maxBytes);
      const joined = files.map((f) => f.text).reverse().join("");
      assert.equal(joined, written, `seed ${seed}: the files do not add up to what was written`);
    });
  }
});

Deno.test("writes issued without waiting are kept in order across rotations", async () => {
  await withDir(async (dir) => {
    const next = random(7);
    const path = join(dir, "out.log");
    const lines = makeLines(1000, 300, next);
    const file = (await LogFile.open(target(path, { maxBytes: 2048, backups: 200 }))).use();
    await Promise.all(groupLines(lines, 5, next).map((c) => file.write(encoder.encode(c))));
    await finish(file);
    const files = rotatedFiles(path);
    checkFiles(files, 2048);
    assert.equal(files.map((f) => f.text).reverse().join(""), lines.join(""));
  });
});

Deno.test("a line exactly max_bytes long fills a file by itself and the next line rotates", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path, { maxBytes: 1024, backups: 3 }))).use();
    const full = "a".repeat(1023) + "\n";
    await file.write(encoder.encode(full));
    await file.write(encoder.encode("b\n"));
    await finish(file);
    assert.equal(Deno.readTextFileSync(`${path}.1`), full);
    assert.equal(Deno.readTextFileSync(path), "b\n");
  });
});

Deno.test("a line longer than max_bytes goes alone into a fresh file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path, { maxBytes: 1024, backups: 5 }))).use();
    const long = "L".repeat(3000) + "\n";
    await file.write(encoder.encode("first\n"));
    await file.write(encoder.encode(long + "after\n"));
    await finish(file);
    assert.deepEqual(rotatedFiles(path).map((f) => f.text), ["after\n", long, "first\n"]);
  });
});

Deno.test("backups bound the rotated files: the oldest are dropped", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path, { maxBytes: 1024, backups: 3 }))).use();
    // Each block of 1024 bytes exactly fills one file.
    const blocks: string[] = [];
    for (let i = 0; i < 10; i++) {
      const line = `${String(i).padStart(4, "0")} ${"y".repeat(1018)}\n`;
      assert.equal(line.length, 1024);
      blocks.push(line);
      await file.write(encoder.encode(line));
    }
    await finish(file);
    const files = rotatedFiles(path);
    assert.deepEqual(files.map((f) => f.name), [path, `${path}.1`, `${path}.2`, `${path}.3`]);
    assert.deepEqual(files.map((f) => f.text), [blocks[9], blocks[8], blocks[7], blocks[6]]);
    assert.equal(readOr(`${path}.4`, undefined), undefined);
  });
});

Deno.test("backups 0: the file starts again empty at max_bytes and no name.1 appears", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path, { maxBytes: 1024, backups: 0 }))).use();
    const lines = makeLines(200, 100, random(9));
    for (const chunk of groupLines(lines, 4, random(10))) await file.write(encoder.encode(chunk));
    await finish(file);
    assert.equal(readOr(`${path}.1`, undefined), undefined);
    const text = Deno.readTextFileSync(path);
    assert.ok(text.length > 0 && text.length <= 1024, `size ${text.length}`);
    assert.ok(text.endsWith("\n"));
    const all = lines.join("");
    assert.ok(all.endsWith(text), "the file holds the last lines written");
    assert.ok(all.slice(0, all.length - text.length).endsWith("\n"), "it starts on a line");
  });
});

Deno.test("without max_bytes the file never rotates and takes partial lines as they come", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path))).use();
    assert.equal(file.rotates, false);
    await file.write(encoder.encode("x".repeat(5000)));
    await file.write(encoder.encode("y\npartial"));
    await finish(file);
    assert.equal(Deno.readTextFileSync(path), "x".repeat(5000) + "y\npartial");
    assert.equal(readOr(`${path}.1`, undefined), undefined);
  });
});

Deno.test("reopen after the file was renamed away writes to a new file at the path", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path))).use();
    await file.write(encoder.encode("before 1\nbefore 2\n"));
    await Deno.rename(path, `${path}.moved`);
    // Until the reopen, writes follow the open handle into the moved file.
    await file.write(encoder.encode("before 3\n"));
    await file.reopen();
    await file.write(encoder.encode("after 1\n"));
    await finish(file);
    assert.equal(Deno.readTextFileSync(`${path}.moved`), "before 1\nbefore 2\nbefore 3\n");
    assert.equal(Deno.readTextFileSync(path), "after 1\n");
  });
});

Deno.test("reopen of a rotating file counts the size of what is at the path", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path, { maxBytes: 1024, backups: 2 }))).use();
    await file.write(encoder.encode("old\n"));
    // Someone else put 1000 bytes at the path: after a reopen they count towards max_bytes.
    await Deno.rename(path, `${path}.moved`);
    await Deno.writeTextFile(path, "z".repeat(999) + "\n");
    await file.reopen();
    await file.write(encoder.encode("q".repeat(99) + "\n"));
    await finish(file);
    assert.equal(Deno.readTextFileSync(`${path}.1`), "z".repeat(999) + "\n");
    assert.equal(Deno.readTextFileSync(path), "q".repeat(99) + "\n");
  });
});

Deno.test("create truncates what was there, append keeps it", async () => {
  await withDir(async (dir) => {
    const created = join(dir, "created.log");
    const appended = join(dir, "appended.log");
    await Deno.writeTextFile(created, "earlier run\n");
    await Deno.writeTextFile(appended, "earlier run\n");
    const c = (await LogFile.open(target(created, { mode: "create" }))).use();
    const a = (await LogFile.open(target(appended, { mode: "append" }))).use();
    await c.write(encoder.encode("this run\n"));
    await a.write(encoder.encode("this run\n"));
    await finish(c);
    await finish(a);
    assert.equal(Deno.readTextFileSync(created), "this run\n");
    assert.equal(Deno.readTextFileSync(appended), "earlier run\nthis run\n");
  });
});

Deno.test("append counts the existing size towards max_bytes", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const earlier = "e".repeat(1000) + "\n";
    await Deno.writeTextFile(path, earlier);
    const file = (await LogFile.open(target(path, { mode: "append", maxBytes: 1024 }))).use();
    await file.write(encoder.encode("n".repeat(99) + "\n"));
    await finish(file);
    assert.equal(Deno.readTextFileSync(`${path}.1`), earlier);
    assert.equal(Deno.readTextFileSync(path), "n".repeat(99) + "\n");
  });
});

Deno.test("a file shared by two users closes only when both released it", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path))).use().use();
    await file.write(encoder.encode("one\n"));
    file.release();
    await file.write(encoder.encode("two\n"));
    await finish(file);
    assert.equal(decoder.decode(Deno.readFileSync(path)), "one\ntwo\n");
  });
});

Deno.test("a rotation that could not open the new file is retried at a later write", async () => {
  await withDir(async (dir) => {
    const sub = join(dir, "logs");
    await Deno.mkdir(sub);
    const path = join(sub, "out.log");
    const file = (await LogFile.open(target(path, { maxBytes: 1024, backups: 1 }))).use();
    await file.write(encoder.encode("a".repeat(1000) + "\n"));
    await Deno.remove(sub, { recursive: true });
    await assert.rejects(file.write(encoder.encode("b".repeat(100) + "\n")), Deno.errors.NotFound);
    await Deno.mkdir(sub);
    await file.write(encoder.encode("after\n"));
    await finish(file);
    assert.equal(Deno.readTextFileSync(path), "after\n");
    assert.equal(file.size, 6);
  });
});

Deno.test("a reopen that failed is retried at a later write", async () => {
  await withDir(async (dir) => {
    const sub = join(dir, "logs");
    await Deno.mkdir(sub);
    const path = join(sub, "out.log");
    const file = (await LogFile.open(target(path))).use();
    await file.write(encoder.encode("before\n"));
    await Deno.remove(sub, { recursive: true });
    await assert.rejects(file.reopen(), Deno.errors.NotFound);
    await assert.rejects(file.write(encoder.encode("lost\n")), Deno.errors.NotFound);
    await Deno.mkdir(sub);
    await file.write(encoder.encode("after\n"));
    await finish(file);
    assert.equal(Deno.readTextFileSync(path), "after\n");
  });
});

Deno.test("writeNow writes at once up to the next rotation, which write then makes (random chunks)", async () => {
  for (const seed of [5, 6, 77]) {
    await withDir(async (dir) => {
      const next = random(seed);
      const maxBytes = 1024 + Math.floor(next() * 4096);
      const path = join(dir, "out.log");
      const lines = makeLines(600, Math.floor(maxBytes * 1.3), next);
      const gate = new TestGate();
      const file = (await LogFile.open(target(path, { maxBytes, backups: 100 }), gate)).use();
      let partial = 0;
      for (const chunk of groupLines(lines, 12, next)) {
        const bytes = encoder.encode(chunk);
        const now = file.writeNow(bytes);
        assert.equal(Deno.statSync(path).size, file.size, "on disk before anything is awaited");
        if (now > 0 && now < bytes.length) partial++;
        if (now < bytes.length) await file.write(bytes.subarray(now));
      }
      await finish(file);
      assert.ok(partial > 0, "some writes stopped at a rotation");
      const files = rotatedFiles(path);
      assert.ok(files.length > 20 && files.length < 100, `seed ${seed}: ${files.length} files`);
      checkFiles(files, maxBytes);
      assert.equal(files.map((f) => f.text).reverse().join(""), lines.join(""), `seed ${seed}`);
    });
  }
});

Deno.test("writeNow waits for no queued write: it refuses, and the order is kept", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const gate = new TestGate();
    const file = (await LogFile.open(target(path, { maxBytes: 1024, backups: 2 }), gate)).use();
    const queued = file.write(encoder.encode("one\n"));
    assert.equal(file.writeNow(encoder.encode("two\n")), 0, "a write is queued");
    await queued;
    assert.equal(file.writeNow(encoder.encode("two\n")), 4);
    const reopened = file.reopen();
    assert.equal(file.writeNow(encoder.encode("three\n")), 0, "a reopen is queued");
    await reopened;
    assert.equal(file.writeNow(encoder.encode("three\n")), 6);
    await finish(file);
    assert.equal(file.writeNow(encoder.encode("four\n")), 0, "released");
    assert.equal(Deno.readTextFileSync(path), "one\ntwo\nthree\n");
    assert.equal(gate.writes, 2);
  });
});

Deno.test("writeNow never rotates: at max_bytes it writes nothing and write rotates", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path, { maxBytes: 1024, backups: 2 }), new TestGate()))
      .use();
    const line = encoder.encode("y".repeat(99) + "\n");
    for (let i = 0; i < 10; i++) assert.equal(file.writeNow(line), 100);
    const two = new Uint8Array([...line, ...line]);
    assert.equal(file.writeNow(two), 0, "a rotation comes first");
    assert.equal(Deno.readTextFileSync(path).length, 1000);
    await file.write(two);
    assert.equal(file.writeNow(line), 100);
    await finish(file);
    assert.equal(Deno.readTextFileSync(`${path}.1`).length, 1000);
    assert.equal(Deno.readTextFileSync(path).length, 300);
  });
});

Deno.test("writeNow refuses when the gate does, or when the file is not on a local disk", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const closed = new TestGate();
    closed.open = false;
    const file = (await LogFile.open(target(path), closed)).use();
    assert.equal(file.writeNow(encoder.encode("one\n")), 0);
    await file.write(encoder.encode("one\n"));
    await finish(file);
    const remote = new TestGate();
    remote.isLocal = false;
    const other = (await LogFile.open(target(path, { mode: "append" }), remote)).use();
    assert.equal(other.writeNow(encoder.encode("two\n")), 0, "decided at open");
    await other.write(encoder.encode("two\n"));
    await finish(other);
    assert.equal(Deno.readTextFileSync(path), "one\ntwo\n");
    assert.equal(closed.writes + remote.writes, 0);
  });
});

Deno.test("after a synchronous write, a reopen (SIGHUP) leaves it in the moved file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "out.log");
    const file = (await LogFile.open(target(path), new TestGate())).use();
    assert.equal(file.writeNow(encoder.encode("before\n")), 7);
    await Deno.rename(path, `${path}.moved`);
    assert.equal(file.writeNow(encoder.encode("between\n")), 8);
    await file.reopen();
    assert.equal(file.writeNow(encoder.encode("after\n")), 6);
    await finish(file);
    assert.equal(Deno.readTextFileSync(`${path}.moved`), "before\nbetween\n");
    assert.equal(Deno.readTextFileSync(path), "after\n");
  });
});
