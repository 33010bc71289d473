/**
 * A process this server did not spawn but took over: a child that a previous server started
 * and left running when it was killed. It is not our child, so its exit cannot be awaited: one
 * shared watch looks at every adopted process at a fixed period (reading /proc/PID/stat, so a
 * reused pid is never taken for it), and its exit status is unknown. Its output is not
 * captured: its pipes went to the server that died, so a child that writes after that gets
 * EPIPE or SIGPIPE (docs/configuration.md, "adopt").
 *
 * Owns: the {@link SpawnedProcess} of an adopted run, and the watch. Does not own: deciding
 * what to adopt (see `lib/server/adoption.ts`).
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import { stillAlive } from "./proc_identity.ts";
import type { ProcessIdentity } from "./proc_identity.ts";
import { signalProcess, signalProcessGroup } from "./spawner.ts";
import type { ExitStatus, SpawnedProcess } from "./spawner.ts";

/** How often adopted processes are looked at: their exit is seen within this. */
export const ADOPTED_WATCH_MS = 250;

/** One watch over every adopted process of a server: one timer, one /proc read per process. */
export class AdoptionWatch {
  readonly #clock: Clock;
  readonly #watched = new Map<ProcessIdentity, () => void>();
  #running = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Resolves once the process `identity` names is gone. */
  gone(identity: ProcessIdentity): Promise<void> {
    return new Promise((resolve) => {
      this.#watched.set(identity, resolve);
      if (!this.#running) void this.#loop();
    });
  }

  /** Number of processes watched. */
  get size(): number {
    return this.#watched.size;
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#watched.size > 0) {
        await this.#clock.sleep(ADOPTED_WATCH_MS);
        const entries = [...this.#watched];
        const alive = await Promise.all(entries.map(([identity]) => stillAlive(identity)));
        entries.forEach(([identity, resolve], i) => {
          if (alive[i]) return;
          this.#watched.delete(identity);
          resolve();
        });
      }
    } finally {
      this.#running = false;
    }
  }
}

/** The run of an adopted process, as the child sees any run. */
export function adoptedProcess(identity: ProcessIdentity, watch: AdoptionWatch): SpawnedProcess {
  const pid = identity.pid;
  return {
    pid,
    // Not our child: how it ended cannot be known.
    status: watch.gone(identity).then((): ExitStatus => ({ code: null, signal: null })),
    // Its output is not captured: the pipes were the previous server's.
    stdout: null,
    stderr: null,
    // It leads its own group (it was spawned that way): the group, else the process itself.
    signalGroup: (signal) => signalProcessGroup(pid, signal) || signalProcess(pid, signal),
  };
}
