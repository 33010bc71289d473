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
import type { ChildConfig, Hook, Repeat } from "../config/child_config.ts";
import { assertChildName } from "../config/names.ts";
import type { ConfigSnapshot, ConfigStore } from "../config/store.ts";
import { describeError, SupervisorError } from "../errors.ts";
import { Child } from "../process/child.ts";
import type { ChildDeps } from "../process/child.ts";
import { adoptedProcess, AdoptionWatch } from "../process/adopted_process.ts";
import type { ProcessIdentity } from "../process/proc_identity.ts";
import { HookRunner, posthookNotes } from "./hook_runner.ts";
import { RepeatTimers } from "./repeat_timers.ts";
import type { ChildReport, OpResult, Started, Stopped, StoppedAll } from "./results.ts";

/** How long shutdown waits for children's output to be drained after they stopped. */
const DRAIN_ON_SHUTDOWN_MS = 2000;

/** What every operation on a child needs: the request's view of the configuration. */
export interface OpContext {
  readonly snap: ConfigSnapshot;
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
  readonly #repeats: RepeatTimers;
  readonly #hooks: HookRunner;
  readonly #adoption: AdoptionWatch;
  readonly #registered: ((child: Child) => void) | undefined;
  #shuttingDown: Promise<void> | undefined;

  constructor(
    store: ConfigStore,
    deps: ChildDeps,
    options: { readonly adoption?: AdoptionWatch; readonly registered?: (child: Child) => void } =
      {},
  ) {
    this.#store = store;
    this.#adoption = options.adoption ?? new AdoptionWatch(deps.clock);
    this.#registered = options.registered;
    this.#deps = {
      ...deps,
      configFor: deps.configFor ?? ((n) => store.childConfigOr(n, undefined)),
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
  async stop(name: string, ctx: OpContext): Promise<Stopped | StoppedAll> {
    if (name === "all") return this.stopAll();
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

  /** Stops every running child in parallel and cancels every pending restart. */
  async stopAll(): Promise<StoppedAll> {
    this.#guard();
    const children = [...this.#children.values()];
    const results = await Promise.allSettled(children.map((child) =>
      child.enqueue(async () => {
        this.#repeats.cancel(child.name);
        const halt = await child.halt(await this.#configNow(child));
        return halt.kind === "idle" ? undefined : child.name;
      })
    ));
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
      await Promise.allSettled(
        children.map((child) =>
          child.enqueue(async () => child.halt(await this.#configNow(child)))
        ),
      );
      await Promise.allSettled(children.map((child) => child.drained(DRAIN_ON_SHUTDOWN_MS)));
    })();
    return this.#shuttingDown;
  }

  /** Whether shutdown has begun. */
  get shuttingDown(): boolean {
    return this.#shuttingDown !== undefined;
  }

  /** Reopens every child's output files (SIGHUP, after an external logrotate). */
  async reopenLogs(): Promise<void> {
    await Promise.all([...this.#children.values()].map((child) => child.reopenLogs()));
  }

  /** The children known to this server (started at least once, or asked about). */
  children(): readonly Child[] {
    return [...this.#children.values()];
  }

  /** How many repeat timers are pending. */
  get repeatTimers(): number {
    return this.#repeats.size;
  }

  /** A child's status with its pending repeat timer; never waits. */
  report(child: Child): ChildReport {
    return { ...child.status(), repeatAt: this.#repeats.dueAt(child.name) ?? null };
  }

  /**
   * The record of child `name`, made on first use (so `log` can follow a child before its first
   * start). Throws for a name that cannot exist or has no config.
   */
  async childFor(name: string, ctx: OpContext): Promise<Child> {
    this.#guard();
    assertChildName(name);
    const known = this.#children.get(name);
    if (known) return known;
    await ctx.snap.child(name);
    this.#guard();
    return this.#children.get(name) ?? this.#register(name);
  }

  /** start, restart or trystart: its prehook chain first, then the operation itself. */
  async #startLike(op: "start" | "restart" | "trystart", name: string, ctx: OpContext) {
    this.#guard();
    const prehooks = await this.#hooks.before(name, op, ctx.snap);
    const result = await this.#startBare(op, name, ctx);
    return prehooks.length === 0 ? result : { ...result, prehooks };
  }

  /** A hook's or a timer's operation: `bare` without the target's hooks, `full` with them. */
  #perform(
    op: "start" | "trystart" | "stop",
    name: string,
    { snap, mode }: OpContext & { readonly mode: "bare" | "full" },
  ): Promise<OpResult> {
    const ctx = { snap };
    if (op === "stop") return mode === "bare" ? this.#stopBare(name, ctx) : this.stop(name, ctx);
    return mode === "bare" ? this.#startBare(op, name, ctx) : this.#startLike(op, name, ctx);
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

  #guard(): void {
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
      this.#guard();
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
    this.#registered?.(child);
    return child;
  }

  /** The child's config as it is now, or that of its run when the file is gone or broken. */
  #configNow(child: Child): Promise<ChildConfig | undefined> {
    return this.#store.childConfigOr(child.name, child.config);
  }
}
