/**
 * Section 3, start 500 children: 500 `start` requests over 20 connections to a fresh quiet
 * server, until all are answered and until `check` shows all live; the server's RSS; and the
 * `kill` that stops them all. The floor spawns and kills as many `sleep 1000` directly.
 *
 * @module
 */
import { LineConn } from "./lines.ts";
import { benchEnv, delay, isAlive, rssKiB } from "./procs.ts";
import { childName, startSupervisor, waitLive } from "./servers.ts";
import { met, mib, ms, ratio } from "./stats.ts";
import type { Row } from "./stats.ts";

/** Settings of section 3. */
export const START_MANY = {
  children: 500,
  connections: 20,
  targetMs: 1000,
  /** How long the server may take to stop everything after `kill`. */
  stopLimitMs: 60_000,
} as const;

const encoder = new TextEncoder();

/** Times of the floor: spawning `n` detached `sleep 1000` with piped output, then killing them. */
export async function spawnFloor(n: number): Promise<{ spawnMs: number; killMs: number }> {
  const procs: Deno.ChildProcess[] = [];
  const exited = new Set<Deno.ChildProcess>();
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const proc = new Deno.Command("sleep", {
        args: ["1000"],
        env: benchEnv(),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
      procs.push(proc);
      void proc.status.then(() => exited.add(proc));
    }
    const spawnMs = performance.now() - t0;
    const alive = procs.filter((p) => isAlive(p.pid)).length;
    if (alive !== n) throw new Error(`floor: only ${alive} of ${n} sleeps are alive`);
    const t1 = performance.now();
    for (const proc of procs) Deno.kill(-proc.pid, "SIGTERM");
    await Promise.all(procs.map((p) => p.status));
    const killMs = performance.now() - t1;
    return { spawnMs, killMs };
  } finally {
    for (const proc of procs) {
      if (!exited.has(proc)) {
        try {
          proc.kill("SIGKILL");
        } catch {
          // exited meanwhile
        }
      }
      await proc.stdout.cancel().catch(() => {});
      await proc.stderr.cancel().catch(() => {});
    }
  }
}

/** Runs section 3. */
export async function startMany(
  tmp: string,
  log: (line: string) => void,
  echoFreshRssKiB: number | undefined,
): Promise<{ rows: Row[]; notes: string[] }> {
  const n = START_MANY.children;
  const notes: string[] = [];
  log(`[3] floor: spawning ${n} detached \`sleep 1000\` from Deno, then killing them`);
  const floor = await spawnFloor(n);

  log(`[3] starting a quiet server with ${n} child configs`);
  const server = await startSupervisor(tmp, `server-${n}`, n, "quiet");
  await delay(200);
  const idleRss = rssKiB(server.proc.pid);
  const perConn = Math.ceil(n / START_MANY.connections);
  const conns = await Promise.all(
    Array.from({ length: START_MANY.connections }, () => LineConn.open(server.port)),
  );
  try {
    log(`[3] ${n} start requests over ${START_MANY.connections} connections`);
    const t0 = performance.now();
    const answers = await Promise.all(conns.map(async (conn, c) => {
      const ids = Array.from({ length: perConn }, (_, i) => c * perConn + i).filter((i) => i < n);
      const lines = ids.map((i) =>
        JSON.stringify({ v: 2, id: i, op: "start", child: childName(i) })
      );
      await conn.write(encoder.encode(lines.join("\n") + "\n"));
      const replies: Record<string, unknown>[] = [];
      for (let i = 0; i < ids.length; i++) replies.push(await conn.readJson());
      return replies;
    }));
    const answeredMs = performance.now() - t0;
    const live = await waitLive(conns[0]!, n, 30_000);
    const liveMs = performance.now() - t0;
    const failed = answers.flat().filter((r) => r.ok !== true);
    if (failed.length > 0) {
      throw new Error(`${failed.length} starts failed, first: ${JSON.stringify(failed[0])}`);
    }
    await delay(300);
    const rss = rssKiB(server.proc.pid);
    const pids = live.map((c) => c.pid!);
    const alive = pids.filter(isAlive).length;
    if (alive !== n) notes.push(`Only ${alive} of the ${n} pids that check reported were alive.`);

    log(`[3] kill: stopping ${n} children and the server`);
    const t1 = performance.now();
    const reply = await conns[0]!.ask({ id: "kill", op: "kill" });
    if (reply.ok !== true) throw new Error(`kill failed: ${JSON.stringify(reply)}`);
    const stopped = await server.proc.exitWithin(START_MANY.stopLimitMs);
    const stopMs = performance.now() - t1;
    const stillAlive = pids.filter(isAlive).length;
    if (!stopped) {
      notes.push(
        `The server had not exited ${
          START_MANY.stopLimitMs / 1000
        } s after \`kill\`; the benchmark killed it and its children.`,
      );
    }
    notes.push(
      `Spawning costs ${(floor.spawnMs / n).toFixed(1)} ms per child for the floor and ${
        (answeredMs / n).toFixed(1)
      } ms per child through the server${
        floor.spawnMs > START_MANY.targetMs
          ? `; the floor alone misses the ${START_MANY.targetMs} ms target on this machine`
          : ""
      }.`,
    );
    if (stillAlive > 0) {
      notes.push(`${stillAlive} of ${n} children were still alive after the server exited.`);
    }

    const rows: Row[] = [
      {
        measurement:
          `start ${n} children: all \`start\` answered ok (${START_MANY.connections} conns × ${perConn})`,
        value: ms(answeredMs),
        floor: ms(floor.spawnMs),
        floorIs: `${n} × Deno.Command(sleep).spawn(), detached, piped`,
        ratio: ratio(answeredMs, floor.spawnMs),
        target: `≤ ${START_MANY.targetMs} ms`,
        met: met(answeredMs <= START_MANY.targetMs),
      },
      {
        measurement: `start ${n} children: \`check\` shows all live`,
        value: ms(liveMs),
        floor: ms(floor.spawnMs),
        floorIs: "same floor as above",
        ratio: ratio(liveMs, floor.spawnMs),
        target: `≤ ${START_MANY.targetMs} ms`,
        met: met(liveMs <= START_MANY.targetMs),
      },
      {
        measurement: `server RSS, ${n} children`,
        value: mib(rss),
        floor: mib(echoFreshRssKiB),
        floorIs: "echo server, just started",
        ratio: ratio(rss, echoFreshRssKiB),
        target: "–",
        met: "–",
      },
      {
        measurement: "server RSS, idle, no child started",
        value: mib(idleRss),
        floor: mib(echoFreshRssKiB),
        floorIs: "echo server, just started",
        ratio: ratio(idleRss, echoFreshRssKiB),
        target: "–",
        met: "–",
      },
      {
        measurement: `stop ${n} children: \`kill\` sent → server exited`,
        value: stopped ? ms(stopMs) : `> ${START_MANY.stopLimitMs / 1000} s`,
        floor: ms(floor.killMs),
        floorIs: `SIGTERM to ${n} groups, all reaped`,
        ratio: stopped ? ratio(stopMs, floor.killMs) : "n/a",
        target: "–",
        met: "–",
      },
    ];
    return { rows, notes };
  } finally {
    for (const conn of conns) conn.close();
  }
}
