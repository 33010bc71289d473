/**
 * Signed v2 requests as the server reads them: the envelope's shape and the check of its
 * signature (how a client makes one: `signed_request.ts`).
 *
 * Envelope: `{"v":2,"id":…,"signed":"<exact JSON text of the request>","key":"NAME",
 * "alg":"ed25519|rsa-sha256|rsa-pss-sha256","sig":"<base64>"}`. The signature covers the UTF-8
 * bytes of `signed` exactly; inside it, `ts` (ms since the epoch) and a random `nonce` make
 * every request unique, so a captured one cannot be replayed.
 *
 * node:crypto is not imported here: the key to verify with comes from `KeyStore.find`, which
 * loaded it (`node_crypto.ts`).
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { SupervisorError } from "../errors.ts";
import { PROTOCOL_VERSION } from "../version.ts";
import { nodeCrypto } from "./node_crypto.ts";

/** Signature algorithms. */
export const SIGNATURE_ALGS = ["ed25519", "rsa-sha256", "rsa-pss-sha256"] as const;

/** One of {@link SIGNATURE_ALGS}. */
export type SignatureAlg = typeof SIGNATURE_ALGS[number];

/** The fields of a signed envelope. */
export interface SignedEnvelope {
  readonly id: string | number | null;
  readonly signed: string;
  readonly key: string;
  readonly alg: SignatureAlg;
  readonly sig: string;
}

/** Keys of an envelope. */
export const ENVELOPE_KEYS = ["v", "id", "signed", "key", "alg", "sig"];

/** Validates the shape of an envelope; throws BAD_REQUEST. */
export function parseEnvelope(record: Record<string, unknown>): SignedEnvelope {
  const extra = Object.keys(record).filter((k) => !ENVELOPE_KEYS.includes(k));
  if (extra.length > 0) {
    throw new SupervisorError(
      "BAD_REQUEST",
      `Unknown field ${JSON.stringify(extra[0])} in a signed request; expected: ${
        ENVELOPE_KEYS.join(", ")
      }`,
    );
  }
  const { v, id, signed, key, alg, sig } = record;
  if (v !== PROTOCOL_VERSION) {
    throw new SupervisorError(
      "BAD_REQUEST",
      `Unsupported protocol version ${JSON.stringify(v)}; expected "v": ${PROTOCOL_VERSION}`,
    );
  }
  if (typeof signed !== "string") {
    throw new SupervisorError("BAD_REQUEST", `"signed" must be the request as a JSON string`);
  }
  if (typeof key !== "string") {
    throw new SupervisorError("BAD_REQUEST", `"key" must be the key name`);
  }
  if (typeof sig !== "string") {
    throw new SupervisorError("BAD_REQUEST", `"sig" must be a base64 signature`);
  }
  if (typeof alg !== "string" || !(SIGNATURE_ALGS as readonly string[]).includes(alg)) {
    throw new SupervisorError("BAD_REQUEST", `"alg" must be one of ${SIGNATURE_ALGS.join(", ")}`);
  }
  return {
    id: typeof id === "string" || typeof id === "number" ? id : null,
    signed,
    key,
    alg: alg as SignatureAlg,
    sig,
  };
}

/** Whether `sig` over `data` verifies with `publicKey` under `alg`; false on any mismatch. */
export function verifySignature(
  publicKey: KeyObject,
  signed: { readonly alg: SignatureAlg; readonly data: Uint8Array; readonly sig: Uint8Array },
): boolean {
  const { alg, data, sig } = signed;
  const { constants, verify } = nodeCrypto();
  const type = publicKey.asymmetricKeyType;
  try {
    if (alg === "ed25519") return type === "ed25519" && verify(null, data, publicKey, sig);
    if (type !== "rsa") return false;
    if (alg === "rsa-sha256") return verify("sha256", data, publicKey, sig);
    return verify("sha256", data, {
      key: publicKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_AUTO,
    }, sig);
  } catch {
    return false;
  }
}
