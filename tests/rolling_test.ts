/**
 * A rolling restart over a fleet (`restart NAME on H1 on H2 … --rolling`): one host at a time,
 * each child started again before the next host is touched, stopping at the first host where it
 * does not come back. Three real servers on loopback.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runClient, startServer } from "./harness.ts";

const GOOD = "command: sleep 1000\nstart_seconds: 0.3\n";

Deno.test("a rolling restart goes host by host and stops at the first host that fails", async () => {
  await using one = await startServer({ children: { web: GOOD } });
  await using two = await startServer({ children: { web: GOOD } });
  await using three = await startServer({ children: { web: GOOD } });
  for (const server of [one, two, three]) {
    const start = await server.json("start", "web");
    assert.equal(start.ok, true, start.message);
  }
  const before = await Promise.all([one, two, three].map(async (s) => (await s.child("web")).pid));
  // On the second host the new config makes the child exit at once.
  two.writeChild("web", "command: sh -c 'echo broken config >&2; exit 1'\nstart_seconds: 0.3\n");

  const run = await runClient([
    "restart",
    "web",
    "--rolling",
    "--json",
    ...[one, two, three].flatMap((s) => ["on", s.address]),
  ]);
  assert.equal(run.code, 1, run.stderr);
  const results = JSON.parse(run.stdout) as { host: string; ok: boolean; code?: string }[];
  assert.deepEqual(results.map((r) => [r.ok, r.code ?? null]), [
    [true, null],
    [false, "EXITED_EARLY"],
    [false, "SKIPPED"],
  ]);
  assert.notEqual((await one.child("web")).pid, before[0], "the first host was restarted");
  assert.equal((await three.child("web")).pid, before[2], "the third host was not touched");

  const text = await runClient([
    "restart",
    "web",
    "--rolling",
    ...[one, three].flatMap((s) => ["on", s.address]),
  ]);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.match(text.stdout, /2 ok, 0 failed/);
});
