import assert from "node:assert/strict";
import { join } from "node:path";
import { forgetPrograms, resolveProgram } from "./program_lookup.ts";

/** A directory with `dirs` in it, every one dated an hour ago (settled). */
async function tree(dirs: readonly string[]): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "program-lookup-" });
  for (const dir of dirs) await Deno.mkdir(join(root, dir), { recursive: true });
  return root;
}

async function program(path: string, mode = 0o755): Promise<void> {
  await Deno.writeTextFile(path, "#!/bin/sh\n", { mode });
  await Deno.chmod(path, mode);
}

/** Dates `paths` an hour ago, so that answers depending on them are kept. */
async function settle(paths: readonly string[]): Promise<void> {
  const past = new Date(Date.now() - 3600_000);
  for (const path of paths) await Deno.utime(path, past, past);
}

Deno.test("a program found on PATH is found again, and a program installed ahead of it wins at the next start", async () => {
  forgetPrograms();
  const root = await tree(["a", "b"]);
  try {
    const [a, b] = [join(root, "a"), join(root, "b")];
    await program(join(b, "tool"));
    await settle([a, b, root]);
    const path = `${a}:${b}`;
    assert.equal(await resolveProgram("tool", "/", path), join(b, "tool"));
    assert.equal(await resolveProgram("tool", "/", path), join(b, "tool"));
    await program(join(a, "tool"));
    assert.equal(await resolveProgram("tool", "/", path), join(a, "tool"));
    await Deno.remove(join(a, "tool"));
    assert.equal(await resolveProgram("tool", "/", path), join(b, "tool"));
    await Deno.remove(join(b, "tool"));
    await assert.rejects(() => resolveProgram("tool", "/", path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a PATH directory that appears later, holding the program, wins at the next start", async () => {
  forgetPrograms();
  const root = await tree(["b"]);
  try {
    const [a, b] = [join(root, "missing", "a"), join(root, "b")];
    await program(join(b, "tool"));
    await settle([b, root]);
    const path = `${a}:${b}`;
    assert.equal(await resolveProgram("tool", "/", path), join(b, "tool"));
    assert.equal(await resolveProgram("tool", "/", path), join(b, "tool"));
    await Deno.mkdir(a, { recursive: true });
    await program(join(a, "tool"));
    assert.equal(await resolveProgram("tool", "/", path), join(a, "tool"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a cached program that stops being executable is looked up again", async () => {
  forgetPrograms();
  const root = await tree(["a", "b"]);
  try {
    const [a, b] = [join(root, "a"), join(root, "b")];
    await program(join(a, "tool"));
    await program(join(b, "tool"));
    await settle([a, b, root]);
    const path = `${a}:${b}`;
    assert.equal(await resolveProgram("tool", "/", path), join(a, "tool"));
    await Deno.chmod(join(a, "tool"), 0o644);
    assert.equal(await resolveProgram("tool", "/", path), join(b, "tool"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("relative PATH entries are taken against the working directory", async () => {
  forgetPrograms();
  const root = await tree(["one/bin", "two/bin"]);
  try {
    await program(join(root, "one/bin/tool"));
    await program(join(root, "two/bin/tool"));
    await settle([root, join(root, "one/bin"), join(root, "two/bin")]);
    assert.equal(
      await resolveProgram("tool", join(root, "one"), "bin"),
      join(root, "one/bin/tool"),
    );
    assert.equal(
      await resolveProgram("tool", join(root, "two"), "bin"),
      join(root, "two/bin/tool"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a program named by a path: as given, not found, or not executable", async () => {
  const root = await tree([]);
  try {
    await program(join(root, "run"));
    await program(join(root, "plain"), 0o644);
    assert.equal(await resolveProgram("./run", root, undefined), join(root, "run"));
    await assert.rejects(() => resolveProgram("./gone", root, undefined), Deno.errors.NotFound);
    await assert.rejects(
      () => resolveProgram(join(root, "plain"), "/", undefined),
      (error) =>
        error instanceof Deno.errors.PermissionDenied && /not executable/.test(error.message),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("with a trust, an answer verified within it is given without a look; after it, the shadowing program is found", async () => {
  forgetPrograms();
  const root = await tree(["a", "b"]);
  try {
    const [a, b] = [join(root, "a"), join(root, "b")];
    await program(join(b, "tool"));
    await settle([a, b, root]);
    const path = `${a}:${b}`;
    assert.equal(await resolveProgram("tool", "/", path), join(b, "tool"));
    await program(join(a, "tool"));
    // Verified a moment ago: a restart trusting 60 s takes it as it was.
    assert.equal(await resolveProgram("tool", "/", path, 60_000), join(b, "tool"));
    // No trust (an operator's start): looked at, and the new program wins.
    assert.equal(await resolveProgram("tool", "/", path), join(a, "tool"));
    await Deno.remove(join(a, "tool"));
    await new Promise((resolve) => setTimeout(resolve, 30));
    // The removal came after the last verification, which is older than this trust.
    assert.equal(await resolveProgram("tool", "/", path, 20), join(b, "tool"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
