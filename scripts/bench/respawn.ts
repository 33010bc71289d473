/**
 * Crash → respawn latency: a child that exits at once, restarted with zero backoff; the gap
 * between one run's exit and the next run's start, from timestamps the child writes itself
 * (bash's $EPOCHREALTIME: no extra process). The floor is the same child run in a bare shell
 * loop, which measures fork + exec + wait with nothing in between.
 *
 * @module
 */
import { join } from "node:path";
import { LineConn } from "./lines.ts";
import { benchEnv, delay, startLogged } from "./procs.ts";
import { SERVER_ENTRY } from "./servers.ts";
import { median, ms, percentile, ratio } from "./stats.ts";
import type { Row } from "./stats.ts";

/** How many restarts are measured. */
export const RESPAWN = { runs: 300, targetMedianMs: 10 } as const;

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

/** Measures respawn gaps under supervisor-ts and in a shell loop. */
export async function respawnLatency(
  tmp: string,
  log: (line: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const dir = join(tmp, "respawn");
  await Deno.mkdir(join(dir, "children"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "server.yml"),
    "loadpaths: [children]\nlistener_addr: 127.0.0.1\nlistener_port: 0\n",
  );
  await Deno.writeTextFile(
    join(dir, "children", "flap.yml"),
    `command: [bash, -c, ${
      JSON.stringify(STAMP_SCRIPT)
    }]\nrestart: always\nstart_seconds: 0\nbackoff: { initial: 0, max: 0 }\n`,
  );
  log(`[4] crash -> respawn: ${RESPAWN.runs} restarts with zero backoff`);
  const server = startLogged(
    "respawn",
    [Deno.execPath(), "run", "-A", "--quiet", SERVER_ENTRY, join(dir, "server.yml")],
    tmp,
    dir,
  );
  const conn = await LineConn.open(await server.listeningPort());
  const stamps = join(dir, "children", "stamps.txt");
  try {
    await conn.ask({ id: 1, op: "start", child: "flap" });
    const deadline = performance.now() + 120_000;
    while (await stampLines(stamps) < 2 * (RESPAWN.runs + 1)) {
      if (performance.now() > deadline) {
        throw new Error("the child did not restart often enough in 120 s");
      }
      await delay(50);
    }
    await conn.ask({ id: 2, op: "stop", child: "flap" });
  } finally {
    conn.close();
    await server.stop();
  }
  const gaps = gapsOf(await Deno.readTextFile(stamps)).slice(0, RESPAWN.runs);

  const floorDir = join(tmp, "respawn-floor");
  await Deno.mkdir(floorDir, { recursive: true });
  const loop = `for i in $(seq ${RESPAWN.runs + 1}); do bash -c '${STAMP_SCRIPT}'; done`;
  await new Deno.Command("bash", {
    args: ["-c", loop],
    cwd: floorDir,
    env: benchEnv(),
    stdout: "null",
    stderr: "null",
  }).output();
  const floor = gapsOf(await Deno.readTextFile(join(floorDir, "stamps.txt")));

  const p50 = median(gaps);
  const rows: Row[] = [
    {
      measurement: `crash → respawn gap, median of ${gaps.length}`,
      value: ms(p50),
      floor: ms(median(floor)),
      floorIs: "the same child in a bash loop",
      ratio: ratio(p50, median(floor)),
      target: `≤ ${RESPAWN.targetMedianMs} ms`,
      met: p50 <= RESPAWN.targetMedianMs ? "yes" : "**no**",
    },
    {
      measurement: `crash → respawn gap, p99 of ${gaps.length}`,
      value: ms(percentile(gaps, 99)),
      floor: ms(percentile(floor, 99)),
      floorIs: "the same child in a bash loop",
      ratio: ratio(percentile(gaps, 99), percentile(floor, 99)),
      target: "–",
      met: "–",
    },
  ];
  return { rows, notes: [] };
}
