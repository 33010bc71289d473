/**
 * The state file: which children this server runs, with each one's pid, process group and
 * start time, so that a server started after this one was killed (SIGKILL, OOM killer, a crash)
 * finds them and adopts them instead of starting duplicates.
 *
 * Owns: the file's format (JSON, versioned), writing it atomically (a temporary file renamed
 * over it) and without piling up writes (at most one in flight; the newest state wins), and
 * reading it back defensively (anything malformed is ignored with a warning). Does not own:
 * deciding what to do with what it holds (see `adoption.ts`).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ProcessIdentity } from "../process/proc_identity.ts";

/** Version of the format; a file of another version is ignored. */
const FORMAT = 1;

/** Largest state file read back. */
const MAX_STATE_BYTES = 16 * 1024 * 1024;

/** One child as the state file records it. */
export interface ChildRecord {
  readonly name: string;
  readonly identity: ProcessIdentity;
  /** When its run started (ms since the epoch). */
  readonly startedAt: number;
  /** The config file it was started from. */
  readonly configPath: string;
}

/** What the file holds. */
export interface ServerState {
  /** The server that wrote it. */
  readonly server: ProcessIdentity;
  readonly children: readonly ChildRecord[];
}

/** Writes and reads one state file. */
export class StateFile {
  readonly path: string;
  readonly #logger: Logger;
  #writing: Promise<void> | undefined;
  #next: ServerState | undefined;
  #failed = false;

  constructor(path: string, logger: Logger) {
    this.path = path;
    this.#logger = logger;
  }

  /**
   * Records `state`: written now, or as soon as the write in flight is done (a state recorded
   * meanwhile replaces this one). Resolves when `state` (or a newer one) is on disk.
   */
  record(state: ServerState): Promise<void> {
    this.#next = state;
    this.#writing ??= this.#drain();
    return this.#writing;
  }

  /** Removes the file (a clean shutdown: no child is left to adopt). */
  async remove(): Promise<void> {
    await this.settled();
    await Deno.remove(this.path).catch(() => {});
  }

  /** Waits for every recorded state to be on disk. */
  async settled(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#next) {
        const state = this.#next;
        this.#next = undefined;
        await this.#write(state);
      }
    } finally {
      this.#writing = undefined;
    }
  }

  async #write(state: ServerState): Promise<void> {
    const text = JSON.stringify({ format: FORMAT, ...state }, null, 1) + "\n";
    const temporary = join(dirname(this.path), `.${Deno.pid}.state.tmp`);
    try {
      await Deno.writeTextFile(temporary, text, { mode: 0o600 });
      await Deno.rename(temporary, this.path);
      if (this.#failed) this.#logger.info(`state file "${this.path}" is written again`);
      this.#failed = false;
    } catch (error) {
      if (!this.#failed) {
        this.#logger.error(
          `cannot write state file "${this.path}" (a server started after this one is killed will not find its children): ${
            errorMessage(error)
          }`,
        );
      }
      this.#failed = true;
      await Deno.remove(temporary).catch(() => {});
    }
  }

  /** What the file holds, or undefined when there is none or it cannot be used (logged). */
  async load(): Promise<ServerState | undefined> {
    let text: string;
    try {
      const info = await Deno.stat(this.path);
      if (info.size > MAX_STATE_BYTES) {
        this.#logger.warn(`state file "${this.path}" is too large; ignored`);
        return undefined;
      }
      text = await Deno.readTextFile(this.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#logger.warn(`cannot read state file "${this.path}": ${errorMessage(error)}`);
      }
      return undefined;
    }
    const state = parseState(text);
    if (!state) this.#logger.warn(`state file "${this.path}" is not valid; ignored`);
    return state;
  }
}

/** Reads a state file's text; undefined when it is not a state of this format. */
export function parseState(text: string): ServerState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value) || value.format !== FORMAT || !Array.isArray(value.children)) {
    return undefined;
  }
  const server = parseIdentity(value.server);
  if (!server) return undefined;
  const children: ChildRecord[] = [];
  for (const item of value.children) {
    const record = parseRecord(item);
    if (record) children.push(record);
  }
  return { server, children };
}

function parseIdentity(value: unknown): ProcessIdentity | undefined {
  if (!isObject(value)) return undefined;
  const { pid, startTicks, bootId } = value;
  if (!isCount(pid) || pid <= 1 || !isCount(startTicks) || typeof bootId !== "string") {
    return undefined;
  }
  return { pid, startTicks, bootId };
}

function parseRecord(item: unknown): ChildRecord | undefined {
  if (!isObject(item)) return undefined;
  const identity = parseIdentity(item.identity);
  const { name, startedAt, configPath } = item;
  if (!identity || typeof name !== "string" || typeof configPath !== "string") return undefined;
  if (typeof startedAt !== "number" || !Number.isFinite(startedAt)) return undefined;
  return { name, identity, startedAt, configPath };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Where the state file of the server configured by `serverPath` goes when server.yml names
 * none: `/run/supervisor-ts/` for root, else `$XDG_RUNTIME_DIR/supervisor-ts/`, else
 * `/tmp/supervisor-ts-UID/` — places emptied at boot, when no child survives anyway. The file
 * is named after server.yml's path, so servers of different configs never share one.
 */
export function defaultStatePath(serverPath: string, uid = processUid()): string {
  const runtime = Deno.env.get("XDG_RUNTIME_DIR");
  const dir = uid === 0
    ? "/run/supervisor-ts"
    : runtime
    ? join(runtime, "supervisor-ts")
    : `/tmp/supervisor-ts-${uid ?? "unknown"}`;
  const stem = serverPath.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+/, "").slice(-80);
  return join(dir, `${stem}-${fnv1a(serverPath)}.state`);
}

/** A short hash of `text` (FNV-1a, 32 bits, hex): tells apart paths cut to the same stem. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * Makes the directory of the state file at `path`, owner only; refuses one that is a link or
 * belongs to someone else (in /tmp, another user could have made it first).
 */
export async function prepareStateDir(path: string): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await Deno.lstat(dir);
  const uid = processUid();
  if (
    info.isSymlink || !info.isDirectory || (uid !== null && info.uid !== null && info.uid !== uid)
  ) {
    throw new Error(`directory "${dir}" is not a directory of this user's own`);
  }
}

/**
 * The user id this server runs as, from /proc/self/status (so the server needs no `sys`
 * permission); undefined where /proc does not tell.
 */
export function processUid(): number | undefined {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    return Number.isInteger(uid) ? uid : undefined;
  } catch {
    return undefined;
  }
}
