/**
 * Workloads 2, 3 and 5, a fleet of 500 `sleep 1000`: each system is started with 500 children
 * configured and none running; then
 *
 * - its RSS before any child runs;
 * - start all 500 (supervisor-ts: 500 `start` requests pipelined over 20 connections;
 *   supervisord: `startAllProcesses`; pm2: `pm2.start` of a 500-app ecosystem), timed until
 *   the request(s) are answered and until its status shows all 500 running with pids;
 * - its RSS with 500 children;
 * - its CPU time (utime + stime of /proc/PID/stat) over an idle window of 60 s (`--quick`:
 *   10 s), as a share of one core;
 * - the shutdown the system documents (supervisor-ts and supervisord: SIGTERM; pm2:
 *   `pm2 kill`), until the supervisor has exited.
 *
 * The floor is holder.ts: a Deno program that spawns 500 `sleep 1000` with piped output in their
 * own process groups, drains them and does nothing else; SIGTERM ends it and them.
 *
 * @module
 */
import { join } from "node:path";
import type { ChildSpec } from "./peers/peer.ts";
import { clockTicksPerSecond, cpuTicks, delay, isAlive, rssKiB, startLogged } from "./procs.ts";
import { childName, ROOT } from "./servers.ts";
import { cell, mib, ms, noCell, OURS, percent, targetText } from "./stats.ts";
import type { Row } from "./stats.ts";
import { cellMaps, forEachSystem, systemDir, waitRunning, withInstance } from "./workload.ts";
import type { Context, WorkloadResult } from "./workload.ts";

/** Settings of the fleet workloads. */
export const FLEET = {
  children: 500,
  targetMs: 1000,
  startLimitMs: 240_000,
  stopLimitMs: 120_000,
  idleSeconds: 60,
  quickIdleSeconds: 10,
} as const;

const HOLDER_ENTRY = join(ROOT, "scripts", "bench", "holder.ts");

const ROWS = ["answered", "running", "rss idle", "rss", "cpu", "stop"] as const;

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

/** The floor: holder.ts with `n` children. */
async function holderFloor(
  ctx: Context,
  n: number,
  idleSeconds: number,
): Promise<{ spawnMs: number; rss: number | undefined; cpu: number | undefined; stopMs: number }> {
  const holder = startLogged(
    `holder-${n}`,
    [Deno.execPath(), "run", "--allow-run", "--quiet", HOLDER_ENTRY, String(n)],
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

/** Runs workloads 2, 3 and 5 for every system. */
export async function startMany(ctx: Context): Promise<WorkloadResult> {
  const n = FLEET.children;
  const idleSeconds = ctx.quick ? FLEET.quickIdleSeconds : FLEET.idleSeconds;
  const notes: string[] = [];
  const cells = cellMaps(ROWS);

  ctx.log(`[2] floor: holder.ts spawning ${n} \`sleep 1000\`, ${idleSeconds} s idle, SIGTERM`);
  const floor = await holderFloor(ctx, n, idleSeconds);
  const empty = await holderFloor(ctx, 0, 0);

  await forEachSystem(ctx, "start 500", cells, notes, async (peer) => {
    const dir = await systemDir(ctx, "fleet", peer);
    const children: ChildSpec[] = Array.from({ length: n }, (_, i) => ({
      name: childName(i),
      argv: ["sleep", "1000"],
      cwd: dir,
      restart: false,
    }));
    ctx.log(`[2] ${peer.name}: ${n} children configured, starting them all`);
    await withInstance(peer, dir, children, async (instance, markShutDown) => {
      await delay(500);
      cells.get("rss idle")!.set(peer.name, cell(rssKiB(instance.pid), mib));
      const t0 = performance.now();
      await instance.startAll();
      const answeredMs = performance.now() - t0;
      cells.get("answered")!.set(peer.name, cell(answeredMs, ms));
      const pids = await waitRunning(instance, n, FLEET.startLimitMs, 100);
      const runningMs = performance.now() - t0;
      cells.get("running")!.set(peer.name, cell(runningMs, ms));
      const alive = pids.filter(isAlive).length;
      if (alive !== n) {
        notes.push(`${peer.name}: only ${alive} of the ${n} pids reported were alive.`);
      }
      await delay(500);
      cells.get("rss")!.set(peer.name, cell(rssKiB(instance.pid), mib));

      ctx.log(`[5] ${peer.name}: idle CPU over ${idleSeconds} s with ${n} children`);
      cells.get("cpu")!.set(peer.name, cell(await idleCpu(instance.pid, idleSeconds), percent));

      ctx.log(`[2] ${peer.name}: shutting down with ${n} children`);
      const t1 = performance.now();
      markShutDown();
      const stopped = await instance.shutdown(FLEET.stopLimitMs);
      const stopMs = performance.now() - t1;
      if (!stopped) await instance.kill();
      cells.get("stop")!.set(
        peer.name,
        stopped ? cell(stopMs, ms) : noCell(`> ${FLEET.stopLimitMs / 1000} s`),
      );
      await delay(200);
      const left = pids.filter(isAlive).length;
      if (left > 0) notes.push(`${peer.name}: ${left} of ${n} children outlived its shutdown.`);
    }, FLEET.stopLimitMs);
  });

  const oursOf = (key: string) => cells.get(key)!.get(OURS)?.value;
  const within = (key: string) => {
    const v = oursOf(key);
    return v === undefined ? undefined : v <= FLEET.targetMs;
  };
  const rows: Row[] = [
    {
      measurement: `start ${n} children: start request(s) answered`,
      cells: cells.get("answered")!,
      floor: cell(floor.spawnMs, ms),
      floorIs: `holder.ts: ${n} × Deno.Command(sleep).spawn(), piped, own group`,
      target: targetText(`≤ ${FLEET.targetMs} ms`, within("answered")),
    },
    {
      measurement: `start ${n} children: status shows all ${n} running`,
      cells: cells.get("running")!,
      floor: cell(floor.spawnMs, ms),
      floorIs: "the same floor",
      target: targetText(`≤ ${FLEET.targetMs} ms`, within("running")),
    },
    {
      measurement: `supervisor RSS, ${n} children configured, none started`,
      cells: cells.get("rss idle")!,
      floor: cell(empty.rss, mib),
      floorIs: "holder.ts with no children",
      target: "–",
    },
    {
      measurement: `supervisor RSS, ${n} children running`,
      cells: cells.get("rss")!,
      floor: cell(floor.rss, mib),
      floorIs: `holder.ts with ${n} children`,
      target: "–",
    },
    {
      measurement: `idle CPU over ${idleSeconds} s, ${n} children, % of one core`,
      cells: cells.get("cpu")!,
      floor: cell(floor.cpu, percent),
      floorIs: `holder.ts with ${n} children`,
      target: "–",
    },
    {
      measurement: `shut down with ${n} children → supervisor exited`,
      cells: cells.get("stop")!,
      floor: cell(floor.stopMs, ms),
      floorIs: `holder.ts: SIGTERM to ${n} groups, all reaped, exit`,
      target: "–",
    },
  ];
  notes.push(
    "Shutdown is what each documents: supervisor-ts and supervisord on SIGTERM, pm2 by `pm2 kill` " +
      "(its time includes the Node start of the pm2 CLI).",
  );
  return { rows, notes };
}
