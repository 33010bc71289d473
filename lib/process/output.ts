/**
 * Where a child's stdout and stderr go: a file per `output` entry, or the server's own stdout
 * and stderr with every line prefixed by the child's name.
 *
 * Owns: opening output files (`create` truncates at each start, `append` keeps), sharing one
 * handle when both streams name the same file, prefixing lines, and pumping each pipe to its
 * sink with backpressure (a chunk is written before the next is read). Does not own: when a
 * child starts or stops.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import type { ChildConfig } from "../config/child_config.ts";
import type { Logger } from "../log.ts";
import { ByteTail } from "./byte_tail.ts";
import { LogBus } from "./log_bus.ts";
import { LogFile } from "./log_file.ts";
import type { ByteSink } from "./sinks.ts";

export { SerialSink, writeAll } from "./sinks.ts";
export type { ByteSink, RawWriter } from "./sinks.ts";

/** The server's own stdout and stderr, where children without an output file write. */
export interface Terminal {
  readonly stdout: ByteSink;
  readonly stderr: ByteSink;
}

const NEWLINE = 0x0a;
const NEWLINE_BYTES = Uint8Array.of(NEWLINE);

/**
 * Splits a byte stream into lines and puts a prefix before each; a line longer than `maxLine`
 * is cut into several prefixed lines so memory stays bounded.
 */
export class LinePrefixer {
  readonly #prefix: Uint8Array;
  readonly #maxLine: number;
  #partial: Uint8Array = new Uint8Array(0);

  constructor(prefix: string, maxLine = 64 * 1024) {
    this.#prefix = new TextEncoder().encode(prefix);
    this.#maxLine = maxLine;
  }

  /**
   * The complete lines of `chunk` (with what was left from before), prefixed; or null. A line
   * longer than `maxLine` is cut into pieces of `maxLine` bytes, however it was chunked.
   */
  push(chunk: Uint8Array): Uint8Array | null {
    const data = this.#partial.length === 0 ? chunk : concat([this.#partial, chunk]);
    const pieces: Uint8Array[] = [];
    const emit = (from: number, to: number, newline: boolean) => {
      pieces.push(this.#prefix, data.subarray(from, to));
      if (newline) pieces.push(NEWLINE_BYTES);
    };
    let start = 0;
    for (;;) {
      const newline = data.indexOf(NEWLINE, start);
      if (newline < 0) break;
      while (newline - start > this.#maxLine) {
        emit(start, start + this.#maxLine, true);
        start += this.#maxLine;
      }
      emit(start, newline + 1, false);
      start = newline + 1;
    }
    // An unterminated rest longer than a line may be: cut what is certain to be a full piece.
    while (data.length - start > this.#maxLine) {
      emit(start, start + this.#maxLine, true);
      start += this.#maxLine;
    }
    this.#partial = data.slice(start);
    return pieces.length === 0 ? null : concat(pieces);
  }

  /** What is left of an unterminated last line, prefixed and ended with a newline; or null. */
  end(): Uint8Array | null {
    if (this.#partial.length === 0) return null;
    const out = concat([this.#prefix, this.#partial, NEWLINE_BYTES]);
    this.#partial = new Uint8Array(0);
    return out;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

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

/**
 * Holds back the unterminated end of each chunk so only whole lines are written, for files
 * that rotate or that both streams share. A partial line longer than `maxLine` is let through.
 */
export class LineAligner {
  readonly #maxLine: number;
  #partial: Uint8Array = new Uint8Array(0);

  constructor(maxLine = 64 * 1024) {
    this.#maxLine = maxLine;
  }

  /** The whole lines of what came so far, or null. */
  push(chunk: Uint8Array): Uint8Array | null {
    const data = this.#partial.length === 0 ? chunk : concat([this.#partial, chunk]);
    const last = data.lastIndexOf(NEWLINE);
    if (last < 0 && data.length <= this.#maxLine) {
      this.#partial = data.slice();
      return null;
    }
    const end = last < 0 ? data.length : last + 1;
    this.#partial = data.slice(end);
    // `data` may be the caller's reused buffer: what is returned is written before the next read.
    return data.subarray(0, end);
  }

  /** The unterminated rest, or null. */
  end(): Uint8Array | null {
    const rest = this.#partial;
    this.#partial = new Uint8Array(0);
    return rest.length === 0 ? null : rest;
  }
}

/** Where a run's lines go besides their sink: the child's tails and followers. */
export interface OutputTaps {
  readonly stdout: ByteTail;
  readonly stderr: ByteTail;
  readonly bus: LogBus;
  /**
   * For a stream that goes to a file: the file's size when its last chunk was published, so a
   * follower can be answered from the file up to exactly where its events begin.
   */
  readonly published: { stdout: number | undefined; stderr: number | undefined };
}

/** Taps for a child that has not run yet. */
export function newTaps(): OutputTaps {
  return {
    stdout: new ByteTail(),
    stderr: new ByteTail(),
    bus: new LogBus(),
    published: { stdout: undefined, stderr: undefined },
  };
}

/** The sinks of one run of a child: ready before the process is spawned. */
export class ChildOutputs {
  readonly #name: string;
  readonly #terminal: Terminal;
  readonly #logger: Logger;
  readonly #taps: OutputTaps;
  readonly #files: { stdout: LogFile | undefined; stderr: LogFile | undefined };

  private constructor(
    name: string,
    terminal: Terminal,
    logger: Logger,
    taps: OutputTaps,
    files: { stdout: LogFile | undefined; stderr: LogFile | undefined },
  ) {
    this.#name = name;
    this.#terminal = terminal;
    this.#logger = logger;
    this.#taps = taps;
    this.#files = files;
  }

  /**
   * Opens the output files of `config`. Throws an Error saying which file could not be opened;
   * nothing is left open then.
   */
  static async open(
    config: ChildConfig,
    terminal: Terminal,
    logger: Logger,
    taps: OutputTaps = newTaps(),
  ): Promise<ChildOutputs> {
    const files: { stdout: LogFile | undefined; stderr: LogFile | undefined } = {
      stdout: undefined,
      stderr: undefined,
    };
    try {
      for (const stream of ["stdout", "stderr"] as const) {
        const target = config[stream];
        if (!target) continue;
        if (stream === "stderr" && files.stdout && config.stdout?.path === target.path) {
          files.stderr = files.stdout.use();
          continue;
        }
        try {
          files[stream] = (await LogFile.open(target)).use();
        } catch (error) {
          const reason = errorMessage(error);
          throw new Error(`cannot open ${stream} file "${target.path}": ${reason}`, {
            cause: error,
          });
        }
      }
    } catch (error) {
      files.stdout?.release();
      if (files.stderr !== files.stdout) files.stderr?.release();
      throw error;
    }
    taps.published.stdout = files.stdout?.size;
    taps.published.stderr = files.stderr?.size;
    return new ChildOutputs(config.name, terminal, logger, taps, files);
  }

  /** Closes the files without pumping anything (the process could not be spawned). */
  discard(): void {
    this.#files.stdout?.release();
    this.#files.stderr?.release();
  }

  /** Reopens the output files at their paths (SIGHUP, after an external logrotate). */
  async reopen(): Promise<void> {
    const files = new Set([this.#files.stdout, this.#files.stderr].filter((f) => f !== undefined));
    for (const file of files) {
      await file.reopen().catch((error) => {
        this.#logger.error(
          `child "${this.#name}": cannot reopen "${file.target.path}": ${errorMessage(error)}`,
        );
      });
    }
  }

  /** Pumps both pipes to their sinks until each ends; closes the files afterwards. */
  async pump(
    stdout: ReadableStream<Uint8Array>,
    stderr: ReadableStream<Uint8Array>,
  ): Promise<void> {
    await Promise.all([
      this.#pumpOne("stdout", stdout),
      this.#pumpOne("stderr", stderr),
    ]);
  }

  async #pumpOne(stream: "stdout" | "stderr", readable: ReadableStream<Uint8Array>): Promise<void> {
    const file = this.#files[stream];
    const sink: ByteSink = file ?? this.#terminal[stream];
    const shared = file !== undefined && this.#files.stdout === this.#files.stderr;
    const shaper = file
      ? (file.rotates || shared ? new LineAligner() : undefined)
      : new LinePrefixer(`${this.#name} | `);
    const tail = this.#taps[stream];
    const bus = this.#taps.bus;
    let failed = false;
    const put = async (bytes: Uint8Array | null) => {
      if (!bytes || failed) return;
      try {
        await sink.write(bytes);
      } catch (error) {
        // Keep draining the pipe so the child never blocks on a sink that broke.
        failed = true;
        const reason = errorMessage(error);
        this.#logger.error(
          `child "${this.#name}": cannot write ${stream}, dropping it from now on: ${reason}`,
        );
      }
    };
    try {
      // One write in flight while the next chunk is read: overlap, and still backpressure.
      let writing: Promise<void> = Promise.resolve();
      for await (const chunk of readChunks(readable)) {
        const out = shaper ? shaper.push(chunk) : chunk;
        await writing;
        // The tail and the followers see a chunk once its sink has it, in the same step: a
        // follower joining at any moment finds the file (or tail) and its events seamless.
        writing = put(out).then(() => {
          tail.push(chunk);
          bus.publish(stream, chunk);
          if (file) this.#taps.published[stream] = file.size;
        });
      }
      await writing;
      await put(shaper?.end() ?? null);
    } catch (error) {
      const reason = errorMessage(error);
      this.#logger.error(`child "${this.#name}": reading ${stream} failed: ${reason}`);
    } finally {
      tail.endRun();
      file?.release();
    }
  }
}
