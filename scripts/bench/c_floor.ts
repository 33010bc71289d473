/**
 * The C floors: scripts/bench/floor_spawn.c built once per run into the run's temporary
 * directory with the first C compiler found on PATH (cc, then gcc); without one, each C floor
 * is skipped and the reason goes into a note.
 *
 * @module
 */
import { join } from "node:path";
import { benchEnv, findOnPath } from "./procs.ts";
import { ROOT } from "./servers.ts";

const SOURCE = join(ROOT, "scripts", "bench", "floor_spawn.c");
const decoder = new TextDecoder();

/** The built program, or why there is none. */
export type CFloor = { readonly path: string } | { readonly skipped: string };

/** Builds floor_spawn.c into `tmp`; never throws. */
export async function buildCFloor(tmp: string): Promise<CFloor> {
  const compiler = findOnPath("cc") ?? findOnPath("gcc");
  if (!compiler) return { skipped: "C floors skipped: no C compiler (cc, gcc) on PATH." };
  const path = join(tmp, "floor_spawn");
  const out = await new Deno.Command(compiler, {
    args: ["-O2", "-o", path, SOURCE],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output().catch((error) => error as Error);
  if (out instanceof Error) return { skipped: `C floors skipped: ${compiler}: ${out.message}` };
  if (!out.success) {
    const why = decoder.decode(out.stderr).split("\n")[0] ?? "";
    return { skipped: `C floors skipped: ${compiler} failed on floor_spawn.c: ${why}` };
  }
  return { path };
}

/** ms for the C program to posix_spawn `n` × `argv` with a new session and piped output each. */
export async function cSpawnMs(
  floor: { path: string },
  n: number,
  argv: string[],
): Promise<number> {
  const out = await new Deno.Command(floor.path, {
    args: ["spawn", String(n), ...argv],
    env: benchEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = decoder.decode(out.stdout);
  const match = text.match(/spawned \d+ in ([\d.]+) ms/);
  if (!out.success || !match) {
    throw new Error(`floor_spawn spawn failed: ${decoder.decode(out.stderr).slice(0, 300)}`);
  }
  return Number(match[1]);
}

/** Runs `argv` `runs` times in a row from C (posix_spawn with a new session, waitpid) in `cwd`. */
export async function cRespawn(
  floor: { path: string },
  runs: number,
  argv: string[],
  cwd: string,
): Promise<void> {
  const out = await new Deno.Command(floor.path, {
    args: ["respawn", String(runs), ...argv],
    cwd,
    env: benchEnv(),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`floor_spawn respawn failed: ${decoder.decode(out.stderr).slice(0, 300)}`);
  }
}
