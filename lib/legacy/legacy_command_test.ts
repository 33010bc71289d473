/**
 * Unit tests of the supervisor-rs 0.8 text dialect's parsing: the plain command text, the key
 * name of a signed request, opening its RSA PKCS#1 type-1 block, and the block size of a key.
 *
 * @module
 */
import assert from "node:assert/strict";
import { constants, createPublicKey, generateKeyPairSync, privateEncrypt } from "node:crypto";
import type { KeyObject } from "node:crypto";
import {
  keyNameEnd,
  type LegacyCommand,
  NO_LEGAL_OPERATION,
  openLegacyBlock,
  parseLegacyCommand,
  rsaBlockBytes,
} from "./legacy_command.ts";

const encoder = new TextEncoder();

/** An RSA key pair of `bits`, made in-process. */
function rsaPair(bits: number): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("rsa", { modulusLength: bits });
}

/** What the original client sent after `NAME;`: RSA_private_encrypt with PKCS#1 type-1 padding. */
function sign(privateKey: KeyObject, text: string): Uint8Array {
  return new Uint8Array(
    privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, encoder.encode(text)),
  );
}

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

const RSA_2048 = rsaPair(2048);
const OTHER_2048 = rsaPair(2048);

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
  const block = sign(RSA_2048.privateKey, "check");
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

// ---------------------------------------------------------------------------------------------
// openLegacyBlock
// ---------------------------------------------------------------------------------------------

Deno.test("openLegacyBlock recovers the text signed with privateEncrypt (RSA_PKCS1_PADDING)", () => {
  for (const text of ["check", "start web", "stop all", "info", "trystart a-b.c_d", "kill"]) {
    const block = sign(RSA_2048.privateKey, text);
    assert.equal(block.length, 256);
    assert.equal(openLegacyBlock(RSA_2048.publicKey, block), text);
  }
});

Deno.test("openLegacyBlock opens with a public key parsed from PEM as well", () => {
  const pem = RSA_2048.publicKey.export({ type: "spki", format: "pem" });
  const publicKey = createPublicKey(pem);
  assert.equal(openLegacyBlock(publicKey, sign(RSA_2048.privateKey, "start web")), "start web");
});

Deno.test("openLegacyBlock opens a block whose last byte is 0x00", () => {
  // The original stripped trailing zeros before verifying and so refused about 1 in 256 commands.
  let found: { text: string; block: Uint8Array } | undefined;
  for (let i = 0; i < 20_000 && !found; i++) {
    const text = `check on h${i}`;
    const block = sign(RSA_2048.privateKey, text);
    if (block[block.length - 1] === 0) found = { text, block };
  }
  assert.ok(found, "no block ending in 0x00 within 20000 tries");
  assert.equal(found.block.length, 256);
  assert.equal(openLegacyBlock(RSA_2048.publicKey, found.block), found.text);
});

Deno.test("openLegacyBlock is undefined for a block signed with another key", () => {
  const block = sign(OTHER_2048.privateKey, "start web");
  assert.equal(openLegacyBlock(RSA_2048.publicKey, block), undefined);
});

Deno.test("openLegacyBlock is undefined for damaged, short, long and empty blocks", () => {
  const block = sign(RSA_2048.privateKey, "start web");
  const flipped = block.slice();
  flipped[100] = flipped[100]! ^ 0xff;
  assert.equal(openLegacyBlock(RSA_2048.publicKey, flipped), undefined);
  assert.equal(openLegacyBlock(RSA_2048.publicKey, block.subarray(0, 255)), undefined);
  assert.equal(
    openLegacyBlock(RSA_2048.publicKey, new Uint8Array([...block, 0])),
    undefined,
  );
  assert.equal(openLegacyBlock(RSA_2048.publicKey, new Uint8Array()), undefined);
  assert.equal(openLegacyBlock(RSA_2048.publicKey, encoder.encode("start web")), undefined);
});

Deno.test("openLegacyBlock is undefined when the signed bytes are not UTF-8", () => {
  const block = new Uint8Array(
    privateEncrypt(
      { key: RSA_2048.privateKey, padding: constants.RSA_PKCS1_PADDING },
      new Uint8Array([0x73, 0x74, 0xff, 0xfe, 0x80]),
    ),
  );
  assert.equal(openLegacyBlock(RSA_2048.publicKey, block), undefined);
});

Deno.test("openLegacyBlock is undefined for a non-RSA key", () => {
  const ed = generateKeyPairSync("ed25519");
  const block = sign(RSA_2048.privateKey, "check");
  assert.equal(openLegacyBlock(ed.publicKey, block), undefined);
});

// ---------------------------------------------------------------------------------------------
// rsaBlockBytes
// ---------------------------------------------------------------------------------------------

Deno.test("rsaBlockBytes is 256 for a 2048-bit key and 512 for a 4096-bit key", () => {
  assert.equal(rsaBlockBytes(RSA_2048.publicKey), 256);
  const rsa4096 = rsaPair(4096);
  assert.equal(rsaBlockBytes(rsa4096.publicKey), 512);
  const block = sign(rsa4096.privateKey, "start web");
  assert.equal(block.length, 512);
  assert.equal(openLegacyBlock(rsa4096.publicKey, block), "start web");
});

Deno.test("rsaBlockBytes rounds a modulus that is not a whole number of bytes up", () => {
  assert.equal(rsaBlockBytes(rsaPair(1028).publicKey), 129);
});

Deno.test("rsaBlockBytes is undefined for ed25519 and EC keys", () => {
  assert.equal(rsaBlockBytes(generateKeyPairSync("ed25519").publicKey), undefined);
  assert.equal(
    rsaBlockBytes(generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey),
    undefined,
  );
});
