/**
 * A Spawner for unit tests: processes that exist only in memory, exit when told to, and
 * record the signals sent to their group.
 *
 * Owns: fake processes, their pids, pipes and exits, and `settle` to let their callbacks run.
 * Does not own: the Spawner seam itself (see `lib/process/spawner.ts`) or time (see
 * `fake_clock.ts`).
 *
 * @module
 */
import type { ExitStatus, SpawnedProcess, Spawner, SpawnSpec } from "../process/spawner.ts";

/** One fake process. */
export class FakeProcess implements SpawnedProcess {
  readonly pid: number;
  readonly spec: SpawnSpec;
  readonly status: Promise<ExitStatus>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly signals: Deno.Signal[] = [];
  /** Signals that end the process at once (like a default disposition). */
  diesOn: readonly Deno.Signal[] = ["SIGTERM", "SIGINT", "SIGKILL", "SIGQUIT", "SIGHUP"];
  #resolve!: (status: ExitStatus) => void;
  #closers: (() => void)[] = [];
  #exited = false;

  constructor(pid: number, spec: SpawnSpec) {
    this.pid = pid;
    this.spec = spec;
    this.status = new Promise((resolve) => (this.#resolve = resolve));
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.#closers.push(() => {
            try {
              controller.close();
            } catch {
              // closed already
            }
          });
        },
      });
    this.stdout = stream();
    this.stderr = stream();
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Ends the process with `status`; its pipes close. */
  exit(status: ExitStatus): void {
    if (this.#exited) return;
    this.#exited = true;
    for (const close of this.#closers) close();
    this.#resolve(status);
  }

  signalGroup(signal: Deno.Signal): boolean {
    if (this.#exited) return false;
    this.signals.push(signal);
    if (this.diesOn.includes(signal)) this.exit({ code: null, signal });
    return true;
  }
}

/** Spawns {@link FakeProcess}es with increasing pids; can be told to fail. */
export class FakeSpawner implements Spawner {
  readonly spawned: FakeProcess[] = [];
  #nextPid = 1000;
  /** When set, the next spawns throw it. */
  failWith: Error | undefined;

  spawn(spec: SpawnSpec): FakeProcess {
    if (this.failWith) throw this.failWith;
    const proc = new FakeProcess(this.#nextPid++, spec);
    this.spawned.push(proc);
    return proc;
  }

  /** The most recent process. */
  get last(): FakeProcess {
    const proc = this.spawned[this.spawned.length - 1];
    if (!proc) throw new Error("nothing was spawned");
    return proc;
  }
}

/** Lets pending promise callbacks run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
