/**
 * The cost of resource sampling: N `sleep 1000` children, each detached (leading its own session
 * and group, as the server starts them), sampled by the ResourceSampler of
 * lib/process/resource_sampler.ts every period for a window; its CPU time (utime + stime of
 * /proc/self/stat) over that window, minus that of an idle window of the same length with the
 * same children, as a share of one core. Also the wall time of each sample call.
 *
 * Usage: deno run -A scripts/bench/sampling.ts [children=500] [seconds=20] [periodMs=5000]
 *
 * Measured on Linux (2 cores, Deno 2.9.6; 500 children, about 580 processes in /proc): at the
 * default 5 s period, 0.20 % of one core over a 60 s window (12 samples, 10 ms of CPU and
 * 14-16 ms of wall time each) and 0.45-0.50 % over the default 20 s window (4 samples, the
 * first one cold, with CPU counted in 10 ms ticks); at a 1 s period, 1.3 %.
 *
 * Exports {@link benchSampling} (the numbers) and {@link resourceSampling} (a workload of
 * `deno task bench`: one row, supervisor-ts only). Every child carries the run marker of
 * procs.ts and is killed at the end, on an error too.
 *
 * @module
 */
import { ResourceSampler } from "../../lib/process/resource_sampler.ts";
import { benchEnv, clockTicksPerSecond, cpuTicks, delay } from "./procs.ts";
import { cell, ms, noCell, OURS, percent, targetText } from "./stats.ts";
import { messageOf } from "./workload.ts";
import type { Context, Log, WorkloadResult } from "./workload.ts";

/** Settings of the sampling benchmark, and supervisor-ts's target. */
export const SAMPLING = {
  children: 500,
  seconds: 20,
  quickSeconds: 10,
  periodMs: 5000,
  targetPercent: 1,
} as const;

/** What to measure. */
export interface SamplingOptions {
  readonly children?: number;
  /** Length of the idle window and of the sampling window. */
  readonly seconds?: number;
  readonly periodMs?: number;
  /** Where progress goes; nowhere by default. */
  readonly log?: Log;
}

/** What was measured. */
export interface SamplingResult {
  readonly children: number;
  readonly seconds: number;
  readonly periodMs: number;
  /** Sample calls made in the sampling window. */
  readonly samples: number;
  /** Children with an entry in the last sample (all of them, unless some died). */
  readonly sampled: number;
  /** Wall time of one sample call: mean and maximum. */
  readonly meanSampleMs: number;
  readonly maxSampleMs: number;
  /** CPU of this process over the idle window and over the sampling window, % of one core. */
  readonly idlePercent: number;
  readonly samplingPercent: number;
  /** What sampling itself costs: sampling minus idle, % of one core. */
  readonly percentOfCore: number;
  /** The same as CPU milliseconds per sample call. */
  readonly cpuMsPerSample: number;
}

/** Children spawned and not yet killed, so an interrupted run can kill them. */
const live = new Set<Deno.ChildProcess>();

/** Detached `sleep 1000` children: each leads its own session and group. */
function spawnSleeps(n: number): Deno.ChildProcess[] {
  const env = benchEnv();
  const children: Deno.ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const child = new Deno.Command("sleep", {
      args: ["1000"],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
    }).spawn();
    live.add(child);
    children.push(child);
  }
  return children;
}

/** SIGKILL to each child's group; resolves once every child is reaped. */
async function killAll(children: readonly Deno.ChildProcess[]): Promise<void> {
  for (const child of children) {
    live.delete(child);
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  await Promise.all(children.map((c) => c.status));
}

/** CPU ticks of this process used while `body` runs, and the wall seconds it took. */
async function cpuDuring(body: () => Promise<void>): Promise<{ ticks: number; seconds: number }> {
  const before = cpuTicks(Deno.pid);
  const t0 = performance.now();
  await body();
  const after = cpuTicks(Deno.pid);
  if (before === undefined || after === undefined) throw new Error("cannot read /proc/self/stat");
  return { ticks: after - before, seconds: (performance.now() - t0) / 1000 };
}

/** Samples `leaders` every `periodMs` for `seconds`; the wall ms of each call. */
async function sampleEvery(
  sampler: ResourceSampler,
  leaders: ReadonlyMap<string, number>,
  periodMs: number,
  seconds: number,
): Promise<{ durations: number[]; sampled: number }> {
  const durations: number[] = [];
  let sampled = 0;
  const end = performance.now() + seconds * 1000;
  for (let next = performance.now(); next < end; next += periodMs) {
    await delay(Math.max(0, next - performance.now()));
    const t0 = performance.now();
    sampled = (await sampler.sample(leaders)).size;
    durations.push(performance.now() - t0);
  }
  await delay(Math.max(0, end - performance.now()));
  return { durations, sampled };
}

/** Measures the CPU cost of sampling `children` detached children every `periodMs`. */
export async function benchSampling(options: SamplingOptions = {}): Promise<SamplingResult> {
  const n = options.children ?? SAMPLING.children;
  const seconds = options.seconds ?? SAMPLING.seconds;
  const periodMs = options.periodMs ?? SAMPLING.periodMs;
  const log = options.log ?? (() => {});
  const hz = await clockTicksPerSecond();
  const children = spawnSleeps(n);
  try {
    const leaders = new Map(children.map((c, i) => [`sleep-${i}`, c.pid]));
    const sampler = new ResourceSampler({ ticksPerSecond: hz });
    await delay(500); // let every child exec
    log(`[sampling] ${n} children: idle window of ${seconds} s`);
    const idle = await cpuDuring(() => delay(seconds * 1000));
    log(`[sampling] sampling every ${periodMs} ms for ${seconds} s`);
    let run = { durations: [] as number[], sampled: 0 };
    const busy = await cpuDuring(async () => {
      run = await sampleEvery(sampler, leaders, periodMs, seconds);
    });
    const idlePercent = (100 * idle.ticks / hz) / idle.seconds;
    const samplingPercent = (100 * busy.ticks / hz) / busy.seconds;
    const percentOfCore = Math.max(0, samplingPercent - idlePercent);
    const samples = run.durations.length;
    return {
      children: n,
      seconds,
      periodMs,
      samples,
      sampled: run.sampled,
      meanSampleMs: run.durations.reduce((a, b) => a + b, 0) / samples,
      maxSampleMs: Math.max(...run.durations),
      idlePercent,
      samplingPercent,
      percentOfCore,
      cpuMsPerSample: (percentOfCore / 100) * busy.seconds * 1000 / samples,
    };
  } finally {
    await killAll(children);
  }
}

/** One line per number of `result`, for people. */
export function describeSampling(result: SamplingResult): string[] {
  return [
    `children ${result.children} (sampled ${result.sampled}), period ${result.periodMs} ms, ` +
    `window ${result.seconds} s, ${result.samples} samples`,
    `sample call: mean ${ms(result.meanSampleMs)}, max ${ms(result.maxSampleMs)}`,
    `CPU idle ${percent(result.idlePercent)}, while sampling ${percent(result.samplingPercent)}`,
    `sampling cost: ${percent(result.percentOfCore)} of one core ` +
    `(${ms(result.cpuMsPerSample)} of CPU per sample; target < ${SAMPLING.targetPercent} %)`,
  ];
}

/** The sampling workload of `deno task bench`: one row, measured in this process. */
export async function resourceSampling(ctx: Context): Promise<WorkloadResult> {
  const seconds = ctx.quick ? SAMPLING.quickSeconds : SAMPLING.seconds;
  const measurement =
    `resource sampling of ${SAMPLING.children} children every ${SAMPLING.periodMs} ms, ` +
    "% of one core";
  try {
    const result = await benchSampling({ seconds, log: ctx.log });
    const cells = new Map([[OURS, cell(result.percentOfCore, percent)]]);
    const target = targetText(
      `< ${SAMPLING.targetPercent} %`,
      result.percentOfCore < SAMPLING.targetPercent,
    );
    return {
      rows: [{ measurement, cells, floor: noCell("–"), floorIs: "–", target }],
      notes: [`Resource sampling: ${describeSampling(result).join("; ")}.`],
    };
  } catch (error) {
    const note = `resource sampling failed: ${messageOf(error)}`;
    ctx.log(note);
    const cells = new Map([[OURS, noCell("failed")]]);
    return {
      rows: [{ measurement, cells, floor: noCell("–"), floorIs: "–", target: "–" }],
      notes: [note],
    };
  }
}

/** A positive number from the command line, or `fallback` when absent. */
function argument(index: number, fallback: number): number {
  const text = Deno.args[index];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`argument ${index + 1} must be a positive number: ${text}`);
  return value;
}

if (import.meta.main) {
  Deno.addSignalListener("SIGINT", () => {
    void killAll([...live]).finally(() => Deno.exit(130));
  });
  const result = await benchSampling({
    children: argument(0, SAMPLING.children),
    seconds: argument(1, SAMPLING.seconds),
    periodMs: argument(2, SAMPLING.periodMs),
    log: (line) => console.error(line),
  });
  for (const line of describeSampling(result)) console.log(line);
}
