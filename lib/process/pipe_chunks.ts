/**
 * Reading a child's stdout or stderr pipe in chunks, with buffers that grow while the child
 * writes fast and shrink back when it goes quiet.
 *
 * Owns: the read buffers and their sizes. Does not own: what is done with a chunk (see
 * `child_outputs.ts`).
 *
 * @module
 */

/** Bytes read per pipe at a time while a child writes little: small, so idle fleets stay small. */
export const PIPE_BUFFER_BYTES = 4 * 1024;

/** The largest read buffer a busy pipe grows to. */
export const PIPE_BUFFER_MAX_BYTES = 256 * 1024;

/**
 * The chunks of `readable`, read into two buffers used in turn, so the next read can run while
 * the previous chunk is being written: a chunk stays valid until two more have been asked for.
 * A buffer doubles while reads fill it (a fast writer: fewer, larger writes) and shrinks back
 * when the child goes quiet.
 */
export async function* readChunks(
  readable: ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = readable.getReader({ mode: "byob" });
  } catch {
    yield* readable;
    return;
  }
  const buffers = [new ArrayBuffer(PIPE_BUFFER_BYTES), new ArrayBuffer(PIPE_BUFFER_BYTES)];
  try {
    for (let turn = 0;; turn ^= 1) {
      const { value, done } = await reader.read(new Uint8Array(buffers[turn]!));
      if (done || !value) return;
      let buffer = value.buffer as ArrayBuffer;
      if (value.length === buffer.byteLength && buffer.byteLength < PIPE_BUFFER_MAX_BYTES) {
        buffer = new ArrayBuffer(buffer.byteLength * 2);
      } else if (value.length < PIPE_BUFFER_BYTES / 4 && buffer.byteLength > PIPE_BUFFER_BYTES) {
        buffer = new ArrayBuffer(PIPE_BUFFER_BYTES);
      }
      buffers[turn] = buffer;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
