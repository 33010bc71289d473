/**
 * Section 1, control latency: raw `check` round trips against a server with 50 running
 * children, over one persistent connection and over a fresh connection each, next to the same
 * round trips against the echo floor (a small fixed answer, and an answer as large as the
 * server's).
 *
 * @module
 */
import { LineConn, looksOk, requestLine } from "./lines.ts";
import { rssKiB } from "./procs.ts";
import { checkedChildren, startEcho, startSupervisor, waitLive } from "./servers.ts";
import type { Listening } from "./servers.ts";
import { met, mib, ms, percentile, ratio } from "./stats.ts";
import type { Row } from "./stats.ts";

/** Settings of section 1. */
export const CONTROL = {
  children: 50,
  persistent: 2000,
  fresh: 500,
  warmupPersistent: 300,
  warmupFresh: 50,
  targetP50Ms: 1,
} as const;

const CHECK = requestLine({ id: 1, op: "check" });

/** Round-trip times in ms of `n` requests over one connection, after `warmup` untimed ones. */
export async function persistentRoundTrips(
  port: number,
  n: number,
  warmup: number,
): Promise<number[]> {
  const conn = await LineConn.open(port);
  try {
    const times: number[] = [];
    for (let i = 0; i < warmup + n; i++) {
      const t0 = performance.now();
      await conn.write(CHECK);
      const line = await conn.readLine();
      const t1 = performance.now();
      if (!looksOk(line)) throw new Error(`not an ok answer: ${new TextDecoder().decode(line)}`);
      if (i >= warmup) times.push(t1 - t0);
    }
    return times;
  } finally {
    conn.close();
  }
}

/** Round-trip times in ms (connect, send, answer) of `n` requests on a fresh connection each. */
export async function freshRoundTrips(port: number, n: number, warmup: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const t0 = performance.now();
    const conn = await LineConn.open(port);
    try {
      await conn.write(CHECK);
      const line = await conn.readLine();
      const t1 = performance.now();
      if (!looksOk(line)) throw new Error(`not an ok answer: ${new TextDecoder().decode(line)}`);
      if (i >= warmup) times.push(t1 - t0);
    } finally {
      conn.close();
    }
  }
  return times;
}

/** Persistent and fresh samples of one target. */
interface Samples {
  readonly persistent: number[];
  readonly fresh: number[];
}

async function measure(port: number): Promise<Samples> {
  const persistent = await persistentRoundTrips(port, CONTROL.persistent, CONTROL.warmupPersistent);
  const fresh = await freshRoundTrips(port, CONTROL.fresh, CONTROL.warmupFresh);
  return { persistent, fresh };
}

/** What section 1 hands on: the server stays up for section 2. */
export interface ControlResult {
  readonly rows: Row[];
  readonly notes: string[];
  readonly server: Listening;
  /** RSS of the trivial echo server after its round trips, KiB (the RSS floor). */
  readonly echoRssKiB: number | undefined;
  /** RSS of the trivial echo server right after it started, KiB. */
  readonly echoFreshRssKiB: number | undefined;
}

/** Runs section 1. */
export async function controlLatency(tmp: string, log: (line: string) => void): Promise<
  ControlResult
> {
  const notes: string[] = [];
  log(`[1] starting a server with ${CONTROL.children} children (mode full, start_seconds 0)`);
  const server = await startSupervisor(tmp, "server-50", CONTROL.children, "full");
  const probe = await LineConn.open(server.port);
  let responseBytes = 0;
  try {
    await waitLive(probe, CONTROL.children, 10_000);
    await probe.write(CHECK);
    const line = await probe.readLine();
    responseBytes = line.length + 1;
    const children = checkedChildren(JSON.parse(new TextDecoder().decode(line)));
    const running = children.filter((c) => c.state === "RUNNING" && c.pid).length;
    if (running !== CONTROL.children) {
      throw new Error(`expected ${CONTROL.children} RUNNING children, check shows ${running}`);
    }
  } finally {
    probe.close();
  }
  notes.push(
    `A \`check\` answer with ${CONTROL.children} children is ${responseBytes} bytes; the small floor answer is 34 bytes.`,
  );

  log(`[1] ${CONTROL.persistent} check round trips on one connection, ${CONTROL.fresh} fresh`);
  const real = await measure(server.port);
  const rss50 = rssKiB(server.proc.pid);

  log("[1] the same against the echo floor (small answer, then same-size answer)");
  const echo = await startEcho(tmp, "echo-small", 0);
  const echoFreshRssKiB = rssKiB(echo.proc.pid);
  const small = await measure(echo.port);
  const echoRssKiB = rssKiB(echo.proc.pid);
  await echo.proc.stop();
  const echoBig = await startEcho(tmp, "echo-same-size", responseBytes);
  const same = await measure(echoBig.port);
  await echoBig.proc.stop();

  const rows: Row[] = [];
  const target = `p50 ≤ ${CONTROL.targetP50Ms} ms`;
  for (const kind of ["persistent", "fresh"] as const) {
    const label = kind === "persistent"
      ? `one connection, N=${CONTROL.persistent}`
      : `fresh connection each, N=${CONTROL.fresh}`;
    for (const p of [50, 99]) {
      const value = percentile(real[kind], p);
      const floorSmall = percentile(small[kind], p);
      const floorSame = percentile(same[kind], p);
      rows.push({
        measurement: `check p${p}, ${label}`,
        value: ms(value),
        floor: ms(floorSmall),
        floorIs: "echo server, 34-byte answer",
        ratio: ratio(value, floorSmall),
        target: p === 50 ? target : "–",
        met: p === 50 ? met(value <= CONTROL.targetP50Ms) : "–",
      });
      rows.push({
        measurement: `check p${p}, ${label}`,
        value: ms(value),
        floor: ms(floorSame),
        floorIs: `echo server, ${responseBytes}-byte answer`,
        ratio: ratio(value, floorSame),
        target: "–",
        met: "–",
      });
    }
  }
  rows.push({
    measurement: `server RSS, ${CONTROL.children} children, after the round trips`,
    value: mib(rss50),
    floor: mib(echoRssKiB),
    floorIs: "echo server after its round trips",
    ratio: ratio(rss50, echoRssKiB),
    target: "–",
    met: "–",
  });
  return { rows, notes, server, echoRssKiB, echoFreshRssKiB };
}
