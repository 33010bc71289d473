/**
 * Where a child's stdout and stderr go: a file per `output` entry, or the server's own stdout
 * and stderr with every line prefixed by the child's name.
 *
 * Owns: opening output files (`create` truncates at each start, `append` keeps), sharing one
 * handle when both streams name the same file, choosing each stream's line shaping, and
 * pumping each pipe to its sink with backpressure (a chunk is written before the next is
 * read), then to the taps. Does not own: when a child starts or stops (see `child.ts`), line
 * shaping itself (see `line_prefixer.ts`, `line_aligner.ts`), reading pipes (see
 * `pipe_chunks.ts`) or the files (see `log_file.ts`).
 *
 * @module
 */
import type { ChildConfig } from "../config/child_config.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { LineAligner } from "./line_aligner.ts";
import { LinePrefixer } from "./line_prefixer.ts";
import { LogFile } from "./log_file.ts";
import { newTaps } from "./output_taps.ts";
import type { OutputTaps } from "./output_taps.ts";
import { readChunks } from "./pipe_chunks.ts";
import type { ByteSink } from "./sinks.ts";

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
