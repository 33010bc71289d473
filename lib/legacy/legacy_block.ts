/**
 * The signed form of the supervisor-rs 0.8 dialect: after `keyname;`, an RSA PKCS#1 type-1
 * block of the command, as the original client's `private_encrypt` made it. node:crypto is not
 * imported here: the key to open it with comes from `KeyStore.find`, which loaded it
 * (`node_crypto.ts`).
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { nodeCrypto } from "../auth/node_crypto.ts";

/** Recovers the command text from an RSA PKCS#1 type-1 block; undefined when it does not open. */
export function openLegacyBlock(publicKey: KeyObject, block: Uint8Array): string | undefined {
  const { constants, publicDecrypt } = nodeCrypto();
  try {
    const plain = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, block);
    return new TextDecoder("utf-8", { fatal: true }).decode(plain);
  } catch {
    return undefined;
  }
}

/** Bytes of an RSA key's blocks (its modulus length); undefined for other key types. */
export function rsaBlockBytes(publicKey: KeyObject): number | undefined {
  if (publicKey.asymmetricKeyType !== "rsa") return undefined;
  const bits = publicKey.asymmetricKeyDetails?.modulusLength;
  return bits === undefined ? undefined : Math.ceil(bits / 8);
}
