/**
 * Workload 6, log throughput: a child writes 200 MB of 100-byte lines to its stdout, which the
 * system captures into a file (supervisor-ts: `output: stdout`; supervisord: `stdout_logfile`
 * with rotation off; pm2: `out_file`); timed from the start request until the file holds all
 * 200 MB, best of 3 rounds (a system slower than 30 s a round gets one). The floor is the same
 * command with the shell redirecting straight to a file. Also the supervisor's peak RSS while
 * it pumps.
 *
 * @module
 */
import { join } from "node:path";
import { benchEnv, delay, rssKiB } from "./procs.ts";
import { cell, mbps, mib, OURS, targetText } from "./stats.ts";
import type { Row } from "./stats.ts";
import { cellMaps, forEachSystem, systemDir, withInstance } from "./workload.ts";
import type { Context, WorkloadResult } from "./workload.ts";

/** Bytes written, rounds, limits, and supervisor-ts's target share of the floor. */
export const LOG_THROUGHPUT = {
  bytes: 200_000_000,
  rounds: 3,
  roundLimitMs: 180_000,
  slowRoundMs: 30_000,
  targetRatio: 0.7,
} as const;

const LINE = "x".repeat(99);
const WRITER = `yes ${LINE} | head -c ${LOG_THROUGHPUT.bytes}`;

function size(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** Runs workload 6 for every system. */
export async function logThroughput(ctx: Context): Promise<WorkloadResult> {
  const mb = LOG_THROUGHPUT.bytes / 1e6;
  const notes: string[] = [];
  const cells = cellMaps(["rate", "rss"]);
  const rounds: string[] = [];

  ctx.log(`[6] floor: ${mb} MB through a shell redirect, best of ${LOG_THROUGHPUT.rounds}`);
  const floorPath = join(ctx.tmp, "floor.log");
  let floorS = Infinity;
  for (let round = 1; round <= LOG_THROUGHPUT.rounds; round++) {
    const t0 = performance.now();
    await new Deno.Command("sh", { args: ["-c", `${WRITER} > ${floorPath}`], env: benchEnv() })
      .output();
    floorS = Math.min(floorS, (performance.now() - t0) / 1000);
    await Deno.remove(floorPath);
  }

  await forEachSystem(ctx, "log throughput", cells, notes, async (peer) => {
    const dir = await systemDir(ctx, "logs", peer);
    const out = join(dir, "writer.log");
    const spec = { name: "writer", argv: ["sh", "-c", WRITER], cwd: dir, restart: false };
    ctx.log(`[6] ${peer.name}: ${mb} MB captured to a file`);
    await withInstance(peer, dir, [{ ...spec, stdoutPath: out }], async (instance) => {
      await delay(300);
      const baseline = rssKiB(instance.pid) ?? 0;
      let peak = baseline;
      let best = Infinity;
      let done = 0;
      for (let round = 1; round <= LOG_THROUGHPUT.rounds; round++) {
        await Deno.remove(out).catch(() => {});
        const t0 = performance.now();
        await instance.start("writer");
        const deadline = t0 + LOG_THROUGHPUT.roundLimitMs;
        while (size(out) < LOG_THROUGHPUT.bytes) {
          peak = Math.max(peak, rssKiB(instance.pid) ?? 0);
          if (performance.now() > deadline) {
            throw new Error(
              `${(size(out) / 1e6).toFixed(0)} of ${mb} MB after ${
                LOG_THROUGHPUT.roundLimitMs / 1000
              } s`,
            );
          }
          await delay(5);
        }
        const seconds = (performance.now() - t0) / 1000;
        best = Math.min(best, seconds);
        done = round;
        // Let the writer's exit be seen before the next round starts it again.
        const settle = performance.now() + 10_000;
        while ((await instance.runningPids()).length > 0 && performance.now() < settle) {
          await delay(50);
        }
        if (seconds * 1000 > LOG_THROUGHPUT.slowRoundMs) break;
      }
      cells.get("rate")!.set(peer.name, cell(mb / best, mbps));
      cells.get("rss")!.set(peer.name, {
        value: peak,
        text: `${mib(peak)}, +${mib(peak - baseline)}`,
      });
      rounds.push(`${peer.name} ${done}`);
    });
  });

  const floorRate = mb / floorS;
  const ours = cells.get("rate")!.get(OURS)?.value;
  const rows: Row[] = [
    {
      measurement: `log throughput, ${mb} MB of 100-byte lines to a file (best round)`,
      cells: cells.get("rate")!,
      floor: cell(floorRate, mbps),
      floorIs: "the same command, shell redirect to a file",
      target: targetText(
        `≥ ${LOG_THROUGHPUT.targetRatio}× floor`,
        ours === undefined ? undefined : ours / floorRate >= LOG_THROUGHPUT.targetRatio,
      ),
    },
    {
      measurement: `supervisor peak RSS while pumping ${mb} MB (growth over idle)`,
      cells: cells.get("rss")!,
      floor: { value: undefined, text: "–" },
      floorIs: "–",
      target: "bounded",
    },
  ];
  notes.push(
    `Log throughput is higher-is-better: a ratio below 1× the floor is slower. Rounds run: ${
      rounds.join(", ")
    }.`,
  );
  return { rows, notes };
}
