/**
 * The client runs from a bundle (`bundle/client/`, built from `lib/client/cli.ts` by
 * `deno task bundle`): loading one file instead of some thirty modules is most of what a
 * `check` costs beyond Deno's own start (issue 15). These tests keep that bundle honest: it is
 * byte for byte what the sources give, `main_client.ts` loads it and no source module, and
 * node:crypto stays behind a dynamic import that only signing commands reach.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./harness.ts";
import { LAZY_MODULES } from "../scripts/bundle_client.ts";

const decoder = new TextDecoder();

async function bundleScript(...args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/bundle_client.ts", ...args],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: decoder.decode(out.stderr) };
}

Deno.test("the checked-in client bundle is what the sources give (else: deno task bundle)", async () => {
  const run = await bundleScript("--check");
  assert.equal(run.code, 0, run.stderr);
});

Deno.test("the bundle check names a bundled file that differs from the sources", async () => {
  const kept = await Deno.makeTempDir({ prefix: "supervisor-ts-bundle-test-" });
  try {
    for await (const entry of Deno.readDir(join(ROOT, "bundle", "client"))) {
      await Deno.copyFile(join(ROOT, "bundle", "client", entry.name), join(kept, entry.name));
    }
    const cli = join(kept, "cli.js");
    await Deno.writeTextFile(cli, (await Deno.readTextFile(cli)) + "// edited by hand\n");
    const run = await bundleScript("--check", "--against", kept);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /cli\.js: differs/);
    assert.match(run.stderr, /deno task bundle/);
  } finally {
    await Deno.remove(kept, { recursive: true });
  }
});

interface InfoDependency {
  readonly specifier: string;
  readonly isDynamic?: boolean;
  readonly code?: { readonly specifier?: string };
}

/** Every module `main_client.ts` loads when it starts: static imports only, followed. */
async function loadedAtStart(): Promise<{ loaded: string[]; dynamic: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main_client.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, decoder.decode(out.stderr));
  const info = JSON.parse(decoder.decode(out.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: InfoDependency[] }[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const dynamic = new Set<string>();
  const todo = [...info.roots];
  while (todo.length > 0) {
    const specifier = todo.pop()!;
    if (loaded.has(specifier)) continue;
    loaded.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (target === undefined) continue;
      if (dep.isDynamic) dynamic.add(target);
      else todo.push(target);
    }
  }
  const base = new URL("..", import.meta.url).href;
  const shown = (s: string) => s.startsWith(base) ? s.slice(base.length) : s;
  return { loaded: [...loaded].map(shown).sort(), dynamic: [...dynamic].map(shown).sort() };
}

Deno.test("main_client.ts loads the bundle and no source module; node:crypto only on demand", async () => {
  const { loaded, dynamic } = await loadedAtStart();
  const sources = loaded.filter((m) => m !== "main_client.ts" && !m.startsWith("bundle/client/"));
  assert.deepEqual(sources, [], `loaded at start:\n${loaded.join("\n")}`);
  assert.ok(loaded.includes("bundle/client/cli.js"), loaded.join("\n"));
  assert.ok(!loaded.includes("node:crypto"), `node:crypto is loaded at start:\n${loaded}`);
  assert.ok(
    dynamic.some((m) => /^bundle\/client\/signed_request-\w+\.js$/.test(m)),
    `the signing module is not a dynamic import: ${dynamic.join(", ")}`,
  );
});

/** The text of the bundle's entry file, and the top-level declarations left in each module. */
async function entryDeclarations(): Promise<{ text: string; declared: Map<string, string[]> }> {
  const text = await Deno.readTextFile(join(ROOT, "bundle", "client", "cli.js"));
  const declared = new Map<string, string[]>();
  let module = "";
  for (const line of text.split("\n")) {
    const comment = /^\/\/ (lib\/\S+\.ts)$/.exec(line);
    if (comment) module = comment[1]!;
    const declaration = /^(?:async )?function\*? ([\w$]+)\(/.exec(line);
    if (declaration) declared.set(module, [...(declared.get(module) ?? []), declaration[1]!]);
  }
  return { text, declared };
}

Deno.test("the bundle's functions are compiled with it, except those of its lazy modules", async () => {
  const { text, declared } = await entryDeclarations();
  // The everyday ones are parenthesized expressions, which V8 compiles with the file: so they
  // are in Deno's code cache (scripts/eager_compile.ts).
  for (const name of ["main", "parseClientArgs", "fanOut", "decodeChild", "renderResults"]) {
    assert.match(text, new RegExp(`^var ${name} = \\((async )?function ${name}\\(`, "m"), name);
  }
  const eagerModules = [...declared.keys()].filter((m) =>
    !(LAZY_MODULES as readonly string[]).includes(m)
  );
  assert.deepEqual(eagerModules, [], `declarations left:\n${JSON.stringify([...declared])}`);
  assert.ok(declared.has("lib/client/help.ts"), "help.ts's functions are to stay lazy");
});

Deno.test("the client's bundle leaves out the server's table of transitions", async () => {
  const { text } = await entryDeclarations();
  assert.match(text, /^var CHILD_STATES = \[/m);
  assert.doesNotMatch(text, /ALLOWED_FROM|TRANSITIONS|Lifecycle/);
});
