/**
 * The operations of the server on its children: start, stop, restart, trystart, check, info,
 * and shutdown.
 *
 * Owns: which operation is allowed in which state, reading the config at every operation, and
 * the result of each operation as data (a message and a payload) or a {@link SupervisorError}.
 * Does not own: the wire (see `dispatch.ts`) or the process mechanics (see `lib/process/`).
 *
 * @module
 */
import type { ChildConfig, Hook, Repeat } from "../config/child_config.ts";
import type { ConfigStore } from "../config/store.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import { Child, describeExit } from "../process/child.ts";
import type { ChildDeps, ChildStatus, ExitRecord } from "../process/child.ts";
import type { ChildState } from "../process/state.ts";
import { VERSION } from "../version.ts";
import { assertChildName } from "../config/names.ts";
import { hookText, planPrehooks } from "./hooks.ts";
import { RepeatTimers } from "./repeat_timers.ts";
import { readLastLines } from "../process/file_tail.ts";
import type { Follower } from "../process/log_bus.ts";

/** The outcome of a successful operation. */
export interface OpResult {
  readonly message: string;
  readonly data?: Record<string, unknown>;
  /** For `log --follow`: the lines to stream after the response. */
  readonly follow?: Follower;
}

/** What `log` shows. */
export interface LogOptions {
  readonly stream: "stdout" | "stderr";
  readonly lines: number;
  readonly follow: boolean;
}

/** Facts about the running server that `info` reports. */
export interface ServerFacts {
  readonly pid: number;
  readonly startedAt: number;
  readonly listen: () => string;
  readonly encrypt: boolean;
}

/** How long shutdown waits for children's output to be drained after they stopped. */
const DRAIN_ON_SHUTDOWN_MS = 2000;

/** What a hook did, as the response reports it. */
export interface HookReport {
  readonly hook: string;
  readonly ok: boolean;
  readonly message: string;
  readonly code?: string;
}

/** The children of one server and the operations on them. */
export class Supervisor {
  readonly #store: ConfigStore;
  readonly #deps: ChildDeps;
  readonly #facts: ServerFacts;
  readonly #children = new Map<string, Child>();
  readonly #repeats: RepeatTimers;
  #shuttingDown: Promise<void> | undefined;

  constructor(store: ConfigStore, deps: ChildDeps, facts: ServerFacts) {
    this.#store = store;
    this.#deps = {
      ...deps,
      configFor: deps.configFor ?? ((name) => {
        try {
          return store.childConfig(name);
        } catch {
          return undefined;
        }
      }),
    };
    this.#facts = facts;
    this.#repeats = new RepeatTimers(deps.clock);
  }

  /** Starts a child that is not running (or is waiting to be restarted, or gave up). */
  start(name: string): Promise<OpResult> {
    return this.#withPrehooks(name, "start", () => this.#startBare(name));
  }

  /** Stops a running child (or cancels its pending restart), then runs its posthooks. */
  async stop(name: string): Promise<OpResult> {
    if (name === "all") return this.stopAll();
    const result = await this.#stopBare(name);
    const child = this.#children.get(name);
    const config = child ? this.#currentConfig(child) : undefined;
    if (!config || config.posthooks.length === 0) return result;
    const reports: HookReport[] = [];
    for (const hook of config.posthooks) reports.push(await this.#runPosthook(hook));
    const notes = reports.map((r) =>
      `posthook "${r.hook}": ${r.ok ? r.message : `failed: ${r.message}`}`
    );
    return {
      message: [result.message, ...notes].join("; "),
      data: { ...result.data, posthooks: reports },
    };
  }

  /** Stops every running child in parallel and cancels every pending restart. */
  async stopAll(): Promise<OpResult> {
    this.#guard();
    const children = [...this.#children.values()];
    const results = await Promise.allSettled(children.map((child) =>
      child.enqueue(async () => {
        this.#repeats.cancel(child.name);
        if (child.cancelRestart()) return child.name;
        if (!child.isLive) return undefined;
        await child.terminate(this.#currentConfig(child));
        return child.name;
      })
    ));
    const stopped = results.flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value] : []));
    const failed = results.flatMap((r, i) =>
      r.status === "rejected" ? [`${children[i]!.name}: ${String(r.reason)}`] : []
    );
    if (failed.length > 0) {
      throw new SupervisorError("INTERNAL", `Cannot stop every child: ${failed.join("; ")}`);
    }
    return { message: "stop all success", data: { stopped: stopped.sort() } };
  }

  /**
   * Stops a running child and starts it again with its config as it is now; a child waiting
   * to be restarted, or that gave up (FATAL), is started at once.
   */
  restart(name: string): Promise<OpResult> {
    return this.#withPrehooks(name, "restart", () => this.#restartBare(name));
  }

  /** Starts a child, restarting it first if it is running (for deploy scripts). */
  trystart(name: string): Promise<OpResult> {
    return this.#withPrehooks(name, "trystart", () => this.#trystartBare(name));
  }

  /** Every known child (defined in the loadpaths or started before), or one of them. */
  check(name?: string): OpResult {
    let defined = new Map<string, string>();
    const problems: string[] = [];
    try {
      const catalog = this.#store.catalog();
      defined = new Map([...catalog.files].map(([n, f]) => [n, f.path]));
      problems.push(...catalog.problems.map((p) => p.message));
    } catch (error) {
      problems.push(errorMessage(error));
    }
    if (name !== undefined) assertChildName(name);
    const names = name === undefined
      ? [...new Set([...defined.keys(), ...this.#children.keys()])].sort()
      : [name];
    const children = names.flatMap((n) => {
      const child = this.#children.get(n);
      if (child) return [this.#statusOf(child)];
      const path = defined.get(n);
      return path === undefined ? [] : [neverStarted(n, path, this.#deps.clock.now())];
    });
    if (name !== undefined && children.length === 0) {
      throw new SupervisorError(
        "NOT_FOUND",
        `Cannot check child "${name}": no such child is defined or was started`,
        {
          child: name,
        },
      );
    }
    const counts = countStates(children.map((c) => c.state as ChildState));
    const summary = Object.entries(counts).map(([state, n]) => `${n} ${state.toLowerCase()}`).join(
      ", ",
    );
    return {
      message: `${children.length} ${children.length === 1 ? "child" : "children"}${
        summary ? `: ${summary}` : ""
      }`,
      data: { children, problems },
    };
  }

  /**
   * The last lines of a child's stdout or stderr: from its output file when it has one, else
   * from the tail kept in memory; with `follow`, also a follower of the lines to come.
   */
  async log(name: string, options: LogOptions): Promise<OpResult> {
    this.#guard();
    assertChildName(name);
    const existing = this.#children.get(name);
    const config = existing ? this.#currentConfig(existing) : this.#store.childConfig(name);
    const child = existing ?? this.#newChild(name);
    const target = config?.[options.stream];
    // Subscribe and take the published size in one synchronous step: the pump publishes a chunk
    // and records the file's size in one step, so the answer ends exactly where events begin.
    const follow = options.follow ? child.follow([options.stream]) : undefined;
    let end: number | undefined;
    if (target) {
      try {
        end = child.publishedEnd(options.stream) ?? Deno.statSync(target.path).size;
      } catch {
        end = 0;
      }
    }
    let lines: string[];
    let source: Record<string, unknown>;
    try {
      if (target) {
        lines = end === 0
          ? []
          : await readLastLines(target.path, options.lines, { end, complete: options.follow });
        source = { source: "file", path: target.path };
      } else {
        lines = child.recentLines(options.stream, options.lines, options.follow);
        source = { source: "memory", path: null };
      }
    } catch (error) {
      follow?.close();
      throw new SupervisorError(
        "INTERNAL",
        `Cannot read "${target?.path}": ${errorMessage(error)}`,
      );
    }
    const result = {
      message: `${lines.length} ${
        lines.length === 1 ? "line" : "lines"
      } of ${name} ${options.stream}${follow ? ", following" : ""}`,
      data: { child: name, stream: options.stream, ...source, lines },
    };
    return follow ? { ...result, follow } : result;
  }

  /** Reopens every child's output files (SIGHUP, after an external logrotate). */
  async reopenLogs(): Promise<void> {
    await Promise.all([...this.#children.values()].map((child) => child.reopenLogs()));
  }

  /** Facts about the server. */
  info(): OpResult {
    const facts = this.#facts;
    const now = this.#deps.clock.now();
    let loadpaths: readonly string[] = [];
    let mode = "unknown";
    const problems: string[] = [];
    try {
      const config = this.#store.serverConfig();
      loadpaths = config.loadpaths;
      mode = config.mode;
    } catch (error) {
      problems.push(errorMessage(error));
    }
    const states = [...this.#children.values()].map((c) => c.state);
    const running = [...this.#children.values()].filter((c) => c.isLive).map((c) => c.name).sort();
    return {
      message: `supervisor-ts ${VERSION}, pid ${facts.pid}, listening on ${facts.listen()}`,
      data: {
        version: VERSION,
        pid: facts.pid,
        config_path: this.#store.serverPath,
        listen: facts.listen(),
        encrypt: facts.encrypt ? "on" : "off",
        mode,
        loadpaths,
        started_at: new Date(facts.startedAt).toISOString(),
        uptime_ms: now - facts.startedAt,
        running,
        counts: countStates(states),
        repeat_timers: this.#repeats.size,
        problems,
      },
    };
  }

  /** Refuses new operations, cancels timers and stops every child gracefully. Idempotent. */
  shutdown(): Promise<void> {
    this.#shuttingDown ??= (async () => {
      this.#repeats.cancelAll();
      const children = [...this.#children.values()];
      for (const child of children) child.endFollows();
      await Promise.allSettled(children.map((child) =>
        child.enqueue(async () => {
          child.cancelRestart();
          if (child.isLive) await child.terminate(this.#currentConfig(child));
        })
      ));
      await Promise.allSettled(children.map((child) => child.drained(DRAIN_ON_SHUTDOWN_MS)));
    })();
    return this.#shuttingDown;
  }

  /** Whether shutdown has begun. */
  get shuttingDown(): boolean {
    return this.#shuttingDown !== undefined;
  }

  #startBare(name: string): Promise<OpResult> {
    return this.#queued(name, async (child) => {
      const config = this.#store.childConfig(name);
      if (child.isLive) throw alreadyRunning(child);
      const pid = await child.spawn(config);
      return { message: `start ${name} success`, data: { pid, child: this.#statusOf(child) } };
    });
  }

  #stopBare(name: string): Promise<OpResult> {
    return this.#queued(name, async (child) => {
      this.#repeats.cancel(name);
      if (child.cancelRestart()) {
        return {
          message: `stop ${name} success (its pending restart was cancelled)`,
          data: { exit: null, child: this.#statusOf(child) },
        };
      }
      if (!child.isLive) throw notRunning(child, "stop");
      const exit = await child.terminate(this.#currentConfig(child));
      return {
        message: `stop ${name} success`,
        data: { exit: exitJson(exit), child: this.#statusOf(child) },
      };
    });
  }

  #restartBare(name: string): Promise<OpResult> {
    return this.#queued(name, async (child) => {
      const waiting = child.state === "BACKOFF" || child.state === "FATAL";
      if (!child.isLive && !waiting) throw notRunning(child, "restart");
      // Read the new config before stopping anything: a broken file must not take the child down.
      const config = this.#store.childConfig(name);
      if (child.isLive) await child.terminate(this.#currentConfig(child));
      const pid = await child.spawn(config);
      return { message: `restart ${name} success`, data: { pid, child: this.#statusOf(child) } };
    });
  }

  #trystartBare(name: string): Promise<OpResult> {
    return this.#queued(name, async (child) => {
      const config = this.#store.childConfig(name);
      const wasLive = child.isLive;
      if (wasLive) await child.terminate(this.#currentConfig(child));
      const pid = await child.spawn(config);
      return {
        message: `trystart ${name} success (${wasLive ? "restarted" : "started"})`,
        data: { pid, restarted: wasLive, child: this.#statusOf(child) },
      };
    });
  }

  /** Plans the prehook chain of `name` (refusing cycles before anything runs), runs it, then `op`. */
  async #withPrehooks(
    name: string,
    opName: string,
    op: () => Promise<OpResult>,
  ): Promise<OpResult> {
    this.#guard();
    const steps = planPrehooks(name, (n) => this.#store.childConfig(n), opName);
    const reports: HookReport[] = [];
    for (const step of steps) {
      const text = hookText(step.hook);
      try {
        reports.push({ hook: text, ok: true, message: await this.#prehookStep(step.hook) });
      } catch (error) {
        const reason = errorMessage(error);
        throw new SupervisorError(
          "HOOK_FAILED",
          `Cannot ${opName} child "${name}": prehook "${text}" of "${step.owner}" failed: ${reason}`,
          { child: name, cause: error },
        );
      }
    }
    const result = await op();
    if (reports.length === 0) return result;
    return { message: result.message, data: { ...result.data, prehooks: reports } };
  }

  /** One prehook step: start (already running is fine), restart (or start), stop (if running). */
  async #prehookStep(hook: Hook): Promise<string> {
    try {
      switch (hook.action) {
        case "start":
          return (await this.#startBare(hook.target)).message;
        case "restart":
          return (await this.#trystartBare(hook.target)).message;
        case "stop":
          return (await this.#stopBare(hook.target)).message;
      }
    } catch (error) {
      if (error instanceof SupervisorError && error.code === "ALREADY_RUNNING") {
        return `${hook.target} is already running`;
      }
      if (error instanceof SupervisorError && error.code === "NOT_RUNNING") {
        return `${hook.target} is not running`;
      }
      throw error;
    }
  }

  /** A posthook: a whole operation (with its own hooks); its failure is reported, not thrown. */
  async #runPosthook(hook: Hook): Promise<HookReport> {
    const text = hookText(hook);
    try {
      const result = hook.action === "start"
        ? await this.start(hook.target)
        : hook.action === "restart"
        ? await this.trystart(hook.target)
        : await this.stop(hook.target);
      return { hook: text, ok: true, message: result.message };
    } catch (error) {
      const report = {
        hook: text,
        ok: false,
        message: errorMessage(error),
      };
      return error instanceof SupervisorError ? { ...report, code: error.code } : report;
    }
  }

  /** Runs the repeat action of a child whose timer fired. */
  async #fireRepeat(name: string, action: Repeat["action"]): Promise<void> {
    const { logger } = this.#deps;
    if (this.#shuttingDown) return;
    logger.info(`repeat: ${action} ${name}`);
    try {
      const result = action === "start"
        ? await this.start(name)
        : action === "stop"
        ? await this.stop(name)
        : await this.trystart(name);
      logger.info(`repeat: ${result.message}`);
    } catch (error) {
      logger.error(
        `repeat: ${action} ${name} failed: ${errorMessage(error)}`,
      );
    }
  }

  #guard(): void {
    if (this.#shuttingDown) {
      throw new SupervisorError(
        "SHUTTING_DOWN",
        "The server is shutting down and accepts no new operations",
      );
    }
  }

  /** Runs `task` in the queue of child `name`, creating the child record on first use. */
  #queued(name: string, task: (child: Child) => Promise<OpResult>): Promise<OpResult> {
    try {
      this.#guard();
      let child = this.#children.get(name);
      if (!child) {
        // Fail fast on names that cannot exist, so the registry only holds real children.
        this.#store.childConfig(name);
        child = this.#newChild(name);
      }
      const found = child;
      return found.enqueue(() => {
        this.#guard();
        return task(found);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #newChild(name: string): Child {
    const child = new Child(name, this.#deps);
    child.onRunStarted((run, config) => {
      const repeat = config.repeat;
      if (!repeat) return this.#repeats.cancel(name);
      this.#repeats.arm(name, run, repeat.seconds, () => child.runNumber, () => {
        void this.#fireRepeat(name, repeat.action);
      });
    });
    this.#children.set(name, child);
    return child;
  }

  #statusOf(child: Child): Record<string, unknown> {
    const due = this.#repeats.dueAt(child.name);
    return {
      ...statusJson(child.status()),
      repeat_at: due === undefined ? null : new Date(due).toISOString(),
    };
  }

  /** The child's config as it is now, or that of its run when the file is gone or broken. */
  #currentConfig(child: Child): ChildConfig | undefined {
    try {
      return this.#store.childConfig(child.name);
    } catch {
      return child.config;
    }
  }
}

function alreadyRunning(child: Child): SupervisorError {
  return new SupervisorError(
    "ALREADY_RUNNING",
    `Cannot start child "${child.name}": it is already running (pid ${child.pid}); use restart or trystart`,
    { child: child.name },
  );
}

function notRunning(child: Child, op: string): SupervisorError {
  const hint = op === "restart" ? "; use start or trystart" : "";
  return new SupervisorError(
    "NOT_RUNNING",
    `Cannot ${op} child "${child.name}": it is not running (state ${child.state})${hint}`,
    { child: child.name },
  );
}

function countStates(states: readonly ChildState[]): Partial<Record<ChildState, number>> {
  const counts: Partial<Record<ChildState, number>> = {};
  for (const state of states) counts[state] = (counts[state] ?? 0) + 1;
  return counts;
}

/** An exit as the wire carries it. */
export function exitJson(exit: ExitRecord): Record<string, unknown> {
  return {
    code: exit.code,
    signal: exit.signal,
    at: new Date(exit.at).toISOString(),
    ran_ms: exit.ranMs,
    requested: exit.requested,
    description: describeExit(exit),
    stderr_tail: exit.stderrTail,
  };
}

/** A child status as the wire carries it. */
export function statusJson(status: ChildStatus): Record<string, unknown> {
  return {
    name: status.name,
    state: status.state,
    since: new Date(status.since).toISOString(),
    pid: status.pid,
    started_at: status.startedAt === null ? null : new Date(status.startedAt).toISOString(),
    uptime_ms: status.uptimeMs,
    restarts: status.restarts,
    last_exit: status.lastExit ? exitJson(status.lastExit) : null,
    history: status.history.map(exitJson),
    config_path: status.configPath,
    command: status.command,
    error: status.error,
    failures: status.failures,
    next_attempt_at: status.nextAttemptAt === null
      ? null
      : new Date(status.nextAttemptAt).toISOString(),
  };
}

function neverStarted(name: string, path: string, now: number): Record<string, unknown> {
  return {
    name,
    state: "STOPPED",
    since: new Date(now).toISOString(),
    pid: null,
    started_at: null,
    uptime_ms: null,
    restarts: 0,
    last_exit: null,
    history: [],
    config_path: path,
    command: null,
    error: null,
    failures: 0,
    next_attempt_at: null,
    repeat_at: null,
  };
}
