/**
 * Unit tests of the supervisor-rs 0.8 text dialect's parsing: the plain command text and the key
 * name of a signed request (its block: `legacy_block_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  keyNameEnd,
  type LegacyCommand,
  NO_LEGAL_OPERATION,
  parseLegacyCommand,
} from "./legacy_command.ts";

const encoder = new TextEncoder();

/** Asserts that `text` parses to operation `op` on `child`. */
function assertOp(text: string, op: string, child: string | undefined): void {
  assert.deepEqual(
    parseLegacyCommand(text),
    { kind: "op", op, child },
    `${JSON.stringify(text)} should parse as ${op} ${child ?? "(no child)"}`,
  );
}

/** Asserts that `text` is refused with the original's `no legal operations input`. */
function assertInvalid(text: string): void {
  const command: LegacyCommand = parseLegacyCommand(text);
  assert.deepEqual(
    command,
    { kind: "invalid", reply: "no legal operations input" },
    `${JSON.stringify(text)} should be invalid, got ${JSON.stringify(command)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// parseLegacyCommand
// ---------------------------------------------------------------------------------------------

Deno.test("NO_LEGAL_OPERATION is the original's exact reply text", () => {
  assert.equal(NO_LEGAL_OPERATION, "no legal operations input");
});

Deno.test("every spelling the original accepted for the operations that need a child", () => {
  const spellings: Record<string, string[]> = {
    restart: ["restart", "Restart"],
    start: ["start", "Start"],
    stop: ["stop", "Stop"],
    trystart: ["trystart", "TryStart", "Trystart"],
  };
  for (const [op, words] of Object.entries(spellings)) {
    for (const word of words) assertOp(`${word} web`, op, "web");
  }
});

Deno.test("every spelling the original accepted for check, kill and info, without a child", () => {
  const spellings: Record<string, string[]> = {
    check: ["check", "Check"],
    kill: ["kill", "Kill"],
    info: ["info", "Info", "INFO", "InFo"],
  };
  for (const [op, words] of Object.entries(spellings)) {
    for (const word of words) assertOp(word, op, undefined);
  }
});

Deno.test("help, Help and -h are the help command", () => {
  for (const word of ["help", "Help", "-h"]) {
    assert.deepEqual(parseLegacyCommand(word), { kind: "help" }, word);
  }
});

Deno.test("spellings the original did not accept are invalid", () => {
  for (const word of ["START", "STOP", "CHECK", "KILL", "tryStart", "TRYSTART", "iNFO", "HELP"]) {
    assertInvalid(`${word} web`);
    assertInvalid(word);
  }
  assertInvalid("frobnicate");
  assertInvalid("--help");
  assertInvalid("h");
});

Deno.test("check, kill and info take an optional child", () => {
  assertOp("check web", "check", "web");
  assertOp("Check web", "check", "web");
  assertOp("kill web", "kill", "web");
  assertOp("info web", "info", "web");
});

Deno.test("`on X` and `with X` pairs after the command are parsed and ignored", () => {
  assertOp("start web on 127.0.0.1", "start", "web");
  assertOp("start web with /x/key.pem", "start", "web");
  assertOp("start web on 127.0.0.1 with /x/key.pem", "start", "web");
  assertOp("stop web with /x/key.pem on 10.0.0.1", "stop", "web");
  assertOp("restart web on a on b", "restart", "web");
  assertOp("trystart web with k on h", "trystart", "web");
  assertOp("check on 127.0.0.1", "check", undefined);
  assertOp("check with /x/key.pem on 127.0.0.1", "check", undefined);
  assertOp("check web on 127.0.0.1", "check", "web");
  assertOp("check web on h with k", "check", "web");
  assertOp("info on h", "info", undefined);
  assertOp("kill on h with k", "kill", undefined);
});

Deno.test("a trailing newline is ignored (the original refused `check\\n`; we accept both)", () => {
  assertOp("check\n", "check", undefined);
  assertOp("check\r\n", "check", undefined);
  assertOp("start web\n", "start", "web");
  assertOp("stop web on h\n", "stop", "web");
  assert.deepEqual(parseLegacyCommand("help\n"), { kind: "help" });
});

Deno.test("NUL padding is ignored, alone or after a newline", () => {
  assertOp("check\0", "check", undefined);
  assertOp("check\0\0\0\0", "check", undefined);
  assertOp("start web\0\0", "start", "web");
  assertOp("start web\n\0\0\0", "start", "web");
  assertOp(`stop web${"\0".repeat(4000)}`, "stop", "web");
});

Deno.test("an operation that needs a child without one is invalid with `no legal operations input`", () => {
  for (const op of ["start", "Start", "stop", "restart", "trystart", "TryStart"]) {
    assertInvalid(op);
    assertInvalid(`${op}\n`);
    assertInvalid(`${op} `);
    assertInvalid(`${op}\0\0`);
  }
});

Deno.test("odd trailing words are invalid", () => {
  assertInvalid("start web extra");
  assertInvalid("start web on");
  assertInvalid("start web with");
  assertInvalid("start web on h with");
  assertInvalid("start web at h");
  assertInvalid("start web on h extra");
  assertInvalid("stop web foo bar");
  assertInvalid("check web extra words");
  assertInvalid("check a b c");
  assertInvalid("info web on");
  assertInvalid("kill web with");
});

Deno.test("words are split on single spaces: a double space or tab is not a separator", () => {
  assertInvalid("start  web");
  assertInvalid("start\tweb");
  assertInvalid(" start web");
});

Deno.test("empty and blank requests are invalid", () => {
  assertInvalid("");
  assertInvalid("\n");
  assertInvalid("\0\0\0");
  assertInvalid(" ");
});

Deno.test("names of Object.prototype members are not operations", () => {
  // A lookup in a plain object literal finds inherited members; none of these is an operation.
  for (
    const word of [
      "constructor",
      "toString",
      "valueOf",
      "hasOwnProperty",
      "isPrototypeOf",
      "__proto__",
      "__defineGetter__",
      "toLocaleString",
      "propertyIsEnumerable",
    ]
  ) {
    assertInvalid(word);
    assertInvalid(`${word} web`);
  }
});

Deno.test("the child word is taken as is; the server decides whether it names a child", () => {
  assertOp("start all", "start", "all");
  assertOp("stop all", "stop", "all");
  assertOp("start nosuch", "start", "nosuch");
  assertOp("start ../../etc/passwd", "start", "../../etc/passwd");
  assertOp("start wéb", "start", "wéb");
});

// ---------------------------------------------------------------------------------------------
// keyNameEnd
// ---------------------------------------------------------------------------------------------

Deno.test("keyNameEnd finds the `;` that ends the key name of a signed request", () => {
  assert.equal(keyNameEnd(encoder.encode("alice;")), 5);
  // A block's bytes may be anything, spaces, newlines and `;` included: only the first counts.
  const block = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
  const request = new Uint8Array([...encoder.encode("alice;"), ...block]);
  assert.equal(keyNameEnd(request), 5);
  assert.equal(keyNameEnd(encoder.encode("a;b;c")), 1);
  assert.equal(keyNameEnd(encoder.encode("my-key.1_x;")), 10);
});

Deno.test("keyNameEnd is -1 for an unsigned request", () => {
  assert.equal(keyNameEnd(encoder.encode("check")), -1);
  assert.equal(keyNameEnd(encoder.encode("start web")), -1);
  assert.equal(keyNameEnd(encoder.encode("start web;x")), -1, "a space before the `;`");
  assert.equal(keyNameEnd(encoder.encode("check\nx;")), -1, "a newline before the `;`");
  assert.equal(keyNameEnd(new Uint8Array()), -1);
});

Deno.test("keyNameEnd is 0 for an empty key name", () => {
  assert.equal(keyNameEnd(encoder.encode(";abc")), 0);
});

Deno.test("keyNameEnd looks at the first 256 bytes only", () => {
  assert.equal(keyNameEnd(encoder.encode(`${"k".repeat(255)};`)), 255);
  assert.equal(keyNameEnd(encoder.encode(`${"k".repeat(256)};`)), -1);
  assert.equal(keyNameEnd(encoder.encode("k".repeat(5000))), -1);
});
