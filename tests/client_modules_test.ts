/**
 * What the client's code imports: its start-up time is most of a `check` (issue 15), and a
 * value import of the server's process layer from a module both share once made it twice as
 * slow. Type imports are erased; static value imports, re-exports and import() are followed.
 * The walk starts at `lib/client/cli.ts`, the entry `main_client.ts` runs bundled (what the
 * bundle holds is tests/client_bundle_test.ts's business).
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const IMPORTS = [
  /^import\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms,
  /^export\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms,
  /^import\s+"([^"]+)"/gm,
  /import\(\s*"([^"]+)"\s*\)/g,
];

/** Every module `entry` loads at run time: relative paths, and the other specifiers as written. */
function runtimeModules(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [join(ROOT, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = Deno.readTextFileSync(file);
    for (const pattern of IMPORTS) {
      for (const match of text.matchAll(pattern)) {
        const spec = match[1]!;
        if (spec.startsWith(".")) todo.push(resolve(dirname(file), spec));
        else seen.add(spec);
      }
    }
  }
  return new Set([...seen].map((m) => m.startsWith(ROOT) ? m.slice(ROOT.length + 1) : m));
}

Deno.test("the client loads none of the server's modules, nor YAML, when it runs", () => {
  const modules = runtimeModules("lib/client/cli.ts");
  assert.ok(modules.has("lib/protocol/payloads.ts"), [...modules].join("\n"));
  const server = [...modules].filter((m) =>
    m.startsWith("lib/server/") || m.startsWith("lib/web/") || m === "lib/config/store.ts" ||
    m === "lib/process/child.ts" || m === "lib/process/spawner.ts" || m.startsWith("npm:yaml")
  );
  assert.deepEqual(server, [], "loaded by the client at run time");
});

Deno.test("the walk follows value imports and skips type imports", () => {
  // payloads.ts imports the process layer's types only, and the state names as a value.
  const modules = runtimeModules("lib/protocol/payloads.ts");
  assert.ok(modules.has("lib/process/state.ts"));
  assert.ok(!modules.has("lib/process/resource_sampler.ts"), "a type import was followed");
});
