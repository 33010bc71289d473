/**
 * Processes of the benchmark: starting servers with their output in files, tagging every
 * process with a run marker, reading RSS, and making sure nothing is left behind.
 *
 * Every process the benchmark starts (servers, the echo floor, the floor's `sleep`s) carries the
 * environment variable {@link MARKER_NAME} with this run's value, and so do the children of the
 * servers (they inherit the server's environment). The final sweep finds leftovers by that
 * marker only, so other users' `sleep 1000` on the same machine are never touched.
 *
 * @module
 */
import { errorMessage } from "../../lib/errors.ts";
import { join } from "node:path";

/** Name of the environment variable that tags this run's processes. */
export const MARKER_NAME = "SUPERVISOR_TS_BENCH_RUN";

/** Value of the marker for this run. */
export const MARKER_VALUE = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

const MARKER_BYTES = new TextEncoder().encode(`${MARKER_NAME}=${MARKER_VALUE}\0`);

/** Environment for every process the benchmark starts. */
export function benchEnv(): Record<string, string> {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete env.RUST_BACKTRACE;
  env[MARKER_NAME] = MARKER_VALUE;
  return env;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Writes every dirty page back (`sync`): a measurement must not pay for the writeback of what
 * ran before it (the log workload writes gigabytes).
 */
export async function synced(): Promise<void> {
  await new Deno.Command("sync", { stdin: "null", stdout: "null", stderr: "null" }).output();
}

/** A long-running process whose stdout and stderr go to files (so nobody has to drain them). */
export class LoggedProcess {
  readonly name: string;
  readonly proc: Deno.ChildProcess;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(name: string, proc: Deno.ChildProcess, stdoutPath: string, stderrPath: string) {
    this.name = name;
    this.proc = proc;
    this.stdoutPath = stdoutPath;
    this.stderrPath = stderrPath;
    this.status = proc.status.then((s) => {
      this.exited = true;
      return s;
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** The last `bytes` of the process's stderr, for error messages. */
  stderrTail(bytes = 2000): string {
    try {
      const text = Deno.readTextFileSync(this.stderrPath);
      return text.length > bytes ? "…" + text.slice(-bytes) : text;
    } catch {
      return "";
    }
  }

  /** Waits for `listening on 127.0.0.1:PORT` on stdout and returns the port. */
  async listeningPort(ms = 30_000): Promise<number> {
    const deadline = performance.now() + ms;
    for (;;) {
      let text = "";
      try {
        text = Deno.readTextFileSync(this.stdoutPath);
      } catch {
        // not created yet
      }
      const match = text.match(/listening on 127\.0\.0\.1:(\d+)/);
      if (match) return Number(match[1]);
      if (this.exited) {
        const status = await this.status;
        throw new Error(
          `${this.name} exited with code ${status.code} before listening:\n${this.stderrTail()}`,
        );
      }
      if (performance.now() > deadline) {
        throw new Error(`${this.name} did not listen within ${ms} ms:\n${this.stderrTail()}`);
      }
      await delay(5);
    }
  }

  /** Sends `signal` unless the process has exited. */
  signal(signal: Deno.Signal): void {
    if (this.exited) return;
    try {
      this.proc.kill(signal);
    } catch {
      // exited meanwhile
    }
  }

  /** Waits up to `ms` for the exit; true when it exited. */
  async exitWithin(ms: number): Promise<boolean> {
    if (this.exited) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const done = await Promise.race([this.status.then(() => true as const), timeout]);
    clearTimeout(timer);
    return done;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 20_000): Promise<void> {
    this.signal("SIGTERM");
    if (!(await this.exitWithin(graceMs))) {
      this.signal("SIGKILL");
      await this.status;
    }
  }
}

/** Everything started by {@link startLogged}, so cleanup can find it even after an error. */
export const started = new Set<LoggedProcess>();

/**
 * Starts `argv` in `dir` with stdout and stderr redirected to `<name>.out` / `<name>.err` there.
 * `sh -c exec` does the redirection, so the pid is the program's own.
 */
export function startLogged(
  name: string,
  argv: readonly string[],
  dir: string,
  cwd: string,
  extraEnv: Record<string, string> = {},
): LoggedProcess {
  const stdoutPath = join(dir, `${name}.out`);
  const stderrPath = join(dir, `${name}.err`);
  const proc = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'out="$1"; err="$2"; shift 2; exec "$@" >"$out" 2>"$err"',
      "sh",
      stdoutPath,
      stderrPath,
      ...argv,
    ],
    cwd,
    env: { ...benchEnv(), ...extraEnv },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const logged = new LoggedProcess(name, proc, stdoutPath, stderrPath);
  started.add(logged);
  return logged;
}

/** Resident set size of `pid` in KiB (VmRSS), or undefined when it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc/PID/stat times (`getconf CLK_TCK`, 100 on Linux). */
let clockTicks: number | undefined;

/** Reads `getconf CLK_TCK` once. */
export async function clockTicksPerSecond(): Promise<number> {
  if (clockTicks !== undefined) return clockTicks;
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    const value = Number(new TextDecoder().decode(out.stdout).trim());
    clockTicks = Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/**
 * CPU time `pid` has used so far (utime + stime of /proc/PID/stat), in clock ticks, or
 * undefined when it is gone. The command name may hold spaces and parentheses (pm2 names its
 * daemon `PM2 vX: God Daemon (PATH)`), so fields are counted after the last `)`.
 */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0];
  outer: for (let i = haystack.indexOf(first!); i >= 0; i = haystack.indexOf(first!, i + 1)) {
    if (i + needle.length > haystack.length) return false;
    for (let j = 1; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

/** A live process of this run: pid and command line. */
export interface Tagged {
  readonly pid: number;
  readonly cmdline: string;
}

/** Live (non-zombie) processes other than this one that carry this run's marker. */
export function taggedProcesses(): Tagged[] {
  const found: Tagged[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (pid === Deno.pid) continue;
    let environ: Uint8Array;
    try {
      environ = Deno.readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    if (!contains(environ, MARKER_BYTES) || !isAlive(pid)) continue;
    let cmdline = "";
    try {
      cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").join(" ").trim();
    } catch {
      // gone meanwhile
    }
    found.push({ pid, cmdline });
  }
  return found;
}

/** Whether a command line is one of the benchmark's `sleep 1000` children (any path to sleep). */
export function isBenchSleep(cmdline: string): boolean {
  return /^(\S*\/)?sleep 1000$/.test(cmdline);
}

/**
 * Things to undo before the sweep, in the order registered: a peer that runs its own daemon
 * (pm2) or that would restart what the sweep kills registers how to end it fast.
 */
const cleanupHooks = new Map<string, () => Promise<void>>();

/** Registers (or replaces) the cleanup hook `key`. */
export function onCleanup(key: string, hook: () => Promise<void>): void {
  cleanupHooks.set(key, hook);
}

/** Forgets the cleanup hook `key` once what it undoes is gone. */
export function offCleanup(key: string): void {
  cleanupHooks.delete(key);
}

/**
 * Runs the cleanup hooks (peers' supervisors are killed first, so nothing restarts what the
 * sweep kills), stops every process this run started (servers gracefully), then SIGKILLs
 * whatever still carries the marker. Returns what had to be killed by the sweep.
 */
export async function cleanupAll(graceMs = 20_000): Promise<Tagged[]> {
  for (const [key, hook] of [...cleanupHooks]) {
    try {
      await hook();
    } catch (error) {
      console.error(`cleanup ${key}: ${errorMessage(error)}`);
    }
    cleanupHooks.delete(key);
  }
  await Promise.all([...started].map((p) => p.stop(graceMs)));
  let leftovers = taggedProcesses();
  const swept = leftovers;
  for (let attempt = 0; attempt < 50 && leftovers.length > 0; attempt++) {
    for (const { pid } of leftovers) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    await delay(20);
    leftovers = taggedProcesses();
  }
  if (leftovers.length > 0) {
    throw new Error(
      `cannot kill ${leftovers.length} leftover processes: ${
        leftovers.map((p) => p.pid).join(" ")
      }`,
    );
  }
  return swept;
}

/** The path of executable `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * util-linux `setsid` where supervisor-ts looks for it (/usr/bin, /bin), for the floors that
 * give each child a session of its own the same way; undefined where it is missing.
 */
export function findSetsid(): string | undefined {
  return ["/usr/bin/setsid", "/bin/setsid"].find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}
