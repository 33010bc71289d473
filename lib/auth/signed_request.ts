/**
 * Signed v2 requests: the envelope a client sends with `with KEY.pem`, how it is made, and how
 * the server checks it.
 *
 * Envelope: `{"v":2,"id":…,"signed":"<exact JSON text of the request>","key":"NAME",
 * "alg":"ed25519|rsa-sha256|rsa-pss-sha256","sig":"<base64>"}`. The signature covers the UTF-8
 * bytes of `signed` exactly; inside it, `ts` (ms since the epoch) and a random `nonce` make
 * every request unique, so a captured one cannot be replayed.
 *
 * @module
 */
import { constants, createPrivateKey, randomBytes, sign, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { basename, extname } from "node:path";
import { errorMessage, KeyFileError, SupervisorError } from "../errors.ts";
import { PROTOCOL_VERSION } from "../version.ts";

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

/** A private key loaded for signing, named after its file. */
export interface SigningKey {
  readonly name: string;
  readonly key: KeyObject;
  readonly alg: SignatureAlg;
}

/** Reads a private key file (PEM: PKCS#8 or PKCS#1 RSA, or Ed25519). */
export function loadSigningKey(path: string): SigningKey {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new KeyFileError("UNREADABLE", `cannot read key file "${path}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (error) {
    throw new KeyFileError(
      "NOT_PEM",
      `"${path}" is not a PEM private key (make one with "openssl genpkey -algorithm ed25519 -out KEY.pem" or "openssl genrsa -out KEY.pem 4096"; OpenSSH-format keys are not supported): ${
        errorMessage(error)
      }`,
    );
  }
  const type = key.asymmetricKeyType;
  const alg: SignatureAlg | undefined = type === "ed25519"
    ? "ed25519"
    : type === "rsa"
    ? "rsa-sha256"
    : undefined;
  if (!alg) {
    throw new KeyFileError(
      "WRONG_TYPE",
      `key "${path}" is of type ${type}; expected an Ed25519 or RSA private key`,
    );
  }
  return { name: basename(path, extname(path)), key, alg };
}

/** A random nonce: 16 bytes, base64url. */
export function newNonce(): string {
  return randomBytes(16).toString("base64url");
}

/** Signs `request` (which gets `ts` and `nonce`) into an envelope line, newline included. */
export function signRequest(
  signer: SigningKey,
  request: Record<string, unknown>,
  now = Date.now(),
  nonce = newNonce(),
): string {
  const signed = JSON.stringify({ ...request, v: PROTOCOL_VERSION, ts: now, nonce });
  const data = new TextEncoder().encode(signed);
  const sig = signer.alg === "ed25519"
    ? sign(null, data, signer.key)
    : sign("sha256", data, signer.key);
  const envelope = {
    v: PROTOCOL_VERSION,
    id: request.id ?? null,
    signed,
    key: signer.name,
    alg: signer.alg,
    sig: sig.toString("base64"),
  };
  return JSON.stringify(envelope) + "\n";
}

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
