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
import type { ChildConfig } from "../config/child_config.ts";
import type { ConfigStore } from "../config/store.ts";
import { SupervisorError } from "../errors.ts";
import { Child, describeExit } from "../process/child.ts";
import type { ChildDeps, ChildStatus, ExitRecord } from "../process/child.ts";
import type { ChildState } from "../process/state.ts";
import { VERSION } from "../version.ts";

/** The outcome of a successful operation. */
export interface OpResult {
  readonly message: string;
  readonly data?: Record<string, unknown>;
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

/** The children of one server and the operations on them. */
export class Supervisor {
  readonly #store: ConfigStore;
  readonly #deps: ChildDeps;
  readonly #facts: ServerFacts;
  readonly #children = new Map<string, Child>();
  #shuttingDown: Promise<void> | undefined;

  constructor(store: ConfigStore, deps: ChildDeps, facts: ServerFacts) {
    this.#store = store;
    this.#deps = deps;
    this.#facts = facts;
  }

  /** Starts a child that is not running. */
  start(name: string): Promise<OpResult> {
    return this.#queued(name, async (child) => {
      const config = this.#store.childConfig(name);
      if (child.isLive) throw alreadyRunning(child);
      const pid = await child.spawn(config);
      return { message: `start ${name} success`, data: { pid, child: statusJson(child.status()) } };
    });
  }

  /** Stops a running child, or every running child with `all`. */
  stop(name: string): Promise<OpResult> {
    if (name === "all") return this.stopAll();
    return this.#queued(name, async (child) => {
      const config = this.#currentConfig(child);
      if (!child.isLive) throw notRunning(child, "stop");
      const exit = await child.terminate(config);
      return {
        message: `stop ${name} success`,
        data: { exit: exitJson(exit), child: statusJson(child.status()) },
      };
    });
  }

  /** Stops every running child in parallel. */
  async stopAll(): Promise<OpResult> {
    this.#guard();
    const live = [...this.#children.values()].filter((child) => child.isLive);
    const results = await Promise.allSettled(live.map((child) =>
      child.enqueue(async () => {
        if (child.isLive) await child.terminate(this.#currentConfig(child));
        return child.name;
      })
    ));
    const stopped = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = results.flatMap((r, i) =>
      r.status === "rejected" ? [`${live[i]!.name}: ${String(r.reason)}`] : []
    );
    if (failed.length > 0) {
      throw new SupervisorError("INTERNAL", `Cannot stop every child: ${failed.join("; ")}`);
    }
    return { message: "stop all success", data: { stopped } };
  }

  /** Stops a running child and starts it again with its config as it is now. */
  restart(name: string): Promise<OpResult> {
    return this.#queued(name, async (child) => {
      if (!child.isLive) throw notRunning(child, "restart");
      // Read the new config before stopping anything: a broken file must not take the child down.
      const config = this.#store.childConfig(name);
      await child.terminate(this.#currentConfig(child));
      const pid = await child.spawn(config);
      return {
        message: `restart ${name} success`,
        data: { pid, child: statusJson(child.status()) },
      };
    });
  }

  /** Starts a child, restarting it first if it is running (for deploy scripts). */
  trystart(name: string): Promise<OpResult> {
    return this.#queued(name, async (child) => {
      const config = this.#store.childConfig(name);
      const wasLive = child.isLive;
      if (wasLive) await child.terminate(this.#currentConfig(child));
      const pid = await child.spawn(config);
      return {
        message: `trystart ${name} success (${wasLive ? "restarted" : "started"})`,
        data: { pid, restarted: wasLive, child: statusJson(child.status()) },
      };
    });
  }

  /** Every known child (defined in the loadpaths or started before), or one of them. */
  check(name?: string): OpResult {
    let defined = new Map<string, string>();
    const problems: string[] = [];
    try {
      const catalog = this.#store.catalog();
      defined = new Map([...catalog.files].map(([n, f]) => [n, f.path]));
      problems.push(...catalog.problems);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
    const names = name === undefined
      ? [...new Set([...defined.keys(), ...this.#children.keys()])].sort()
      : [name];
    const children = names.flatMap((n) => {
      const child = this.#children.get(n);
      if (child) return [statusJson(child.status())];
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
      problems.push(error instanceof Error ? error.message : String(error));
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
        problems,
      },
    };
  }

  /** Refuses new operations and stops every child gracefully, in parallel. Idempotent. */
  shutdown(): Promise<void> {
    this.#shuttingDown ??= (async () => {
      const children = [...this.#children.values()];
      await Promise.allSettled(children.map((child) =>
        child.enqueue(async () => {
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
        child = new Child(name, this.#deps);
        this.#children.set(name, child);
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
  };
}
