import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { parseServerConfig } from "../config/server_config.ts";
import type { ServerConfig } from "../config/server_config.ts";
import { SupervisorError } from "../errors.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { Authenticator } from "./authenticator.ts";
import { KeyStore } from "./key_store.ts";
import { signRequest } from "./signed_request.ts";
import type { SigningKey } from "./signed_request.ts";

/** A server with encrypt on, a key "ops" it knows, and its settings for a given window. */
async function withServer(
  body: (server: {
    readonly signer: SigningKey;
    readonly settings: (windowS: number) => ServerConfig;
  }) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "authenticator_test_" });
  try {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    Deno.mkdirSync(join(dir, "keys"));
    Deno.writeTextFileSync(
      join(dir, "keys", "ops.pem"),
      publicKey.export({ type: "spki", format: "pem" }).toString(),
    );
    const signer: SigningKey = { name: "ops", key: privateKey, alg: "ed25519" };
    const settings = (windowS: number) =>
      parseServerConfig(
        join(dir, "server.yml"),
        `encrypt: on\npub_keys_path: [keys]\nsign_window: ${windowS}\n`,
      );
    await body({ signer, settings });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function authenticator(clock: FakeClock, maxNonces = 1000): Authenticator {
  return new Authenticator({ encrypt: true, maxNonces, keys: new KeyStore(), clock });
}

/** The code `admit` refuses with, or "admitted". */
async function outcome(
  auth: Authenticator,
  line: string,
  settings: ServerConfig,
): Promise<string> {
  try {
    await auth.admit(JSON.parse(line), settings);
    return "admitted";
  } catch (error) {
    assert.ok(error instanceof SupervisorError, `not a SupervisorError: ${error}`);
    return error.code;
  }
}

Deno.test("a signed request is admitted once and refused as REPLAYED the second time", async () => {
  await withServer(async ({ signer, settings }) => {
    const clock = new FakeClock();
    const auth = authenticator(clock);
    const line = signRequest(signer, { id: 1, op: "check" }, clock.now());
    assert.equal(await outcome(auth, line, settings(10)), "admitted");
    assert.equal(await outcome(auth, line, settings(10)), "REPLAYED");
  });
});

Deno.test("a request older than the window is refused as STALE_REQUEST", async () => {
  await withServer(async ({ signer, settings }) => {
    const clock = new FakeClock();
    const auth = authenticator(clock);
    const line = signRequest(signer, { id: 1, op: "check" }, clock.now());
    await clock.advance(11_000);
    assert.equal(await outcome(auth, line, settings(10)), "STALE_REQUEST");
  });
});

Deno.test("a window raised while running does not accept again a request admitted under the old one", async () => {
  await withServer(async ({ signer, settings }) => {
    const clock = new FakeClock();
    const auth = authenticator(clock);
    const line = signRequest(signer, { id: 1, op: "stop", child: "web" }, clock.now());
    assert.equal(await outcome(auth, line, settings(10)), "admitted");
    await clock.advance(20_000);
    // Its nonce would have expired under the 10 s window; its ts is within the new 60 s one.
    assert.equal(await outcome(auth, line, settings(60)), "REPLAYED");
  });
});

Deno.test("a window raised after a nonce was pruned refuses that request as STALE_REQUEST", async () => {
  await withServer(async ({ signer, settings }) => {
    const clock = new FakeClock();
    const auth = authenticator(clock, 2);
    const captured = signRequest(signer, { id: 1, op: "stop", child: "web" }, clock.now());
    assert.equal(await outcome(auth, captured, settings(10)), "admitted");
    await clock.advance(15_000);
    // Two more requests fill the cache, which then forgets the captured request's nonce.
    for (const id of [2, 3]) {
      const line = signRequest(signer, { id, op: "check" }, clock.now());
      assert.equal(await outcome(auth, line, settings(10)), "admitted");
    }
    // 30 s after it was signed, the captured request is within a 60 s window.
    await clock.advance(15_000);
    assert.equal(await outcome(auth, captured, settings(60)), "STALE_REQUEST");
    // Requests signed now are admitted as soon as the cache has room.
    await clock.advance(61_000);
    const fresh = signRequest(signer, { id: 4, op: "check" }, clock.now());
    assert.equal(await outcome(auth, fresh, settings(60)), "admitted");
  });
});

Deno.test("a window lowered and raised again still remembers nonces for the largest window", async () => {
  await withServer(async ({ signer, settings }) => {
    const clock = new FakeClock();
    const auth = authenticator(clock);
    const line = signRequest(signer, { id: 1, op: "check" }, clock.now());
    assert.equal(await outcome(auth, line, settings(60)), "admitted");
    await clock.advance(20_000);
    const other = signRequest(signer, { id: 2, op: "check" }, clock.now());
    assert.equal(await outcome(auth, other, settings(10)), "admitted");
    await clock.advance(20_000);
    assert.equal(await outcome(auth, line, settings(60)), "REPLAYED");
    assert.equal(await outcome(auth, other, settings(60)), "REPLAYED");
  });
});
