/**
 * Where a child's stdout and stderr go: a file per `output` entry, or the server's own stdout
 * and stderr with every line prefixed by the child's name.
 *
 * Owns: opening output files (`create` truncates at each start, `append` keeps), sharing one
 * handle when both streams name the same file, choosing each stream's line shaping, pumping
 * each pipe to its sink with backpressure (a chunk goes straight from the pipe's buffer to a
 * file that can be written synchronously now, see `sync_writes.ts`; otherwise one write is in
 * flight and what is read meanwhile is batched, up to a bound), then to the taps, and riding
 * out a sink that fails (a full disk): its chunks are dropped, not waited for, and writing is
 * tried again after {@link OUTPUT_RETRY_MS} or at a reopen. Does not own: when a child starts
 * or stops (see `child.ts`), line prefixing itself (see `line_prefixer.ts`), reading pipes (see
 * `pipe_chunks.ts`), batching (see `write_batch.ts`), the files (see `log_file.ts`) or when a
 * write may be synchronous (see `sync_writes.ts`).
 *
 * @module
 */
import type { ChildConfig } from "../config/child_config.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { realClock } from "./clock.ts";
import { DirectOutput } from "./direct_output.ts";
import type { DirectFiles } from "./spawner.ts";
import type { Clock } from "./clock.ts";
import { LinePrefixer } from "./line_prefixer.ts";
import { LogFile } from "./log_file.ts";
import { newTaps } from "./output_taps.ts";
import type { OutputTaps } from "./output_taps.ts";
import { PipeReader } from "./pipe_chunks.ts";
import type { ByteSink } from "./sinks.ts";
import { SYNC_WRITES } from "./sync_writes.ts";
import type { SyncWriteGate } from "./sync_writes.ts";
import { BATCH_MAX_BYTES, WriteBatch } from "./write_batch.ts";
import { NEWLINE } from "./bytes.ts";

/**
 * The longest partial line read back in front of the next chunk rather than copied into the
 * batch (see `PipeReader.read`).
 */
const MAX_CARRY = 16 * 1024;

const EMPTY = new Uint8Array(0);

/** How long a stream whose sink failed drops its output before writing is tried again. */
export const OUTPUT_RETRY_MS = 5000;

/** A stream whose sink failed: what was dropped since, and when to try again. */
interface Failing {
  retryAt: number;
  dropped: number;
}

/** The server's own stdout and stderr, where children without an output file write. */
export interface Terminal {
  readonly stdout: ByteSink;
  readonly stderr: ByteSink;
}

/** The sinks of one run of a child: ready before the process is spawned. */
export class ChildOutputs {
  readonly #name: string;
  readonly #terminal: Terminal;
  readonly #logger: Logger;
  readonly #taps: OutputTaps;
  readonly #files: { stdout: LogFile | undefined; stderr: LogFile | undefined };
  readonly #direct: { stdout: DirectOutput | undefined; stderr: DirectOutput | undefined };
  readonly #clock: Clock;
  readonly #failing: { stdout: Failing | undefined; stderr: Failing | undefined } = {
    stdout: undefined,
    stderr: undefined,
  };

  private constructor(
    name: string,
    terminal: Terminal,
    logger: Logger,
    taps: OutputTaps,
    files: { stdout: LogFile | undefined; stderr: LogFile | undefined },
    direct: { stdout: DirectOutput | undefined; stderr: DirectOutput | undefined },
    clock: Clock,
  ) {
    this.#name = name;
    this.#terminal = terminal;
    this.#logger = logger;
    this.#taps = taps;
    this.#files = files;
    this.#direct = direct;
    this.#clock = clock;
  }

  /**
   * Opens the output files of `config` (`gate`: when they may be written synchronously). Throws
   * an Error saying which file could not be opened; nothing is left open then.
   */
  static async open(
    config: ChildConfig,
    terminal: Terminal,
    logger: Logger,
    taps: OutputTaps = newTaps(),
    clock: Clock = realClock,
    gate: SyncWriteGate = SYNC_WRITES,
  ): Promise<ChildOutputs> {
    const files: { stdout: LogFile | undefined; stderr: LogFile | undefined } = {
      stdout: undefined,
      stderr: undefined,
    };
    const direct: { stdout: DirectOutput | undefined; stderr: DirectOutput | undefined } = {
      stdout: undefined,
      stderr: undefined,
    };
    try {
      for (const stream of ["stdout", "stderr"] as const) {
        const target = config[stream];
        if (!target) continue;
        const shared = stream === "stderr" && config.stdout?.path === target.path;
        if (shared && files.stdout) {
          files.stderr = files.stdout.use();
          continue;
        }
        if (shared && direct.stdout) {
          // One file for both: it is read back (and followed) as stdout.
          direct.stderr = direct.stdout;
          continue;
        }
        try {
          if (target.direct) {
            const start = await DirectOutput.prepare(target);
            direct[stream] = new DirectOutput(stream, target.path, start, taps.bus);
            continue;
          }
          files[stream] = (await LogFile.open(target, gate)).use();
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
    return new ChildOutputs(config.name, terminal, logger, taps, files, direct, clock);
  }

  /**
   * Outputs with no file open, for a run whose output this server does not capture (an
   * adopted one: the previous server wired it).
   */
  static unwired(
    config: ChildConfig,
    terminal: Terminal,
    logger: Logger,
    taps: OutputTaps,
    clock: Clock,
  ): ChildOutputs {
    const none = { stdout: undefined, stderr: undefined };
    // A direct file is still the child's: it can be followed and read back, from where it
    // ends now (where the run began is not known).
    const directOf = (stream: "stdout" | "stderr") => {
      const target = config[stream];
      if (!target?.direct) return undefined;
      return new DirectOutput(stream, target.path, DirectOutput.sizeOf(target.path), taps.bus);
    };
    const stdout = directOf("stdout");
    const stderr = config.stderr?.path === config.stdout?.path && stdout
      ? stdout
      : directOf("stderr");
    return new ChildOutputs(config.name, terminal, logger, taps, none, { stdout, stderr }, clock);
  }

  /** The files the child writes itself, for its spawn; undefined when there is none. */
  get directFiles(): DirectFiles | undefined {
    const { stdout, stderr } = this.#direct;
    if (!stdout && !stderr) return undefined;
    return { stdout: stdout?.path, stderr: stderr?.path };
  }

  /** The stream's direct file, when the child writes it itself. */
  direct(stream: "stdout" | "stderr"): DirectOutput | undefined {
    return this.#direct[stream];
  }

  /**
   * Someone started following: direct files are read back while they follow (`fromRunStart`:
   * from where the run began, unless followed already).
   */
  watch(fromRunStart = false): void {
    for (const direct of new Set([this.#direct.stdout, this.#direct.stderr])) {
      if (fromRunStart) direct?.begin();
      else direct?.watch();
    }
  }

  /** The run ended: followers get the rest of the direct files, whose polling stops. */
  async ended(): Promise<void> {
    await this.#direct.stdout?.end();
    if (this.#direct.stderr !== this.#direct.stdout) await this.#direct.stderr?.end();
  }

  /** Closes the files without pumping anything (the process could not be spawned). */
  discard(): void {
    this.#files.stdout?.release();
    this.#files.stderr?.release();
  }

  /**
   * Reopens the output files at their paths (SIGHUP, after an external logrotate); a stream
   * whose sink failed tries writing again at its next chunk.
   */
  async reopen(): Promise<void> {
    for (const failing of Object.values(this.#failing)) {
      if (failing) failing.retryAt = -Infinity;
    }
    const files = new Set([this.#files.stdout, this.#files.stderr].filter((f) => f !== undefined));
    for (const file of files) {
      await file.reopen().catch((error) => {
        this.#logger.error(
          `child "${this.#name}": cannot reopen "${file.target.path}": ${errorMessage(error)}`,
        );
      });
    }
  }

  /**
   * Pumps both pipes to their sinks until each ends; closes the files afterwards. A stream
   * without a pipe (null: the child writes its file itself) is only read back while followed,
   * from where the run began.
   */
  async pump(
    stdout: ReadableStream<Uint8Array> | null,
    stderr: ReadableStream<Uint8Array> | null,
  ): Promise<void> {
    this.watch(true);
    const pumpOne = (stream: "stdout" | "stderr", readable: ReadableStream<Uint8Array> | null) => {
      if (readable) return this.#pumpOne(stream, readable);
      this.#taps[stream].endRun();
    };
    await Promise.all([pumpOne("stdout", stdout), pumpOne("stderr", stderr)]);
  }

  /** Drops a chunk of `stream` whose write failed: logs the first failure, retries later. */
  #failed(stream: "stdout" | "stderr", bytes: number, error: unknown): void {
    const retryAt = this.#clock.now() + OUTPUT_RETRY_MS;
    const failing = this.#failing[stream];
    if (failing) {
      failing.dropped += bytes;
      failing.retryAt = retryAt;
      return;
    }
    this.#failing[stream] = { retryAt, dropped: bytes };
    this.#logger.error(
      `child "${this.#name}": cannot write ${stream}, dropping its output until writing works again (tried every ${
        OUTPUT_RETRY_MS / 1000
      } s): ${errorMessage(error)}`,
    );
  }

  /** A write of `stream` worked: when it had been failing, says how much was dropped. */
  #wrote(stream: "stdout" | "stderr"): void {
    const failing = this.#failing[stream];
    if (!failing) return;
    this.#failing[stream] = undefined;
    this.#logger.info(
      `child "${this.#name}": writing ${stream} again; ${failing.dropped} bytes were dropped`,
    );
  }

  /**
   * Whether `bytes` of `stream` are dropped without a write: its sink failed, and it is not
   * time to try again yet. The pipe keeps draining, so the child never blocks on a sink that
   * broke.
   */
  #dropping(stream: "stdout" | "stderr", bytes: number): boolean {
    const failing = this.#failing[stream];
    if (!failing || this.#clock.now() >= failing.retryAt) return false;
    failing.dropped += bytes;
    return true;
  }

  async #pumpOne(stream: "stdout" | "stderr", readable: ReadableStream<Uint8Array>): Promise<void> {
    const file = this.#files[stream];
    const sink: ByteSink = file ?? this.#terminal[stream];
    const shared = file !== undefined && this.#files.stdout === this.#files.stderr;
    // Files that rotate or that both streams share get whole lines only; the terminal gets
    // every line prefixed.
    const aligned = file !== undefined && (file.rotates || shared);
    const prefixer = file ? undefined : new LinePrefixer(`${this.#name} | `);
    const tail = this.#taps[stream];
    const bus = this.#taps.bus;
    /** On a worker thread (or the terminal's sink), whatever comes. */
    const put = async (bytes: Uint8Array | null) => {
      if (!bytes || bytes.length === 0 || this.#dropping(stream, bytes.length)) return;
      try {
        await sink.write(bytes);
      } catch (error) {
        this.#failed(stream, bytes.length, error);
        return;
      }
      this.#wrote(stream);
    };
    /**
     * At once, when the file can be written synchronously now (see `LogFile.writeNow`): how
     * many of the first bytes it is done with (written, or dropped); the rest must go through
     * `put`.
     */
    const putNow = (bytes: Uint8Array): number => {
      if (file === undefined) return 0;
      if (this.#dropping(stream, bytes.length)) return bytes.length;
      let written: number;
      try {
        written = file.writeNow(bytes);
      } catch (error) {
        this.#failed(stream, bytes.length, error);
        return bytes.length;
      }
      if (written > 0) this.#wrote(stream);
      return written;
    };
    // The tail and the followers see bytes once their sink has them, in the same step: a
    // follower joining at any moment finds the file (or tail) and its events seamless.
    const publish = (data: Uint8Array) => {
      tail.push(data);
      bus.publish(stream, data);
      if (file) this.#taps.published[stream] = file.size;
    };
    // A chunk goes straight from the reader's buffer to the file when the file can be written
    // at once and nothing waits before it. For whole lines, that is up to its last newline; a
    // short partial line after it is kept aside (`carry`) and read back in front of the next
    // chunk, so that the next write is one array again (see `PipeReader.read`). Otherwise the
    // chunk is copied into the batch, which goes to the sink whenever no write is in flight:
    // chunks read during a write gather and go in one write after it. At most one write is in
    // flight, and a full batch waits for it: the child is slowed down, never dropped. Either way
    // the reader's buffer is free for the next read once the chunk is handled.
    const batch = new WriteBatch(aligned);
    const reader = new PipeReader(readable);
    let writing: Promise<void> | undefined;
    /** A partial line, for the front of the next chunk; only while the batch is empty. */
    let carry = EMPTY;
    /** Writes what the batch may give now, then feeds it to the taps; the rest goes next. */
    const flush = (all: boolean): void => {
      while (writing === undefined) {
        const data = batch.take(all);
        if (data === undefined) return;
        const now = putNow(data);
        if (now > 0) publish(data.subarray(0, now));
        if (now === data.length) {
          batch.written();
          continue;
        }
        const rest = data.subarray(now);
        const out = prefixer ? prefixer.push(rest) : rest;
        writing = put(out).then(() => {
          publish(rest);
          batch.written();
          writing = undefined;
          flush(false);
        });
      }
    };
    /**
     * Writes what may go of `chunk` straight from it, when nothing waits before it; the bytes
     * left for the batch (none, a partial line, or all of it when the file cannot take it now).
     * A short partial line goes to `carry` instead.
     */
    const straight = (chunk: Uint8Array): Uint8Array => {
      let data = chunk;
      if (batch.size > 0) {
        // Only a partial line waits there (whole lines went): it goes whole, with its end.
        const newline = aligned ? chunk.indexOf(NEWLINE) : -1;
        if (newline < 0) return chunk;
        batch.add(chunk.subarray(0, newline + 1));
        flush(false);
        data = chunk.subarray(newline + 1);
        if (writing !== undefined || batch.size > 0) return data;
      }
      const end = aligned ? data.lastIndexOf(NEWLINE) + 1 : data.length;
      // A partial line alone gathers in the batch, which bounds it (MAX_LINE).
      if (end === 0) return data;
      const now = putNow(data.subarray(0, end));
      if (now > 0) publish(data.subarray(0, now));
      // Short of the end: the file rotates first, which the batch's write does.
      if (now < end) return data.subarray(now);
      const rest = data.subarray(end);
      if (rest.length === 0 || rest.length > MAX_CARRY) return rest;
      carry = rest.slice();
      return EMPTY;
    };
    try {
      for (;;) {
        const chunk = await reader.read(carry);
        if (chunk === null) {
          if (carry.length > 0) batch.add(carry);
          break;
        }
        carry = EMPTY;
        while (writing !== undefined && batch.size + chunk.length > BATCH_MAX_BYTES) {
          await writing;
        }
        const rest = writing === undefined && file !== undefined ? straight(chunk) : chunk;
        if (rest.length === 0) continue;
        batch.add(rest);
        flush(false);
      }
      while (writing !== undefined) await writing;
      flush(true);
      while (writing !== undefined) await writing;
      await put(prefixer?.end() ?? null);
      const failing = this.#failing[stream];
      if (failing) {
        this.#logger.error(
          `child "${this.#name}": ${stream} ended while its sink was failing; ${failing.dropped} bytes were dropped`,
        );
      }
    } catch (error) {
      const reason = errorMessage(error);
      this.#logger.error(`child "${this.#name}": reading ${stream} failed: ${reason}`);
    } finally {
      while (writing !== undefined) await writing;
      reader.release();
      tail.endRun();
      file?.release();
    }
  }
}
