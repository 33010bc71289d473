import assert from "node:assert/strict";
import { numberLength, writeAscii, writeNumber } from "./json_bytes.ts";

const NUMBERS = [
  0,
  -0,
  1,
  9,
  10,
  99,
  100,
  -1,
  -10,
  123_456_789,
  2 ** 31,
  -(2 ** 31) - 1,
  1_764_590_000_000,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  1e21,
  1e-7,
  0.5,
  12.5,
  -3.25,
  Number.NaN,
  Infinity,
  -Infinity,
];

Deno.test("a number is written, and measured, as JSON writes it", () => {
  for (const n of NUMBERS) {
    const json = JSON.stringify(n);
    assert.equal(numberLength(n), json.length, `length of ${json}`);
    const bytes = new Uint8Array(json.length + 2).fill(0x7e);
    assert.equal(writeNumber(bytes, 1, n), json.length + 1);
    assert.equal(new TextDecoder().decode(bytes), `~${json}~`);
  }
});

Deno.test("ASCII text is written byte for byte", () => {
  const bytes = new Uint8Array(6);
  assert.equal(writeAscii(bytes, 1, "null"), 5);
  assert.deepEqual([...bytes], [0, 0x6e, 0x75, 0x6c, 0x6c, 0]);
});
