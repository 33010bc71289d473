/**
 * One check of a probe against the real world: a TCP connect, an HTTP GET, a command; and the
 * matcher a `log` probe feeds the child's lines to.
 *
 * Owns: what one check does and when it counts as a success, its own time limit, and cleaning up
 * after it (a connection closed, a response body discarded, a command's process group killed on
 * abort). Does not own: the schedule of checks, thresholds, or what a result means for the
 * child (see `probe_runner.ts`); parsing the probe config (see `lib/config/probe_config.ts`).
 *
 * @module
 */
import type { LogProbe, ProbeAction } from "../config/probe_config.ts";

/** Where a check runs: the child's working directory and environment, and when to give up. */
export interface ProbeContext {
  /** Aborting ends the check at once, as a failure. */
  readonly signal: AbortSignal;
  /** The working directory of an `exec` probe's command. */
  readonly cwd: string;
  /** Added to the server's environment for an `exec` probe's command. */
  readonly env: Readonly<Record<string, string>>;
}

/** One check: resolves true on success; false (or a rejection) is a failure. */
export type ProbeCheck = (signal: AbortSignal) => Promise<boolean>;

/** What a check needs of a probe config: the action and its time limit. */
export type ProbeSpec = ProbeAction & { readonly timeoutMs: number };

/** The User-Agent of HTTP checks, so a child's access log can tell them apart. */
export const PROBE_USER_AGENT = "supervisor-ts-probe";

/**
 * Runs one check of a `tcp`, `http` or `exec` probe, bounded by `probe.timeoutMs` and by
 * `ctx.signal`; never rejects for a failed check (refused, timed out, exited non-zero, not
 * found …), only for a `log` probe, which is not run but fed lines (see {@link LogMatcher}).
 *
 * - tcp: a connection is opened, then closed at once.
 * - http: a GET with redirects not followed and no keep-alive; 2xx and 3xx are successes; the
 *   body is discarded unread.
 * - exec: the command runs in a process group of its own with stdin, stdout and stderr on
 *   /dev/null; exit code 0 is a success; at the time limit or abort the whole group is killed.
 */
export async function runProbe(probe: ProbeSpec, ctx: ProbeContext): Promise<boolean> {
  if (probe.kind === "log") {
    throw new TypeError("A log probe is not run: feed the child's lines to a LogMatcher");
  }
  if (ctx.signal.aborted) return false;
  const limit = new AbortController();
  const onAbort = () => limit.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(
    () => limit.abort(new DOMException("The probe timed out", "TimeoutError")),
    probe.timeoutMs,
  );
  try {
    switch (probe.kind) {
      case "tcp":
        return await connects(probe.host, probe.port, limit.signal);
      case "http":
        return await answers(probe.url, limit.signal);
      case "exec":
        return await exitsZero(probe.argv, ctx, limit.signal);
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener("abort", onAbort);
  }
}

/** The check of `probe` in `cwd` with `env`, as the probe runner takes it. */
export function probeCheck(
  probe: ProbeSpec,
  where: { readonly cwd: string; readonly env: Readonly<Record<string, string>> },
): ProbeCheck {
  return (signal) => runProbe(probe, { signal, cwd: where.cwd, env: where.env });
}

/** Whether a TCP connection to `host:port` opens before `signal` aborts. */
async function connects(host: string, port: number, signal: AbortSignal): Promise<boolean> {
  const connecting = Deno.connect({ hostname: host, port, signal });
  // A connection that opens after the abort is closed as soon as it does.
  connecting.then((conn) => signal.aborted && closeQuietly(conn), () => {});
  closeQuietly(await untilAborted(connecting, signal));
  return true;
}

/** Closes `conn`, which the connect's signal may have closed already. */
function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Whether a GET of `url` is answered with a 2xx or 3xx status before `signal` aborts. */
async function answers(url: string, signal: AbortSignal): Promise<boolean> {
  const response = await fetch(url, {
    signal,
    redirect: "manual",
    // Kubernetes' prober does the same: a pooled connection the child closed while idle would
    // fail the next check for nothing.
    headers: { "connection": "close", "user-agent": PROBE_USER_AGENT },
  });
  await response.body?.cancel();
  return response.status >= 200 && response.status < 400;
}

/** Whether `argv` exits with 0 before `signal` aborts; on abort its process group is killed. */
async function exitsZero(
  argv: readonly string[],
  ctx: ProbeContext,
  signal: AbortSignal,
): Promise<boolean> {
  const [program, ...args] = argv;
  if (program === undefined || signal.aborted) return false;
  const child = new Deno.Command(program, {
    args,
    cwd: ctx.cwd,
    env: { ...ctx.env },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    // A new session, so a group of its own: whatever the command started is killed with it.
    detached: true,
  }).spawn();
  let exited = false;
  const kill = () => {
    if (exited) return;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
  };
  signal.addEventListener("abort", kill, { once: true });
  try {
    const status = await child.status;
    exited = true;
    return status.success && !signal.aborted;
  } finally {
    signal.removeEventListener("abort", kill);
  }
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * The readiness test of a `log` probe: searches each line offered for the pattern until one
 * matches, and remembers that it did; after that, lines are no longer searched.
 */
export class LogMatcher {
  readonly #pattern: RegExp;
  #matched = false;

  /** `pattern` (a {@link LogProbe}'s, or any) is searched without `g` or `y`, so statelessly. */
  constructor(pattern: LogProbe["pattern"]) {
    this.#pattern = /[gy]/.test(pattern.flags)
      ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""))
      : pattern;
  }

  /** Whether a line offered so far has matched. */
  get matched(): boolean {
    return this.#matched;
  }

  /** Searches `line` (once nothing has matched yet); true when it or an earlier line matched. */
  offer(line: string): boolean {
    if (!this.#matched && this.#pattern.test(line)) this.#matched = true;
    return this.#matched;
  }
}
