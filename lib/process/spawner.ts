/**
 * The one seam over the OS for running children: spawn a program as the leader of its own
 * process group, observe its exit, signal its whole group.
 *
 * @module
 */

/** What to run. Standard input is always /dev/null; stdout and stderr are always piped. */
export interface SpawnSpec {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** How a process ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: Deno.Signal | null;
}

/** A running child process. */
export interface SpawnedProcess {
  readonly pid: number;
  /** Settles once, as soon as the process has exited and been reaped. */
  readonly status: Promise<ExitStatus>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** Sends `signal` to the child's whole process group; false when no process was left. */
  signalGroup(signal: Deno.Signal): boolean;
}

/** Starts processes. */
export interface Spawner {
  /** Throws when the program cannot be started (not found, not executable, bad cwd). */
  spawn(spec: SpawnSpec): SpawnedProcess;
}

/** Sends `signal` to process group `pgid`; false when the group has no process left. */
export function signalProcessGroup(pgid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Real processes through `Deno.Command`, each the leader of a new session and process group. */
export const denoSpawner: Spawner = {
  spawn(spec) {
    const [program, ...args] = spec.argv;
    if (program === undefined) throw new TypeError("Cannot spawn: empty argv");
    const child = new Deno.Command(program, {
      args,
      cwd: spec.cwd,
      env: { ...spec.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    const pid = child.pid;
    return {
      pid,
      status: child.status.then((s) => ({
        code: s.signal === null ? s.code : null,
        signal: s.signal,
      })),
      stdout: child.stdout,
      stderr: child.stderr,
      signalGroup: (signal) => signalProcessGroup(pid, signal),
    };
  },
};
