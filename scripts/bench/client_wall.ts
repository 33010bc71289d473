/**
 * Wall time of command-line runs: a status CLI (supervisor-ts's client, supervisorctl,
 * `pm2 jlist`) next to an empty program of the runtime it is written in and `/bin/true`,
 * interleaved so that a noisy moment hits all of them alike.
 *
 * @module
 */
import { benchEnv } from "./procs.ts";
import { ROOT } from "./servers.ts";

/** Runs and warm-up runs of each command. */
export const CLIENT_WALL = { runs: 15, warmup: 2, targetRatio: 1.3 } as const;

const decoder = new TextDecoder();

/** A command to time: its argv and any environment it needs beyond the run's. */
export interface Timed {
  readonly argv: readonly string[];
  readonly env?: Record<string, string>;
}

/** Wall time in ms of one run (spawn to exit, output discarded); throws when it fails. */
export async function timeCommand(command: Timed): Promise<number> {
  const [program, ...args] = command.argv;
  const t0 = performance.now();
  const out = await new Deno.Command(program!, {
    args,
    cwd: ROOT,
    env: { ...benchEnv(), ...command.env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - t0;
  if (!out.success) {
    throw new Error(
      `${command.argv.join(" ")} exited ${out.code}: ${decoder.decode(out.stderr).slice(0, 500)}`,
    );
  }
  return elapsed;
}

/**
 * Wall times of `commands`, interleaved: {@link CLIENT_WALL.warmup} untimed rounds, then
 * {@link CLIENT_WALL.runs} timed rounds of each command in turn.
 */
export async function interleavedWallTimes(commands: readonly Timed[]): Promise<number[][]> {
  for (let i = 0; i < CLIENT_WALL.warmup; i++) {
    for (const command of commands) await timeCommand(command);
  }
  const times = commands.map(() => [] as number[]);
  for (let i = 0; i < CLIENT_WALL.runs; i++) {
    for (const [k, command] of commands.entries()) times[k]!.push(await timeCommand(command));
  }
  return times;
}
