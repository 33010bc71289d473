/**
 * Black-box tests of what a stop leaves behind and what it costs the server: groups that
 * linger after their leader exited, and jobs that moved to process groups of their own inside
 * the child's session. Real server, real client, real children; Linux only (they read /proc).
 *
 * Set `SUPERVISOR_TS_FIGURES=FILE` to have the lingering-stop test append its figures (wall time,
 * server CPU time, check latency) to FILE.
 */
import assert from "node:assert/strict";
import { requirePrograms } from "./requires.ts";
import { delay, liveGroupMembers, startServer, waitUntil } from "./harness.ts";

const requires = requirePrograms(import.meta, ["bash", "sleep"]);
const linux = Deno.build.os === "linux";

/** Children stopped at once in the lingering-stop test. */
const LINGERING = 30;

/** The fields of /proc/PID/stat after the command name, or undefined when it is gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Pids of live (non-zombie) processes of session `sid`. */
function liveSessionMembers(sid: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const fields = statFields(entry.name);
    if (!fields || fields[0] === "Z" || fields[0] === "X") continue;
    if (Number(fields[3]) === sid) pids.push(Number(entry.name));
  }
  return pids;
}

/** User plus system CPU time of a process so far, in milliseconds. */
function cpuMs(pid: number): number {
  const fields = statFields(pid);
  if (!fields) throw new Error(`process ${pid} is gone`);
  const ticksPerSecond = 100;
  return (Number(fields[11]) + Number(fields[12])) * (1000 / ticksPerSecond);
}

/** SIGKILL to whatever a failed test left behind, so that no sleep outlives it. */
function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}

Deno.test({
  name: "stops whose groups linger keep check fast and the server's CPU low",
  ignore: !linux || requires.skip("sleep"),
  async fn() {
    const children: Record<string, string> = {};
    for (let i = 0; i < LINGERING; i++) {
      // The leader dies at SIGTERM; the other member ignores it and lingers until SIGKILL.
      children[`linger${i}`] =
        `command: ["sh", "-c", "(trap '' TERM; exec sleep 1000) & exec sleep 1000"]\nstop_timeout: 3\n`;
    }
    await using server = await startServer({ serverYaml: "mode: full", children });
    const check = await server.json("check");
    const pids = (check.data!.children as { pid: number }[]).map((c) => c.pid);
    assert.equal(pids.length, LINGERING);
    try {
      await waitUntil(
        () => pids.every((pid) => liveGroupMembers(pid).length === 2),
        20_000,
        "every group to have its two members",
      );
      const cpuBefore = cpuMs(server.pid);
      const began = Date.now();
      let done = false;
      const stopping = server.request({ op: "stop", child: "all" }).finally(() => (done = true));
      const latencies: number[] = [];
      while (!done) {
        const asked = Date.now();
        const reply = await server.request({ op: "check" });
        latencies.push(Date.now() - asked);
        assert.equal(reply.ok, true);
        await delay(100);
      }
      const stopped = await stopping;
      const wall = Date.now() - began;
      const cpu = cpuMs(server.pid) - cpuBefore;
      assert.equal(stopped.ok, true, String(stopped.message));
      const slowest = Math.max(...latencies);
      const figures = Deno.env.get("SUPERVISOR_TS_FIGURES");
      if (figures) {
        const share = Math.round((cpu / wall) * 100);
        const line = `${LINGERING} lingering stops: wall ${wall} ms, server CPU ${cpu} ms ` +
          `(${share} %), ${latencies.length} checks, slowest ${slowest} ms\n`;
        Deno.writeTextFileSync(figures, line, { append: true });
      }
      assert.ok(wall >= 2900, `the groups lingered until stop_timeout (stop all took ${wall} ms)`);
      assert.ok(slowest < 500, `check answered within 500 ms (slowest ${slowest} ms)`);
      assert.ok(cpu < wall * 0.25, `server CPU ${cpu} ms in ${wall} ms of lingering stops`);
      for (const pid of pids) assert.deepEqual(liveGroupMembers(pid), [], `group ${pid} is empty`);
    } finally {
      killAll(pids.flatMap(liveSessionMembers));
    }
  },
});

Deno.test({
  name: "stop leaves no job of the child's session alive, even in process groups of their own",
  ignore: !linux || requires.skip("bash", "sleep"),
  async fn() {
    await using server = await startServer({
      children: { jobs: `command: bash -c 'set -m; sleep 1000 & sleep 1000 & wait'\n` },
    });
    await server.json("start", "jobs");
    const { pid } = await server.child("jobs");
    try {
      await waitUntil(() => liveSessionMembers(pid!).length === 3, 5000, "bash and two jobs");
      assert.equal(liveGroupMembers(pid!).length, 1, "each job has a process group of its own");
      const stop = await server.json("stop", "jobs");
      assert.equal(stop.ok, true, stop.message);
      assert.deepEqual(liveSessionMembers(pid!), [], "no process of the child's session is alive");
    } finally {
      killAll(liveSessionMembers(pid!));
    }
  },
});

Deno.test({
  name: "jobs in process groups of their own are stopped when the child exits by itself",
  ignore: !linux || requires.skip("bash", "sleep"),
  async fn() {
    await using server = await startServer({
      children: {
        leaver: `command: bash -c 'set -m; sleep 1000 & echo started; exit 0'\nstop_timeout: 2\n`,
      },
    });
    const started = await server.json("start", "leaver");
    const pid = started.data!.pid!;
    try {
      await server.stdout.waitFor("leaver | started");
      await server.waitChild("leaver", (c) => c.state === "EXITED");
      await waitUntil(() => liveSessionMembers(pid).length === 0, 5000, "the job to be stopped");
    } finally {
      killAll(liveSessionMembers(pid));
    }
  },
});
