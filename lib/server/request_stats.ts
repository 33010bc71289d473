/**
 * How many requests the server answered, by operation and result code (`OK` for success), for
 * `/metrics`. Every dialect and the HTTP API count here; requests refused before they named an
 * operation count under the operation `none`.
 *
 * @module
 */

/** One count of {@link RequestStats}. */
export interface RequestCount {
  readonly op: string;
  readonly code: string;
  readonly count: number;
}

/** Counts of requests since the server started. */
export class RequestStats {
  readonly #counts = new Map<string, { op: string; code: string; count: number }>();

  /** Counts one request: `op` null when it was refused before naming one, `code` null on success. */
  count(op: string | null, code: string | null): void {
    const o = op ?? "none";
    const c = code ?? "OK";
    const key = `${o}\u0000${c}`;
    const entry = this.#counts.get(key);
    if (entry) entry.count++;
    else this.#counts.set(key, { op: o, code: c, count: 1 });
  }

  /** Every count, by operation then code. */
  counts(): RequestCount[] {
    return [...this.#counts.values()]
      .map((e) => ({ ...e }))
      .sort((a, b) => a.op.localeCompare(b.op) || a.code.localeCompare(b.code));
  }
}
