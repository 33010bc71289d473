import { errorMessage } from "../../lib/errors.ts";
/**
 * A newline-delimited TCP connection to 127.0.0.1 for the benchmark: write a line, read a line,
 * with as little work on the client side as possible (the same for the server and the floor).
 *
 * @module
 */

const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a request object as one line. */
export function requestLine(body: Record<string, unknown>): Uint8Array {
  return encoder.encode(JSON.stringify({ v: 2, ...body }) + "\n");
}

/** A connection that reads whole lines. */
export class LineConn {
  readonly #conn: Deno.TcpConn;
  #buffer = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  /** Where the search for the next newline resumes. */
  #scanned = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port`. */
  static async open(port: number): Promise<LineConn> {
    return new LineConn(await Deno.connect({ hostname: "127.0.0.1", port, transport: "tcp" }));
  }

  /** Writes `bytes` in full. */
  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
  }

  /** The next line without its newline (a view valid until the next read); throws at EOF. */
  async readLine(): Promise<Uint8Array> {
    for (;;) {
      const newline = this.#buffer.subarray(0, this.#end).indexOf(NEWLINE, this.#scanned);
      if (newline >= 0) {
        const line = this.#buffer.subarray(this.#start, newline);
        this.#start = newline + 1;
        this.#scanned = this.#start;
        return line;
      }
      this.#scanned = this.#end;
      if (this.#start === this.#end) {
        this.#start = this.#end = this.#scanned = 0;
      }
      if (this.#end === this.#buffer.length) this.#makeRoom();
      const n = await this.#conn.read(this.#buffer.subarray(this.#end));
      if (n === null) throw new Error("connection closed by the peer before a full line");
      this.#end += n;
    }
  }

  /** Reads the next line and parses it as JSON. */
  async readJson(): Promise<Record<string, unknown>> {
    return JSON.parse(decoder.decode(await this.readLine())) as Record<string, unknown>;
  }

  /** Sends one request object and returns the parsed response. */
  async ask(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.write(requestLine(body));
    return await this.readJson();
  }

  #makeRoom(): void {
    const kept = this.#end - this.#start;
    const size = kept * 2 > this.#buffer.length ? this.#buffer.length * 2 : this.#buffer.length;
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(this.#start, this.#end));
    this.#scanned -= this.#start;
    this.#start = 0;
    this.#end = kept;
    this.#buffer = next;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}

/** Tells whether a response line starts with `{"id":…,"ok":true` (cheap, no JSON parse). */
export function looksOk(line: Uint8Array): boolean {
  const head = decoder.decode(line.subarray(0, 64));
  return /^\{"id":[^,]*,"ok":true/.test(head);
}

/** The `check` request every timed round trip sends (the echo floor answers any line). */
export const CHECK_LINE = requestLine({ id: 1, op: "check" });

/**
 * Round-trip times in ms of `check` over one connection to `port`: `warmup` untimed, then `n`,
 * or fewer when `budgetMs` runs out.
 */
export async function persistentRoundTrips(
  port: number,
  n: number,
  warmup: number,
  budgetMs = Infinity,
): Promise<number[]> {
  const conn = await LineConn.open(port);
  try {
    const times: number[] = [];
    let deadline = Infinity;
    for (let i = 0; i < warmup + n && performance.now() < deadline; i++) {
      if (i === warmup) deadline = performance.now() + budgetMs;
      const t0 = performance.now();
      await conn.write(CHECK_LINE);
      const line = await conn.readLine();
      const t1 = performance.now();
      if (!looksOk(line)) throw new Error(`not an ok answer: ${decoder.decode(line)}`);
      if (i >= warmup) times.push(t1 - t0);
    }
    return times;
  } finally {
    conn.close();
  }
}

/** Round-trip times in ms (connect, send, answer) of `check` on a fresh connection each. */
export async function freshRoundTrips(
  port: number,
  n: number,
  warmup: number,
  budgetMs = Infinity,
): Promise<number[]> {
  const times: number[] = [];
  let deadline = Infinity;
  for (let i = 0; i < warmup + n && performance.now() < deadline; i++) {
    if (i === warmup) deadline = performance.now() + budgetMs;
    const t0 = performance.now();
    const conn = await LineConn.open(port);
    try {
      await conn.write(CHECK_LINE);
      const line = await conn.readLine();
      const t1 = performance.now();
      if (!looksOk(line)) throw new Error(`not an ok answer: ${decoder.decode(line)}`);
      if (i >= warmup) times.push(t1 - t0);
    } finally {
      conn.close();
    }
  }
  return times;
}

/**
 * `n` clients at once, each connecting to `port`, sending `check` and reading its answer: ms
 * from the first connect until the last answer. Throws when any client fails.
 */
export async function concurrentRoundTrips(port: number, n: number): Promise<number> {
  const t0 = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: n }, async () => {
      const conn = await LineConn.open(port);
      try {
        await conn.write(CHECK_LINE);
        const line = await conn.readLine();
        if (!looksOk(line)) throw new Error(`not an ok answer: ${decoder.decode(line)}`);
      } finally {
        conn.close();
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const failed = results.filter((r) => r.status === "rejected");
  if (failed.length > 0) {
    const first = (failed[0] as PromiseRejectedResult).reason;
    throw new Error(
      `${failed.length} of ${n} concurrent clients failed, first: ${errorMessage(first)}`,
    );
  }
  return elapsed;
}
