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

/**
 * What to run. Standard input is always /dev/null; stdout and stderr are piped, unless `files`
 * names a file for them.
 */
export interface SpawnSpec {
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Added to the server's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Who the program runs as; undefined: as the server. */
  readonly credentials?: Credentials | undefined;
  /** The program's umask, 0 to 0o777; undefined: the server's. */
  readonly umask?: number | undefined;
  /**
   * Files the program writes its stdout or stderr to itself, opened for appending before it
   * runs (and before it takes its `credentials`); the same path for both: one open file. A
   * stream named here is not piped.
   */
  readonly files?: DirectFiles | undefined;
  /**
   * How recently a finding of the program on PATH must have been verified to be used without
   * a look (an automatic restart); 0 or undefined: looked at now.
   */
  readonly trustMs?: number | undefined;
}

/** The output files a program gets from the kernel, by stream. */
export interface DirectFiles {
  readonly stdout?: string | undefined;
  readonly stderr?: string | undefined;
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
  /** The pipe of its stdout; null when it writes to a file of its own (`files`). */
  readonly stdout: ReadableStream<Uint8Array> | null;
  readonly stderr: ReadableStream<Uint8Array> | null;
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
 * The `sh -c` step that sets the umask and opens the output files named in `files`, or
 * undefined when neither is asked for. The paths are operands, never part of the script.
 */
function shellStep(
  umask: number | undefined,
  files: DirectFiles | undefined,
): string[] | undefined {
  const steps: string[] = [];
  const operands: string[] = [];
  if (umask !== undefined) steps.push(`umask ${umask.toString(8).padStart(4, "0")}`);
  const redirects: string[] = [];
  if (files?.stdout !== undefined) {
    operands.push(files.stdout);
    redirects.push(`>>"$${operands.length}"`);
  }
  if (files?.stderr !== undefined) {
    if (files.stderr === files.stdout) redirects.push("2>&1");
    else {
      operands.push(files.stderr);
      redirects.push(`2>>"$${operands.length}"`);
    }
  }
  if (redirects.length > 0) steps.push(`exec ${redirects.join(" ")}`, `shift ${operands.length}`);
  if (steps.length === 0) return undefined;
  return ["/bin/sh", "-c", [...steps, 'exec "$@"'].join(" && "), "sh", ...operands];
}

/**
 * The argv that runs `resolved` with `args` as `spec` asks: through `setsid` when there is one,
 * then `sh` for a umask and the output files (opened as the server, so a child that runs as
 * another user still gets files only the server may open), then `setpriv` for credentials;
 * each execs the next, keeping the pid. Throws when credentials are asked for and `setpriv`
 * is missing.
 */
export function launchArgv(
  resolved: string,
  args: readonly string[],
  spec: Pick<SpawnSpec, "credentials" | "umask" | "files">,
  tools: LaunchTools,
): string[] {
  const argv = [resolved, ...args];
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
  // The umask holds across setpriv's exec, and the files must be opened before it.
  const shell = shellStep(spec.umask, spec.files);
  if (shell) argv.unshift(...shell);
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
    const resolved = await resolveProgram(
      program,
      spec.cwd,
      env.PATH ?? Deno.env.get("PATH"),
      spec.trustMs,
    );
    const setpriv = spec.credentials ? await findSetpriv() : undefined;
    const [command, ...rest] = launchArgv(resolved, args, spec, { setsid: SETSID, setpriv });
    const options = {
      cwd: spec.cwd,
      env,
      stdin: "null",
      stdout: spec.files?.stdout === undefined ? "piped" : "null",
      stderr: spec.files?.stderr === undefined ? "piped" : "null",
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
      stdout: options.stdout === "piped" ? child.stdout : null,
      stderr: options.stderr === "piped" ? child.stderr : null,
      // Right after the spawn, setsid may not have made the group yet: signal the child itself.
      signalGroup: (signal) => signalProcessGroup(pid, signal) || signalProcess(pid, signal),
    };
  },
};
