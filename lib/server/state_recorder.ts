/**
 * Keeps the state file in step with the children: after every change of state, the runs alive
 * now — each with its pid, start time and boot — are recorded, so that a server started after
 * this one was killed can tell which processes are this server's children.
 *
 * Owns: what is recorded and when. Does not own: the file's format or writing it
 * (`state_file.ts`), or adoption (`adoption.ts`).
 *
 * @module
 */
import type { Child } from "../process/child.ts";
import { identify } from "../process/proc_identity.ts";
import type { ProcessIdentity } from "../process/proc_identity.ts";
import type { ChildRecord, StateFile } from "./state_file.ts";

/** Records the live runs of the children it watches. */
export class StateRecorder {
  readonly #file: StateFile;
  readonly #server: ProcessIdentity;
  readonly #children = new Map<string, Child>();
  /** The identity of each child's current process, once read from /proc. */
  readonly #identities = new Map<string, ProcessIdentity>();
  #closed = false;

  constructor(file: StateFile, server: ProcessIdentity) {
    this.#file = file;
    this.#server = server;
  }

  /** Follows `child` from now on. */
  watch(child: Child): void {
    this.#children.set(child.name, child);
    child.onRunStarted(() => {
      const pid = child.pid;
      if (pid === null) return;
      void identify(pid).then((identity) => {
        if (identity && child.pid === pid) this.#identities.set(child.name, identity);
        this.#changed();
      });
    });
    child.onStateChange(() => this.#changed());
  }

  /** Records the state now; resolves once it is on disk. */
  record(): Promise<void> {
    return this.#file.record({ server: this.#server, children: this.#records() });
  }

  /** At a clean shutdown: nothing is left to adopt, so the file goes. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#file.remove();
  }

  #changed(): void {
    if (!this.#closed) void this.record();
  }

  #records(): ChildRecord[] {
    const records: ChildRecord[] = [];
    for (const child of this.#children.values()) {
      const identity = this.#identities.get(child.name);
      if (!child.isLive || !identity || identity.pid !== child.pid) continue;
      const status = child.status();
      records.push({
        name: child.name,
        identity,
        startedAt: status.startedAt ?? 0,
        configPath: status.configPath ?? "",
      });
    }
    return records;
  }
}
