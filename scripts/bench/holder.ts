/**
 * The Deno floor of a supervisor holding a fleet: a Deno program that spawns N `sleep 1000` and
 * otherwise does nothing. Spawned the way Deno spawns fastest, with posix_spawn: no new session
 * or group (`detached: true` makes Deno fork and call setsid, which is slower than the
 * supervisor it is the floor of).
 *
 * Usage: deno run --allow-run holder.ts N [piped|null] [setsid] [code]
 *
 * - `piped` (default): stdout and stderr of every child on a pipe, each drained by a BYOB reader
 *   with a 1 KiB buffer (the default reader of a byte stream keeps a 64 KiB buffer per pending
 *   read, twice the memory of what it stands for): the floor of "a bare Deno holding N piped
 *   children".
 * - `null`: no pipes at all (the children's output goes to /dev/null): the floor of a
 *   supervisor whose children write to files the kernel gave them.
 * - `setsid`: each child is `setsid sleep 1000` (util-linux), the way supervisor-ts gives each
 *   child a session of its own without a fork of the server: the floor of spawning with a new
 *   session from Deno (its exec of setsid, and setsid's of sleep, take CPU from the spawns).
 * - `code` (run it with `-A` and the server's V8 flags): supervisor-ts's server modules are
 *   imported first, and nothing of them is run: the floor of a server that loads this code,
 *   what its memory cannot go below whatever it does at run time.
 *
 * Prints `holding N children, spawned in MS ms` once all are spawned (spawn() returns once the
 * child has executed, so they are all started). On SIGTERM it sends SIGTERM to every child,
 * reaps them all and exits. Its RSS, its CPU time while idle, the spawn time and the
 * SIGTERM-to-exit time are the floors of the fleet workload.
 *
 * @module
 */

/** Bytes of the one buffer each pipe's pending read holds. */
export const READ_BUFFER = 1024;

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(READ_BUFFER);
  try {
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || value === undefined) break;
      buffer = value.buffer as ArrayBuffer; // the same memory, handed back: reused
    }
  } catch {
    // closed
  } finally {
    reader.releaseLock();
  }
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 500);
  const output = Deno.args[1] === "null" ? "null" : "piped";
  const modes = Deno.args.slice(2);
  if (modes.includes("code")) {
    // What main_server.ts imports besides small helpers: the server and the config check.
    await import("../../lib/server/server.ts");
    await import("../../lib/server/config_check.ts");
  }
  // Found here, not with procs.ts's findSetsid: this program's RSS is a floor, so it imports
  // nothing (procs.ts would bring node:path and lib/errors.ts).
  const setsid = modes.includes("setsid")
    ? ["/usr/bin/setsid", "/bin/setsid"].find((path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    })
    : undefined;
  if (modes.includes("setsid") && setsid === undefined) {
    console.error("setsid (util-linux) was not found in /usr/bin or /bin");
    Deno.exit(2);
  }
  const procs: Deno.ChildProcess[] = [];
  // Listened for before the first spawn: a SIGTERM during the spawns then stops every child
  // spawned, once they all are, instead of killing this process and orphaning them.
  let stopping = false;
  Deno.addSignalListener("SIGTERM", () => {
    if (stopping) return;
    stopping = true;
    for (const proc of procs) {
      try {
        proc.kill("SIGTERM");
      } catch {
        // exited already
      }
    }
    void Promise.all(procs.map((p) => p.status)).then(() => Deno.exit(0));
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const proc = new Deno.Command(setsid ?? "sleep", {
      args: setsid === undefined ? ["1000"] : ["sleep", "1000"],
      stdin: "null",
      stdout: output,
      stderr: output,
    }).spawn();
    procs.push(proc);
    if (output === "piped") {
      void drain(proc.stdout);
      void drain(proc.stderr);
    }
  }
  const spawnMs = performance.now() - t0;
  // Keeps the process up even with no child (the RSS floor of an empty Deno program).
  setInterval(() => {}, 2 ** 31 - 1);
  console.log(`holding ${n} children, spawned in ${spawnMs.toFixed(1)} ms`);
}
