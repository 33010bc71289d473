/**
 * Section 2, client command wall time: `deno run -A main_client.ts check on 127.0.0.1:PORT`
 * against `deno run -A` of a program that does nothing, interleaved, median of 15 runs each.
 *
 * @module
 */
import { benchEnv } from "./procs.ts";
import { CLIENT_ENTRY, NOOP_ENTRY, ROOT } from "./servers.ts";
import { median, met, ms, ratio } from "./stats.ts";
import type { Row } from "./stats.ts";

/** Settings of section 2. */
export const CLIENT_WALL = { runs: 15, warmup: 2, targetRatio: 1.3 } as const;

const decoder = new TextDecoder();

/** Wall time in ms of one `deno <args>` run from the repository root; throws when it fails. */
async function timeRun(args: readonly string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: ROOT,
    env: benchEnv(),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - t0;
  if (!out.success) {
    throw new Error(`deno ${args.join(" ")} exited ${out.code}: ${decoder.decode(out.stderr)}`);
  }
  return elapsed;
}

/** Runs section 2 against the server on `port`. */
export async function clientWallTime(
  port: number,
  log: (line: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const client = ["run", "-A", CLIENT_ENTRY, "check", "on", `127.0.0.1:${port}`];
  const floor = ["run", "-A", NOOP_ENTRY];
  log(`[2] ${CLIENT_WALL.runs} client runs and ${CLIENT_WALL.runs} empty deno runs, interleaved`);
  for (let i = 0; i < CLIENT_WALL.warmup; i++) {
    await timeRun(client);
    await timeRun(floor);
  }
  const clientTimes: number[] = [];
  const floorTimes: number[] = [];
  for (let i = 0; i < CLIENT_WALL.runs; i++) {
    clientTimes.push(await timeRun(client));
    floorTimes.push(await timeRun(floor));
  }
  const value = median(clientTimes);
  const floorValue = median(floorTimes);
  const notes: string[] = [];
  const hyperfine = findOnPath("hyperfine");
  notes.push(
    `Client wall time is measured by the benchmark itself (spawn to exit, ${CLIENT_WALL.warmup} warm-up runs each, then ${CLIENT_WALL.runs} interleaved pairs)${
      hyperfine ? `; hyperfine was found at ${hyperfine} but is not needed` : ""
    }. Min client ${ms(Math.min(...clientTimes))}, min floor ${ms(Math.min(...floorTimes))}.`,
  );
  return {
    rows: [{
      measurement: `client \`check\` wall time, median of ${CLIENT_WALL.runs}`,
      value: ms(value),
      floor: ms(floorValue),
      floorIs: "`deno run -A` of an empty file",
      ratio: ratio(value, floorValue),
      target: `ratio ≤ ${CLIENT_WALL.targetRatio}`,
      met: met(value / floorValue <= CLIENT_WALL.targetRatio),
    }],
    notes,
  };
}

/** The path of executable `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}
