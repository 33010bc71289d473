import assert from "node:assert/strict";
import { join } from "node:path";
import { fileSource } from "./config_source.ts";
import { ParsedFileCache, SETTLED_MS } from "./file_cache.ts";

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function withTempDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "file_cache_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A parse function that counts its calls and upper-cases the text. */
function countingParser(): { parse: (path: string, text: string) => string; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    parse: (path, text) => {
      calls.push(path);
      if (text.startsWith("bad")) throw new SyntaxError(`cannot parse ${text.trim()}`);
      return text.toUpperCase();
    },
  };
}

/** Moves a file's modification time, as an edit a little later would. */
function touchLater(path: string, seconds: number): void {
  const mtime = Deno.statSync(path).mtime!;
  Deno.utimeSync(path, mtime, new Date(mtime.getTime() + seconds * 1000));
}

Deno.test("an unchanged file is parsed once however often it is read", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "web.yml");
    Deno.writeTextFileSync(path, "command: a\n");
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse);
    for (let i = 0; i < 5; i++) assert.equal(await cache.read(path), "COMMAND: A\n");
    assert.equal(calls.length, 1);
  });
});

Deno.test("each file is cached on its own", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a.yml");
    const b = join(dir, "b.yml");
    Deno.writeTextFileSync(a, "a");
    Deno.writeTextFileSync(b, "b");
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse);
    assert.equal(await cache.read(a), "A");
    assert.equal(await cache.read(b), "B");
    assert.equal(await cache.read(a), "A");
    assert.equal(await cache.read(b), "B");
    assert.deepEqual(calls, [a, b]);
  });
});

Deno.test("a rewrite of a different size is parsed again", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "web.yml");
    Deno.writeTextFileSync(path, "command: a\n");
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse);
    assert.equal(await cache.read(path), "COMMAND: A\n");
    Deno.writeTextFileSync(path, "command: longer\n");
    assert.equal(await cache.read(path), "COMMAND: LONGER\n");
    assert.equal(await cache.read(path), "COMMAND: LONGER\n");
    assert.equal(calls.length, 2);
  });
});

Deno.test("a rewrite of the same size with a later modification time is parsed again", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "web.yml");
    Deno.writeTextFileSync(path, "command: a\n");
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse);
    assert.equal(await cache.read(path), "COMMAND: A\n");
    Deno.writeTextFileSync(path, "command: b\n");
    touchLater(path, 5);
    assert.equal(await cache.read(path), "COMMAND: B\n");
    assert.equal(calls.length, 2);
  });
});

Deno.test("a file replaced by another (new inode) is parsed again", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "web.yml");
    const next = join(dir, "web.yml.new");
    Deno.writeTextFileSync(path, "command: a\n");
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse);
    await cache.read(path);
    Deno.writeTextFileSync(next, "command: b\n");
    Deno.renameSync(next, path);
    assert.equal(await cache.read(path), "COMMAND: B\n");
    assert.equal(calls.length, 2);
  });
});

Deno.test("a same-size rewrite right after a read is seen, however fast it comes", async () => {
  // An editor saving within the file system's timestamp granularity leaves size, mtime, ctime
  // and inode as they were; the cache must still not serve the old content.
  await withTempDir(async (dir) => {
    const path = join(dir, "web.yml");
    const stale: number[] = [];
    for (let round = 0; round < 20; round++) {
      const cache = new ParsedFileCache((_path, text) => text);
      Deno.writeTextFileSync(path, "restart: never \n");
      assert.equal(await cache.read(path), "restart: never \n");
      Deno.writeTextFileSync(path, "restart: always\n");
      if (await cache.read(path) !== "restart: always\n") stale.push(round);
    }
    assert.deepEqual(stale, [], `stale content served in rounds ${stale.join(", ")}`);
  });
});

Deno.test("a failure is cached and rethrown without parsing again", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "web.yml");
    Deno.writeTextFileSync(path, "bad yaml");
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse);
    let first: unknown;
    await assert.rejects(() => cache.read(path), (error: unknown) => {
      first = error;
      return error instanceof SyntaxError && error.message === "cannot parse bad yaml";
    });
    await assert.rejects(() => cache.read(path), (error: unknown) => error === first);
    assert.equal(calls.length, 1);
  });
});

Deno.test("a broken file that gets fixed is parsed again and succeeds", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "web.yml");
    Deno.writeTextFileSync(path, "bad yaml");
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse);
    await assert.rejects(() => cache.read(path), SyntaxError);
    Deno.writeTextFileSync(path, "command: fixed\n");
    assert.equal(await cache.read(path), "COMMAND: FIXED\n");
    assert.equal(calls.length, 2);
  });
});

Deno.test("a missing file throws NotFound and is not cached", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "web.yml");
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse);
    await assert.rejects(() => cache.read(path), Deno.errors.NotFound);
    Deno.writeTextFileSync(path, "x");
    assert.equal(await cache.read(path), "X");
    assert.equal(calls.length, 1);
  });
});

Deno.test("the cache stays within its limit and still answers correctly", async () => {
  await withTempDir(async (dir) => {
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse, { limit: 2 });
    const paths = ["a", "b", "c"].map((n) => join(dir, `${n}.yml`));
    for (const path of paths) Deno.writeTextFileSync(path, path);
    for (const path of paths) assert.equal(await cache.read(path), path.toUpperCase());
    assert.equal(await cache.read(paths[2]!), paths[2]!.toUpperCase());
    assert.equal(calls.length, 3);
    assert.equal(await cache.read(paths[0]!), paths[0]!.toUpperCase());
    assert.equal(calls.length, 4);
  });
});

Deno.test("a file settled when read is not read again while its stamp holds; any write is seen", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "web.yml");
    await Deno.writeTextFile(path, "one");
    const reads: string[] = [];
    let stamped = 0;
    const source = {
      ...fileSource,
      readText(p: string, max: number) {
        reads.push(p);
        return fileSource.readText(p, max);
      },
      stamp(p: string) {
        stamped++;
        return fileSource.stamp!(p);
      },
    };
    const stampsOf = (_: unknown) => {
      const at = stamped;
      return () => stamped - at;
    };
    const { parse, calls } = countingParser();
    const cache = new ParsedFileCache(parse, { source });
    // Fresh from its write: read every time, whatever its stamp says.
    assert.equal(await cache.read(path), "ONE");
    assert.equal(await cache.read(path), "ONE");
    assert.equal(reads.length, 2);
    await new Promise((resolve) => setTimeout(resolve, SETTLED_MS + 200));
    assert.equal(await cache.read(path), "ONE");
    assert.equal(reads.length, 3, "settled now: read once more, and its stamp kept");
    assert.equal(await cache.read(path), "ONE");
    assert.equal(await cache.read(path), "ONE");
    assert.equal(reads.length, 3, "then only stat-ed");
    // A status within a second of the last check takes it as checked: not even a stat.
    const stamps = stampsOf(source);
    assert.equal(await cache.read(path, { trustMs: 1000 }), "ONE");
    assert.equal(stamps(), 0);
    // A rewrite of the same size, even at once: the ctime moves, so the next strict read sees it
    // (a status may go on showing the old one for up to its second).
    await Deno.writeTextFile(path, "two");
    assert.equal(await cache.read(path, { trustMs: 1000 }), "ONE");
    assert.equal(await cache.read(path), "TWO");
    assert.equal(reads.length, 4);
    assert.deepEqual(calls.length, 2);
  });
});

Deno.test("a reading handed out is taken without a lookup until a later reading replaces it", async () => {
  // Files settled long ago (a status may take them as checked), in memory.
  const texts = new Map([["/c/web.yml", "command: a\n"]]);
  const source = {
    readText: (path: string) => Promise.resolve(texts.get(path)!),
    isFile: (path: string) => Promise.resolve(texts.has(path)),
    stamp: (path: string) =>
      Promise.resolve({ ino: 1, size: texts.get(path)!.length, mtimeMs: 1000, ctimeMs: 1000 }),
    list: () => Promise.resolve([]),
    modifiedAt: () => Promise.resolve(1000),
  };
  const { parse } = countingParser();
  const cache = new ParsedFileCache(parse, { source });
  assert.equal(await cache.read("/c/web.yml"), "COMMAND: A\n");
  const reading = cache.current("/c/web.yml")!;
  assert.equal(cache.trustedReading(reading, 1000), "COMMAND: A\n");
  assert.equal(cache.trustedReading(reading, 0), undefined, "no trust: never taken");
  texts.set("/c/web.yml", "command: bb\n");
  assert.equal(await cache.read("/c/web.yml"), "COMMAND: BB\n");
  assert.ok(reading.superseded);
  assert.equal(cache.trustedReading(reading, 1000), undefined, "replaced: not taken");
  assert.equal(cache.trustedReading(cache.current("/c/web.yml")!, 1000), "COMMAND: BB\n");
});
