/**
 * Server-sent events: a response body a handler writes named events to, as the browser's
 * EventSource reads them, with a comment line every {@link PING_MS} so that proxies and the
 * browser keep an idle stream open and a closed one is noticed.
 *
 * Owns: the framing (`event:`, `data:` lines) and the life of one stream. Does not own: what
 * is sent.
 *
 * @module
 */

/** How often an idle stream gets a comment line. */
export const PING_MS = 15_000;

/** Bytes a stream may have queued for a reader that does not read; then it is closed. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/** One event stream. */
export class EventStream {
  readonly response: Response;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  readonly #ping: ReturnType<typeof setInterval>;
  readonly #onClose: (() => void)[] = [];

  constructor(headers: HeadersInit = {}) {
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => (this.#controller = controller),
      cancel: () => this.#end(),
    }, { highWaterMark: MAX_QUEUED_BYTES, size: (chunk) => chunk.byteLength });
    this.response = new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
        ...headers,
      },
    });
    this.#ping = setInterval(() => this.#write(": ping\n\n"), PING_MS);
  }

  /** Whether the stream has ended (the reader went away, or {@link close}). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Calls `listener` once the stream ends, however it ends. */
  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#onClose.push(listener);
  }

  /** Sends event `name` with `data` as JSON. */
  send(name: string, data: unknown): void {
    this.#write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the stream. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#controller.close();
    } catch {
      // the reader already went away
    }
    this.#end();
  }

  #write(text: string): void {
    if (this.#closed) return;
    // A reader that stopped reading is let go rather than buffered for without end.
    if ((this.#controller.desiredSize ?? 0) <= 0) {
      this.close();
      return;
    }
    try {
      this.#controller.enqueue(encoder.encode(text));
    } catch {
      this.#end();
    }
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ping);
    for (const listener of this.#onClose.splice(0)) listener();
  }
}
