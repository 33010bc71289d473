/**
 * The floor of a supervisor holding a fleet: a Deno program that spawns N `sleep 1000`, each in
 * its own process group with stdout and stderr piped and drained (what a supervisor does), and
 * otherwise does nothing. On SIGTERM it sends SIGTERM to every group, reaps them all and exits.
 *
 * Usage: deno run --allow-run holder.ts N
 *
 * Prints `holding N children, spawned in MS ms` once all are spawned. Its RSS, its CPU time
 * while idle, the spawn time and the SIGTERM-to-exit time are the floors of the fleet workload.
 *
 * @module
 */

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  try {
    for await (const _ of stream) {
      // nothing: the floor only keeps the pipe flowing
    }
  } catch {
    // closed
  }
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 500);
  const procs: Deno.ChildProcess[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const proc = new Deno.Command("sleep", {
      args: ["1000"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    procs.push(proc);
    void drain(proc.stdout);
    void drain(proc.stderr);
  }
  const spawnMs = performance.now() - t0;
  let stopping = false;
  Deno.addSignalListener("SIGTERM", () => {
    if (stopping) return;
    stopping = true;
    for (const proc of procs) {
      try {
        Deno.kill(-proc.pid, "SIGTERM");
      } catch {
        // exited already
      }
    }
    void Promise.all(procs.map((p) => p.status)).then(() => Deno.exit(0));
  });
  // Keeps the process up even with no child (the RSS floor of an empty Deno program).
  setInterval(() => {}, 2 ** 31 - 1);
  console.log(`holding ${n} children, spawned in ${spawnMs.toFixed(1)} ms`);
}
