/**
 * The one seam over the OS for running children: spawn a program as the leader of its own
 * session and process group, as another user and with its own umask if asked, observe its exit,
 * signal its whole group (or one process).
 *
 * On Linux the program runs through a chain of programs that each exec the next, so the pid the
 * server tracks is the program's own: util-linux `setsid` (a new session), `setpriv` (the user,
 * groups; only for a child with `user` or `group`), `/bin/sh -c 'umask …; exec "$@"'` (only for
 * a child with `umask`). Deno.Command has no uid or gid option, and `Deno.umask` around the
 * spawn would change the whole server's umask while other threads may be creating its files.
 *
 * @module
 */
import { resolveProgram } from "./program_lookup.ts";

/** What to run. Standard input is always /dev/null; stdout and stderr are always piped. */
export interface SpawnSpec {
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Added to the server's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Who the program runs as; undefined: as the server. */
  readonly credentials?: Credentials | undefined;
  /** The program's umask, 0 to 0o777; undefined: the server's. */
  readonly umask?: number | undefined;
}

/** The ids a child runs with. */
export interface Credentials {
  /** Real, effective and saved uid; undefined: the server's. */
  readonly uid: number | undefined;
  /** Real, effective and saved gid. */
  readonly gid: number;
  /** Every group (the supplementary list), none of the server's unless listed. */
  readonly groups: readonly number[];
}

/** Where the programs of the launch chain are; undefined when missing. */
export interface LaunchTools {
  readonly setsid: string | undefined;
  readonly setpriv: string | undefined;
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
  /**
   * Throws (or rejects) when the program cannot be started (not found, not executable, bad
   * cwd). The real one looks the program up asynchronously, then spawns.
   */
  spawn(spec: SpawnSpec): SpawnedProcess | Promise<SpawnedProcess>;
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

/** Sends `signal` to one process; false when it is gone. */
export function signalProcess(pid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export { resolveProgram } from "./program_lookup.ts";

/**
 * `setsid` from util-linux, when present (Linux): spawning through it lets Deno use its fast
 * spawn path (posix_spawn, no pre-exec hook); the child still leads a new session and process
 * group, under the same pid (setsid(1) only forks when its caller already leads a group, which
 * a freshly spawned child does not). Measured on Deno 2.9 (300 spawns of `true`, one at a
 * time): `detached: true` forks the whole server, its spawn call blocks the event loop for
 * 1.3 ms with a small heap and 8 ms with 200 MB, while through setsid the call takes 0.3 ms
 * whatever the heap; setsid's own exec (and its locale files) adds about 0.9 ms to the
 * child's start, on the child's side, never on the server's.
 */
const SETSID = Deno.build.os === "linux"
  ? ["/usr/bin/setsid", "/bin/setsid"].find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  })
  : undefined;

/** Found once, when a child first needs it: most servers never do. */
let setprivPath: Promise<string | undefined> | undefined;

/** `setpriv` from util-linux, or undefined where it is not installed. */
function findSetpriv(): Promise<string | undefined> {
  setprivPath ??= (async () => {
    for (const candidate of ["/usr/bin/setpriv", "/bin/setpriv"]) {
      try {
        if ((await Deno.stat(candidate)).isFile) return candidate;
      } catch {
        // not there
      }
    }
    return undefined;
  })();
  return setprivPath;
}

/**
 * The argv that runs `resolved` with `args` as `spec` asks: through `setsid` when there is one,
 * then `setpriv` for credentials, then `sh` for a umask; each execs the next, keeping the pid.
 * Throws when credentials are asked for and `setpriv` is missing.
 */
export function launchArgv(
  resolved: string,
  args: readonly string[],
  spec: Pick<SpawnSpec, "credentials" | "umask">,
  tools: LaunchTools,
): string[] {
  const argv = [resolved, ...args];
  if (spec.umask !== undefined) {
    const mask = spec.umask.toString(8).padStart(4, "0");
    argv.unshift("/bin/sh", "-c", `umask ${mask} && exec "$@"`, "sh");
  }
  const ids = spec.credentials;
  if (ids) {
    if (tools.setpriv === undefined) {
      throw new Error(
        "user and group need setpriv from util-linux, which was not found in /usr/bin or /bin: install util-linux",
      );
    }
    argv.unshift(
      tools.setpriv,
      ...(ids.uid === undefined ? [] : [`--reuid=${ids.uid}`]),
      `--regid=${ids.gid}`,
      ids.groups.length === 0 ? "--clear-groups" : `--groups=${ids.groups.join(",")}`,
      "--",
    );
  }
  if (tools.setsid !== undefined) argv.unshift(tools.setsid);
  return argv;
}

/** Real processes through `Deno.Command`, each the leader of a new session and process group. */
export const denoSpawner: Spawner = {
  async spawn(spec) {
    const [program, ...args] = spec.argv;
    if (program === undefined) throw new TypeError("Cannot spawn: empty argv");
    const env = { ...spec.env };
    // Resolved here so that "not found" is reported as such, with or without setsid in front.
    const resolved = await resolveProgram(program, spec.cwd, env.PATH ?? Deno.env.get("PATH"));
    const setpriv = spec.credentials ? await findSetpriv() : undefined;
    const [command, ...rest] = launchArgv(resolved, args, spec, { setsid: SETSID, setpriv });
    const options = {
      cwd: spec.cwd,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    } as const;
    const child = new Deno.Command(command!, {
      ...options,
      args: rest,
      detached: SETSID === undefined,
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
      // Right after the spawn, setsid may not have made the group yet: signal the child itself.
      signalGroup: (signal) => signalProcessGroup(pid, signal) || signalProcess(pid, signal),
    };
  },
};
