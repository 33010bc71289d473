/**
 * Workload 6, log throughput: a child writes 200 MB of 100-byte lines to its stdout, which the
 * system captures into a file (supervisor-ts: `output:` with a `stdout:` entry, stderr unset;
 * supervisord: `stdout_logfile`; pm2: `out_file`), once without rotation and once with it
 * (50 MB, 10 backups: supervisord's defaults; supervisor-ts: `max_bytes`, `backups`;
 * supervisord: `stdout_logfile_maxbytes`, `_backups`; pm2 has none built in). Timed from the
 * start request until the file (and its rotated files) hold all 200 MB, best of 15 rounds (a
 * system slower than 30 s a round gets one). The floor is the same command with the shell
 * redirecting straight to a file, timed the same way (from its start until the file holds all
 * 200 MB, looked at as often, with an RSS sample at each look: the looking costs the machine
 * about 5 %, for the floor as for a system); one floor round runs right before each round of a
 * system, and a row's floor is the best of those run beside its rounds (interleaved: the
 * machine's drift, a 2-core VM's neighbours, weighs on both alike). The ratio is the
 * throughput's. Every round, the floor's as a system's, starts once the last round's files are
 * removed and the disk has been synced: a round never pays for the writeback of the one before.
 * Also the supervisor's peak RSS while it pumps. Issue 15's targets: ≥ 0.9× the floor, ≥ 0.8×
 * with rotation.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { ChildSpec } from "./peers/peer.ts";
import { benchEnv, delay, rssKiB, synced } from "./procs.ts";
import { cell, mbps, mib, noCell, OURS, targetsText } from "./stats.ts";
import type { Cell, Row } from "./stats.ts";
import { cellMaps, forEachSystem, systemDir, withInstance } from "./workload.ts";
import type { Context, WorkloadResult } from "./workload.ts";

/** Bytes written, rounds, limits, rotation, and supervisor-ts's targets (share of the floor). */
export const LOG_THROUGHPUT = {
  bytes: 200_000_000,
  rounds: 15,
  roundLimitMs: 180_000,
  slowRoundMs: 30_000,
  rotate: { maxBytes: 50_000_000, backups: 10 },
  targetRatio: 0.9,
  targetRotatedRatio: 0.8,
} as const;

const LINE = "x".repeat(99);
const WRITER = `yes ${LINE} | head -c ${LOG_THROUGHPUT.bytes}`;

/** Whether `file` is `name` or one of its rotated files `name.N`. */
function isLogOf(file: string, name: string): boolean {
  return file === name || (file.startsWith(name) && /^\.\d+$/.test(file.slice(name.length)));
}

/** Bytes in `path` and its rotated files `path.N`. */
function bytesIn(path: string): number {
  const name = basename(path);
  let total = 0;
  try {
    for (const entry of Deno.readDirSync(dirname(path))) {
      if (!isLogOf(entry.name, name)) continue;
      try {
        total += Deno.statSync(join(dirname(path), entry.name)).size;
      } catch {
        // rotated away meanwhile
      }
    }
  } catch {
    // no directory yet
  }
  return total;
}

/**
 * One round of the floor: the same command with the shell redirecting straight to a file,
 * timed the same way (and looked at as often, with an RSS sample at each look). Seconds.
 */
async function floorRound(path: string): Promise<number> {
  await synced();
  const t0 = performance.now();
  const shell = new Deno.Command("sh", {
    args: ["-c", `${WRITER} > ${path}`],
    env: benchEnv(),
    stdout: "null",
    stderr: "null",
  }).spawn();
  await untilWritten(path, t0 + LOG_THROUGHPUT.roundLimitMs, () => rssKiB(shell.pid));
  const seconds = (performance.now() - t0) / 1000;
  await shell.status;
  await Deno.remove(path);
  return seconds;
}

/** How often a round looks whether the file holds every byte yet. */
const LOOK_MS = 5;

/**
 * Waits until `path` and its rotated files hold all the bytes, looking every {@link LOOK_MS}
 * (`look` runs at each look: an RSS sample); throws past `deadline` (performance.now() time).
 */
async function untilWritten(path: string, deadline: number, look: () => void): Promise<void> {
  while (bytesIn(path) < LOG_THROUGHPUT.bytes) {
    look();
    if (performance.now() > deadline) {
      throw new Error(
        `${(bytesIn(path) / 1e6).toFixed(0)} of ${LOG_THROUGHPUT.bytes / 1e6} MB after ${
          LOG_THROUGHPUT.roundLimitMs / 1000
        } s`,
      );
    }
    await delay(LOOK_MS);
  }
}

/** Removes `path` and its rotated files. */
async function removeAll(path: string): Promise<void> {
  const name = basename(path);
  for (const entry of Deno.readDirSync(dirname(path))) {
    if (isLogOf(entry.name, name)) await Deno.remove(join(dirname(path), entry.name));
  }
}

/** plain: through the supervisor; direct: supervisor-ts's `direct: true` (the child writes). */
const VARIANTS = ["direct", "plain", "rotated"] as const;
type Variant = typeof VARIANTS[number];

/** Runs workload 6 for every system. */
export async function logThroughput(ctx: Context): Promise<WorkloadResult> {
  const mb = LOG_THROUGHPUT.bytes / 1e6;
  const notes: string[] = [];
  const cells = cellMaps([
    "direct",
    "plain",
    "rotated",
    "rss direct",
    "rss plain",
    "rss rotated",
  ]);
  const rounds: string[] = [];

  const floorPath = join(ctx.tmp, "floor.log");
  /** The floor's best round among those run right before each round of a variant. */
  const floorOf = new Map<Variant, number>();
  ctx.log(`[6] floor: ${mb} MB through a shell redirect, a round before each round of a system`);

  for (const variant of VARIANTS) {
    await forEachSystem(ctx, `log throughput (${variant})`, cells, notes, async (peer) => {
      if (variant === "rotated" && peer.noRotation) {
        cells.get("rotated")!.set(peer.name, noCell(`n/a: ${peer.noRotation}`));
        cells.get("rss rotated")!.set(peer.name, noCell("n/a"));
        return;
      }
      if (variant === "direct" && peer.name !== OURS) {
        cells.get("direct")!.set(peer.name, noCell("n/a: pipes only"));
        cells.get("rss direct")!.set(peer.name, noCell("n/a"));
        return;
      }
      const dir = await systemDir(ctx, `logs-${variant}`, peer);
      const out = join(dir, "writer.log");
      const spec: ChildSpec = {
        name: "writer",
        argv: ["sh", "-c", WRITER],
        cwd: dir,
        restart: false,
        stdoutPath: out,
        ...(variant === "rotated" ? { rotate: LOG_THROUGHPUT.rotate } : {}),
        ...(variant === "direct" ? { direct: true } : {}),
      };
      ctx.log(`[6] ${peer.name}: ${mb} MB captured to a file (${variant})`);
      await withInstance(peer, dir, [spec], async (instance) => {
        await delay(300);
        const baseline = rssKiB(instance.pid) ?? 0;
        let peak = baseline;
        let best = Infinity;
        let done = 0;
        for (let round = 1; round <= LOG_THROUGHPUT.rounds; round++) {
          const floorS = await floorRound(floorPath);
          floorOf.set(variant, Math.min(floorOf.get(variant) ?? Infinity, floorS));
          await removeAll(out);
          await synced();
          const t0 = performance.now();
          await instance.start("writer");
          await untilWritten(out, t0 + LOG_THROUGHPUT.roundLimitMs, () => {
            peak = Math.max(peak, rssKiB(instance.pid) ?? 0);
          });
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
        cells.get(variant)!.set(peer.name, cell(mb / best, mbps));
        cells.get(`rss ${variant}`)!.set(peer.name, {
          value: peak,
          text: `${mib(peak)}, +${mib(peak - baseline)}`,
        });
        rounds.push(`${peer.name} ${variant} ${done}`);
      });
    });
  }

  const floorRate = (variant: Variant) => {
    const seconds = floorOf.get(variant);
    return seconds === undefined ? undefined : mb / seconds;
  };
  const floorCell = (variant: Variant) => {
    const rate = floorRate(variant);
    return rate === undefined ? noCell("no round") : cell(rate, mbps);
  };
  const ratio = (variant: Variant) => {
    const ours = cells.get(variant)!.get(OURS)?.value;
    const rate = floorRate(variant);
    return ours === undefined || rate === undefined ? undefined : ours / rate;
  };
  const rotation = `rotation at ${
    LOG_THROUGHPUT.rotate.maxBytes / 1e6
  } MB, ${LOG_THROUGHPUT.rotate.backups} backups`;
  const peakRow = (variant: Variant, cellsOf: Map<string, Cell>): Row => ({
    measurement: `supervisor peak RSS while ${
      variant === "direct" ? "the child writes" : "pumping"
    } ${mb} MB, ${variant === "rotated" ? rotation : "no rotation"} (growth over idle)`,
    cells: cellsOf,
    floor: noCell("–"),
    floorIs: "–",
    target: "bounded",
  });
  const rows: Row[] = [
    {
      issueRow: 5,
      measurement:
        `${mb} MB of 100-byte lines to a file, no rotation, \`direct: true\`: the child writes the file (best round)`,
      cells: cells.get("direct")!,
      floor: floorCell("direct"),
      floorIs:
        "the same command, shell redirect to a file: its best round, each run right before a round of a system",
      target: targetsText([[
        `≥ ${LOG_THROUGHPUT.targetRatio}× floor`,
        ratio("direct") === undefined ? undefined : ratio("direct")! >= LOG_THROUGHPUT.targetRatio,
      ]]),
    },
    {
      measurement:
        `${mb} MB of 100-byte lines to a file, no rotation, through the supervisor (the default) (best round)`,
      cells: cells.get("plain")!,
      floor: floorCell("plain"),
      floorIs:
        "the same command, shell redirect to a file: its best round, each run right before a round of a system",
      target: targetsText([[
        `≥ ${LOG_THROUGHPUT.targetRatio}× floor`,
        ratio("plain") === undefined ? undefined : ratio("plain")! >= LOG_THROUGHPUT.targetRatio,
      ]]),
    },
    {
      issueRow: 6,
      measurement: `${mb} MB of 100-byte lines to a file, ${rotation} (best round)`,
      cells: cells.get("rotated")!,
      floor: floorCell("rotated"),
      floorIs:
        "the same command, shell redirect to a file: its best round, each run right before a round of a system",
      target: targetsText([[
        `≥ ${LOG_THROUGHPUT.targetRotatedRatio}× floor`,
        ratio("rotated") === undefined
          ? undefined
          : ratio("rotated")! >= LOG_THROUGHPUT.targetRotatedRatio,
      ]]),
    },
    peakRow("direct", cells.get("rss direct")!),
    peakRow("plain", cells.get("rss plain")!),
    peakRow("rotated", cells.get("rss rotated")!),
  ];
  notes.push(
    `Log throughput is higher-is-better: a ratio below 1× the floor is slower. Rounds run: ${
      rounds.join(", ")
    }.`,
  );
  return { rows, notes };
}
