/**
 * The common interface every measured system implements (supervisor-ts itself, supervisord,
 * pm2), so that each workload is written once. A system is configured with a list of
 * {@link ChildSpec}s, none started; the workload then asks it to start children, to report
 * status, and to shut down, and reads the RSS and CPU time of {@link Instance.pid}.
 *
 * @module
 */
import { delay, isAlive } from "../procs.ts";

/** One child, described the same way for every system. */
export interface ChildSpec {
  /** Unique, `[a-z0-9]+`. */
  readonly name: string;
  /** Program and arguments, run without a shell. */
  readonly argv: readonly string[];
  /** Absolute working directory. */
  readonly cwd: string;
  /** Restart on every exit, at once (no delay, no backoff, no give-up); otherwise never. */
  readonly restart: boolean;
  /** File that receives the child's stdout (stderr is discarded); none: discard both. */
  readonly stdoutPath?: string;
  /**
   * stderr into the same file too, where the system can share one file between the streams
   * (supervisor-ts); so that no stream of the child needs a pipe to the supervisor.
   */
  readonly stderrToo?: boolean;
  /** Rotation of `stdoutPath`: renamed to `PATH.1` … when it would exceed `maxBytes`. */
  readonly rotate?: { readonly maxBytes: number; readonly backups: number };
  /**
   * The child writes `stdoutPath` itself, with no pipe through the supervisor, where the
   * system offers that (supervisor-ts: `direct: true`); never with `rotate`.
   */
  readonly direct?: boolean;
}

/** How a status round trip was timed. */
export type StatusKind = "persistent" | "fresh";

/** A running supervisor with its children configured. */
export interface Instance {
  /** The supervisor process whose RSS and CPU time are measured. */
  readonly pid: number;
  /** Asks to start every configured child; resolves when the request is answered. */
  startAll(): Promise<void>;
  /** Asks to start one child; resolves when the request is answered. */
  start(name: string): Promise<void>;
  /** Asks to stop one child; resolves when the request is answered. */
  stop(name: string): Promise<void>;
  /** The pids of the children its status reports as running (or starting, with a pid). */
  runningPids(): Promise<number[]>;
  /**
   * Round-trip times in ms of the status request over the system's own API, after `warmup`
   * untimed ones: `n` of them, or fewer when `budgetMs` runs out; or the reason the system
   * cannot be asked that way.
   */
  statusTimes(
    kind: StatusKind,
    n: number,
    warmup: number,
    budgetMs: number,
  ): Promise<number[] | string>;
  /** Size in bytes of one status answer over the API. */
  statusBytes(): Promise<number>;
  /** The command line of its status CLI and the environment it needs. */
  statusCli(): { argv: string[]; env: Record<string, string> };
  /**
   * `n` clients at once, each opening its own connection and asking for status: ms until all
   * were answered, or the reason it cannot be asked that way.
   */
  concurrentStatus(n: number): Promise<number | string>;
  /**
   * Asks the supervisor to stop every child and exit, the way its documentation says; true when
   * it exited within `limitMs` (after that the caller kills it).
   */
  shutdown(limitMs: number): Promise<boolean>;
  /** Kills the supervisor and its children at once (cleanup after an error). */
  kill(): Promise<void>;
}

/** A system that can be measured. */
export interface Peer {
  /** The column name. */
  readonly name: string;
  /** The path of its main executable, or undefined when it is not installed. */
  found(): string | undefined;
  /** Its version, as its own files say it. */
  version(): Promise<string>;
  /** What a status sample over its API is (for the notes). */
  readonly statusApi: string;
  /** What its status CLI is (for the notes). */
  readonly statusCliIs: string;
  /** What a reader of the results must know to read this system's numbers right. */
  readonly notes: readonly string[];
  /** Why it cannot rotate a child's output file by size itself, when it cannot. */
  readonly noRotation?: string;
  /** An empty program of the runtime its CLI is written in: the CLI's own floor. */
  runtimeFloor(): { argv: string[]; is: string };
  /** Starts the supervisor in the empty directory `dir` with `children` configured, none started. */
  start(dir: string, children: readonly ChildSpec[]): Promise<Instance>;
}

/** A free TCP port on 127.0.0.1 (bound, read and released: the caller binds it next). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** Waits until `pid` is gone (or a zombie); true when it went within `ms`. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (isAlive(pid)) {
    if (performance.now() > deadline) return false;
    await delay(10);
  }
  return true;
}

/** SIGKILL `pid`, ignoring a process that is gone. */
export function killHard(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}
