/**
 * Workloads 1 and 7, control latency and concurrent clients, against each system with 50
 * running `sleep 1000` children:
 *
 * - status round trips over the system's own API, on one connection and on a fresh connection
 *   each (p50, p99), against the echo floor (a trivial server answering a 34-byte line);
 * - its status CLI's wall time, against `/bin/true`, with the empty program of the CLI's
 *   runtime beside it (supervisor-ts's target is at most 1.3× `deno run` of an empty file);
 * - 1,000 clients at once, each connecting and asking for status, until all are answered,
 *   against the echo floor answering as many bytes as supervisor-ts's `check`;
 * - the supervisor's RSS after all that, against the echo server's.
 *
 * @module
 */
import { CLIENT_WALL, interleavedWallTimes } from "./client_wall.ts";
import { concurrentRoundTrips, freshRoundTrips, persistentRoundTrips } from "./lines.ts";
import type { ChildSpec, Peer } from "./peers/peer.ts";
import { rssKiB } from "./procs.ts";
import { childName, startEcho } from "./servers.ts";
import { cell, median, mib, ms, noCell, OURS, percentile, targetText } from "./stats.ts";
import type { Row } from "./stats.ts";
import { cellMaps, forEachSystem, systemDir, waitRunning, withInstance } from "./workload.ts";
import type { Context, WorkloadResult } from "./workload.ts";

/** Settings of the control workloads. */
export const CONTROL = {
  children: 50,
  persistent: 2000,
  fresh: 500,
  warmupPersistent: 200,
  warmupFresh: 30,
  /** Time after the warm-up for one kind of samples of one system; slower systems get fewer. */
  budgetMs: 6_000,
  concurrent: 1000,
  targetP50Ms: 1,
} as const;

const ROWS = [
  "p50 persistent",
  "p99 persistent",
  "p50 fresh",
  "p99 fresh",
  "cli",
  "runtime",
  "concurrent",
  "rss",
  "rss after",
] as const;

function sleepers(dir: string, n: number): ChildSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: childName(i),
    argv: ["sleep", "1000"],
    cwd: dir,
    restart: false,
  }));
}

/** Runs workloads 1 and 7 for every system. */
export async function controlLatency(ctx: Context): Promise<WorkloadResult> {
  const notes: string[] = [];
  const cells = cellMaps(ROWS);
  const samplesOf = new Map<string, string>();

  ctx.log("[1] floors: the echo server (34-byte answer), /bin/true");
  const echo = await startEcho(ctx.tmp, "echo-small", 0);
  const floorPersistent = await persistentRoundTrips(
    echo.port,
    CONTROL.persistent,
    CONTROL.warmupPersistent,
  );
  const floorFresh = await freshRoundTrips(echo.port, CONTROL.fresh, CONTROL.warmupFresh);
  const echoRss = rssKiB(echo.proc.pid);
  await echo.proc.stop();
  let oursBytes: number | undefined;
  let trueTimes: number[] = [];

  await forEachSystem(ctx, "control latency", cells, notes, async (peer: Peer) => {
    const dir = await systemDir(ctx, "control", peer);
    ctx.log(`[1] ${peer.name}: ${CONTROL.children} children, status samples, CLI, concurrent`);
    await withInstance(peer, dir, sleepers(dir, CONTROL.children), async (instance) => {
      await instance.startAll();
      await waitRunning(instance, CONTROL.children, 60_000);
      const bytes = await instance.statusBytes();
      if (peer.name === OURS) oursBytes = bytes;
      const counts: string[] = [];
      for (const kind of ["persistent", "fresh"] as const) {
        const n = kind === "persistent" ? CONTROL.persistent : CONTROL.fresh;
        const warmup = kind === "persistent" ? CONTROL.warmupPersistent : CONTROL.warmupFresh;
        const times = await instance.statusTimes(kind, n, warmup, CONTROL.budgetMs);
        for (const p of [50, 99]) {
          cells.get(`p${p} ${kind}`)!.set(
            peer.name,
            typeof times === "string" ? noCell(times) : cell(percentile(times, p), ms),
          );
        }
        counts.push(typeof times === "string" ? `no ${kind}` : `${times.length} ${kind}`);
      }
      samplesOf.set(peer.name, `${peer.statusApi}: ${counts.join(", ")}; answer ${bytes} bytes`);
      cells.get("rss")!.set(peer.name, cell(rssKiB(instance.pid), mib));

      ctx.log(`[1] ${peer.name}: ${CLIENT_WALL.runs} runs of ${peer.statusCliIs}, interleaved`);
      const cli = instance.statusCli();
      const runtime = peer.runtimeFloor();
      const [cliTimes, runtimeTimes, truth] = await interleavedWallTimes([
        cli,
        runtime,
        { argv: ["/bin/true"] },
      ]);
      trueTimes = trueTimes.concat(truth!);
      cells.get("cli")!.set(peer.name, cell(median(cliTimes!), ms));
      cells.get("runtime")!.set(peer.name, {
        value: median(runtimeTimes!),
        text: `${ms(median(runtimeTimes!))}: ${runtime.is}`,
      });

      ctx.log(`[7] ${peer.name}: ${CONTROL.concurrent} concurrent clients`);
      const concurrent = await instance.concurrentStatus(CONTROL.concurrent);
      cells.get("concurrent")!.set(
        peer.name,
        typeof concurrent === "number" ? cell(concurrent, ms) : noCell(concurrent),
      );
      cells.get("rss after")!.set(peer.name, cell(rssKiB(instance.pid), mib));
    });
  });

  ctx.log("[7] floor: the echo server answering as many bytes as supervisor-ts's check");
  const echoBig = await startEcho(ctx.tmp, "echo-same-size", oursBytes ?? 0);
  let floorConcurrent: number | undefined;
  try {
    floorConcurrent = await concurrentRoundTrips(echoBig.port, CONTROL.concurrent);
  } finally {
    await echoBig.proc.stop();
  }

  const oursOf = (key: string) => cells.get(key)!.get(OURS)?.value;
  const trueMedian = median(trueTimes);
  const oursRuntime = oursOf("runtime");
  const oursCli = oursOf("cli");
  const rows: Row[] = [];
  for (const kind of ["persistent", "fresh"] as const) {
    const floor = kind === "persistent" ? floorPersistent : floorFresh;
    const label = kind === "persistent"
      ? `one connection, up to ${CONTROL.persistent}`
      : `fresh connection each, up to ${CONTROL.fresh}`;
    for (const p of [50, 99]) {
      const value = oursOf(`p${p} ${kind}`);
      rows.push({
        measurement: `status p${p} over the API, ${label}`,
        cells: cells.get(`p${p} ${kind}`)!,
        floor: cell(percentile(floor, p), ms),
        floorIs: "echo server on 127.0.0.1, 34-byte answer",
        target: p === 50
          ? targetText(
            `≤ ${CONTROL.targetP50Ms} ms`,
            value === undefined ? undefined : value <= CONTROL.targetP50Ms,
          )
          : "–",
      });
    }
  }
  rows.push({
    measurement: `status CLI wall time, median of ${CLIENT_WALL.runs}`,
    cells: cells.get("cli")!,
    floor: cell(trueMedian, ms),
    floorIs: "`/bin/true`",
    target: targetText(
      `≤ ${CLIENT_WALL.targetRatio}× deno empty`,
      oursCli === undefined || oursRuntime === undefined
        ? undefined
        : oursCli / oursRuntime <= CLIENT_WALL.targetRatio,
    ),
  });
  rows.push({
    measurement: `the CLI's runtime, empty program, median of ${CLIENT_WALL.runs}`,
    cells: cells.get("runtime")!,
    floor: cell(trueMedian, ms),
    floorIs: "`/bin/true`",
    target: "–",
  });
  rows.push({
    measurement: `${
      CONTROL.concurrent.toLocaleString("en")
    } concurrent clients: connect, status, all answered`,
    cells: cells.get("concurrent")!,
    floor: cell(floorConcurrent, ms),
    floorIs: `echo server, ${oursBytes ?? 34}-byte answer`,
    target: "–",
  });
  rows.push({
    measurement: `supervisor RSS, ${CONTROL.children} children running, after the status samples`,
    cells: cells.get("rss")!,
    floor: cell(echoRss, mib),
    floorIs: "echo server after its round trips",
    target: "–",
  });
  rows.push({
    measurement:
      `supervisor RSS, ${CONTROL.children} children running, after the concurrent clients`,
    cells: cells.get("rss after")!,
    floor: cell(echoRss, mib),
    floorIs: "echo server after its round trips",
    target: "–",
  });
  for (const [name, text] of samplesOf) notes.push(`Status samples of ${name}: ${text}.`);
  const cliIs = ctx.systems.map((p) => `${p.name}: ${p.statusCliIs}`).join("; ");
  notes.push(`Status CLI commands: ${cliIs}.`);
  return { rows, notes };
}
