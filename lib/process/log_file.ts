/**
 * An output file of a child: written in order, rotated by size without ever splitting a line,
 * reopened on request (SIGHUP, after an external logrotate moved it).
 *
 * Rotation renames `name` to `name.1`, `name.1` to `name.2` … up to `name.<backups>` (the
 * oldest is dropped), then starts a new `name`. Writes must be whole lines when the file
 * rotates; the pump sees to that. A write that fails (a full disk) counts what it did write;
 * when a rotation or a reopen could not open the file again, the next write tries, so the file
 * comes back once the cause is gone.
 *
 * Writes are made on worker threads ({@link LogFile.write}), or synchronously when the caller
 * asks and {@link SyncWriteGate} says it is safe ({@link LogFile.writeNow}), up to the next
 * rotation: rotations are always made on a worker thread.
 *
 * @module
 */
import type { OutputTarget } from "../config/child_config.ts";
import { SYNC_WRITES } from "./sync_writes.ts";
import type { SyncWriteGate } from "./sync_writes.ts";

const NEWLINE = 0x0a;

/** The path of backup `n` of the output file at `path` (1: the newest). */
export function backupPath(path: string, n: number): string {
  return `${path}.${n}`;
}

/** The paths of the backups a target keeps, newest first (none without rotation). */
export function backupPaths(target: OutputTarget): string[] {
  if (target.maxBytes === undefined) return [];
  return Array.from({ length: target.backups }, (_, i) => backupPath(target.path, i + 1));
}

/**
 * Opens the output file of `target` for writing, as a start does: `create` truncates it,
 * `append` keeps what is there; with the size it starts at.
 */
export async function openOutput(
  target: OutputTarget,
): Promise<{ file: Deno.FsFile; size: number }> {
  const file = await Deno.open(target.path, {
    write: true,
    create: true,
    truncate: target.mode === "create",
    append: target.mode === "append",
  });
  try {
    return { file, size: target.mode === "create" ? 0 : (await file.stat()).size };
  } catch (error) {
    file.close();
    throw error;
  }
}

/**
 * How many of the first bytes of `data` go into a file of `size` bytes that rotates past `max`
 * before it rotates: all of them when they fit; else the whole lines that fit; a line longer
 * than `max` goes alone into a fresh file (`size` 0). Zero: rotate first.
 */
export function bytesBeforeRotation(data: Uint8Array, size: number, max: number): number {
  const room = max - size;
  if (data.length <= room) return data.length;
  const cut = room > 0 ? data.lastIndexOf(NEWLINE, room - 1) + 1 : 0;
  if (cut > 0 || size > 0) return cut;
  const end = data.indexOf(NEWLINE);
  return end < 0 ? data.length : end + 1;
}

/** One open output file, shared by the streams that name it. */
export class LogFile {
  readonly target: OutputTarget;
  /** Undefined after a rotation or reopen could not open the path: the next write tries. */
  #file: Deno.FsFile | undefined;
  #size: number;
  #users = 0;
  #tail: Promise<void> = Promise.resolve();
  /** Operations queued on {@link #tail} and not done: a synchronous write waits for none. */
  #queued = 0;
  #closed = false;
  #backupsOnDisk: number | undefined;
  /** Undefined when the file is never written synchronously (not on a local file system). */
  readonly #gate: SyncWriteGate | undefined;

  private constructor(
    target: OutputTarget,
    file: Deno.FsFile,
    size: number,
    gate: SyncWriteGate | undefined,
  ) {
    this.target = target;
    this.#file = file;
    this.#size = size;
    this.#gate = gate;
  }

  /**
   * Opens the file: `create` truncates it, `append` keeps what is there. `gate` decides when it
   * may be written synchronously (see {@link writeNow}).
   */
  static async open(target: OutputTarget, gate: SyncWriteGate = SYNC_WRITES): Promise<LogFile> {
    const { file, size } = await openOutput(target);
    return new LogFile(target, file, size, gate.local(target.path) ? gate : undefined);
  }

  /** Bytes in the file at its path now, as far as this writer knows. */
  get size(): number {
    return this.#size;
  }

  /** Whether the file rotates (writers must then hand over whole lines). */
  get rotates(): boolean {
    return this.target.maxBytes !== undefined;
  }

  use(): this {
    this.#users++;
    return this;
  }

  /** Writes `bytes` after every earlier write, rotating first when they would not fit. */
  write(bytes: Uint8Array): Promise<void> {
    return this.#queue(() => this.#write(bytes));
  }

  /**
   * Writes at once, synchronously, what {@link write} would write of `bytes` before rotating
   * the file, when that is safe now: no operation is queued, the file is open, and the gate
   * allows it (see `sync_writes.ts`). Returns how many of the first bytes it wrote: 0 when it
   * wrote none; fewer than all when the file must rotate first; the rest must then go through
   * {@link write}, which rotates on a worker thread (a rotation renames files, and on ext4 a
   * rename over an older backup first flushes what the renamed file still holds in memory:
   * tens of milliseconds for a large file). Throws as {@link write} rejects.
   */
  writeNow(bytes: Uint8Array): number {
    const gate = this.#gate;
    if (gate === undefined || this.#queued > 0 || this.#closed || this.#file === undefined) {
      return 0;
    }
    const max = this.target.maxBytes;
    const fits = max === undefined ? bytes.length : bytesBeforeRotation(bytes, this.#size, max);
    if (fits === 0 || !gate.allows(fits)) return 0;
    const start = gate.now();
    try {
      this.#putSync(bytes.subarray(0, fits));
    } finally {
      gate.took(gate.now() - start, fits);
    }
    return fits;
  }

  /** Closes and opens the path again in append mode (after an external move). */
  reopen(): Promise<void> {
    return this.#queue(async () => {
      if (this.#closed) return;
      this.#close();
      await this.#openAgain();
    });
  }

  /** Drops one user; the last one closes the file once pending writes are done. */
  release(): void {
    if (--this.#users > 0) return;
    this.#queue(() => {
      this.#closed = true;
      this.#close();
    }).catch(() => undefined);
  }

  /** Runs `step` after every operation queued before it. */
  #queue(step: () => void | Promise<void>): Promise<void> {
    this.#queued++;
    const done = this.#tail.then(step).finally(() => this.#queued--);
    this.#tail = done.catch(() => undefined);
    return done;
  }

  #close(): void {
    try {
      this.#file?.close();
    } catch {
      // closed already
    }
    this.#file = undefined;
  }

  /** Opens the path in append mode and takes the size of what is there. */
  async #openAgain(): Promise<Deno.FsFile> {
    const file = await Deno.open(this.target.path, { write: true, create: true, append: true });
    try {
      this.#size = (await file.stat()).size;
    } catch (error) {
      file.close();
      throw error;
    }
    this.#file = file;
    return file;
  }

  /** Writes all of `bytes`, counting every part written, even when a later part fails. */
  async #put(bytes: Uint8Array): Promise<void> {
    const file = this.#file ?? await this.#openAgain();
    let offset = 0;
    while (offset < bytes.length) {
      const n = await file.write(bytes.subarray(offset));
      offset += n;
      this.#size += n;
    }
  }

  /** {@link #put}, synchronously, to the open file. */
  #putSync(bytes: Uint8Array): void {
    const file = this.#file!;
    let offset = 0;
    while (offset < bytes.length) {
      const n = file.writeSync(bytes.subarray(offset));
      offset += n;
      this.#size += n;
    }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    if (this.#file === undefined) await this.#openAgain();
    const max = this.target.maxBytes;
    let data = bytes;
    while (data.length > 0) {
      const cut = max === undefined ? data.length : bytesBeforeRotation(data, this.#size, max);
      if (cut > 0) {
        await this.#put(data.subarray(0, cut));
        data = data.subarray(cut);
      }
      if (data.length > 0) await this.#rotate();
    }
  }

  async #rotate(): Promise<void> {
    const { path, backups } = this.target;
    this.#close();
    if (backups > 0) {
      // Only the backups that exist are shifted (found once, then counted).
      if (this.#backupsOnDisk === undefined) {
        let n = 0;
        while (n < backups && (await exists(backupPath(path, n + 1)))) n++;
        this.#backupsOnDisk = n;
      }
      for (let i = Math.min(this.#backupsOnDisk, backups - 1); i >= 1; i--) {
        await Deno.rename(backupPath(path, i), backupPath(path, i + 1)).catch(() => {});
      }
      await Deno.rename(path, backupPath(path, 1)).catch(() => {});
      this.#backupsOnDisk = Math.min(backups, this.#backupsOnDisk + 1);
    }
    this.#file = await Deno.open(path, { write: true, create: true, truncate: true });
    this.#size = 0;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
