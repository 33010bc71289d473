/**
 * The children of one server and the operations that change them: start, stop, restart,
 * trystart, stop all, and shutdown.
 *
 * Owns: the registry of children, the rule that each operation on a child runs in that child's
 * queue, the error for an operation its state does not allow (the lifecycle table in
 * `lib/process/state.ts` decides), repeat timers, and the mapping of a hook's or a timer's
 * action to an operation. Every operation reads the configuration through the snapshot its
 * request took. Does not own: reports (`status_report.ts`), `log` (`log_reader.ts`), running
 * hook chains (`hook_runner.ts`), the wire, or process mechanics (`lib/process/`).
 *
 * @module
 */
import type { ResourceSample } from "../process/resource_sampler.ts";
import type { ChildConfig, Hook, Repeat } from "../config/child_config.ts";
import { assertChildName } from "../config/names.ts";
import type { ConfigSnapshot, ConfigStore } from "../config/store.ts";
import { describeError, errorMessage, SupervisorError } from "../errors.ts";
import { bulk, itemOf } from "./bulk.ts";
import { Child } from "../process/child.ts";
import { uptimeAt } from "../process/uptime.ts";
import { describeExit } from "../process/exit_record.ts";
import { AUTO_RESTART_TRUST_MS } from "../process/restart_policy.ts";
import type { ChildDeps, ChildStatus } from "../process/child.ts";
import { adoptedProcess, AdoptionWatch } from "../process/adopted_process.ts";
import type { ProcessIdentity } from "../process/proc_identity.ts";
import { HookRunner, posthookNotes } from "./hook_runner.ts";
import { RepeatTimers } from "./repeat_timers.ts";
import type { DependencyGraph } from "./dependency_graph.ts";
import {
  reverseLayers,
  runningGraph,
  startLayers,
  startWithDependencies,
  stopWithDependents,
} from "./dependencies.ts";
import type { DependencyHost } from "./dependencies.ts";
import { exitedEarly } from "./exited_early.ts";
import { instanceNames, splitInstance } from "../config/instances.ts";
import type {
  Bulk,
  ChildReport,
  ChildSnapshot,
  OpResult,
  Signalled,
  Started,
  Stopped,
  StoppedAll,
} from "./results.ts";

/** A report's fields of a drift (`status_report.ts` works it out for a status). */
export type DriftFields = Pick<ChildSnapshot, "drift" | "configError">;

/** The drift of a report made outside a status: none. */
const NO_DRIFT: DriftFields = { drift: null, configError: null };

/** A child's last snapshot, and the status it was made from. */
interface SnapshotMemo {
  readonly status: ChildStatus;
  readonly snapshot: ChildSnapshot;
}

/** How long shutdown waits for children's output to be drained after they stopped. */
const DRAIN_ON_SHUTDOWN_MS = 2000;

/** What every operation on a child needs: the request's view of the configuration. */
export interface OpContext {
  readonly snap: ConfigSnapshot;
  /**
   * For start, restart and trystart: answer only once the child counts as started (RUNNING
   * after `start_seconds`), and fail with EXITED_EARLY when it exits first. Operators' requests
   * wait unless they say otherwise; hooks, timers and startup do not.
   */
  readonly wait?: boolean;
}

/**
 * The operation a hook's or a repeat timer's action runs: `restart` acts as trystart, so a
 * child that is not running is started (cron-like repeat timers, `restart X` prehooks).
 */
const ACTION_OP: Readonly<
  Record<Hook["action"] | Repeat["action"], "start" | "trystart" | "stop">
> = {
  start: "start",
  restart: "trystart",
  trystart: "trystart",
  stop: "stop",
};

/** The children of one server and the operations on them. */
export class Supervisor {
  readonly #store: ConfigStore;
  readonly #deps: ChildDeps;
  readonly #children = new Map<string, Child>();
  /** {@link children}, made again only when a child is registered or forgotten. */
  #list: readonly Child[] | undefined;
  /** Each child's last snapshot, and the status it was made from. */
  readonly #snapshots = new WeakMap<Child, SnapshotMemo>();
  readonly #repeats: RepeatTimers;
  readonly #hooks: HookRunner;
  readonly #adoption: AdoptionWatch;
  readonly #registered: ((child: Child) => void) | undefined;
  readonly #resources: ((name: string) => ResourceSample | undefined) | undefined;
  /** What `dependencies.ts` may do with this supervisor. */
  readonly #host: DependencyHost = {
    startOne: (op, name, ctx) => this.#startLike(op, name, ctx),
    onCopies: (what, name, ctx, op) => this.#orCopies(what, name, ctx, op),
    stopOne: (name, ctx) => this.stop(name, ctx),
    stopQuietly: (name, ctx) => this.#stopBare(name, ctx),
    child: (name) => this.known(name),
    isLive: (name) => this.isLive(name),
    children: () => this.children(),
  };
  #shuttingDown: Promise<void> | undefined;

  constructor(
    store: ConfigStore,
    deps: ChildDeps,
    options: {
      readonly adoption?: AdoptionWatch;
      readonly registered?: (child: Child) => void;
      /** The last CPU and memory sample of a child, when it was sampled. */
      readonly resources?: (name: string) => ResourceSample | undefined;
    } = {},
  ) {
    this.#resources = options.resources;
    this.#store = store;
    this.#adoption = options.adoption ?? new AdoptionWatch(deps.clock);
    this.#registered = options.registered;
    this.#deps = {
      ...deps,
      configFor: deps.configFor ?? ((n) => this.#configForRestart(n)),
    };
    this.#repeats = new RepeatTimers(deps.clock);
    this.#hooks = new HookRunner((action, target, { snap, mode }) =>
      this.#perform(ACTION_OP[action], target, { snap, mode })
    );
  }

  /** Starts a child that is not running (or is waiting to be restarted, or gave up). */
  start(name: string, ctx: OpContext): Promise<Started> {
    return this.#startLike("start", name, ctx);
  }

  /**
   * Stops a running child and starts it again with its config as it is now; a child waiting
   * to be restarted, or that gave up (FATAL), is started at once.
   */
  restart(name: string, ctx: OpContext): Promise<Started> {
    return this.#startLike("restart", name, ctx);
  }

  /** Starts a child, restarting it first if it is running (for deploy scripts). */
  trystart(name: string, ctx: OpContext): Promise<Started> {
    return this.#startLike("trystart", name, ctx);
  }

  /** Stops a running child (or cancels its pending restart), then runs its posthooks. */
  stop(name: string, ctx: OpContext): Promise<Stopped | StoppedAll> {
    if (name === "all") return this.stopAll();
    return this.#stopOne(name, ctx);
  }

  /**
   * An operation on `name` as an operator names it: a child with `instances` stands for every
   * copy (one bulk item each), `NAME:K` for one copy, any other name for itself.
   */
  each(
    op: "start" | "restart" | "trystart" | "stop",
    name: string,
    ctx: OpContext,
  ): Promise<OpResult> {
    if (name === "all") {
      return op === "stop" ? this.stop(name, ctx) : this.#startLike(op, name, ctx);
    }
    if (op === "stop") return stopWithDependents(this.#host, name, ctx);
    return startWithDependencies(this.#host, { op, name }, ctx);
  }

  /**
   * The names `name` stands for: the copies of a child with `instances` (`web:0` …), else just
   * `name` (also for a name that cannot be read: its operation reports why).
   */
  async expand(name: string, snap: ConfigSnapshot): Promise<string[]> {
    if (splitInstance(name)) return [name];
    const config = await snap.childOr(name, undefined);
    return config ? instanceNames(config) : [name];
  }

  /** `op` on `name`, or on each of its copies as one bulk result. */
  async #orCopies<T extends OpResult>(
    what: string,
    name: string,
    ctx: OpContext,
    op: (name: string) => Promise<T>,
  ): Promise<T | Bulk> {
    const names = await this.expand(name, ctx.snap);
    if (names.length === 1 && names[0] === name) return await op(name);
    const results = await Promise.all(names.map((n) => itemOf(n, () => op(n))));
    return bulk(`${what} ${name}`, results);
  }

  async #stopOne(name: string, ctx: OpContext): Promise<Stopped> {
    const result = await this.#stopBare(name, ctx);
    const config = await ctx.snap.childOr(name, this.#children.get(name)?.config);
    if (!config || config.posthooks.length === 0) return result;
    const posthooks = await this.#hooks.after(config.posthooks, ctx.snap);
    return {
      ...result,
      message: [result.message, ...posthookNotes(posthooks)].join("; "),
      posthooks,
    };
  }

  /**
   * Takes over a run of child `name` that a killed server left alive (see `adoption.ts`): the
   * child is RUNNING with it. Refused (ALREADY_RUNNING) when the child runs already.
   */
  adopt(
    name: string,
    run: { readonly identity: ProcessIdentity; readonly startedAt: number },
    ctx: OpContext,
  ): Promise<void> {
    return this.#queued(name, ctx, async (child) => {
      child.assertAllows("start");
      const config = await ctx.snap.child(name);
      child.adopt(config, adoptedProcess(run.identity, this.#adoption), run.startedAt);
    });
  }

  /** Whether child `name` has a live process now. */
  isLive(name: string): boolean {
    return this.#children.get(name)?.isLive ?? false;
  }

  /**
   * Sends `signal` to a running child's process group, or with `main` to its main process only.
   * Not queued: a signal reaches the child even while another operation waits on it.
   */
  signal(
    name: string,
    how: { readonly signal: Deno.Signal; readonly main: boolean },
  ): Signalled {
    this.guard();
    assertChildName(name);
    const child = this.#children.get(name);
    const pid = child?.pid;
    if (!child || pid === null || pid === undefined || !child.isLive) {
      throw new SupervisorError(
        "NOT_RUNNING",
        `Cannot signal child "${name}": it is not running${child ? ` (state ${child.state})` : ""}`,
        { child: name },
      );
    }
    if (!child.sendSignal(how.signal, { main: how.main })) {
      throw new SupervisorError(
        "NOT_RUNNING",
        `Cannot signal child "${name}": its process ${pid} is gone`,
        { child: name },
      );
    }
    const target = how.main ? `its main process (pid ${pid})` : `its process group ${pid}`;
    return {
      kind: "signalled",
      message: `signal ${name} success: ${how.signal} sent to ${target}`,
      pid,
      signal: how.signal,
      group: !how.main,
    };
  }

  /** The dependency graph of the children's runs (see `dependencies.ts`). */
  runningGraph(): DependencyGraph {
    return runningGraph(this.children());
  }

  /** Brings child `name` to rest in its queue (stop, or cancel a pending restart). */
  async halt(name: string): Promise<void> {
    const child = this.#children.get(name);
    if (!child) return;
    await child.enqueue(async () => {
      this.#repeats.cancel(name);
      await child.halt(await this.#configNow(child));
    });
  }

  /** Stops child `name` without its posthooks (config drift: its file is gone). */
  stopQuietly(name: string, ctx: OpContext): Promise<Stopped> {
    return this.#stopBare(name, ctx);
  }

  /** Whether child `name` is known (registered). */
  knows(name: string): boolean {
    return this.#children.has(name);
  }

  /** The record of child `name`, when it is known. */
  known(name: string): Child | undefined {
    return this.#children.get(name);
  }

  /** Drops the record of child `name`, which must not be live (a copy past `instances`). */
  forget(name: string): void {
    if (!this.#children.get(name)?.isLive && this.#children.delete(name)) this.#list = undefined;
  }

  /** Stops every running child in parallel and cancels every pending restart. */
  async stopAll(): Promise<StoppedAll> {
    this.guard();
    const results: PromiseSettledResult<string | undefined>[] = [];
    const children: Child[] = [];
    // Dependents first (reverse dependency order); each layer at once.
    for (const layer of reverseLayers(this.children())) {
      children.push(...layer);
      results.push(
        ...await Promise.allSettled(layer.map((child) =>
          child.enqueue(async () => {
            this.#repeats.cancel(child.name);
            const halt = await child.halt(await this.#configNow(child));
            return halt.kind === "idle" ? undefined : child.name;
          })
        )),
      );
    }
    const stopped = results.flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value] : []));
    const failed = results.flatMap((r, i) =>
      r.status === "rejected" ? [`${children[i]!.name}: ${String(r.reason)}`] : []
    );
    if (failed.length > 0) {
      throw new SupervisorError("INTERNAL", `Cannot stop every child: ${failed.join("; ")}`);
    }
    return { kind: "stopped-all", message: "stop all success", stopped: stopped.sort() };
  }

  /** Refuses new operations, cancels timers and stops every child gracefully. Idempotent. */
  shutdown(): Promise<void> {
    this.#shuttingDown ??= (async () => {
      this.#repeats.cancelAll();
      const children = [...this.#children.values()];
      for (const child of children) child.endFollows();
      // Dependents first, so a service is never stopped under a child that needs it.
      for (const layer of reverseLayers(this.children())) {
        await Promise.allSettled(
          layer.map((child) => child.enqueue(async () => child.halt(await this.#configNow(child)))),
        );
      }
      await Promise.allSettled(children.map((child) => child.drained(DRAIN_ON_SHUTDOWN_MS)));
    })();
    return this.#shuttingDown;
  }

  /** `names` and their dependencies, in layers of dependency order (see `dependencies.ts`). */
  startLayers(names: readonly string[], snap: ConfigSnapshot): Promise<string[][]> {
    return startLayers(names, snap);
  }

  /** Whether shutdown has begun. */
  get shuttingDown(): boolean {
    return this.#shuttingDown !== undefined;
  }

  /** Reopens every child's output files (SIGHUP, after an external logrotate). */
  async reopenLogs(): Promise<void> {
    await Promise.all([...this.#children.values()].map((child) => child.reopenLogs()));
  }

  /**
   * The children known to this server (started at least once, or asked about): the same array
   * until one is registered or forgotten.
   */
  children(): readonly Child[] {
    return this.#list ??= [...this.#children.values()];
  }

  /** The time on the clock the children's times are measured on. */
  now(): number {
    return this.#deps.clock.now();
  }

  /** How many repeat timers are pending. */
  get repeatTimers(): number {
    return this.#repeats.size;
  }

  /**
   * A child's status with its pending repeat timer, and its drift when the caller worked it
   * out (a status; none otherwise), with its uptime now; never waits.
   */
  report(child: Child, drift: DriftFields = NO_DRIFT): ChildReport {
    const snapshot = this.snapshot(child, drift);
    return { ...snapshot, uptimeMs: uptimeAt(snapshot, this.#deps.clock.now()) };
  }

  /**
   * {@link report} but for the uptime: the same object as the last time while nothing in it
   * changed (a status of an unchanged fleet makes none); never waits.
   */
  snapshot(child: Child, drift: DriftFields = NO_DRIFT): ChildSnapshot {
    const status = child.status();
    const repeatAt = this.#repeats.dueAt(child.name) ?? null;
    const resources = child.isLive ? this.#resources?.(child.name) ?? null : null;
    const memo = this.#snapshots.get(child);
    if (
      memo !== undefined && memo.status === status && memo.snapshot.repeatAt === repeatAt &&
      memo.snapshot.drift === drift.drift && memo.snapshot.configError === drift.configError &&
      memo.snapshot.resources === resources
    ) {
      return memo.snapshot;
    }
    const snapshot: ChildSnapshot = {
      ...status,
      repeatAt,
      drift: drift.drift,
      configError: drift.configError,
      resources,
    };
    this.#snapshots.set(child, { status, snapshot });
    return snapshot;
  }

  /**
   * The record of child `name`, made on first use (so `log` can follow a child before its first
   * start). Throws for a name that cannot exist or has no config.
   */
  async childFor(name: string, ctx: OpContext): Promise<Child> {
    this.guard();
    assertChildName(name);
    const known = this.#children.get(name);
    if (known) return known;
    const config = await ctx.snap.child(name);
    if (config.instances > 1) {
      throw new SupervisorError(
        "BAD_NAME",
        `Child "${name}" runs ${config.instances} instances: name one, ${name}:0 to ${name}:${
          config.instances - 1
        }`,
        { child: name },
      );
    }
    this.guard();
    return this.#children.get(name) ?? this.#register(name);
  }

  /** start, restart or trystart: its prehook chain first, then the operation itself. */
  async #startLike(
    op: "start" | "restart" | "trystart",
    name: string,
    ctx: OpContext,
  ): Promise<Started> {
    this.guard();
    await this.#refuseEarly(op, name, ctx);
    const prehooks = await this.#hooks.before(name, op, ctx.snap);
    let result = await this.#startBare(op, name, ctx);
    const child = this.#children.get(name);
    if (ctx.wait && child) {
      const outcome = await child.whenStarted(result.pid);
      if (!outcome.started) {
        // Stopped meanwhile by another operation (a stop, a repeat timer): this start did its
        // part. Exited by itself with one of its exit_codes and not to be restarted: a one-shot
        // job that completed. Anything else is a start that did not hold.
        const completed = outcome.exit.expected && outcome.state === "EXITED";
        if (!outcome.exit.requested && !completed) {
          throw exitedEarly({ name, op, outcome, pid: result.pid });
        }
        const note = completed
          ? ` (it completed at once: ${describeExit(outcome.exit)})`
          : " (it was stopped meanwhile by another operation)";
        result = { ...result, message: result.message + note };
      }
      result = { ...result, child: this.report(child) };
    }
    return prehooks.length === 0 ? result : { ...result, prehooks };
  }

  /**
   * Refuses an operation the child's state does not allow before any prehook runs: a start of
   * a running child, a restart of one that does not run. Not while it is being stopped: an
   * operation waiting behind a stop is judged in its turn.
   */
  async #refuseEarly(op: "start" | "restart" | "trystart", name: string, ctx: OpContext) {
    const known = this.#children.get(name);
    if (known) {
      if (known.state !== "STOPPING") known.assertAllows(op);
      return;
    }
    if (op !== "restart") return;
    // Never started here: a restart has nothing to restart (once the name is known to exist).
    await ctx.snap.child(name);
    throw new SupervisorError(
      "NOT_RUNNING",
      `Cannot restart child "${name}": it is not running (state STOPPED); use start or trystart`,
      { child: name },
    );
  }

  /** A hook's or a timer's operation: `bare` without the target's hooks, `full` with them. */
  #perform(
    op: "start" | "trystart" | "stop",
    name: string,
    { snap, mode }: OpContext & { readonly mode: "bare" | "full" },
  ): Promise<OpResult> {
    const ctx = { snap };
    if (mode === "full") return this.each(op, name, ctx);
    const one = (n: string): Promise<OpResult> =>
      op === "stop" ? this.#stopBare(n, ctx) : this.#startBare(op, n, ctx);
    return this.#orCopies(op, name, ctx, one);
  }

  #startBare(op: "start" | "restart" | "trystart", name: string, ctx: OpContext) {
    return this.#queued(name, ctx, async (child): Promise<Started> => {
      // A restart of a child with nothing to restart is refused before its config is read; a
      // start reports a broken config before "already running".
      if (op === "restart") child.assertAllows(op);
      // Read the new config before stopping anything: a broken file must not take the child down.
      const config = await ctx.snap.child(name);
      child.assertAllows(op);
      const wasLive = child.isLive;
      if (wasLive) await child.terminate(await ctx.snap.childOr(name, child.config));
      const pid = await child.spawn(config);
      const report = this.report(child);
      if (op !== "trystart") {
        return {
          kind: "started",
          message: `${op} ${name} success`,
          pid,
          child: report,
          prehooks: [],
        };
      }
      return {
        kind: "started",
        message: `trystart ${name} success (${wasLive ? "restarted" : "started"})`,
        pid,
        restarted: wasLive,
        child: report,
        prehooks: [],
      };
    });
  }

  #stopBare(name: string, ctx: OpContext): Promise<Stopped> {
    return this.#queued(name, ctx, async (child): Promise<Stopped> => {
      this.#repeats.cancel(name);
      child.assertAllows("stop");
      const halt = await child.halt(await ctx.snap.childOr(name, child.config));
      const exit = halt.kind === "stopped" ? halt.exit : null;
      const message = halt.kind === "cancelled"
        ? `stop ${name} success (its pending restart was cancelled)`
        : `stop ${name} success`;
      return { kind: "stopped", message, exit, child: this.report(child), posthooks: [] };
    });
  }

  /** Runs a repeat timer's action as a whole operation, with a snapshot of its own. */
  async #fireRepeat(name: string, action: Repeat["action"]): Promise<void> {
    const { logger } = this.#deps;
    if (this.#shuttingDown) return;
    logger.info(`repeat: ${action} ${name}`);
    try {
      const snap = this.#store.snapshot();
      const result = await this.#perform(ACTION_OP[action], name, { snap, mode: "full" });
      logger.info(`repeat: ${result.message}`);
    } catch (error) {
      logger.error(`repeat: ${action} ${name} failed: ${describeError(error)}`);
    }
  }

  /** Throws SHUTTING_DOWN once shutdown has begun. */
  guard(): void {
    if (this.#shuttingDown) {
      throw new SupervisorError(
        "SHUTTING_DOWN",
        "The server is shutting down and accepts no new operations",
      );
    }
  }

  /** Runs `task` in the queue of child `name`, creating the child record on first use. */
  async #queued<T>(name: string, ctx: OpContext, task: (child: Child) => Promise<T>): Promise<T> {
    const child = await this.childFor(name, ctx);
    return await child.enqueue(() => {
      this.guard();
      return task(child);
    });
  }

  #register(name: string): Child {
    const child = new Child(name, this.#deps);
    child.onRunStarted((run, config) => {
      const repeat = config.repeat;
      if (!repeat) return this.#repeats.cancel(name);
      this.#repeats.arm({
        name,
        run,
        seconds: repeat.seconds,
        currentRun: () => child.runNumber,
        fire: () => void this.#fireRepeat(name, repeat.action),
      });
    });
    this.#children.set(name, child);
    this.#list = undefined;
    this.#registered?.(child);
    return child;
  }

  /**
   * The config an automatic restart uses: the file as it is now (as any request checked it
   * within {@link AUTO_RESTART_TRUST_MS}), or — when it cannot be read — the last good one,
   * with a warning naming the error (undefined tells the child to keep it).
   */
  async #configForRestart(name: string): Promise<ChildConfig | undefined> {
    try {
      const snap = this.#store.snapshot(AUTO_RESTART_TRUST_MS);
      // In a crash loop, everything was checked by the restart before: no await on the way.
      return snap.childNow(name) ?? await snap.child(name);
    } catch (error) {
      this.#deps.logger.warn(
        `child "${name}": restarting with its last good config, since its file cannot be used now: ${
          errorMessage(error)
        }`,
      );
      return undefined;
    }
  }

  /** The child's config as it is now, or that of its run when the file is gone or broken. */
  #configNow(child: Child): Promise<ChildConfig | undefined> {
    return this.#store.childConfigOr(child.name, child.config);
  }
}
