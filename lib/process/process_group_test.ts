import assert from "node:assert/strict";
import { listFromProc, parseStat, systemProcessTable } from "./process_group.ts";
import { denoSpawner, signalProcessGroup } from "./spawner.ts";

const linux = Deno.build.os === "linux";

Deno.test("a stat line gives the group and session, whatever the command name holds", () => {
  assert.deepEqual(
    parseStat(42, "42 (odd) name (x)) S 1 40 30 0 -1 4194560 95 0 0 0"),
    { pid: 42, pgid: 40, sid: 30 },
  );
});

Deno.test("a zombie or a line that does not parse is no live process", () => {
  assert.equal(parseStat(42, "42 (sleep) Z 1 40 30 0 -1"), undefined);
  assert.equal(parseStat(42, "42 (sleep) X 1 40 30 0 -1"), undefined);
  assert.equal(parseStat(42, "garbage"), undefined);
});

/**
 * Runs `members` (shell commands that put processes in the background) in a child of its own
 * group and session, and `test` with its pid once they all exist; then kills the group.
 */
async function withGroup(members: string, test: (pid: number) => Promise<void>): Promise<void> {
  const proc = await denoSpawner.spawn({
    argv: ["sh", "-c", `${members} echo started; wait`],
    cwd: "/",
    env: {},
  });
  void proc.stderr!.cancel();
  try {
    const reader = proc.stdout!.getReader();
    await reader.read(); // "started": every member exists
    reader.releaseLock();
    void proc.stdout!.cancel();
    await test(proc.pid);
  } finally {
    signalProcessGroup(proc.pid, "SIGKILL");
    await proc.status;
  }
}

Deno.test({
  name: "a listing of /proc finds the live members of a child's group and session, and only them",
  ignore: !linux,
  fn: () =>
    withGroup("sleep 30 & sleep 30 &", async (pid) => {
      const { entries, workMs } = await listFromProc(new Set([pid]));
      assert.ok(workMs > 0 && workMs < 1000, `work ${workMs} ms`);
      assert.equal(entries.length, 3, JSON.stringify(entries));
      for (const entry of entries) {
        assert.deepEqual({ pgid: entry.pgid, sid: entry.sid }, { pgid: pid, sid: pid });
      }
      assert.ok(entries.some((e) => e.pid === pid));
      assert.equal(systemProcessTable().probeGroup(pid), true);
    }),
});

Deno.test({
  name: "a listing finds every member of a large group, those read between its slices included",
  ignore: !linux,
  // 40 consecutive pids: at least one is read by the asynchronous read that ends a slice.
  fn: () =>
    withGroup("for i in $(seq 40); do sleep 30 & done;", async (pid) => {
      const { entries } = await listFromProc(new Set([pid]));
      assert.equal(entries.length, 41, `${entries.length} of the 41 listed`);
    }),
});
