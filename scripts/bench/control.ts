/**
 * Workloads 1 and 7, control latency and concurrent clients:
 *
 * - with one running child: `check` round trips over one connection (p99), against the echo
 *   server answering as many bytes (issue 15's target: ≤ 0.3 ms);
 * - with 50 running `sleep 1000` children: status round trips over the system's own API, on one
 *   connection and on a fresh connection each (p50, p99), against the echo floor (a trivial
 *   server answering a 34-byte line);
 * - its status CLI's wall time, against `deno run` of an empty file (issue 15: ≤ 1.3×), with
 *   the empty program of each CLI's runtime and `/bin/true` beside it;
 * - 1,000 clients at once, each connecting and asking for status, until all are answered,
 *   against the echo floor answering as many bytes as supervisor-ts's `check`;
 * - the supervisor's RSS before the clients, just after them, and 5 s later (issue 15: ≤ 100
 *   MiB, given back within 5 s), against the echo server's after its own 1,000 clients.
 *
 * @module
 */
import { CLIENT_WALL, interleavedWallTimes } from "./client_wall.ts";
import { concurrentRoundTrips, freshRoundTrips, persistentRoundTrips } from "./lines.ts";
import type { ChildSpec, Peer } from "./peers/peer.ts";
import { delay, rssKiB } from "./procs.ts";
import { childName, startEcho } from "./servers.ts";
import {
  atMost,
  cell,
  median,
  mib,
  ms,
  noCell,
  OURS,
  percentile,
  targetsText,
  targetText,
} from "./stats.ts";
import type { Row } from "./stats.ts";
import {
  cellMaps,
  CONFIG_SETTLED_MS,
  configSettled,
  forEachSystem,
  systemDir,
  waitRunning,
  withInstance,
} from "./workload.ts";
import type { Context, WorkloadResult } from "./workload.ts";

/** Settings of the control workloads. */
export const CONTROL = {
  children: 50,
  persistent: 2000,
  fresh: 500,
  warmupPersistent: 200,
  warmupFresh: 30,
  /**
   * Untimed round trips before the one-child samples (every system and its echo floor alike): a
   * server's code is compiled by the JIT in its first thousand or so requests, a cost a server
   * in service pays once, and with answers of a few hundred bytes it would otherwise be most of
   * the p99.
   */
  warmupOneChild: 1000,
  /** Time after the warm-up for one kind of samples of one system; slower systems get fewer. */
  budgetMs: 6_000,
  concurrent: 1000,
  /** How long after the concurrent clients the RSS is read again. */
  givenBackMs: 5_000,
  targetP50Ms: 1,
  targetOneChildP99Ms: 0.3,
  targetRssMiB: 100,
  /** "Given back": 5 s later, at most this much above the RSS before the clients. */
  givenBackSlackMiB: 10,
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
  "rss later",
  "one child p99",
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
  let oneChildBytes: number | undefined;
  let trueTimes: number[] = [];

  await forEachSystem(ctx, "check with one child", cells, notes, async (peer: Peer) => {
    const dir = await systemDir(ctx, "control-one", peer);
    ctx.log(`[1] ${peer.name}: one child, status round trips over one connection`);
    await withInstance(peer, dir, sleepers(dir, 1), async (instance) => {
      await instance.startAll();
      await waitRunning(instance, 1, 60_000);
      await configSettled(dir);
      if (peer.name === OURS) oneChildBytes = await instance.statusBytes();
      const times = await instance.statusTimes(
        "persistent",
        CONTROL.persistent,
        CONTROL.warmupOneChild,
        CONTROL.budgetMs,
      );
      cells.get("one child p99")!.set(
        peer.name,
        typeof times === "string" ? noCell(times) : cell(percentile(times, 99), ms),
      );
    });
  });
  ctx.log(`[1] floor: the echo server answering ${oneChildBytes ?? 34} bytes`);
  const echoOne = await startEcho(ctx.tmp, "echo-one-child", oneChildBytes ?? 0);
  let floorOneChild: number[] = [];
  try {
    floorOneChild = await persistentRoundTrips(
      echoOne.port,
      CONTROL.persistent,
      CONTROL.warmupOneChild,
    );
  } finally {
    await echoOne.proc.stop();
  }

  await forEachSystem(ctx, "control latency", cells, notes, async (peer: Peer) => {
    const dir = await systemDir(ctx, "control", peer);
    ctx.log(`[1] ${peer.name}: ${CONTROL.children} children, status samples, CLI, concurrent`);
    await withInstance(peer, dir, sleepers(dir, CONTROL.children), async (instance) => {
      await instance.startAll();
      await waitRunning(instance, CONTROL.children, 60_000);
      await configSettled(dir);
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
      await delay(CONTROL.givenBackMs);
      cells.get("rss later")!.set(peer.name, cell(rssKiB(instance.pid), mib));
    });
  });

  ctx.log("[7] floor: the echo server answering as many bytes as supervisor-ts's check");
  const echoBig = await startEcho(ctx.tmp, "echo-same-size", oursBytes ?? 0);
  let floorConcurrent: number | undefined;
  let echoRssAfter: number | undefined;
  try {
    floorConcurrent = await concurrentRoundTrips(echoBig.port, CONTROL.concurrent);
    echoRssAfter = rssKiB(echoBig.proc.pid);
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
    issueRow: 7,
    measurement: `client \`check\` wall time (status CLI), median of ${CLIENT_WALL.runs}`,
    cells: cells.get("cli")!,
    floor: oursRuntime === undefined ? noCell("n/a") : cell(oursRuntime, ms),
    floorIs: "`deno run -A` of an empty file, interleaved with it",
    otherFloors: [{ floor: cell(trueMedian, ms), label: "true", is: "`/bin/true`" }],
    target: targetText(
      `≤ ${CLIENT_WALL.targetRatio}× deno empty`,
      atMost(oursCli, oursRuntime && oursRuntime * CLIENT_WALL.targetRatio),
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
  const rssAfter = oursOf("rss after");
  const rssLater = oursOf("rss later");
  const rssBefore = oursOf("rss");
  const toMiB = (kib: number | undefined) => kib === undefined ? undefined : kib / 1024;
  rows.push({
    issueRow: 10,
    measurement: `supervisor RSS just after ${
      CONTROL.concurrent.toLocaleString("en")
    } concurrent clients, ${CONTROL.children} children`,
    cells: cells.get("rss after")!,
    floor: cell(echoRssAfter, mib),
    floorIs: `echo server after its ${CONTROL.concurrent.toLocaleString("en")} clients`,
    target: targetsText([[
      `≤ ${CONTROL.targetRssMiB} MiB`,
      atMost(toMiB(rssAfter), CONTROL.targetRssMiB),
    ]]),
  });
  rows.push({
    issueRow: 11,
    measurement: `the same RSS ${CONTROL.givenBackMs / 1000} s later (given back?)`,
    cells: cells.get("rss later")!,
    floor: cell(echoRssAfter, mib),
    floorIs: `echo server after its ${CONTROL.concurrent.toLocaleString("en")} clients`,
    target: targetsText([
      [`≤ ${CONTROL.targetRssMiB} MiB`, atMost(toMiB(rssLater), CONTROL.targetRssMiB)],
      [
        `given back: ≤ before + ${CONTROL.givenBackSlackMiB} MiB (${mib(rssBefore)} before)`,
        atMost(rssLater, rssBefore && rssBefore + CONTROL.givenBackSlackMiB * 1024),
      ],
    ]),
  });
  rows.push({
    issueRow: 9,
    measurement: "`check` p99 over a raw socket (one connection), one child",
    cells: cells.get("one child p99")!,
    floor: cell(percentile(floorOneChild, 99), ms),
    floorIs: `echo server on 127.0.0.1, same answer size (${oneChildBytes ?? "?"} bytes)`,
    target: targetsText([[
      `≤ ${CONTROL.targetOneChildP99Ms} ms`,
      atMost(oursOf("one child p99"), CONTROL.targetOneChildP99Ms),
    ]]),
  });
  for (const [name, text] of samplesOf) notes.push(`Status samples of ${name}: ${text}.`);
  notes.push(
    `Each series of status round trips over one connection starts with untimed ones, the same for every system and for the echo floor: ${CONTROL.warmupPersistent} (${CONTROL.warmupOneChild} for the one-child row, where the JIT's compiling of the first thousand requests, paid once by a server in service, would otherwise be most of the p99); ${CONTROL.warmupFresh} for fresh connections.`,
  );
  const cliIs = ctx.systems.map((p) => `${p.name}: ${p.statusCliIs}`).join("; ");
  notes.push(`Status CLI commands: ${cliIs}.`);
  notes.push(
    `Status samples start once the config files are ${
      CONFIG_SETTLED_MS / 1000
    } s old: supervisor-ts reads a file changed within 2 s at every request (timestamps are coarse) and only stats a settled one; an unsigned status takes what a request checked within the last second.`,
  );
  return { rows, notes };
}
