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
