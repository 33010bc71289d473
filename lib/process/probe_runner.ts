/**
 * The schedule of one probe over one run of a child: the initial delay, a check every period
 * (never two at once, each cut at its timeout), consecutive successes and failures counted
 * against the thresholds, and the verdicts they lead to: ready, never ready, healthy,
 * unhealthy. A `log` probe has no schedule: it is ready at the first line that matches.
 *
 * Owns: when checks run, how results count, and reporting each verdict once. Does not own: what
 * a check does (see `probe.ts`; the runner takes it as a {@link ProbeCheck}), or what a verdict
 * does to the child (the callbacks' owner decides).
 *
 * Costs nothing when idle: at most one timer of the clock at a time (the wait for the next
 * check, or the timeout of the check in flight), and none once the runner has stopped.
 *
 * @module
 */
import type { ProbeConfig } from "../config/probe_config.ts";
import { callOff } from "./clock.ts";
import type { Clock } from "./clock.ts";
import { LogMatcher } from "./probe.ts";
import type { ProbeCheck } from "./probe.ts";

/**
 * Where a probe stands. `ready`, `never-ready` and `unhealthy` are final; `healthy` (health
 * only) lasts until `unhealthy`.
 */
export type ProbeVerdict = "pending" | "ready" | "never-ready" | "healthy" | "unhealthy";

/** What the runner has seen so far. */
export interface ProbeStatus {
  readonly verdict: ProbeVerdict;
  /** Started, and not yet stopped or at a final verdict. */
  readonly running: boolean;
  /** Consecutive successful checks (1 once a log probe matched). */
  readonly successes: number;
  /** Consecutive failed checks. */
  readonly failures: number;
  /** Checks started in all. */
  readonly checks: number;
}

/**
 * How a runner is built. Callbacks are called at most once each, synchronously, and may call
 * {@link ProbeRunner.stop}; they must not throw (an exception escapes as an unhandled
 * rejection, or from {@link ProbeRunner.offer}).
 */
export interface ProbeRunnerOptions {
  readonly probe: ProbeConfig;
  readonly clock: Clock;
  /** One check (see `probeCheck` in `probe.ts`); required for tcp, http and exec probes. */
  readonly check?: ProbeCheck | undefined;
  /** `ready`: success_threshold checks in a row succeeded, or a log line matched. Final. */
  readonly onReady?: (() => void) | undefined;
  /** `ready`: timeout_total passed without the child becoming ready. Final. */
  readonly onNeverReady?: (() => void) | undefined;
  /** `health`: success_threshold checks in a row succeeded, the first time. */
  readonly onHealthy?: (() => void) | undefined;
  /** `health`: failure_threshold checks in a row failed. Final. */
  readonly onUnhealthy?: (() => void) | undefined;
}

/** Runs one probe for one run of a child, from {@link start} to a final verdict or {@link stop}. */
export class ProbeRunner {
  readonly #options: ProbeRunnerOptions;
  readonly #probe: ProbeConfig;
  readonly #clock: Clock;
  /** Aborted when the run ends: cancels the clock's sleep and the check in flight. */
  readonly #end = new AbortController();
  readonly #finished = Promise.withResolvers<ProbeVerdict>();
  #matcher: LogMatcher | undefined;
  #started = false;
  #ended = false;
  #verdict: ProbeVerdict = "pending";
  #successes = 0;
  #failures = 0;
  #checks = 0;
  /** `ready`: the clock's time at which the child has failed to become ready. */
  #deadline: number | undefined;

  constructor(options: ProbeRunnerOptions) {
    const { probe } = options;
    if (probe.kind === "log" && probe.role !== "ready") {
      throw new TypeError("A log probe can only tell when a child is ready");
    }
    if (probe.kind !== "log" && !options.check) {
      throw new TypeError(`A ProbeRunner for a ${probe.kind} probe needs a check`);
    }
    this.#options = options;
    this.#probe = probe;
    this.#clock = options.clock;
  }

  /** Settles with the verdict when the run ends: at a final verdict, or at {@link stop}. */
  get finished(): Promise<ProbeVerdict> {
    return this.#finished.promise;
  }

  /** What the runner has seen so far. */
  get status(): ProbeStatus {
    return {
      verdict: this.#verdict,
      running: this.#started && !this.#ended,
      successes: this.#successes,
      failures: this.#failures,
      checks: this.#checks,
    };
  }

  /**
   * Starts the schedule (for `ready`, the total timeout counts from now). Does nothing when
   * already started or stopped.
   */
  start(): void {
    if (this.#started || this.#ended) return;
    this.#started = true;
    const total = this.#probe.role === "ready" ? this.#probe.timeoutTotalMs : undefined;
    this.#deadline = total === undefined ? undefined : this.#clock.now() + total;
    if (this.#probe.kind === "log") {
      this.#matcher = new LogMatcher(this.#probe.pattern);
      if (this.#deadline !== undefined) void this.#wait(this.#deadline - this.#clock.now());
    } else {
      void this.#loop(this.#options.check!);
    }
  }

  /**
   * A line of the child's stdout or stderr, for a `log` probe: the first that matches makes the
   * child ready. Ignored by other probes, and before {@link start} and after the run ended.
   */
  offer(line: string): void {
    if (!this.#matcher || this.#ended) return;
    if (this.#matcher.offer(line)) {
      this.#successes = 1;
      this.#finish("ready", this.#options.onReady);
    }
  }

  /** Ends the run: no more checks, no callbacks, no timer left. Idempotent. */
  stop(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#end.abort(new DOMException("The probe runner stopped", "AbortError"));
    this.#finished.resolve(this.#verdict);
  }

  /** The checks, one after another, until the run ends. */
  async #loop(check: ProbeCheck): Promise<void> {
    if (!(await this.#wait(this.#probe.initialDelayMs))) return;
    const periodMs = Math.max(1, this.#probe.periodMs);
    for (;;) {
      const began = this.#clock.now();
      const { ok, settled } = await this.#attempt(check);
      if (this.#ended) return;
      this.#count(ok);
      if (this.#ended) return;
      // A check cut at its timeout must be over before the next one starts.
      await settled;
      if (!(await this.#wait(periodMs - (this.#clock.now() - began)))) return;
    }
  }

  /**
   * Sleeps `ms` on the clock, but not beyond the deadline, where the child is never ready.
   * False when the run ended meanwhile.
   */
  async #wait(ms: number): Promise<boolean> {
    const left = this.#deadline === undefined
      ? ms
      : Math.min(ms, this.#deadline - this.#clock.now());
    if (left > 0) {
      try {
        await this.#clock.sleep(left, this.#end.signal);
      } catch {
        return false;
      }
    }
    if (this.#ended) return false;
    if (this.#deadline !== undefined && this.#clock.now() >= this.#deadline) {
      this.#finish("never-ready", this.#options.onNeverReady);
      return false;
    }
    return true;
  }

  /**
   * One check, cut at its timeout (or the deadline, if sooner): `ok` as soon as it is known,
   * and `settled` once the check itself has returned.
   */
  async #attempt(check: ProbeCheck): Promise<{ ok: boolean; settled: Promise<unknown> }> {
    this.#checks++;
    const attempt = new AbortController();
    const timer = new AbortController();
    const onEnd = () => {
      attempt.abort(this.#end.signal.reason);
      callOff(timer);
    };
    this.#end.signal.addEventListener("abort", onEnd, { once: true });
    let result: Promise<boolean>;
    try {
      result = check(attempt.signal).then((ok) => ok === true, () => false);
    } catch {
      result = Promise.resolve(false);
    }
    const limit = this.#deadline === undefined
      ? this.#probe.timeoutMs
      : Math.min(this.#probe.timeoutMs, this.#deadline - this.#clock.now());
    const timedOut = this.#clock.sleep(limit, timer.signal).then(() => "timeout", () => "ended");
    const first = await Promise.race([result, timedOut]);
    callOff(timer);
    if (typeof first !== "boolean") {
      attempt.abort(new DOMException("The probe timed out", "TimeoutError"));
    }
    const settled = result.finally(() => this.#end.signal.removeEventListener("abort", onEnd));
    return { ok: first === true, settled };
  }

  /** Counts one result against the thresholds, and reports what it leads to. */
  #count(ok: boolean): void {
    const probe = this.#probe;
    if (ok) {
      this.#successes++;
      this.#failures = 0;
      if (this.#verdict !== "pending" || this.#successes < probe.successThreshold) return;
      if (probe.role === "ready") {
        this.#finish("ready", this.#options.onReady);
      } else {
        this.#verdict = "healthy";
        this.#options.onHealthy?.();
      }
    } else {
      this.#failures++;
      this.#successes = 0;
      if (probe.role === "health" && this.#failures >= probe.failureThreshold) {
        this.#finish("unhealthy", this.#options.onUnhealthy);
      }
    }
  }

  /** Ends the run at a final verdict, then reports it. */
  #finish(verdict: ProbeVerdict, report: (() => void) | undefined): void {
    if (this.#ended) return;
    this.#verdict = verdict;
    this.stop();
    report?.();
  }
}
