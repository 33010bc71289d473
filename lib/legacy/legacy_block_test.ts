/**
 * Unit tests of opening the signed form of the supervisor-rs 0.8 dialect: the RSA PKCS#1 type-1
 * block after `keyname;`, and the block size of a key.
 *
 * @module
 */
import assert from "node:assert/strict";
import { constants, createPublicKey, generateKeyPairSync, privateEncrypt } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { loadNodeCrypto } from "../auth/node_crypto.ts";
import { openLegacyBlock, rsaBlockBytes } from "./legacy_block.ts";

// On the server, the lookup of the key loaded node:crypto; here the test does.
await loadNodeCrypto();

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

const RSA_2048 = rsaPair(2048);
const OTHER_2048 = rsaPair(2048);

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
