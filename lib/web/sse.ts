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

/**
 * Bytes a stream may have waiting for a reader that does not read (beyond what the socket and
 * the HTTP layer hold); past it the reader is let go.
 */
export const MAX_QUEUED_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/**
 * One event stream. The body is pulled: the HTTP layer asks for the next chunk only once the
 * last one is on its way, so a reader that stops reading stops the pulls, events queue here,
 * and past {@link MAX_QUEUED_BYTES} the stream is closed (the browser reconnects when it can).
 */
export class EventStream {
  readonly response: Response;
  #closed = false;
  readonly #ping: ReturnType<typeof setInterval>;
  readonly #onClose: (() => void)[] = [];
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  /** The pending pull, waiting for the next chunk. */
  #wake: (() => void) | undefined;

  constructor(headers: HeadersInit = {}) {
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => this.#pull(controller),
      cancel: () => this.#end(),
    }, { highWaterMark: 0 });
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

  /** Bytes waiting for the reader. */
  get queuedBytes(): number {
    return this.#queuedBytes;
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

  /** Ends the stream (what is queued is still delivered). */
  close(): void {
    if (this.#closed) return;
    this.#end();
  }

  #write(text: string): void {
    if (this.#closed) return;
    const bytes = encoder.encode(text);
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.byteLength;
    if (this.#queuedBytes > MAX_QUEUED_BYTES) {
      // A reader this far behind has stopped reading: let it go rather than buffer for it.
      this.#queue.length = 0;
      this.#queuedBytes = 0;
      this.#end();
      return;
    }
    this.#wake?.();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (this.#queue.length === 0 && !this.#closed) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    const chunk = this.#queue.shift();
    if (chunk) {
      this.#queuedBytes -= chunk.byteLength;
      controller.enqueue(chunk);
      return;
    }
    try {
      controller.close();
    } catch {
      // the reader already went away
    }
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ping);
    this.#wake?.();
    for (const listener of this.#onClose.splice(0)) listener();
  }
}
