/**
 * Workloads 2, 3 and 5, a fleet of 500 `sleep 1000`: each system is started with 500 children
 * configured and none running, in rounds paired with the floors (supervisor-ts: 3 rounds,
 * `--quick` 1; a peer: 1 round); each round:
 *
 * - floors: holder.ts spawning 500 with piped output, and with none; holder.ts spawning 500
 *   through setsid (a session each, as supervisor-ts spawns; when setsid is present); the C
 *   floor spawning 500 with a new session each (when a C compiler is present);
 * - the system with piped children: its RSS before any child runs; start all 500
 *   (supervisor-ts: 500 `start` requests pipelined over 20 connections; each child has
 *   `start_seconds: 0`, so a start is answered once spawned and RUNNING, and what is timed is
 *   spawning, not the 1 s a child must stay up by default; supervisord: `startAllProcesses`;
 *   pm2: `pm2.start` of a 500-app ecosystem), timed until its status shows all 500 running
 *   with pids; its RSS with 500 children;
 * - the same with every child's output going to a file of its own (no rotation): its RSS.
 *
 * In the last round only: `check` round trips over one connection with 500 children (p99,
 * against the echo server answering as many bytes), the CPU time (utime + stime of
 * /proc/PID/stat) over an idle window of 60 s (`--quick`: 10 s) as a share of one core, and the
 * shutdown the system documents (supervisor-ts and supervisord: SIGTERM; pm2: `pm2 kill`) until
 * the supervisor has exited. Every figure is the median over the rounds.
 *
 * @module
 */
import { join } from "node:path";
import { cSpawnMs } from "./c_floor.ts";
import { persistentRoundTrips } from "./lines.ts";
import type { ChildSpec, Instance, Peer } from "./peers/peer.ts";
import {
  clockTicksPerSecond,
  cpuTicks,
  delay,
  findSetsid,
  isAlive,
  rssKiB,
  startLogged,
} from "./procs.ts";
import { childName, ROOT, serverV8Flags, startEcho } from "./servers.ts";
import {
  atMost,
  cell,
  median,
  mib,
  ms,
  noCell,
  OURS,
  percent,
  percentile,
  targetsText,
} from "./stats.ts";
import type { Cell, Row } from "./stats.ts";
import {
  CONFIG_SETTLED_MS,
  configSettled,
  messageOf,
  systemDir,
  waitRunning,
  withInstance,
} from "./workload.ts";
import type { Context, WorkloadResult } from "./workload.ts";

/** Settings of the fleet workloads, and issue 15's targets. */
export const FLEET = {
  children: 500,
  rounds: 3,
  quickRounds: 1,
  peerRounds: 1,
  startLimitMs: 240_000,
  stopLimitMs: 120_000,
  idleSeconds: 60,
  quickIdleSeconds: 10,
  checkSamples: 1000,
  /**
   * Untimed `check` round trips before the timed ones, for every system and the echo floor
   * alike: the first couple of hundred checks of 500 children are compiled by the JIT, a cost a
   * server in service pays once.
   */
  checkWarmup: 200,
  checkBudgetMs: 5_000,
  targetStartMs: 700,
  targetStartRatio: 1.6,
  targetRssMiB: 65,
  targetRssFilesMiB: 50,
  targetCheckP99Ms: 2,
} as const;

const HOLDER_ENTRY = join(ROOT, "scripts", "bench", "holder.ts");

/** util-linux setsid, for the floor that spawns through it; undefined where it is missing. */
const SETSID_PATH = findSetsid();

const KEYS = ["running", "rss idle", "rss", "rss files", "check p99", "cpu", "stop"] as const;
type Key = typeof KEYS[number];

/** One holder.ts run: spawn time, RSS, and (when asked) idle CPU and the time to stop. */
interface HolderRun {
  readonly spawnMs: number;
  readonly rss: number | undefined;
  readonly cpu: number | undefined;
  readonly stopMs: number;
}

/** CPU time of `pid` over `seconds`, as a percentage of one core. */
export async function idleCpu(pid: number, seconds: number): Promise<number> {
  const hz = await clockTicksPerSecond();
  const before = cpuTicks(pid);
  const t0 = performance.now();
  await delay(seconds * 1000);
  const after = cpuTicks(pid);
  const elapsed = (performance.now() - t0) / 1000;
  if (before === undefined || after === undefined) throw new Error(`process ${pid} went away`);
  return ((after - before) / hz) / elapsed * 100;
}

/** holder.ts runs so far, to name each run's output files. */
let holderRuns = 0;

/**
 * The Deno floor: holder.ts with `n` children, their output `piped` or to /dev/null; with
 * `setsid`, each child through setsid (a session of its own, as supervisor-ts spawns); with
 * `code`, supervisor-ts's server modules imported first (with the server's V8 flags).
 */
async function holderRun(
  ctx: Context,
  n: number,
  output: "piped" | "null",
  idleSeconds: number,
  setsid = false,
  code = false,
): Promise<HolderRun> {
  // A name of its own per run: a later run must not read an earlier run's "spawned in" line
  // from the same file before its own shell has truncated it.
  const holder = startLogged(
    `holder-${n}-${output}${setsid ? "-setsid" : ""}${code ? "-code" : ""}-${++holderRuns}`,
    [
      Deno.execPath(),
      "run",
      ...(code ? ["-A", ...serverV8Flags()] : ["--allow-run", "--allow-read"]),
      "--quiet",
      HOLDER_ENTRY,
      String(n),
      output,
      ...(setsid ? ["setsid"] : []),
      ...(code ? ["code"] : []),
    ],
    ctx.tmp,
    ctx.tmp,
  );
  try {
    const deadline = performance.now() + 120_000;
    let spawnMs: number | undefined;
    while (spawnMs === undefined) {
      const text = await Deno.readTextFile(holder.stdoutPath).catch(() => "");
      const match = text.match(/spawned in ([\d.]+) ms/);
      if (match) spawnMs = Number(match[1]);
      else if (holder.exited) throw new Error(`holder exited: ${holder.stderrTail()}`);
      else if (performance.now() > deadline) throw new Error("holder did not spawn in 120 s");
      else await delay(20);
    }
    await delay(500);
    const rss = rssKiB(holder.pid);
    const cpu = idleSeconds > 0 ? await idleCpu(holder.pid, idleSeconds) : undefined;
    const t0 = performance.now();
    await holder.stop(60_000);
    return { spawnMs, rss, cpu, stopMs: performance.now() - t0 };
  } finally {
    await holder.stop();
  }
}

function sleepers(dir: string, n: number, files: boolean): ChildSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: childName(i),
    argv: ["sleep", "1000"],
    cwd: dir,
    restart: false,
    ...(files
      ? { stdoutPath: join(dir, "out", `${childName(i)}.log`), stderrToo: true, direct: true }
      : {}),
  }));
}

/** Samples per system and key, over the rounds. */
class Samples {
  readonly #by = new Map<string, Map<Key, number[]>>();
  readonly failed = new Map<string, string>();

  add(system: string, key: Key, value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value)) return;
    let keys = this.#by.get(system);
    if (!keys) this.#by.set(system, keys = new Map());
    keys.set(key, [...(keys.get(key) ?? []), value]);
  }

  median(system: string, key: Key): number | undefined {
    const values = this.#by.get(system)?.get(key);
    return values && values.length > 0 ? median(values) : undefined;
  }

  cells(systems: readonly Peer[], key: Key, format: (v: number) => string): Map<string, Cell> {
    const cells = new Map<string, Cell>();
    for (const peer of systems) {
      const value = this.median(peer.name, key);
      if (value !== undefined) cells.set(peer.name, cell(value, format));
      else if (this.failed.has(peer.name)) cells.set(peer.name, noCell("failed"));
    }
    return cells;
  }
}

/** Starts every child of `instance` and waits until all `n` run: ms from the first request. */
async function startAllTimed(
  instance: Instance,
  n: number,
): Promise<{ ms: number; pids: number[] }> {
  const t0 = performance.now();
  await instance.startAll();
  const pids = await waitRunning(instance, n, FLEET.startLimitMs, 20);
  return { ms: performance.now() - t0, pids };
}

/** The last round's measures with 500 children: `check` round trips, idle CPU. */
async function lastRoundMeasures(
  ctx: Context,
  instance: Instance,
  name: string,
  samples: Samples,
  notes: string[],
  last: { idleSeconds: number; checkBytes: (bytes: number) => void },
): Promise<void> {
  const n = FLEET.children;
  ctx.log(`[1] ${name}: status round trips with ${n} children`);
  if (name === OURS) last.checkBytes(await instance.statusBytes());
  const times = await instance.statusTimes(
    "persistent",
    FLEET.checkSamples,
    FLEET.checkWarmup,
    FLEET.checkBudgetMs,
  );
  if (typeof times !== "string") {
    samples.add(name, "check p99", percentile(times, 99));
    notes.push(
      `${name}: ${times.length} status round trips with ${n} children ` +
        `(up to ${FLEET.checkSamples} within ${FLEET.checkBudgetMs / 1000} s), ` +
        `median ${ms(median(times))}.`,
    );
  } else notes.push(`${name}: no status round trips with ${n} children: ${times}.`);

  ctx.log(`[5] ${name}: idle CPU over ${last.idleSeconds} s with ${n} children`);
  samples.add(name, "cpu", await idleCpu(instance.pid, last.idleSeconds));
}

/** One round of a system: piped fleet (and, in the last round, the long measures), then files. */
async function systemRound(
  ctx: Context,
  peer: Peer,
  samples: Samples,
  notes: string[],
  round: number,
  last: { idleSeconds: number; checkBytes: (bytes: number) => void } | undefined,
): Promise<void> {
  const n = FLEET.children;
  const name = peer.name;
  // A fresh directory each round: a server's output file of an earlier round names its port.
  const dir = await systemDir(ctx, `fleet${round}`, peer);
  ctx.log(`[2] ${name}: ${n} children configured, starting them all`);
  await withInstance(peer, dir, sleepers(dir, n, false), async (instance, markShutDown) => {
    await delay(500);
    samples.add(name, "rss idle", rssKiB(instance.pid));
    // A fleet in service is started from config files written long before.
    await configSettled(dir);
    const { ms: runningMs, pids } = await startAllTimed(instance, n);
    samples.add(name, "running", runningMs);
    const alive = pids.filter(isAlive).length;
    if (alive !== n) notes.push(`${name}: only ${alive} of the ${n} pids reported were alive.`);
    await delay(500);
    samples.add(name, "rss", rssKiB(instance.pid));
    if (last) await lastRoundMeasures(ctx, instance, name, samples, notes, last);

    ctx.log(`[2] ${name}: shutting down with ${n} children`);
    const t1 = performance.now();
    markShutDown();
    const stopped = await instance.shutdown(FLEET.stopLimitMs);
    const stopMs = performance.now() - t1;
    if (!stopped) {
      await instance.kill();
      notes.push(`${name}: did not shut down within ${FLEET.stopLimitMs / 1000} s; killed.`);
    } else if (last) samples.add(name, "stop", stopMs);
    await delay(200);
    const left = pids.filter(isAlive).length;
    if (left > 0) {
      notes.push(`${name} (round ${round}): ${left} of ${n} children outlived its shutdown.`);
    }
  }, FLEET.stopLimitMs);

  const filesDir = await systemDir(ctx, `fleet${round}-files`, peer);
  await Deno.mkdir(join(filesDir, "out"), { recursive: true });
  ctx.log(`[3] ${name}: ${n} children writing to files`);
  await withInstance(
    peer,
    filesDir,
    sleepers(filesDir, n, true),
    async (instance, markShutDown) => {
      const { pids } = await startAllTimed(instance, n);
      await delay(500);
      samples.add(name, "rss files", rssKiB(instance.pid));
      markShutDown();
      const t0 = performance.now();
      const stopped = await instance.shutdown(FLEET.stopLimitMs);
      if (!stopped) await instance.kill();
      const stopMs = performance.now() - t0;
      await delay(200);
      const left = pids.filter(isAlive).length;
      if (!stopped || left > 0) {
        notes.push(
          `${name}, children writing to files (round ${round}): ${
            stopped ? `shut down in ${ms(stopMs)}` : "did not shut down; killed"
          }, ${left} of ${n} children outlived it.`,
        );
      }
    },
    FLEET.stopLimitMs,
  );
}

/** Runs workloads 2, 3 and 5 for every system. */
export async function startMany(ctx: Context): Promise<WorkloadResult> {
  const n = FLEET.children;
  const idleSeconds = ctx.quick ? FLEET.quickIdleSeconds : FLEET.idleSeconds;
  const rounds = ctx.quick ? FLEET.quickRounds : FLEET.rounds;
  const notes: string[] = [];
  const samples = new Samples();
  const floor = new Samples();
  const FLOOR = "floor";
  const NO_PIPES = "no pipes";
  const C = "C";
  const SETSID = "setsid";
  let checkBytes: number | undefined;

  const empty = await holderRun(ctx, 0, "null", 0);
  const codeLoaded = await holderRun(ctx, 0, "null", 0, false, true);
  for (let round = 1; round <= rounds; round++) {
    const isLast = round === rounds;
    ctx.log(`[2] round ${round}/${rounds}: floors (holder.ts piped, no pipes; C posix_spawn)`);
    const piped = await holderRun(ctx, n, "piped", isLast ? idleSeconds : 0);
    floor.add(FLOOR, "running", piped.spawnMs);
    floor.add(FLOOR, "rss", piped.rss);
    floor.add(FLOOR, "cpu", piped.cpu);
    floor.add(FLOOR, "stop", piped.stopMs);
    const bare = await holderRun(ctx, n, "null", 0);
    floor.add(NO_PIPES, "running", bare.spawnMs);
    floor.add(NO_PIPES, "rss", bare.rss);
    if (SETSID_PATH !== undefined) {
      floor.add(SETSID, "running", (await holderRun(ctx, n, "piped", 0, true)).spawnMs);
    }
    if ("path" in ctx.cFloor) {
      floor.add(C, "running", await cSpawnMs(ctx.cFloor, n, ["sleep", "1000"]));
    }

    for (const peer of ctx.systems) {
      const peerRounds = peer.name === OURS ? rounds : Math.min(rounds, FLEET.peerRounds);
      if (round > peerRounds || samples.failed.has(peer.name)) continue;
      const last = round === peerRounds
        ? { idleSeconds, checkBytes: (bytes: number) => (checkBytes = bytes) }
        : undefined;
      try {
        await systemRound(ctx, peer, samples, notes, round, last);
      } catch (error) {
        const message = `${peer.name}: fleet of ${n} failed: ${messageOf(error)}`;
        ctx.log(message);
        notes.push(message);
        samples.failed.set(peer.name, message);
      }
    }
  }

  ctx.log(`[1] floor: the echo server answering ${checkBytes ?? 34} bytes (check, ${n} children)`);
  const echo = await startEcho(ctx.tmp, "echo-fleet-size", checkBytes ?? 0);
  let echoP99: number | undefined;
  try {
    echoP99 = percentile(
      await persistentRoundTrips(
        echo.port,
        FLEET.checkSamples,
        FLEET.checkWarmup,
        FLEET.checkBudgetMs,
      ),
      99,
    );
  } finally {
    await echo.proc.stop();
  }

  const ours = (key: Key) => samples.median(OURS, key);
  const floorOf = (key: Key, which = FLOOR) => floor.median(which, key);
  const cFloorCell = "path" in ctx.cFloor
    ? cell(floorOf("running", C), ms)
    : noCell("skipped: no C compiler");
  const toMiB = (kib: number | undefined) => kib === undefined ? undefined : kib / 1024;
  const denoSpawn = floorOf("running");
  const rows: Row[] = [
    {
      issueRow: 1,
      measurement: `server RSS, ${n} children running, output piped`,
      cells: samples.cells(ctx.systems, "rss", mib),
      floor: cell(floorOf("rss"), mib),
      floorIs: `holder.ts: a bare Deno holding ${n} piped children (1 KiB BYOB reads)`,
      otherFloors: [{
        floor: cell(floorOf("rss", NO_PIPES), mib),
        label: "no pipes",
        is: `holder.ts, ${n} children, no pipes`,
      }],
      target: targetsText([[
        `≤ ${FLEET.targetRssMiB} MiB`,
        atMost(toMiB(ours("rss")), FLEET.targetRssMiB),
      ]]),
    },
    {
      issueRow: 2,
      measurement:
        `server RSS, ${n} children running, output to a file each (no rotation; supervisor-ts: \`direct: true\`, stdout and stderr in the file)`,
      cells: samples.cells(ctx.systems, "rss files", mib),
      floor: cell(floorOf("rss", NO_PIPES), mib),
      floorIs: `holder.ts: a bare Deno holding ${n} children, no pipes`,
      target: targetsText([[
        `≤ ${FLEET.targetRssFilesMiB} MiB`,
        atMost(toMiB(ours("rss files")), FLEET.targetRssFilesMiB),
      ]]),
    },
    {
      issueRow: 3,
      measurement: `start ${n} children until all running (start_seconds: 0)`,
      cells: samples.cells(ctx.systems, "running", ms),
      floor: cell(denoSpawn, ms),
      floorIs: `holder.ts: ${n} × Deno.Command(sleep).spawn() (posix_spawn), no new session, piped`,
      otherFloors: [{
        floor: SETSID_PATH === undefined
          ? noCell("skipped: no setsid")
          : cell(floorOf("running", SETSID), ms),
        label: "through setsid",
        is:
          `holder.ts: ${n} × Deno.Command(setsid sleep).spawn(), a session each as supervisor-ts makes it, piped`,
      }, {
        floor: cFloorCell,
        label: "C",
        is: `floor_spawn.c: ${n} × posix_spawn with POSIX_SPAWN_SETSID, piped`,
      }],
      target: targetsText([
        [`≤ ${FLEET.targetStartMs} ms`, atMost(ours("running"), FLEET.targetStartMs)],
        [
          `≤ ${FLEET.targetStartRatio}× Deno spawn`,
          atMost(ours("running"), denoSpawn && denoSpawn * FLEET.targetStartRatio),
        ],
      ]),
    },
    {
      issueRow: 8,
      measurement: `\`check\` p99 over a raw socket (one connection), ${n} children`,
      cells: samples.cells(ctx.systems, "check p99", ms),
      floor: cell(echoP99, ms),
      floorIs: `echo server on 127.0.0.1, same answer size (${checkBytes ?? "?"} bytes)`,
      target: targetsText([[
        `≤ ${FLEET.targetCheckP99Ms} ms`,
        atMost(ours("check p99"), FLEET.targetCheckP99Ms),
      ]]),
    },
    {
      measurement: `supervisor RSS, ${n} children configured, none started`,
      cells: samples.cells(ctx.systems, "rss idle", mib),
      floor: cell(empty.rss, mib),
      floorIs: "holder.ts with no children",
      otherFloors: [{
        floor: cell(codeLoaded.rss, mib),
        label: "code loaded",
        is: "holder.ts with no children, supervisor-ts's server modules imported, nothing run",
      }],
      target: "–",
    },
    {
      measurement: `idle CPU over ${idleSeconds} s, ${n} children, % of one core`,
      cells: samples.cells(ctx.systems, "cpu", percent),
      floor: cell(floorOf("cpu"), percent),
      floorIs: `holder.ts with ${n} piped children`,
      target: "–",
    },
    {
      measurement: `shut down with ${n} children → supervisor exited`,
      cells: samples.cells(ctx.systems, "stop", ms),
      floor: cell(floorOf("stop"), ms),
      floorIs: `holder.ts: SIGTERM to ${n} children, all reaped, exit`,
      target: "–",
    },
  ];
  notes.push(
    `Fleet rounds: supervisor-ts ${rounds}, each peer ${Math.min(rounds, FLEET.peerRounds)}, ` +
      `paired with ${rounds} of the floors; each fleet figure is the median over its rounds ` +
      "(check p99, idle CPU and shutdown: last round only).",
    `The \`check\` round trips with ${n} children start after ${FLEET.checkWarmup} untimed ones, ` +
      "the same for every system and for the echo floor (the JIT's compiling of the first " +
      "requests is paid once by a server in service).",
    "Starting 500 is timed until the status shows all 500 running; supervisor-ts's child " +
      "files say `start_seconds: 0` (the requests keep their default `wait`, which with 0 is " +
      "answered once the child is spawned), so spawning is measured, not the default 1 s a " +
      `child must stay up. The start begins once the config files are ${
        CONFIG_SETTLED_MS / 1000
      } s old (supervisor-ts reads a file changed within 2 s at every request, by design).`,
    "Shutdown is what each documents: supervisor-ts and supervisord on SIGTERM, pm2 by `pm2 kill` " +
      "(its time includes the Node start of the pm2 CLI).",
  );
  const least = leastRss(codeLoaded.rss, empty.rss, floorOf("rss"), floorOf("rss", NO_PIPES));
  if (least !== undefined) notes.push(least);
  if ("skipped" in ctx.cFloor) notes.push(ctx.cFloor.skipped);
  return { rows, notes };
}

/**
 * What the RSS targets' floors add up to: the code loaded with no child, plus what the children
 * cost a bare Deno (its floor with them, less an empty one). A server that loads this code
 * cannot be below that, whatever it does; a note, or undefined when a figure is missing.
 */
function leastRss(
  code: number | undefined,
  empty: number | undefined,
  piped: number | undefined,
  noPipes: number | undefined,
): string | undefined {
  if (code === undefined || empty === undefined || piped === undefined || noPipes === undefined) {
    return undefined;
  }
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
  return `RSS floors added up: supervisor-ts's server modules loaded, nothing run, take ${
    mib(code)
  } (an empty Deno: ${mib(empty)}); the children add ${mib(piped - empty)} to a bare Deno ` +
    `with pipes, ${mib(noPipes - empty)} without. So a server that loads this code holds at ` +
    `least ${mib(code + piped - empty)} with piped children (target ${FLEET.targetRssMiB} MiB) ` +
    `and ${mib(code + noPipes - empty)} with direct files (target ${FLEET.targetRssFilesMiB} MiB).`;
}
