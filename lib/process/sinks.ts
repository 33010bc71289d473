/**
 * Writing bytes in full and in order: the small primitives under every output.
 *
 * @module
 */

/** Something that takes bytes in full and in order. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
}

/** The minimal writer of Deno.stdout and Deno.FsFile. */
export interface RawWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Writes all of `bytes`, however many calls that takes. Not an async function: most writes take
 * everything at once, and then no frame is kept and no view of the rest is made.
 */
export function writeAll(writer: RawWriter, bytes: Uint8Array): Promise<void> {
  if (bytes.length === 0) return Promise.resolve();
  let first: Promise<number>;
  try {
    first = writer.write(bytes);
  } catch (error) {
    return Promise.reject(error); // as an async function would: a rejection, never a throw
  }
  return first.then((n) => n < bytes.length ? writeRest(writer, bytes, n) : undefined);
}

async function writeRest(writer: RawWriter, bytes: Uint8Array, offset: number): Promise<void> {
  while (offset < bytes.length) offset += await writer.write(bytes.subarray(offset));
}

/** A sink that writes whole chunks one after another, so concurrent writers never interleave. */
export class SerialSink implements ByteSink {
  readonly #writer: RawWriter;
  #tail: Promise<void> = Promise.resolve();

  constructor(writer: RawWriter) {
    this.#writer = writer;
  }

  write(bytes: Uint8Array): Promise<void> {
    const done = this.#tail.then(() => writeAll(this.#writer, bytes));
    this.#tail = done.catch(() => undefined);
    return done;
  }
}
