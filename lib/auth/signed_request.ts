/**
 * Signed v2 requests as a client makes them: its private key, and the envelope it sends with
 * `with KEY.pem` (the envelope's shape and how the server checks it: `signed_envelope.ts`).
 *
 * @module
 */
import { createPrivateKey, randomBytes, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { basename, extname } from "node:path";
import { errorMessage, KeyFileError } from "../errors.ts";
import { PROTOCOL_VERSION } from "../version.ts";
import type { SignatureAlg } from "./signed_envelope.ts";

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
