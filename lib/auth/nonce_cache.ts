/**
 * Nonces of signed requests seen within the time window, so a captured request cannot be
 * replayed. Bounded: when full of nonces that have not expired, new requests are refused
 * (BUSY) rather than letting memory grow or forgetting a nonce early.
 *
 * A nonce is kept with its request's `ts`, and is remembered while `ts + lifetime` has not
 * passed, where the lifetime is given at each call (the authenticator gives the largest window
 * ever in force, so raising the window never revives a request whose nonce is still known).
 * The cache also remembers the newest `ts` it ever forgot: a request no newer than that, and
 * not known, may be one it forgot, and is answered "forgotten" rather than "fresh".
 *
 * @module
 */

/** What the cache says of a nonce it is shown. */
export type NonceVerdict = "fresh" | "replayed" | "forgotten" | "full";

/** Remembers nonces until they expire. */
export class NonceCache {
  readonly #signedAt = new Map<string, number>();
  readonly #limit: number;
  #forgottenUpTo = -Infinity;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#signedAt.size;
  }

  /**
   * Records `nonce` of a request signed at `ts`, to be remembered until `ts + lifetimeMs`.
   * Returns "replayed" when it is known and not expired, "forgotten" when it is not known but
   * `ts` is no newer than a nonce already forgotten, "full" when no room is left, "fresh"
   * otherwise (then it is recorded).
   */
  remember(nonce: string, ts: number, lifetimeMs: number, now: number): NonceVerdict {
    const known = this.#signedAt.get(nonce);
    if (known !== undefined) {
      if (known + lifetimeMs >= now) return "replayed";
      this.#forget(nonce, known);
    }
    if (ts <= this.#forgottenUpTo) return "forgotten";
    if (this.#signedAt.size >= this.#limit) this.#prune(lifetimeMs, now);
    if (this.#signedAt.size >= this.#limit) return "full";
    this.#signedAt.set(nonce, ts);
    return "fresh";
  }

  /** Drops expired nonces (Map keeps insertion order, which is nearly `ts` order). */
  #prune(lifetimeMs: number, now: number): void {
    for (const [nonce, ts] of this.#signedAt) {
      if (ts + lifetimeMs < now) this.#forget(nonce, ts);
    }
  }

  #forget(nonce: string, ts: number): void {
    this.#signedAt.delete(nonce);
    this.#forgottenUpTo = Math.max(this.#forgottenUpTo, ts);
  }
}
