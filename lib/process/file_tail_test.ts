import assert from "node:assert/strict";
import { join } from "node:path";
import { readLastLines } from "./file_tail.ts";

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
