/**
 * When an output file may be written synchronously, from the server's own thread, instead of on
 * a worker thread.
 *
 * A write to a file on a local disk normally only copies the bytes into the page cache: a few
 * microseconds for a pipe's chunk, far less than handing the write to a worker thread and back
 * (measured: a synchronous pump spends about a quarter less CPU per byte than an asynchronous
 * one, issue 15). But a synchronous write blocks the whole server while it lasts, so one is
 * made only when it cannot last long:
 *
 * - the file is on a local file system ({@link LOCAL_FILE_SYSTEMS}, from /proc/self/mountinfo):
 *   never on NFS, CIFS, FUSE and the like, whose writes may wait for a server;
 * - the kernel will not throttle it: the system's dirty and writeback pages are below half of
 *   the kernel's free-run ceiling (halfway between `vm.dirty_background_*` and `vm.dirty_*`),
 *   under which a writer is never paused; looked at again every {@link DIRTY_CHECK_MS} or
 *   every {@link DIRTY_CHECK_BYTES} written synchronously, whichever comes first;
 * - synchronous writes have not been slow lately (a disk slower than the checks foresaw, a
 *   memory cgroup's own dirty limit): a second write slower than {@link SLOW_SYNC_WRITE_MS}
 *   within {@link SYNC_BACKOFF_MS} of the first, or a single one slower than
 *   {@link VERY_SLOW_SYNC_WRITE_MS}, turns them off for {@link SYNC_BACKOFF_MS}, for every
 *   file (one slow write alone is let pass: on a busy machine the server's thread may be
 *   preempted in the middle of a write);
 * - each one is at most {@link MAX_SYNC_WRITE_BYTES}, a pipe's read at most, and never
 *   rotates the file (`log_file.ts`: renames stay on worker threads; on ext4 a rename over an
 *   older backup first flushes the renamed file's dirty pages, measured 20-27 ms for 50 MB).
 *
 * So the server blocks for a memory copy, and at worst for two unforeseen slow writes every
 * {@link SYNC_BACKOFF_MS}. Everything else is written on worker threads, as before. Where /proc
 * cannot be read, nothing is written synchronously.
 *
 * Owns: that decision and what it reads to make it. Does not own: the writes (see
 * `log_file.ts`).
 *
 * @module
 */

/** A synchronous write slower than this is slow: two in a while turn them off for a while. */
export const SLOW_SYNC_WRITE_MS = 20;

/**
 * A synchronous write slower than this turns them off at once (longer than the kernel pauses a
 * writer to throttle it at a time: not a preemption).
 */
export const VERY_SLOW_SYNC_WRITE_MS = 200;

/** How long synchronous writes stay off after slow ones, and how close two slow ones must be. */
export const SYNC_BACKOFF_MS = 10_000;

/** How often the dirty pages of the system are looked at while writing synchronously. */
export const DIRTY_CHECK_MS = 100;

/** Bytes written synchronously after which the dirty pages are looked at again. */
export const DIRTY_CHECK_BYTES = 16 * 1024 * 1024;

/** The most bytes one synchronous write takes: a pipe's read at most. */
export const MAX_SYNC_WRITE_BYTES = 256 * 1024;

/** How long a read of /proc/self/mountinfo is used for. */
const MOUNTS_TTL_MS = 10_000;

/**
 * File systems whose writes go to the page cache of a local device (or to memory): a write
 * returns once copied, unless the kernel throttles it (see {@link SyncWriteGate}).
 */
export const LOCAL_FILE_SYSTEMS: ReadonlySet<string> = new Set([
  "ext2",
  "ext3",
  "ext4",
  "xfs",
  "btrfs",
  "f2fs",
  "zfs",
  "bcachefs",
  "jfs",
  "tmpfs",
  "ramfs",
  "overlay",
]);

/** What the gate reads; each returns undefined when it cannot be read. */
export interface SyncWriteSources {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** The text of /proc/meminfo. */
  meminfo(): string | undefined;
  /** The value of /proc/sys/vm/NAME. */
  vm(name: string): string | undefined;
  /** The text of /proc/self/mountinfo. */
  mountinfo(): string | undefined;
  /** The path with every link resolved. */
  realPath(path: string): string | undefined;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** The real system. */
export const procSources: SyncWriteSources = {
  now: () => performance.now(),
  meminfo: () => readOrUndefined("/proc/meminfo"),
  vm: (name) => readOrUndefined(`/proc/sys/vm/${name}`),
  mountinfo: () => readOrUndefined("/proc/self/mountinfo"),
  realPath(path) {
    try {
      return Deno.realPathSync(path);
    } catch {
      return undefined;
    }
  },
};

/** Fields of /proc/meminfo, in bytes. */
function meminfoBytes(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([^:]+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (match) fields.set(match[1]!, Number(match[2]) * (line.endsWith("kB") ? 1024 : 1));
  }
  return fields;
}

/**
 * Dirty and writeback bytes of the system and the level under which the kernel never
 * throttles a writer (its free-run ceiling, as mm/page-writeback.c computes it from the memory
 * it counts as dirtyable); undefined when it cannot be told.
 */
export function dirtyState(
  meminfo: string,
  vm: (name: string) => string | undefined,
): { dirty: number; freeRun: number } | undefined {
  const fields = meminfoBytes(meminfo);
  const get = (name: string) => fields.get(name);
  const dirty = get("Dirty");
  const writeback = get("Writeback");
  const free = get("MemFree");
  const activeFile = get("Active(file)");
  const inactiveFile = get("Inactive(file)");
  if (
    dirty === undefined || writeback === undefined || free === undefined ||
    activeFile === undefined || inactiveFile === undefined
  ) return undefined;
  const dirtyable = free + activeFile + inactiveFile;
  const setting = (name: string) => {
    const value = Number(vm(name)?.trim());
    return Number.isFinite(value) ? value : undefined;
  };
  const limit = (bytesName: string, ratioName: string) => {
    const bytes = setting(bytesName);
    if (bytes !== undefined && bytes > 0) return bytes;
    const ratio = setting(ratioName);
    return ratio === undefined ? undefined : (dirtyable * ratio) / 100;
  };
  const thresh = limit("dirty_bytes", "dirty_ratio");
  let background = limit("dirty_background_bytes", "dirty_background_ratio");
  if (thresh === undefined || background === undefined) return undefined;
  if (background >= thresh) background = thresh / 2;
  return { dirty: dirty + writeback, freeRun: (thresh + background) / 2 };
}

/** The file system type of the mount that holds `path` (an absolute, resolved path). */
export function fileSystemOf(mountinfo: string, path: string): string | undefined {
  let best: { point: string; type: string } | undefined;
  for (const line of mountinfo.split("\n")) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - TYPE SOURCE SUPEROPTIONS
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 6 || fields.length <= dash + 1) continue;
    const point = fields[4]!.replace(/\\([0-7]{3})/g, (_, octal) => {
      return String.fromCharCode(parseInt(octal, 8));
    });
    const inside = point === "/" || path === point || path.startsWith(`${point}/`);
    // A later mount on the same point hides the earlier one.
    if (inside && (best === undefined || point.length >= best.point.length)) {
      best = { point, type: fields[dash + 1]! };
    }
  }
  return best?.type;
}

/** Decides whether output files may be written synchronously now (see the module's comment). */
export class SyncWriteGate {
  readonly #sources: SyncWriteSources;
  /** Synchronous writes are off until then (after slow ones). */
  #offUntil = -Infinity;
  /** When the last slow synchronous write was. */
  #slowAt = -Infinity;
  /** When the dirty pages were last looked at, and what they allowed. */
  #checkedAt = -Infinity;
  #dirtyOk = false;
  /** Bytes written synchronously since the dirty pages were last looked at. */
  #sinceCheck = 0;
  #mounts: { text: string | undefined; at: number } | undefined;
  /** Turned off by the operator (`sync_log_writes: off`): every write on a worker thread. */
  #never = false;

  constructor(sources: SyncWriteSources = procSources) {
    this.#sources = sources;
  }

  /**
   * Whether synchronous writes may be made at all (server.yml `sync_log_writes`, read when the
   * server starts): off for a server whose disks may stall without warning, such as a file
   * system frozen for a snapshot (`fsfreeze`), during which a synchronous write would wait.
   */
  set enabled(on: boolean) {
    this.#never = !on;
  }

  get enabled(): boolean {
    return !this.#never;
  }

  /** Milliseconds on the gate's clock, to time a write with. */
  now(): number {
    return this.#sources.now();
  }

  /** Whether the (existing) file at `path` is on a local file system. */
  local(path: string): boolean {
    const real = this.#sources.realPath(path);
    if (real === undefined) return false;
    const now = this.#sources.now();
    if (this.#mounts === undefined || now - this.#mounts.at > MOUNTS_TTL_MS) {
      this.#mounts = { text: this.#sources.mountinfo(), at: now };
    }
    const text = this.#mounts.text;
    if (text === undefined) return false;
    const type = fileSystemOf(text, real);
    return type !== undefined && LOCAL_FILE_SYSTEMS.has(type);
  }

  /** Whether a write of `bytes` may be made synchronously now. */
  allows(bytes: number): boolean {
    if (this.#never || bytes > MAX_SYNC_WRITE_BYTES) return false;
    const now = this.#sources.now();
    if (now < this.#offUntil) return false;
    if (now - this.#checkedAt >= DIRTY_CHECK_MS || this.#sinceCheck + bytes > DIRTY_CHECK_BYTES) {
      this.#checkedAt = now;
      this.#sinceCheck = 0;
      const meminfo = this.#sources.meminfo();
      const state = meminfo === undefined ? undefined : dirtyState(meminfo, this.#sources.vm);
      this.#dirtyOk = state !== undefined && state.dirty < state.freeRun / 2;
    }
    return this.#dirtyOk;
  }

  /** A synchronous write of `bytes` took `ms`. */
  took(ms: number, bytes: number): void {
    this.#sinceCheck += bytes;
    if (ms <= SLOW_SYNC_WRITE_MS) return;
    const now = this.#sources.now();
    if (ms > VERY_SLOW_SYNC_WRITE_MS || now - this.#slowAt < SYNC_BACKOFF_MS) {
      this.#offUntil = now + SYNC_BACKOFF_MS;
      this.#slowAt = -Infinity;
    } else {
      this.#slowAt = now;
    }
  }

  /** Whether synchronous writes are off after slow ones. */
  get backingOff(): boolean {
    return this.#sources.now() < this.#offUntil;
  }
}

/** The gate every output file of the server shares. */
export const SYNC_WRITES = new SyncWriteGate();
