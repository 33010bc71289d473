/**
 * One supervised child: its state, its current run, its exits, and the primitive steps an
 * operation is made of (spawn, terminate), serialised by the child's own queue.
 *
 * Owns: spawning with output wired before the process starts, observing exit the moment it
 * happens, the stop sequence (stop signal to the group and to the rest of the session, wait,
 * SIGKILL to the group, then make sure no member of the group or session is left), and the
 * status snapshot. Does not own: which operation is allowed when, or reading config (see
 * `lib/server/supervisor.ts`), or watching what a stop leaves behind (see `group_reaper.ts`).
 *
 * @module
 */
import { ProbeRunner } from "./probe_runner.ts";
import { probeCheck } from "./probe.ts";
import type { ProbeConfig } from "../config/probe_config.ts";
import type { ExitRecord } from "./exit_record.ts";
import { describeExit } from "./exit_record.ts";
import type { ChildConfig } from "../config/child_config.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { ChildOutputs } from "./child_outputs.ts";
import type { Terminal } from "./child_outputs.ts";
import { callOff } from "./clock.ts";
import type { Clock } from "./clock.ts";
import { GroupReaper, KILL_GRACE_MS } from "./group_reaper.ts";
import type { Follower } from "./log_bus.ts";
import { TAIL_BYTES } from "./byte_tail.ts";
import { newTaps } from "./output_taps.ts";
import type { OutputTaps } from "./output_taps.ts";
import { probeProcessTable } from "./process_group.ts";
import type { GroupProbe } from "./process_group.ts";
import {
  AUTO_RESTART_TRUST_MS,
  backoffDelay,
  expectedExit,
  shouldRestart,
} from "./restart_policy.ts";
import { SerialQueue } from "./serial_queue.ts";
import { spawnSpecFor } from "./spawn_spec.ts";
import { signalProcess } from "./spawner.ts";
import type { ExitStatus, SpawnedProcess, Spawner } from "./spawner.ts";
import { Lifecycle } from "./state.ts";
import type { ChildOp, ChildState, StateEvent } from "./state.ts";

/** What a child needs from the world, besides what clears its group (see {@link ChildDeps}). */
export interface ChildWorld {
  readonly spawner: Spawner;
  readonly clock: Clock;
  readonly terminal: Terminal;
  readonly logger: Logger;
  /** Numbers in [0, 1) for backoff jitter; Math.random by default. */
  readonly random?: () => number;
  /** The child's config as it is now, for automatic restarts; the last run's config otherwise. */
  readonly configFor?: (name: string) => Promise<ChildConfig | undefined>;
}

/**
 * What a child needs from the world: a reaper shared by every child of the server, or (unit
 * tests with fake processes) a probe alone, which counts group members and never lists or
 * signals a real process.
 */
export type ChildDeps =
  & ChildWorld
  & ({ readonly reaper: GroupReaper } | { readonly groupProbe: GroupProbe });

/** Lines of stderr kept with each exit. */
export const CRASH_CONTEXT_LINES = 20;

/** How long an exit waits for the rest of stderr before its crash context is taken. */
const CRASH_CONTEXT_WAIT_MS = 250;

/**
 * A snapshot of a child for `check`, but for its uptime (see `uptime.ts`): the same object
 * is given again while nothing in it changes, so a status of an unchanged fleet makes none.
 */
export interface ChildStatus {
  readonly name: string;
  readonly state: ChildState;
  readonly since: number;
  readonly pid: number | null;
  readonly startedAt: number | null;
  readonly restarts: number;
  /**
   * Runs that ended on their own with an exit that is not one of `exit_codes`, or that the
   * server ended itself (unhealthy, never ready, memory limit), since the server started; a
   * stop asked for never counts.
   */
  readonly crashes: number;
  readonly lastExit: ExitRecord | null;
  readonly history: readonly ExitRecord[];
  readonly configPath: string | null;
  readonly command: readonly string[] | null;
  readonly error: string | null;
  /** Exits in a row without a run that lasted `start_seconds`. */
  readonly failures: number;
  /** When the next automatic start is due (in BACKOFF). */
  readonly nextAttemptAt: number | null;
  /** Whether the current run was taken over from a server that was killed. */
  readonly adopted: boolean;
  /** With a readiness probe: whether the current run is ready; null without one. */
  readonly ready: boolean | null;
  /** When the current run became ready. */
  readonly readySince: number | null;
}

/** What {@link Child.halt} did. */
export type Halt =
  | { readonly kind: "idle" }
  | { readonly kind: "cancelled" }
  | { readonly kind: "stopped"; readonly exit: ExitRecord };

/**
 * Why the server ended a run, for the reasons after which it is restarted whatever the
 * restart policy says (backoff and max_restarts still apply).
 */
const ALWAYS_RESTARTED: readonly string[] = ["unhealthy", "memory limit"];

/** Exits kept per child. */
export const HISTORY_LENGTH = 10;

interface Run {
  readonly proc: SpawnedProcess;
  readonly outputs: ChildOutputs;
  readonly config: ChildConfig;
  readonly startedAt: number;
  /** Settles after the exit has been recorded. */
  readonly exited: Promise<ExitRecord>;
  /** Settles when both output pipes have been drained. */
  readonly drained: Promise<void>;
  /** Aborted when the run ends or is being stopped: cancels its timers. */
  readonly timers: AbortController;
  /** Taken over from a previous server: not our child, output not captured. */
  readonly adopted: boolean;
  /** Where this run's stderr begins in the child's tail: crash context is this run's own. */
  readonly stderrMark: number;
  /** Its ready and health probes while they run, and why the server ended it, if it did. */
  readonly probes: {
    runners: ProbeRunner[];
    failure: string | undefined;
    readyAt: number | null;
    /** Failures in a row before this run: an unhealthy end continues the streak. */
    failuresBefore: number;
  };
  /** Whether the run came to count as started, or how it ended first. */
  readonly outcome: Promise<StartOutcome>;
  /** Settles {@link outcome}; later calls do nothing. */
  readonly settle: (outcome: StartOutcome) => void;
}

/**
 * What a status was made from: while all of it is the same (its exits too: the same array,
 * never changed in place), the status still shows the child as it is.
 */
interface StatusSource {
  readonly status: ChildStatus;
  /** The lifecycle's count of transitions (its state and since). */
  readonly changes: number;
  readonly run: Run | undefined;
  readonly readyAt: number | null;
  readonly config: ChildConfig | undefined;
  readonly backoff: unknown;
  readonly starts: number;
  readonly crashes: number;
  readonly failures: number;
  readonly error: string | undefined;
}

/** How a run's start turned out: started (RUNNING), or ended before it counted as started. */
export type StartOutcome =
  | { readonly started: true }
  | { readonly started: false; readonly exit: ExitRecord; readonly state: ChildState };

/** A supervised child. */
export class Child {
  readonly name: string;
  readonly #deps: ChildDeps;
  readonly #reaper: GroupReaper;
  readonly #life: Lifecycle;
  readonly #queue = new SerialQueue();
  #run: Run | undefined;
  /** The run before the current one, for {@link whenStarted} after a quick exit. */
  #previousRun: Run | undefined;
  /** Output of the current or last run, drained or not. */
  #lastDrained: Promise<void> = Promise.resolve();
  #config: ChildConfig | undefined;
  #starts = 0;
  /** Runs that ended without being asked to stop and not with an expected exit. */
  #crashes = 0;
  /** The last exits, oldest first: a new array at each change, never changed in place. */
  #history: readonly ExitRecord[] = [];
  /** The last {@link status} and what it was made from: given again while that is the same. */
  #statusSource: StatusSource | undefined;
  #error: string | undefined;
  #failures = 0;
  #backoff: { readonly at: number; readonly timer: AbortController } | undefined;
  /** The working directory last found good, and when (performance.now()). */
  #cwdChecked: { readonly path: string; readonly at: number } | undefined;
  readonly #runListeners: ((run: number, config: ChildConfig) => void)[] = [];
  readonly #taps: OutputTaps = newTaps();

  constructor(name: string, deps: ChildDeps) {
    this.name = name;
    this.#deps = deps;
    this.#reaper = "reaper" in deps
      ? deps.reaper
      : new GroupReaper(probeProcessTable(deps.groupProbe), deps.clock);
    this.#life = new Lifecycle(deps.clock.now());
    this.#life.onTransition((event) => this.#logTransition(event));
  }

  get state(): ChildState {
    return this.#life.state;
  }

  /** Whether a process of this child is alive (starting, running or being stopped). */
  get isLive(): boolean {
    return this.#life.isLive;
  }

  /** Whether the child's state allows `op` now (the lifecycle table decides). */
  allows(op: ChildOp): boolean {
    return this.#life.allows(op);
  }

  /** Throws ALREADY_RUNNING or NOT_RUNNING when the child's state does not allow `op` now. */
  assertAllows(op: ChildOp): void {
    if (this.allows(op)) return;
    if (op === "start") {
      throw new SupervisorError(
        "ALREADY_RUNNING",
        `Cannot start child "${this.name}": it is already running (pid ${this.pid}); use restart or trystart`,
        { child: this.name },
      );
    }
    const hint = op === "restart" ? "; use start or trystart" : "";
    throw new SupervisorError(
      "NOT_RUNNING",
      `Cannot ${op} child "${this.name}": it is not running (state ${this.state})${hint}`,
      { child: this.name },
    );
  }

  get pid(): number | null {
    return this.#run?.proc.pid ?? null;
  }

  /** The config of the current or last run. */
  get config(): ChildConfig | undefined {
    return this.#config;
  }

  /** Number of the current or last run (1 for the first); changes with every start. */
  get runNumber(): number {
    return this.#starts;
  }

  /** Calls `listener` each time a run starts, by an operation or automatically. */
  onRunStarted(listener: (run: number, config: ChildConfig) => void): void {
    this.#runListeners.push(listener);
  }

  /** Calls `listener` after every change of state. */
  onStateChange(listener: (event: StateEvent) => void): void {
    this.#life.onTransition(listener);
  }

  /**
   * Takes over `proc`, a run of this child that a previous server started at `startedAt` and
   * left running: the child is RUNNING with it, its exit is observed (status unknown), and it
   * is stopped like any run. Its output is not captured. Call only from inside the queue, when
   * the child is not live.
   */
  adopt(config: ChildConfig, proc: SpawnedProcess, startedAt: number): void {
    const { clock, terminal, logger } = this.#deps;
    this.#config = config;
    this.#error = undefined;
    this.#life.apply("spawn", clock.now());
    // Output was wired by the previous server; nothing is captured here.
    const quiet = { ...config, stdout: undefined, stderr: undefined };
    this.#start({
      proc,
      outputs: ChildOutputs.unwired(quiet, terminal, logger, this.#taps, clock),
      config,
      startedAt,
      adopted: true,
    });
    this.#failures = 0;
    this.#life.apply("started", clock.now());
    this.#run?.settle({ started: true });
  }

  /**
   * How the run of process `pid` started: resolves once it counts as started (RUNNING after
   * `start_seconds`), or with its exit (crash context included) when it ended before that.
   */
  whenStarted(pid: number): Promise<StartOutcome> {
    const run = [this.#run, this.#previousRun].find((r) => r?.proc.pid === pid);
    if (!run) return Promise.resolve({ started: true });
    return run.outcome;
  }

  /** The exit of the current run once it ends; of the last run when none is live. */
  whenExited(): Promise<ExitRecord> {
    const run = this.#run;
    if (run) return run.exited;
    const last = this.#history[this.#history.length - 1];
    if (last) return Promise.resolve(last);
    return Promise.reject(new Error(`Child "${this.name}" never ran`));
  }

  /** Sends `signal` to the current run's process group, or with `main` to its leader only. */
  sendSignal(signal: Deno.Signal, how: { readonly main: boolean }): boolean {
    const run = this.#run;
    if (!run) return false;
    return how.main ? signalProcess(run.proc.pid, signal) : run.proc.signalGroup(signal);
  }

  /** Runs `task` after every operation queued on this child before it. */
  enqueue<T>(task: () => Promise<T>): Promise<T> {
    return this.#queue.run(task);
  }

  /**
   * A snapshot of the child; never waits. The same object while nothing in it changes: each call
   * compares what it was made from with the child as it is now (no change can be missed), and
   * makes a new one only then.
   */
  status(): ChildStatus {
    const run = this.#run;
    const readyAt = run?.probes.readyAt ?? null;
    const last = this.#statusSource;
    if (
      last !== undefined && last.changes === this.#life.changes && last.run === run &&
      last.readyAt === readyAt && last.config === this.#config &&
      last.backoff === this.#backoff && last.starts === this.#starts &&
      last.crashes === this.#crashes && last.failures === this.#failures &&
      last.error === this.#error && last.status.history === this.#history
    ) {
      return last.status;
    }
    const status: ChildStatus = {
      name: this.name,
      state: this.#life.state,
      since: this.#life.since,
      pid: run?.proc.pid ?? null,
      startedAt: run?.startedAt ?? null,
      restarts: Math.max(0, this.#starts - 1),
      crashes: this.#crashes,
      lastExit: this.#history[this.#history.length - 1] ?? null,
      history: this.#history,
      configPath: this.#config?.path ?? null,
      command: this.#config?.argv ?? null,
      error: this.#error ?? null,
      failures: this.#failures,
      nextAttemptAt: this.#backoff?.at ?? null,
      adopted: run?.adopted ?? false,
      ready: run?.config.ready ? readyAt !== null : null,
      readySince: readyAt,
    };
    this.#statusSource = {
      status,
      changes: this.#life.changes,
      run,
      readyAt,
      config: this.#config,
      backoff: this.#backoff,
      starts: this.#starts,
      crashes: this.#crashes,
      failures: this.#failures,
      error: this.#error,
    };
    return status;
  }

  /**
   * Starts a process from `config` at an operator's request: a pending automatic restart is
   * cancelled and the count of failures in a row starts again. Call only from inside the
   * queue, when the child is not live. Resolves with the pid once the process exists; throws
   * SPAWN_FAILED (state FATAL) otherwise.
   */
  async spawn(config: ChildConfig): Promise<number> {
    this.#cancelBackoff();
    this.#failures = 0;
    try {
      return await this.#launch(config);
    } catch (error) {
      this.#life.apply("gave-up", this.#deps.clock.now());
      throw error;
    }
  }

  /**
   * Brings the child to rest, whatever it is doing: a pending automatic restart is cancelled
   * (`cancelled`), a live run is stopped (`stopped`, with its exit). `idle` when there was
   * nothing to stop. Call only from inside the queue.
   */
  async halt(config: ChildConfig | undefined = this.#config): Promise<Halt> {
    if (this.#life.state === "BACKOFF") {
      this.#cancelBackoff();
      this.#life.apply("cancel-restart", this.#deps.clock.now());
      return { kind: "cancelled" };
    }
    if (!this.isLive) return { kind: "idle" };
    return { kind: "stopped", exit: await this.terminate(config) };
  }

  /**
   * Spawns with output wired first; on failure the state stays STARTING for the caller. With
   * `trustMs` (an automatic restart), the working directory and the program's place on PATH
   * found good within it are not looked at again.
   */
  async #launch(config: ChildConfig, trustMs = 0): Promise<number> {
    const { clock, spawner, terminal, logger } = this.#deps;
    this.#config = config;
    this.#error = undefined;
    this.#life.apply("spawn", clock.now());
    let outputs: ChildOutputs | undefined;
    let proc: SpawnedProcess;
    const checked = this.#cwdChecked;
    const cwdTrusted = checked !== undefined && checked.path === config.cwd &&
      performance.now() - checked.at < trustMs;
    try {
      if (!cwdTrusted) {
        const at = performance.now();
        await checkDirectory(config.cwd);
        this.#cwdChecked = { path: config.cwd, at };
      }
      // Env files and users are read first: a start they fail does not touch the output files.
      const spec = await spawnSpecFor(config);
      outputs = await ChildOutputs.open(config, terminal, logger, this.#taps, clock);
      const files = outputs.directFiles;
      const trusted = trustMs > 0 ? { ...spec, trustMs } : spec;
      proc = await spawner.spawn(files ? { ...trusted, files } : trusted);
    } catch (failure) {
      let error = failure;
      this.#cwdChecked = undefined;
      // A directory taken on trust may be what failed: say so, as an untrusted start would.
      if (cwdTrusted) await checkDirectory(config.cwd).catch((bad) => (error = bad));
      outputs?.discard();
      const reason = spawnFailure(config, error);
      this.#error = reason;
      throw new SupervisorError("SPAWN_FAILED", `Cannot start child "${this.name}": ${reason}`, {
        child: this.name,
        cause: error,
      });
    }
    const run = this.#start({ proc, outputs, config, startedAt: clock.now(), adopted: false });
    this.#armStarted(run);
    return proc.pid;
  }

  /** Makes `proc` the current run: its output pumped, its exit observed, listeners told. */
  #start(
    parts: Pick<Run, "proc" | "outputs" | "config" | "startedAt" | "adopted">,
  ): Run {
    this.#starts++;
    const timers = new AbortController();
    const drained = parts.outputs.pump(parts.proc.stdout, parts.proc.stderr);
    this.#lastDrained = drained;
    let settle!: (outcome: StartOutcome) => void;
    const outcome = new Promise<StartOutcome>((resolve) => (settle = resolve));
    const stderrMark = this.#taps.stderr.written;
    const probes = {
      runners: [] as ProbeRunner[],
      failure: undefined,
      readyAt: null,
      failuresBefore: this.#failures,
    };
    const base = { ...parts, drained, timers, outcome, settle, stderrMark, probes };
    // One reaction, not a catch and then a then: the exit is handled a microtask sooner, ahead
    // of the chain that closes the run's pipes at the same moment (measured: 12 µs from the
    // exit to its handling instead of 65, on the path from a crash to its restart).
    const exited = parts.proc.status.then(
      (status) => this.#onExit(base, status),
      () => this.#onExit(base, { code: null, signal: null }),
    );
    const run: Run = { ...base, exited };
    this.#run = run;
    for (const listener of this.#runListeners) listener(this.#starts, parts.config);
    return run;
  }

  /**
   * After an exit we did not ask for: BACKOFF with a timer, or FATAL past max_restarts. Gives
   * the delay before the restart; undefined when there is none (FATAL).
   */
  #scheduleRestart(config: ChildConfig, at: number): number | undefined {
    const { clock, logger } = this.#deps;
    this.#failures++;
    const max = config.maxRestarts;
    if (max !== undefined && this.#failures > max) {
      this.#error =
        `gave up after ${this.#failures} exits in a row without staying up ${config.startSeconds}s (max_restarts ${max})`;
      this.#life.apply("gave-up", at);
      return undefined;
    }
    const delay = backoffDelay(config.backoff, this.#failures, this.#deps.random ?? Math.random);
    const timer = new AbortController();
    this.#backoff = { at: at + delay, timer };
    this.#life.apply("crashed", at);
    logger.info(`child "${this.name}": restart ${this.#failures} in a row in ${delay} ms`);
    clock.sleep(delay, timer.signal).then(
      () => this.enqueue(() => this.#retry(timer)),
      () => {},
    );
    return delay;
  }

  /** The automatic restart, from inside the queue, unless it was cancelled meanwhile. */
  async #retry(timer: AbortController): Promise<void> {
    if (this.#backoff?.timer !== timer || this.#life.state !== "BACKOFF") return;
    this.#backoff = undefined;
    const config = (await this.#deps.configFor?.(this.name)) ?? this.#config;
    if (!config) return;
    try {
      await this.#launch(config, AUTO_RESTART_TRUST_MS);
    } catch (error) {
      this.#deps.logger.error(errorMessage(error));
      this.#scheduleRestart(config, this.#deps.clock.now());
    }
  }

  #cancelBackoff(): void {
    callOff(this.#backoff?.timer);
    this.#backoff = undefined;
  }

  /**
   * Stops the current run: the stop signal to the whole group and to the rest of the session,
   * SIGKILL to the group after `stop_timeout`, then any member of the group or session still
   * alive is given what is left of the timeout and killed. Call only from inside the queue,
   * when the child is live.
   */
  async terminate(config: ChildConfig | undefined = this.#run?.config): Promise<ExitRecord> {
    const run = this.#run;
    if (!run || !config) throw new Error(`Child "${this.name}" has no run to stop`);
    const { clock, logger } = this.#deps;
    const deadline = clock.now() + config.stopTimeoutMs;
    this.#life.apply("stop", clock.now());
    callOff(run.timers);
    for (const runner of run.probes.runners) runner.stop();
    run.proc.signalGroup(config.stopSignal);
    void this.#reaper.signalSession(run.proc.pid, config.stopSignal);
    let exit = await this.#within(run.exited, config.stopTimeoutMs);
    if (!exit) {
      logger.warn(
        `child "${this.name}" (pid ${run.proc.pid}) did not stop within ${
          config.stopTimeoutMs / 1000
        }s of ${config.stopSignal}; sending SIGKILL to its process group`,
      );
      run.proc.signalGroup("SIGKILL");
      exit = await run.exited;
    }
    await this.#clearGroup(run.proc, deadline);
    this.#life.apply("stopped", clock.now());
    return exit;
  }

  /**
   * The last `count` lines the child wrote to `stream` (kept in memory, across runs); with
   * `complete`, without an unterminated last line.
   */
  recentLines(stream: "stdout" | "stderr", count: number, complete = false): string[] {
    return this.#taps[stream].lines(count, complete);
  }

  /** How much of `stream`'s output file has been published to followers (see OutputTaps). */
  publishedEnd(stream: "stdout" | "stderr"): number | undefined {
    const direct = (this.#run ?? this.#previousRun)?.outputs.direct(stream);
    return direct ? direct.published() : this.#taps.published[stream];
  }

  /**
   * Follows the child's output from now on (`fromRunStart`: from the start of the current run,
   * for what the child may have written to its own files already); close the follower to stop.
   */
  follow(streams: readonly ("stdout" | "stderr")[], fromRunStart = false): Follower {
    const follower = this.#taps.bus.follow(streams);
    // Files the child writes itself are read back while followed.
    this.#run?.outputs.watch(fromRunStart);
    return follower;
  }

  /** Ends every follow of this child. */
  endFollows(): void {
    this.#taps.bus.closeAll();
  }

  /** Reopens the current run's output files (SIGHUP). */
  async reopenLogs(): Promise<void> {
    await this.#run?.outputs.reopen();
  }

  /** Waits until every pipe of the current or last run has been drained, at most `ms`. */
  async drained(ms: number): Promise<void> {
    await this.#within(this.#lastDrained, ms);
  }

  #onExit(run: Omit<Run, "exited">, status: ExitStatus): ExitRecord {
    const { clock, logger } = this.#deps;
    const at = clock.now();
    const stopping = this.#life.state === "STOPPING";
    const exit: ExitRecord = {
      code: status.code,
      signal: status.signal,
      at,
      ranMs: at - run.startedAt,
      requested: stopping,
      expected: run.probes.failure === undefined && expectedExit(status, run.config.exitCodes),
      stderrTail: this.#taps.stderr.linesSince(run.stderrMark, CRASH_CONTEXT_LINES),
      ...(run.probes.failure === undefined ? {} : { reason: run.probes.failure }),
    };
    this.#history = [...this.#history, exit].slice(-HISTORY_LENGTH);
    // `expected` is already false for a run the server ended (a probe, the memory limit).
    if (!stopping && !exit.expected) this.#crashes++;
    // Its last words may still be in the pipe: take the crash context again once drained.
    // (A wait on I/O, not on policy: real time, so fake clocks in tests are not involved.)
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((
      resolve,
    ) => (timer = setTimeout(resolve, CRASH_CONTEXT_WAIT_MS)));
    void Promise.race([run.drained, late]).then(async () => {
      clearTimeout(timer);
      await run.outputs.ended();
      // A child that writes its stderr file itself left its last words there.
      const direct = run.outputs.direct("stderr");
      const final = {
        ...exit,
        stderrTail: direct
          ? await direct.lines(CRASH_CONTEXT_LINES, TAIL_BYTES)
          : this.#taps.stderr.linesSince(run.stderrMark, CRASH_CONTEXT_LINES),
      };
      if (this.#history.includes(exit)) {
        this.#history = this.#history.map((e) => e === exit ? final : e);
      }
      run.settle({ started: false, exit: final, state: this.#life.state });
    });
    callOff(run.timers);
    for (const runner of run.probes.runners) runner.stop();
    if (this.#run?.proc === run.proc) {
      this.#previousRun = this.#run;
      this.#run = undefined;
    }
    if (!stopping) {
      logger.info(`child "${this.name}" (pid ${run.proc.pid}) exited: ${describeExit(exit)}`);
      // An unhealthy run is restarted whatever the policy says (backoff and max_restarts apply).
      // A run the server ended (unhealthy, never ready) is a failure whatever its exit code:
      // unhealthy is restarted whatever the policy, never-ready unless the policy is never; an
      // unhealthy end continues the streak of failures, so max_restarts still applies.
      const failure = run.probes.failure;
      if (failure === "unhealthy") {
        this.#failures = Math.max(this.#failures, run.probes.failuresBefore);
      }
      const restart = (failure !== undefined && ALWAYS_RESTARTED.includes(failure)) ||
        (failure !== undefined && run.config.restart !== "never") ||
        shouldRestart(run.config.restart, exit, run.config.exitCodes);
      const delay = restart ? this.#scheduleRestart(run.config, at) : undefined;
      if (!restart) this.#life.apply("exited", at);
      // What the leader left behind in its group and session is stopped like the child would
      // have been.
      const leftovers = () => {
        if (this.#reaper.groupAlive(run.proc.pid)) run.proc.signalGroup(run.config.stopSignal);
        void this.#reaper.signalSession(run.proc.pid, run.config.stopSignal);
        void this.#clearGroup(run.proc, at + run.config.stopTimeoutMs, "soon");
      };
      // A restart without backoff spawns within this turn when it takes its config, directory
      // and program on trust (a crash loop): the leftovers are seen to at the next, so that the
      // probe (a kill(2) whose failure Deno throws: 60 µs on a busy server) does not hold the
      // new run up. Either way they get the stop signal within a few milliseconds.
      if (delay === 0) setTimeout(leftovers, 0);
      else leftovers();
    }
    return exit;
  }

  /** STARTING becomes RUNNING once the run has stayed up for `start_seconds`. */
  #armStarted(run: Run): void {
    const { clock } = this.#deps;
    const promote = () => {
      if (this.#run === run && this.#life.state === "STARTING") {
        this.#failures = 0;
        this.#life.apply("started", clock.now());
        run.settle({ started: true });
        this.#watchHealth(run);
      }
    };
    const ready = run.config.ready;
    if (ready) {
      // With a readiness probe, the run counts as started once ready, not after start_seconds.
      this.#probe(run, ready, {
        onReady: () => {
          run.probes.readyAt = clock.now();
          promote();
        },
        onNeverReady: () =>
          this.#fail(run, `not ready within ${(ready.timeoutTotalMs ?? 0) / 1000}s`),
      });
      return;
    }
    if (run.config.startSeconds === 0) return promote();
    clock.sleep(run.config.startSeconds * 1000, run.timers.signal).then(promote, () => {});
  }

  /** Starts the health probe of a run that counts as started. */
  #watchHealth(run: Run): void {
    const health = run.config.health;
    if (!health) return;
    this.#probe(run, health, { onUnhealthy: () => this.#fail(run, "unhealthy") });
  }

  /** Runs `probe` for `run` until the run ends; a log probe is fed the run's output lines. */
  #probe(
    run: Run,
    probe: ProbeConfig,
    on: { onReady?: () => void; onNeverReady?: () => void; onUnhealthy?: () => void },
  ): void {
    const runner = new ProbeRunner({
      probe,
      clock: this.#deps.clock,
      check: probe.kind === "log"
        ? undefined
        : probeCheck(probe, { cwd: run.config.cwd, env: run.config.env }),
      ...on,
    });
    run.probes.runners.push(runner);
    runner.start();
    if (probe.kind === "log") {
      const follower = this.follow(["stdout", "stderr"], true);
      void (async () => {
        for await (const item of follower) {
          if ("line" in item) runner.offer(item.line);
          if (runner.status.verdict !== "pending" || this.#run !== run) break;
        }
        follower.close();
      })();
      void runner.finished.then(() => follower.close());
    }
  }

  /**
   * Ends the current run as a failure for `reason` (`memory limit`): the stop signal to its
   * group, SIGKILL after stop_timeout; it is then restarted whatever its restart policy, and
   * its exit is recorded with the reason. False when there is no run to end.
   */
  endRun(reason: "memory limit", detail: string): boolean {
    const run = this.#run;
    if (!run || this.#life.state === "STOPPING" || run.probes.failure !== undefined) return false;
    this.#fail(run, reason, detail);
    return true;
  }

  /**
   * Ends a run the server gave up on (never ready, unhealthy) as a crash: the stop signal to
   * its group, SIGKILL after stop_timeout; its exit then goes through the restart policy.
   */
  #fail(run: Run, reason: string, detail = `is ${reason}`): void {
    if (this.#run !== run || run.probes.failure !== undefined) return;
    const { clock, logger } = this.#deps;
    run.probes.failure = reason;
    logger.warn(`child "${this.name}" (pid ${run.proc.pid}) ${detail}: ending it`);
    run.proc.signalGroup(run.config.stopSignal);
    clock.sleep(run.config.stopTimeoutMs, run.timers.signal).then(
      () => run.proc.signalGroup("SIGKILL"),
      () => {},
    );
  }

  /**
   * Waits until no live process is left in the group or session of `proc` (which has exited),
   * killing what is left at `deadline`.
   */
  async #clearGroup(
    proc: SpawnedProcess,
    deadline: number,
    first: "now" | "soon" = "now",
  ): Promise<void> {
    const { logger } = this.#deps;
    const reaped = await this.#reaper.clear({
      leader: proc.pid,
      deadline,
      killGroup: () => {
        logger.warn(
          `child "${this.name}": processes left in its group or session ${proc.pid}; sending SIGKILL`,
        );
        // The leader is gone: its pid alone may be another process's by now.
        if (this.#reaper.groupAlive(proc.pid)) proc.signalGroup("SIGKILL");
      },
    }, first);
    if (reaped.left > 0) {
      logger.error(
        `child "${this.name}": SIGKILL did not end every process of its group or session ${proc.pid} within ${
          KILL_GRACE_MS / 1000
        }s (${reaped.left} left)`,
      );
    }
  }

  /** The value of `promise` if it settles within `ms`, else undefined. */
  async #within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
    const timer = new AbortController();
    try {
      return await Promise.race([
        promise,
        this.#deps.clock.sleep(ms, timer.signal).then(() => undefined),
      ]);
    } finally {
      callOff(timer);
    }
  }

  #logTransition(event: StateEvent): void {
    if (event.to === "FATAL") {
      this.#deps.logger.error(`child "${this.name}" is FATAL: ${this.#error ?? "gave up"}`);
    }
  }
}

async function checkDirectory(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw new Error(`working directory "${path}" does not exist`, { cause: error });
  }
  if (!info.isDirectory) throw new Error(`working directory "${path}" is not a directory`);
}

function spawnFailure(config: ChildConfig, error: unknown): string {
  const program = config.argv[0] ?? "";
  if (error instanceof Deno.errors.NotFound) return `command "${program}" was not found`;
  if (error instanceof Deno.errors.PermissionDenied) {
    return `command "${program}" cannot be run: permission denied`;
  }
  const message = errorMessage(error);
  if (/Too many open files|os error 24/.test(message)) {
    return `${message}: the server is out of file descriptors (each live child holds 2 or 3); raise LimitNOFILE in the systemd unit or "ulimit -n" for the server`;
  }
  return message;
}
