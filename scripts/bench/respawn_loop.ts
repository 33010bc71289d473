/**
 * The Deno floor of a crash loop: a Deno program that runs one child N times, one run after
 * the other, each spawned as supervisor-ts spawns it (through util-linux setsid when a path to
 * it is given, stdin from /dev/null, stdout and stderr on pipes that are drained) and awaited,
 * with nothing else between one run's exit and the next run's spawn: the gap a supervisor
 * written in Deno cannot go below, whatever it records, logs or checks in between.
 *
 * Usage: deno run --allow-run respawn_loop.ts N SETSID|- PROGRAM [ARGS...] (in the directory
 * the child is to run in).
 *
 * @module
 */

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  for await (const _ of stream) {
    // the child's output is not kept
  }
}

if (import.meta.main) {
  const [count, setsid, ...argv] = Deno.args;
  const runs = Number(count);
  if (!Number.isInteger(runs) || runs < 1 || setsid === undefined || argv.length === 0) {
    console.error("usage: respawn_loop.ts N SETSID|- PROGRAM [ARGS...]");
    Deno.exit(2);
  }
  const [program, ...args] = setsid === "-" ? argv : [setsid, ...argv];
  for (let i = 0; i < runs; i++) {
    const child = new Deno.Command(program!, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    void drain(child.stdout);
    void drain(child.stderr);
    await child.status;
  }
}
