import assert from "node:assert/strict";
import { compileEagerly, scanLines } from "./eager_compile.ts";

/** A file as `deno bundle` prints one: imports, then each module after a comment naming it. */
const BUNDLED = [
  `import {`,
  `  helper`,
  `} from "./chunk-ABC.js";`,
  ``,
  `// lib/a.ts`,
  `var TABLE = build();`,
  `function build() {`,
  `  return { "}": 1, re: /[}{]/g.source, t: \`{\${helper({ x: "}" })}\` };`,
  `}`,
  `async function later(x) {`,
  `  const text = \``,
  `function notADeclaration() {`,
  `}`,
  `\`;`,
  `  return text + x / 2;`,
  `}`,
  ``,
  `// lib/cold.ts`,
  `function rarely() {`,
  `  return 1;`,
  `}`,
  `export {`,
  `  TABLE,`,
  `  later,`,
  `  rarely`,
  `};`,
  ``,
].join("\n");

Deno.test("the scanner tells top-level lines from lines inside code, strings and templates", () => {
  const { startsAtTop } = scanLines(BUNDLED);
  const lines = BUNDLED.split("\n");
  const top = lines.filter((_, i) => startsAtTop[i]);
  assert.ok(top.includes("function build() {"));
  assert.ok(top.includes("async function later(x) {"));
  assert.ok(!top.includes("function notADeclaration() {"), "a line in a template literal");
  assert.ok(!top.includes("  helper"), "a line inside the braces of an import");
});

Deno.test("top-level declarations become parenthesized expressions, moved after the imports", () => {
  const out = compileEagerly(BUNDLED, ["lib/cold.ts"]);
  const lines = out.split("\n");
  assert.deepEqual(lines.slice(0, 6), [
    `import {`,
    `  helper`,
    `} from "./chunk-ABC.js";`,
    ``,
    `var build = (function build() {`,
    `  return { "}": 1, re: /[}{]/g.source, t: \`{\${helper({ x: "}" })}\` };`,
  ]);
  assert.ok(lines.includes("var later = (async function later(x) {"));
  assert.equal(lines.filter((l) => l === "});").length, 2);
  // Before the first statement of the modules, so the call in `var TABLE = build();` finds it.
  assert.ok(
    lines.indexOf("var TABLE = build();") > lines.indexOf("var later = (async function later(x) {"),
  );
  assert.ok(lines.includes("function notADeclaration() {"), "the template literal is intact");
  assert.ok(lines.includes("function rarely() {"), "a lazy module keeps its declarations");
});

Deno.test("the rewritten file runs as the original did", async () => {
  const source = [
    `var first = twice(21);`,
    `function twice(x) {`,
    `  return x * 2;`,
    `}`,
    `async function* count() {`,
    `  yield first;`,
    `}`,
    `const seen = [];`,
    `for await (const n of count()) seen.push(n);`,
    `export { seen, twice };`,
  ].join("\n");
  const out = compileEagerly(source);
  assert.match(out, /^var twice = \(function twice\(x\) \{$/m);
  assert.match(out, /^var count = \(async function\* count\(\) \{$/m);
  const url = `data:text/javascript;base64,${btoa(out)}`;
  const module = await import(url);
  assert.deepEqual(module.seen, [42]);
  assert.equal(module.twice(5), 10);
});

Deno.test("a file with no declaration to move is left as it is", () => {
  const source = `import { a } from "./a.js";\nvar b = a + 1;\nexport { b };\n`;
  assert.equal(compileEagerly(source), source);
});

Deno.test("text that does not close what it opens is refused, not rewritten", () => {
  assert.throws(() => compileEagerly("function f() {\n  return `open;\n}\n"), SyntaxError);
  assert.throws(() => compileEagerly("function f() {\n  return 1;\n"), SyntaxError);
});
