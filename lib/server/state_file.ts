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
  /** The pid of the server that wrote it. */
  readonly serverPid: number;
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
  const serverPid = value.serverPid;
  if (!isCount(serverPid)) return undefined;
  const children: ChildRecord[] = [];
  for (const item of value.children) {
    const record = parseRecord(item);
    if (record) children.push(record);
  }
  return { serverPid, children };
}

function parseRecord(item: unknown): ChildRecord | undefined {
  if (!isObject(item) || !isObject(item.identity)) return undefined;
  const { name, startedAt, configPath } = item;
  const { pid, startTicks, bootId } = item.identity;
  if (typeof name !== "string" || typeof configPath !== "string") return undefined;
  if (!isCount(pid) || pid <= 1 || !isCount(startTicks) || typeof bootId !== "string") {
    return undefined;
  }
  if (typeof startedAt !== "number" || !Number.isFinite(startedAt)) return undefined;
  return { name, identity: { pid, startTicks, bootId }, startedAt, configPath };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
