/**
 * Workload 4, crash → respawn latency: a child that exits at once, restarted by each system
 * with zero delay (supervisor-ts: `restart: always`, zero backoff; supervisord:
 * `autorestart=true`, `startsecs=0`, a huge `startretries`; pm2: `autorestart`,
 * `restart_delay: 0`, `min_uptime: 0`, a huge `max_restarts`). The gap between one run's exit
 * and the next run's start comes from timestamps the child writes itself (bash's
 * $EPOCHREALTIME: no extra process). Each system gets up to 300 restarts or 20 s, whichever
 * comes first. The floors are the same child run in a bare shell loop (fork + exec + wait with
 * nothing in between) and from C (posix_spawn with a new session, as a supervisor spawns, then
 * waitpid; when a C compiler is present), the shell loop running the child through
 * util-linux setsid (the session per run that supervisor-ts gives a child), and a bare Deno
 * loop doing the same (`respawn_loop.ts`: spawn through setsid, drain the pipes, await the
 * exit, nothing else: what a supervisor in Deno cannot go below). Issue 15's target: a median
 * gap of at most 1.8× the shell loop's.
 *
 * @module
 */
import { join } from "node:path";
import { cRespawn } from "./c_floor.ts";
import { benchEnv, delay, findSetsid, synced } from "./procs.ts";
import { ROOT } from "./servers.ts";
import { atMost, cell, median, ms, noCell, OURS, percentile, targetsText } from "./stats.ts";
import type { Row } from "./stats.ts";
import {
  cellMaps,
  CONFIG_SETTLED_MS,
  configSettled,
  forEachSystem,
  systemDir,
  withInstance,
} from "./workload.ts";
import type { Context, WorkloadResult } from "./workload.ts";

/** Restarts measured, within how long, and supervisor-ts's target (× the shell loop's median). */
export const RESPAWN = { runs: 300, windowMs: 20_000, targetRatio: 1.8 } as const;

const STAMP_SCRIPT =
  'echo "s $EPOCHREALTIME" >> stamps.txt; echo "e $EPOCHREALTIME" >> stamps.txt; exit 1';

/** Gaps in ms between each `e` line and the next `s` line. */
export function gapsOf(text: string): number[] {
  const gaps: number[] = [];
  let lastExit: number | undefined;
  for (const line of text.split("\n")) {
    const [kind, value] = line.split(" ");
    const at = Number(value?.replace(",", "."));
    if (!Number.isFinite(at)) continue;
    if (kind === "e") lastExit = at;
    if (kind === "s" && lastExit !== undefined) {
      gaps.push((at - lastExit) * 1000);
      lastExit = undefined;
    }
  }
  return gaps;
}

async function stampLines(path: string): Promise<number> {
  try {
    return (await Deno.readTextFile(path)).split("\n").length - 1;
  } catch {
    return 0;
  }
}

/** The gaps of the child run {@link RESPAWN}.runs + 1 times by a bash loop in `dir`, after `prefix`. */
async function shellLoopGaps(dir: string, prefix: string): Promise<number[]> {
  await Deno.mkdir(dir, { recursive: true });
  const loop = `for i in $(seq ${RESPAWN.runs + 1}); do ${prefix}bash -c '${STAMP_SCRIPT}'; done`;
  await new Deno.Command("bash", {
    args: ["-c", loop],
    cwd: dir,
    env: benchEnv(),
    stdout: "null",
    stderr: "null",
  }).output();
  return gapsOf(await Deno.readTextFile(join(dir, "stamps.txt")));
}

const RESPAWN_LOOP_ENTRY = join(ROOT, "scripts", "bench", "respawn_loop.ts");

/** The gaps of the child run {@link RESPAWN}.runs + 1 times by `respawn_loop.ts` in `dir`. */
async function denoLoopGaps(dir: string, setsid: string): Promise<number[]> {
  await Deno.mkdir(dir, { recursive: true });
  const args = ["run", "--allow-run", "--quiet", RESPAWN_LOOP_ENTRY, String(RESPAWN.runs + 1)];
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...args, setsid, "bash", "-c", STAMP_SCRIPT],
    cwd: dir,
    env: benchEnv(),
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`respawn_loop.ts failed: ${new TextDecoder().decode(stderr)}`);
  return gapsOf(await Deno.readTextFile(join(dir, "stamps.txt")));
}

/** Runs workload 4 for every system. */
export async function respawnLatency(ctx: Context): Promise<WorkloadResult> {
  const notes: string[] = [];
  const cells = cellMaps(["median", "p99"]);
  const counts: string[] = [];

  // The shell loops run before the systems and again after them, their gaps pooled: a drift of
  // the machine over the workload weighs on the floors as on the systems. The second loop gives
  // each run a session, through util-linux setsid as supervisor-ts starts a child (bash's child
  // is no group leader, so setsid execs without forking).
  await synced();
  const setsid = findSetsid();
  const shellFloors = async (when: string) => {
    ctx.log(`[4] floor (${when}): the same child ${RESPAWN.runs + 1} times in a bash loop`);
    const plain = await shellLoopGaps(join(ctx.tmp, `respawn-floor-${when}`), "");
    ctx.log(`[4] floor (${when}): the same from a bare Deno loop (respawn_loop.ts)`);
    const deno = await denoLoopGaps(join(ctx.tmp, `respawn-deno-${when}`), setsid ?? "-");
    if (setsid === undefined) return { plain, deno, setsid: undefined };
    ctx.log(`[4] floor (${when}): the same in a bash loop through setsid`);
    const inSessions = await shellLoopGaps(join(ctx.tmp, `respawn-setsid-${when}`), `${setsid} `);
    return { plain, deno, setsid: inSessions };
  };
  const before = await shellFloors("before");
  const floor = [...before.plain];
  const denoGaps = [...before.deno];
  let setsidGaps: number[] | string = before.setsid ?? "skipped: no setsid";
  const setsidOf = (p: number) =>
    typeof setsidGaps === "string"
      ? noCell(setsidGaps)
      : cell(p === 50 ? median(setsidGaps) : percentile(setsidGaps, p), ms);
  let cGaps: number[] | string = "skipped: no C compiler";
  if ("path" in ctx.cFloor) {
    ctx.log(`[4] floor: the same child ${RESPAWN.runs + 1} times from C (posix_spawn, setsid)`);
    const cDir = join(ctx.tmp, "respawn-c");
    await Deno.mkdir(cDir, { recursive: true });
    try {
      await cRespawn(ctx.cFloor, RESPAWN.runs + 1, ["bash", "-c", STAMP_SCRIPT], cDir);
      cGaps = gapsOf(await Deno.readTextFile(join(cDir, "stamps.txt")));
    } catch (error) {
      cGaps = "failed";
      notes.push(`C respawn floor: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const cOf = (p: number) =>
    typeof cGaps === "string"
      ? noCell(cGaps)
      : cell(p === 50 ? median(cGaps) : percentile(cGaps, p), ms);

  await forEachSystem(ctx, "crash → respawn", cells, notes, async (peer) => {
    const dir = await systemDir(ctx, "respawn", peer);
    const stamps = join(dir, "stamps.txt");
    ctx.log(`[4] ${peer.name}: up to ${RESPAWN.runs} restarts or ${RESPAWN.windowMs / 1000} s`);
    const spec = { name: "flap", argv: ["bash", "-c", STAMP_SCRIPT], cwd: dir, restart: true };
    await withInstance(peer, dir, [spec], async (instance) => {
      // A crash loop in service runs on config files written long before.
      await configSettled(dir);
      await instance.start("flap");
      const deadline = performance.now() + RESPAWN.windowMs;
      while (await stampLines(stamps) < 2 * (RESPAWN.runs + 1)) {
        if (performance.now() > deadline) break;
        await delay(50);
      }
      await instance.stop("flap");
    });
    const gaps = gapsOf(await Deno.readTextFile(stamps)).slice(0, RESPAWN.runs);
    if (gaps.length === 0) throw new Error("the child was never restarted");
    cells.get("median")!.set(peer.name, cell(median(gaps), ms));
    cells.get("p99")!.set(peer.name, cell(percentile(gaps, 99), ms));
    counts.push(`${peer.name} ${gaps.length}`);
  });

  const after = await shellFloors("after");
  floor.push(...after.plain);
  denoGaps.push(...after.deno);
  const denoIs = `respawn_loop.ts: a bare Deno loop spawning the child${
    setsid === undefined ? "" : " through setsid"
  }, its pipes drained, awaiting each exit, nothing else`;
  if (typeof setsidGaps !== "string" && after.setsid !== undefined) {
    setsidGaps = [...setsidGaps, ...after.setsid];
  }
  const ours = cells.get("median")!.get(OURS)?.value;
  const shellMedian = median(floor);
  const rows: Row[] = [
    {
      issueRow: 4,
      measurement: "crash → respawn gap, zero backoff, median",
      cells: cells.get("median")!,
      floor: cell(shellMedian, ms),
      floorIs: "the same child in a bash loop",
      otherFloors: [{
        floor: setsidOf(50),
        label: "through setsid",
        is: "the bash loop running the child through setsid (a session per run)",
      }, {
        floor: cell(median(denoGaps), ms),
        label: "Deno",
        is: denoIs,
      }, {
        floor: cOf(50),
        label: "C",
        is: "the same child from C, posix_spawn + setsid",
      }],
      target: targetsText([[
        `≤ ${RESPAWN.targetRatio}× the shell loop`,
        atMost(ours, shellMedian * RESPAWN.targetRatio),
      ]]),
    },
    {
      measurement: "crash → respawn gap, zero backoff, p99",
      cells: cells.get("p99")!,
      floor: cell(percentile(floor, 99), ms),
      floorIs: "the same child in a bash loop",
      otherFloors: [
        { floor: setsidOf(99), label: "through setsid", is: "the bash loop through setsid" },
        { floor: cell(percentile(denoGaps, 99), ms), label: "Deno", is: "the bare Deno loop" },
        { floor: cOf(99), label: "C", is: "the same child from C" },
      ],
      target: "–",
    },
  ];
  notes.push(
    `The crash loop starts once the config files are ${
      CONFIG_SETTLED_MS / 1000
    } s old: supervisor-ts reads a file changed within 2 s at every restart (timestamps are coarse), and an automatic restart takes settled files, its working directory and its program's place on PATH as found good within the last second.`,
  );
  notes.push(
    `Restarts measured (up to ${RESPAWN.runs} within ${RESPAWN.windowMs / 1000} s): ${
      counts.join(", ")
    }; shell loop ${floor.length}; Deno loop ${denoGaps.length}; C ${
      typeof cGaps === "string" ? cGaps : cGaps.length
    }.`,
  );
  return { rows, notes };
}
