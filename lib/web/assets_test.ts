import assert from "node:assert/strict";
import { ASSETS, etagOf } from "./assets.ts";

/** The page, its script and its style sheet together stay small: 30 KiB before compression. */
const BUDGET_BYTES = 30 * 1024;

function body(path: string): string {
  const asset = ASSETS.get(path);
  assert.ok(asset, `no asset at ${path}`);
  return asset.body;
}

Deno.test("the page, its script and its style sheet are served, each with its type", () => {
  assert.deepEqual([...ASSETS.keys()].sort(), ["/", "/app.js", "/style.css"]);
  const types = Object.fromEntries([...ASSETS].map(([path, asset]) => [path, asset.contentType]));
  assert.deepEqual(types, {
    "/": "text/html; charset=utf-8",
    "/app.js": "text/javascript; charset=utf-8",
    "/style.css": "text/css; charset=utf-8",
  });
  for (const [path, asset] of ASSETS) assert.ok(asset.body.trim().length > 0, `${path} is empty`);
});

Deno.test("each asset has its own strong ETag, a hash of its body", () => {
  const etags = [...ASSETS.values()].map((asset) => asset.etag);
  assert.equal(new Set(etags).size, etags.length, "distinct");
  for (const [path, asset] of ASSETS) {
    assert.match(asset.etag, /^"[0-9a-f]+-[0-9a-f]{16}"$/, `${path}: strong, quoted`);
    assert.equal(asset.etag, etagOf(asset.body), `${path}: of its body`);
  }
  assert.notEqual(etagOf("a"), etagOf("b"));
  assert.notEqual(etagOf("ab"), etagOf("ba"));
  assert.equal(etagOf(""), '"0-cbf29ce484222325"', "FNV-1a's offset basis for nothing");
});

Deno.test("the page references exactly the assets there are, and nothing off this server", () => {
  const html = body("/");
  const references = [...html.matchAll(/\b(?:href|src)="([^"]*)"/g)].map((m) => m[1]!);
  const local = references.filter((ref) => !ref.startsWith("data:"));
  // Relative, so that the page works behind a proxy under a path prefix too.
  for (const ref of local) assert.doesNotMatch(ref, /^(?:[a-z]+:|\/)/i, ref);
  const paths = local.map((ref) => new URL(ref, "http://host/").pathname).sort();
  assert.deepEqual(paths, [...ASSETS.keys()].filter((path) => path !== "/").sort());
  // No CDN and no web font: the page works offline.
  for (const [path, asset] of ASSETS) {
    const urls = asset.body.match(/\bhttps?:\/\/[^\s"'`)]+/g) ?? [];
    assert.deepEqual(urls.filter((url) => url !== "http://www.w3.org/2000/svg"), [], path);
    assert.doesNotMatch(asset.body, /@import|url\(/, path);
  }
});

Deno.test("the assets stay within their size budget", () => {
  const size = [...ASSETS.values()]
    .reduce((sum, asset) => sum + new TextEncoder().encode(asset.body).length, 0);
  assert.ok(size <= BUDGET_BYTES, `${size} bytes, over the budget of ${BUDGET_BYTES}`);
});

Deno.test("app.js is a classic script that parses, in strict mode", () => {
  const script = body("/app.js");
  assert.match(script, /^"use strict";/);
  // Compiles without running: a syntax error (or an import, which a classic script cannot
  // have) throws here.
  assert.doesNotThrow(() => new Function(script));
  assert.throws(() => new Function(`${script}\n}`), SyntaxError, "the check can fail");
});

Deno.test("app.js never parses server data as HTML, and finds every element it asks for", () => {
  const script = body("/app.js");
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  const html = body("/");
  const ids = new Set([...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
  const asked = [...script.matchAll(/byId\("([^"]+)"\)/g)].map((m) => m[1]!);
  assert.ok(asked.length > 10, "byId calls found");
  for (const id of asked) assert.ok(ids.has(id), `#${id} is not in index.html`);
  assert.match(html, /<script src="app\.js" defer><\/script>/, "a classic, deferred script");
  assert.match(body("/style.css"), /@media \(prefers-color-scheme: dark\)/);
});
