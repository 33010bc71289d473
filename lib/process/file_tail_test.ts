import assert from "node:assert/strict";
import { join } from "node:path";
import { readLastLines, readLastLinesAcross } from "./file_tail.ts";

async function withFile(
  content: string | Uint8Array,
  body: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "file-tail-test-" });
  const path = join(dir, "out.log");
  try {
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
    await body(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Lines of varied length (up to ~1 KiB), numbered. */
function varied(count: number): string[] {
  const out: string[] = [];
  for (let i = 1; i <= count; i++) out.push(`${i}:` + "v".repeat((i * 7919) % 1000));
  return out;
}

Deno.test("the last N lines of a file larger than one block, across block boundaries", async () => {
  const lines = varied(3000); // about 1.5 MB: many 64 KiB blocks
  await withFile(lines.join("\n") + "\n", async (path) => {
    for (const n of [1, 2, 20, 63, 64, 65, 100, 129, 500, 1000]) {
      assert.deepEqual(await readLastLines(path, n), lines.slice(-n), `last ${n}`);
    }
  });
});

Deno.test("lines of exactly the block size and a boundary falling on a newline", async () => {
  const block = 64 * 1024;
  // Each line is one block long with its newline, so every block starts a line.
  const lines = ["a", "b", "c", "d"].map((c) => c.repeat(block - 1));
  await withFile(lines.join("\n") + "\n", async (path) => {
    assert.deepEqual(await readLastLines(path, 1), lines.slice(-1));
    assert.deepEqual(await readLastLines(path, 2), lines.slice(-2));
    assert.deepEqual(await readLastLines(path, 4), lines);
  });
});

Deno.test("a file without a trailing newline: its last line counts", async () => {
  await withFile("one\ntwo\nthree", async (path) => {
    assert.deepEqual(await readLastLines(path, 2), ["two", "three"]);
    assert.deepEqual(await readLastLines(path, 1), ["three"]);
  });
  const lines = varied(500);
  await withFile(lines.join("\n"), async (path) => {
    assert.deepEqual(await readLastLines(path, 70), lines.slice(-70));
  });
});

Deno.test("fewer lines than asked: all of them", async () => {
  await withFile("x\ny\n", async (path) => {
    assert.deepEqual(await readLastLines(path, 10), ["x", "y"]);
  });
  const lines = varied(200);
  await withFile(lines.join("\n") + "\n", async (path) => {
    assert.deepEqual(await readLastLines(path, 10_000), lines);
  });
});

Deno.test("an empty file has no lines; asking for 0 lines gives none", async () => {
  await withFile("", async (path) => {
    assert.deepEqual(await readLastLines(path, 5), []);
  });
  await withFile("a\nb\n", async (path) => {
    assert.deepEqual(await readLastLines(path, 0), []);
  });
});

Deno.test("empty lines are lines", async () => {
  await withFile("a\n\n\n", async (path) => {
    assert.deepEqual(await readLastLines(path, 2), ["", ""]);
    assert.deepEqual(await readLastLines(path, 5), ["a", "", ""]);
  });
  await withFile("\n", async (path) => {
    assert.deepEqual(await readLastLines(path, 5), [""]);
  });
});

Deno.test("maxBytes bounds what is read: the lines returned are whole and the newest", async () => {
  const lines = varied(3000);
  await withFile(lines.join("\n") + "\n", async (path) => {
    const got = await readLastLines(path, 3000, { maxBytes: 100_000 });
    assert.ok(got.length > 0 && got.length < 3000, `${got.length} lines`);
    assert.deepEqual(got, lines.slice(-got.length));
    const bytes = got.reduce((sum, l) => sum + l.length + 1, 0);
    assert.ok(bytes <= 100_000 + 64 * 1024, `${bytes} bytes returned`);
  });
});

Deno.test("multi-byte characters across a block boundary are decoded whole", async () => {
  const block = 64 * 1024;
  // The last block starts one byte into "✓" (three bytes in UTF-8).
  const after = " check\n" + "q".repeat(block - 2 - 7 - 1) + "\n";
  const text = "first line\nprefix ✓" + after;
  const size = new TextEncoder().encode(text).length;
  assert.equal(size - block, new TextEncoder().encode("first line\nprefix ").length + 1);
  await withFile(text, async (path) => {
    assert.deepEqual(await readLastLines(path, 3), [
      "first line",
      "prefix ✓ check",
      "q".repeat(block - 10),
    ]);
    assert.deepEqual(await readLastLines(path, 2), ["prefix ✓ check", "q".repeat(block - 10)]);
  });
});

Deno.test("a missing file throws NotFound", async () => {
  await assert.rejects(
    () => readLastLines("/nonexistent-supervisor-ts/none.log", 5),
    Deno.errors.NotFound,
  );
});

/** Files written by hand in a fresh directory: `name → text`; returns their paths by name. */
async function withFiles(
  files: Record<string, string>,
  body: (path: (name: string) => string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "file-tail-test-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    await body((name) => join(dir, name));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `from` … `to` as lines `PREFIX n`, each with its newline. */
function numbered(prefix: string, from: number, to: number): string {
  let text = "";
  for (let i = from; i <= to; i++) text += `${prefix} ${i}\n`;
  return text;
}

function expected(prefix: string, from: number, to: number): string[] {
  return numbered(prefix, from, to).split("\n").slice(0, -1);
}

/** A rotated log: web.log.3 (oldest) holds 1–10, .2 11–20, .1 21–30, web.log 31–33. */
const ROTATED = {
  "web.log.3": numbered("line", 1, 10),
  "web.log.2": numbered("line", 11, 20),
  "web.log.1": numbered("line", 21, 30),
  "web.log": numbered("line", 31, 33),
};
const ROTATED_PATHS = (path: (name: string) => string) =>
  ["web.log", "web.log.1", "web.log.2", "web.log.3"].map(path);

Deno.test("a current file with too few lines is completed from the newest backup back, oldest first", async () => {
  await withFiles(ROTATED, async (path) => {
    const paths = ROTATED_PATHS(path);
    assert.deepEqual(await readLastLinesAcross(paths, 2), expected("line", 32, 33));
    assert.deepEqual(await readLastLinesAcross(paths, 3), expected("line", 31, 33));
    assert.deepEqual(await readLastLinesAcross(paths, 4), expected("line", 30, 33));
    assert.deepEqual(await readLastLinesAcross(paths, 13), expected("line", 21, 33));
    assert.deepEqual(await readLastLinesAcross(paths, 25), expected("line", 9, 33));
    assert.deepEqual(await readLastLinesAcross(paths, 100), expected("line", 1, 33));
    // The current file alone, as before.
    assert.deepEqual(await readLastLines(path("web.log"), 100), expected("line", 31, 33));
  });
});

Deno.test("maxBytes bounds the reading over every file: the lines returned are whole and the newest", async () => {
  await withFiles(ROTATED, async (path) => {
    // "line 31\n" … "line 33\n" are 8 bytes each: 24 in web.log, 80 in each backup.
    const got = await readLastLinesAcross(ROTATED_PATHS(path), 100, { maxBytes: 24 + 80 + 20 });
    assert.deepEqual(got, expected("line", 19, 33), "whole lines only, none older than the bound");
    assert.deepEqual(
      await readLastLinesAcross(ROTATED_PATHS(path), 100, { maxBytes: 20 }),
      expected("line", 32, 33),
      "a bound inside the current file reads no backup",
    );
  });
});

Deno.test("end and complete apply to the current file; a backup's unterminated last line counts", async () => {
  await withFiles({
    "web.log.1": "a\nb\nc-unterminated",
    "web.log": "d\ne\nf-unterminated",
  }, async (path) => {
    const paths = [path("web.log"), path("web.log.1")];
    assert.deepEqual(await readLastLinesAcross(paths, 4, { complete: true }), [
      "b",
      "c-unterminated",
      "d",
      "e",
    ]);
    // The answer ends at `end` (here after "d\n"), where the events of a follow begin.
    assert.deepEqual(await readLastLinesAcross(paths, 3, { end: 2, complete: true }), [
      "b",
      "c-unterminated",
      "d",
    ]);
    // end 0: nothing of the current file is wanted, the backups still are.
    assert.deepEqual(await readLastLinesAcross(paths, 2, { end: 0 }), ["b", "c-unterminated"]);
  });
});

Deno.test("a missing backup ends the walk; a missing current file is NotFound unless end is 0", async () => {
  await withFiles({ "web.log.1": "b1\n", "web.log.3": "b3\n", "web.log": "c\n" }, async (path) => {
    const paths = ["web.log", "web.log.1", "web.log.2", "web.log.3"].map(path);
    assert.deepEqual(await readLastLinesAcross(paths, 10), ["b1", "c"]);
    const gone = [path("nope.log"), path("web.log.1")];
    await assert.rejects(() => readLastLinesAcross(gone, 10), Deno.errors.NotFound);
    assert.deepEqual(await readLastLinesAcross(gone, 10, { end: 0 }), ["b1"]);
  });
});

Deno.test("a backup that is a file already read (a rotation while opening) is skipped, no line twice", async () => {
  await withFiles({ "web.log": "new 1\nnew 2\n", "web.log.2": "old 1\nold 2\n" }, async (path) => {
    // As if web.log had been renamed to web.log.1 between the opening of the two.
    await Deno.link(path("web.log"), path("web.log.1"));
    const paths = ["web.log", "web.log.1", "web.log.2"].map(path);
    assert.deepEqual(await readLastLinesAcross(paths, 10), ["old 1", "old 2", "new 1", "new 2"]);
  });
});
