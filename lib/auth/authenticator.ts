/**
 * Who may do what: turns a decoded request line into a request and the key that signed it,
 * applying the server's encrypt mode, signatures, the time window, replay protection and the
 * per-key permissions.
 *
 * With `encrypt: off`, plain requests are accepted and a signed one is checked like any other
 * (a bad signature is never ignored). With `encrypt: on`, only signed requests are accepted.
 *
 * @module
 */
import type { ServerConfig } from "../config/server_config.ts";
import { SupervisorError } from "../errors.ts";
import { parseRequest } from "../protocol/messages.ts";
import type { Request } from "../protocol/messages.ts";
import type { Clock } from "../process/clock.ts";
import type { KeyStore } from "./key_store.ts";
import { NonceCache } from "./nonce_cache.ts";
import { parseEnvelope, verifySignature } from "./signed_envelope.ts";

/** A request and the key it was signed with (null when unsigned). */
export interface Admitted {
  readonly request: Request;
  readonly key: string | null;
}

/** Longest nonce accepted. */
const MAX_NONCE_LENGTH = 128;

/** What an authenticator is made of. */
export interface AuthenticatorOptions {
  /** Fixed at server start. */
  readonly encrypt: boolean;
  readonly maxNonces: number;
  readonly keys: KeyStore;
  readonly clock: Clock;
}

/**
 * Checks requests against the server's rules. `encrypt` is fixed at server start; the keys
 * path, window and permissions come with each request's reading of server.yml.
 */
export class Authenticator {
  readonly #encrypt: boolean;
  readonly #clock: Clock;
  readonly #keys: KeyStore;
  readonly #nonces: NonceCache;
  /** The largest time window in force for any signed request so far: how long nonces live. */
  #nonceLifetimeMs = 0;

  constructor(options: AuthenticatorOptions) {
    this.#encrypt = options.encrypt;
    this.#clock = options.clock;
    this.#keys = options.keys;
    this.#nonces = new NonceCache(options.maxNonces);
  }

  /**
   * Admits a decoded v2 line, or throws a SupervisorError saying why not. An unsigned line from
   * the local control socket is admitted even with encrypt on (the socket's mode guards it).
   */
  async admit(
    value: unknown,
    settings: ServerConfig,
    origin: { readonly local: boolean } = { local: false },
  ): Promise<Admitted> {
    return this.admitUnsigned(value, origin.local) ??
      await this.#admitSigned(value as Record<string, unknown>, settings);
  }

  /**
   * {@link admit} without waiting for a line that is not signed (no key to find, nothing to
   * verify); undefined for a signed one. Throws as admit rejects.
   */
  admitUnsigned(value: unknown, local: boolean): Admitted | undefined {
    const record = value !== null && typeof value === "object" && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
    if (record && "signed" in record) return undefined;
    if (this.#encrypt && !local) {
      throw new SupervisorError(
        "SIGNATURE_REQUIRED",
        'Refused: this server runs with encrypt on and accepts only signed requests (use the client with "with KEY.pem")',
      );
    }
    return { request: parseRequest(value), key: null };
  }

  /** Checks that `key` may run `op` (per-key permissions in server.yml); throws FORBIDDEN. */
  authorize(key: string | null, op: string, settings: ServerConfig): void {
    if (key === null) return;
    const allowed = settings.permissions.get(key);
    if (allowed && !allowed.includes(op)) {
      throw new SupervisorError(
        "FORBIDDEN",
        `Refused: key "${key}" may not run "${op}"; it may run: ${allowed.join(", ") || "nothing"}`,
      );
    }
  }

  async #admitSigned(record: Record<string, unknown>, settings: ServerConfig): Promise<Admitted> {
    const envelope = parseEnvelope(record);
    const publicKey = await this.#keys.find(envelope.key, settings.pubKeysPath);
    const data = new TextEncoder().encode(envelope.signed);
    const sig = decodeBase64(envelope.sig);
    if (!sig || !verifySignature(publicKey, { alg: envelope.alg, data, sig })) {
      throw new SupervisorError(
        "BAD_SIGNATURE",
        `Refused: the signature does not match key "${envelope.key}" (alg ${envelope.alg})`,
      );
    }
    let inner: unknown;
    try {
      inner = JSON.parse(envelope.signed);
    } catch {
      throw new SupervisorError("BAD_REQUEST", `"signed" is not valid JSON`);
    }
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) {
      throw new SupervisorError("BAD_REQUEST", `"signed" must hold a JSON object`);
    }
    const { ts, nonce, ...rest } = inner as Record<string, unknown>;
    if (typeof ts !== "number" || !Number.isFinite(ts)) {
      throw new SupervisorError(
        "BAD_REQUEST",
        `a signed request needs "ts", milliseconds since the epoch`,
      );
    }
    if (typeof nonce !== "string" || nonce.length < 8 || nonce.length > MAX_NONCE_LENGTH) {
      throw new SupervisorError(
        "BAD_REQUEST",
        `a signed request needs "nonce", a random string of 8 to ${MAX_NONCE_LENGTH} characters`,
      );
    }
    const now = this.#clock.now();
    const skew = now - ts;
    if (Math.abs(skew) > settings.signWindowMs) {
      throw new SupervisorError(
        "STALE_REQUEST",
        `Refused: the request's timestamp is ${(Math.abs(skew) / 1000).toFixed(1)}s ${
          skew > 0 ? "behind" : "ahead of"
        } the server's clock; at most ${
          settings.signWindowMs / 1000
        }s is allowed (check the clocks of client and server)`,
      );
    }
    const request = parseRequest(rest);
    // A window raised while running must not accept again a request whose nonce expired under
    // the old one: nonces live for the largest window ever in force.
    this.#nonceLifetimeMs = Math.max(this.#nonceLifetimeMs, settings.signWindowMs);
    const seen = this.#nonces.remember(
      `${envelope.key}\u0000${nonce}`,
      ts,
      this.#nonceLifetimeMs,
      now,
    );
    if (seen === "replayed") {
      throw new SupervisorError(
        "REPLAYED",
        `Refused: this signed request was already received (nonce ${
          JSON.stringify(nonce)
        }); a captured request cannot be replayed`,
      );
    }
    if (seen === "forgotten") {
      throw new SupervisorError(
        "STALE_REQUEST",
        `Refused: the request's timestamp is older than the requests this server can still recognise as replays (the time window was raised since); sign it again`,
      );
    }
    if (seen === "full") {
      throw new SupervisorError(
        "BUSY",
        "Refused: too many signed requests in the time window; try again shortly",
      );
    }
    return { request, key: envelope.key };
  }
}

function decodeBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  try {
    const binary = atob(text);
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
