import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { describeError, SupervisorError } from "../errors.ts";
import { KeyStore } from "./key_store.ts";

/** Runs `body` with a fresh directory of public keys, removed afterwards. */
async function withKeysDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "key_store_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function publishKey(dir: string, name: string): void {
  const { publicKey } = generateKeyPairSync("ed25519");
  Deno.writeTextFileSync(
    join(dir, `${name}.pem`),
    publicKey.export({ type: "spki", format: "pem" }).toString(),
  );
}

/** The error `find` throws. */
async function refusal(find: () => Promise<unknown>): Promise<SupervisorError> {
  try {
    await find();
  } catch (error) {
    assert.ok(error instanceof SupervisorError, `not a SupervisorError: ${error}`);
    return error;
  }
  throw new Error("find did not throw");
}

Deno.test("a key in one of the directories is found", async () => {
  await withKeysDir(async (dir) => {
    publishKey(dir, "ops");
    const key = await new KeyStore().find("ops", ["/nonexistent-dir-of-keys", dir]);
    assert.equal(key.asymmetricKeyType, "ed25519");
  });
});

Deno.test("an unknown key is refused without showing the server's key directories", async () => {
  await withKeysDir(async (dir) => {
    const error = await refusal(() => new KeyStore().find("late", [dir, "/etc/secret-keys"]));
    assert.equal(error.code, "UNKNOWN_KEY");
    assert.equal(error.message, `Refused: no public key "late.pem" is known to this server`);
    assert.ok(!error.message.includes(dir), error.message);
    assert.ok(!error.message.includes("/etc/secret-keys"), error.message);
    assert.ok(!error.message.includes("pub_keys_path"), error.message);
    // The server's own log may have the detail: it is in the cause.
    assert.match(describeError(error), /\/etc\/secret-keys/);
  });
});

Deno.test("a key file that cannot be used is refused without showing its path", async () => {
  await withKeysDir(async (dir) => {
    Deno.writeTextFileSync(join(dir, "broken.pem"), "not a key\n");
    const error = await refusal(() => new KeyStore().find("broken", [dir]));
    assert.equal(error.code, "UNKNOWN_KEY");
    assert.equal(error.message, `Refused: public key "broken" cannot be used`);
    assert.ok(!error.message.includes(dir), error.message);
    assert.ok(describeError(error).includes(join(dir, "broken.pem")), describeError(error));
  });
});

Deno.test("a key name with path characters is refused with BAD_KEY_NAME", async () => {
  for (const name of ["../ops", "keys/ops", ""]) {
    assert.equal(
      (await refusal(() => new KeyStore().find(name, ["/tmp"]))).code,
      "BAD_KEY_NAME",
      name,
    );
  }
});
