/**
 * Nonces of signed requests seen within the time window, so a captured request cannot be
 * replayed. Bounded: when full of nonces that have not expired, new requests are refused
 * (BUSY) rather than letting memory grow or forgetting a nonce early.
 *
 * @module
 */

/** Remembers nonces until they expire. */
export class NonceCache {
  readonly #expiry = new Map<string, number>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#expiry.size;
  }

  /**
   * Records `nonce` until `expiresAt`. Returns "replayed" when it is already known and not
   * expired, "full" when no room is left, "fresh" otherwise.
   */
  remember(nonce: string, expiresAt: number, now: number): "fresh" | "replayed" | "full" {
    const known = this.#expiry.get(nonce);
    if (known !== undefined && known >= now) return "replayed";
    if (this.#expiry.size >= this.#limit) this.#prune(now);
    if (this.#expiry.size >= this.#limit) return "full";
    this.#expiry.set(nonce, expiresAt);
    return "fresh";
  }

  /** Drops expired nonces (Map keeps insertion order, which is nearly expiry order). */
  #prune(now: number): void {
    for (const [nonce, expiresAt] of this.#expiry) {
      if (expiresAt < now) this.#expiry.delete(nonce);
    }
  }
}
