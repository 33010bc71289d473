import assert from "node:assert/strict";
import { join } from "node:path";
import { SupervisorError } from "../errors.ts";
import { duplicateMessage, findChildFile, scanLoadpaths } from "./loadpaths.ts";
import type { Catalog } from "./loadpaths.ts";

/** The messages of a catalog's problems, in order. */
function messagesOf(catalog: Catalog): string[] {
  return catalog.problems.map((p) => p.message);
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function withTempDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "loadpaths_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Creates `dir` (and parents) with each of `files` holding a small child config. */
function populate(dir: string, files: readonly string[]): void {
  Deno.mkdirSync(dir, { recursive: true });
  for (const file of files) Deno.writeTextFileSync(join(dir, file), "command: sleep 1\n");
}

async function assertSupervisorError(
  fn: () => Promise<unknown>,
  code: string,
  message: string,
): Promise<void> {
  await assert.rejects(fn, (error: unknown) => {
    assert.ok(error instanceof SupervisorError, `expected SupervisorError, got ${error}`);
    assert.equal(error.code, code);
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("scanning finds .yml and .yaml files, sorted by name", async () => {
  await withTempDir(async (dir) => {
    populate(dir, ["web.yml", "api.yaml", "worker.yml"]);
    const catalog = await scanLoadpaths([dir]);
    assert.deepEqual([...catalog.files.entries()], [
      ["api", { name: "api", path: join(dir, "api.yaml") }],
      ["web", { name: "web", path: join(dir, "web.yml") }],
      ["worker", { name: "worker", path: join(dir, "worker.yml") }],
    ]);
    assert.deepEqual(messagesOf(catalog), []);
  });
});

Deno.test("scanning ignores other files, dotfiles, bare extensions and directories", async () => {
  await withTempDir(async (dir) => {
    populate(dir, ["web.yml", "notes.txt", "web.yml.bak", ".hidden.yml", ".yml", "README"]);
    Deno.mkdirSync(join(dir, "sub.yml"));
    populate(join(dir, "nested"), ["deep.yml"]);
    const catalog = await scanLoadpaths([dir]);
    assert.deepEqual([...catalog.files.keys()], ["web"]);
    assert.deepEqual(messagesOf(catalog), []);
  });
});

Deno.test("children from several loadpaths are listed together", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    populate(a, ["web.yml"]);
    populate(b, ["db.yml"]);
    const catalog = await scanLoadpaths([a, b]);
    assert.deepEqual([...catalog.files.keys()], ["db", "web"]);
    assert.equal(catalog.files.get("db")?.path, join(b, "db.yml"));
  });
});

Deno.test("the same stem in two loadpaths is a problem naming both paths", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    populate(a, ["web.yml"]);
    populate(b, ["web.yaml"]);
    const first = join(a, "web.yml");
    const second = join(b, "web.yaml");
    const catalog = await scanLoadpaths([a, b]);
    assert.deepEqual(messagesOf(catalog), [
      `child "web" is defined more than once: "${first}" and "${second}"; rename or remove all but one`,
    ]);
    assert.equal(messagesOf(catalog)[0], duplicateMessage("web", [first, second]));
  });
});

Deno.test("findChildFile refuses a name defined in two loadpaths with CONFIG_INVALID naming both", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    populate(a, ["web.yml"]);
    populate(b, ["web.yml"]);
    const first = join(a, "web.yml");
    const second = join(b, "web.yml");
    await assertSupervisorError(
      () => findChildFile([a, b], "web"),
      "CONFIG_INVALID",
      `child "web" is defined more than once: "${first}" and "${second}"; rename or remove all but one`,
    );
  });
});

Deno.test("a .yml and a .yaml with the same stem in one loadpath are also a duplicate", async () => {
  await withTempDir(async (dir) => {
    populate(dir, ["web.yml", "web.yaml"]);
    assert.equal(messagesOf(await scanLoadpaths([dir])).length, 1);
    await assert.rejects(
      () => findChildFile([dir], "web"),
      (error: unknown) => error instanceof SupervisorError && error.code === "CONFIG_INVALID",
    );
  });
});

Deno.test("a missing loadpath is a problem and the others are still scanned", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "nowhere");
    populate(join(dir, "ok"), ["web.yml"]);
    const catalog = await scanLoadpaths([missing, join(dir, "ok")]);
    assert.deepEqual(messagesOf(catalog), [`loadpath "${missing}" cannot be read: does not exist`]);
    assert.deepEqual([...catalog.files.keys()], ["web"]);
  });
});

Deno.test("a file whose stem is not a valid name is ignored with a problem", async () => {
  await withTempDir(async (dir) => {
    populate(dir, ["bad name.yml", "good.yml", "all.yml"]);
    const catalog = await scanLoadpaths([dir]);
    assert.deepEqual([...catalog.files.keys()], ["good"]);
    assert.equal(messagesOf(catalog).length, 2);
    const bad = messagesOf(catalog).find((p) => p.includes("bad name"));
    assert.ok(bad, `no problem for "bad name.yml" in ${JSON.stringify(messagesOf(catalog))}`);
    assert.match(bad, /^".*\/bad name\.yml" is ignored: "bad name" is not a valid child name/);
    assert.ok(bad.startsWith(`"${join(dir, "bad name.yml")}" is ignored: `));
    const reserved = messagesOf(catalog).find((p) => p.includes("all.yml"));
    assert.equal(
      reserved,
      `"${join(dir, "all.yml")}" is ignored: "all" is a reserved word and cannot name a child`,
    );
  });
});

Deno.test("findChildFile returns the one file defining a child, .yml or .yaml", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    populate(a, ["web.yml"]);
    populate(b, ["db.yaml"]);
    assert.equal(await findChildFile([a, b], "web"), join(a, "web.yml"));
    assert.equal(await findChildFile([a, b], "db"), join(b, "db.yaml"));
  });
});

Deno.test("findChildFile throws NOT_FOUND naming the loadpaths for a missing child", async () => {
  await withTempDir(async (dir) => {
    populate(dir, ["web.yml"]);
    await assert.rejects(() => findChildFile([dir], "ghost"), (error: unknown) => {
      assert.ok(error instanceof SupervisorError);
      assert.equal(error.code, "NOT_FOUND");
      assert.equal(error.child, "ghost");
      assert.equal(
        error.message,
        `Cannot find child "ghost": no ghost.yml or ghost.yaml in loadpaths "${dir}"`,
      );
      return true;
    });
  });
});

Deno.test("findChildFile with no loadpaths says none are configured", async () => {
  await assertSupervisorError(
    () => findChildFile([], "web"),
    "NOT_FOUND",
    'Cannot find child "web": no web.yml or web.yaml in loadpaths (none configured)',
  );
});

Deno.test("findChildFile does not take a directory named like a child file", async () => {
  await withTempDir(async (dir) => {
    Deno.mkdirSync(join(dir, "web.yml"));
    await assert.rejects(
      () => findChildFile([dir], "web"),
      (error: unknown) => error instanceof SupervisorError && error.code === "NOT_FOUND",
    );
  });
});
