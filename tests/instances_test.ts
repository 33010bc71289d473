/**
 * `instances: N` with real servers and real children: N copies named `NAME:K`, `{instance}`
 * filled in, operations on the name acting on every copy, `update` following a changed N.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, waitUntil } from "./harness.ts";

const WEB = [
  `command: sh -c 'echo "port $PORT"; exec sleep 1000'`,
  "instances: 3",
  "env: { PORT: '80{instance}' }",
  "output:",
  "  - stdout: web-{instance}.log",
  "start_seconds: 0",
].join("\n");

Deno.test("instances run as NAME:0 … NAME:N-1, each with {instance} filled in", async () => {
  await using server = await startServer({ children: { web: WEB } });
  const start = await server.json("start", "web");
  assert.equal(start.ok, true, start.message);
  const check = await server.json("check");
  const children = check.data!.children as { name: string; state: string; pid: number }[];
  assert.deepEqual(children.map((c) => [c.name, c.state]), [
    ["web:0", "RUNNING"],
    ["web:1", "RUNNING"],
    ["web:2", "RUNNING"],
  ]);
  for (const i of [0, 1, 2]) {
    const file = join(server.childDir, `web-${i}.log`);
    await waitUntil(
      async () => {
        try {
          return (await Deno.readTextFile(file)).includes(`port 80${i}`);
        } catch {
          return false;
        }
      },
      5_000,
      `web-${i}.log`,
    );
  }
  // One copy by its name; every copy by the file's name.
  const one = await server.json("stop", "web:1");
  assert.equal(one.ok, true, one.message);
  assert.equal((await server.child("web:1")).state, "STOPPED");
  assert.equal((await server.child("web:0")).state, "RUNNING");
  const all = await server.json("stop", "web");
  assert.equal(all.ok, false, "web:1 was not running");
  assert.equal(all.code, "SOME_FAILED");
  for (const name of ["web:0", "web:2"]) {
    assert.equal((await server.child(name)).state, "STOPPED", name);
  }
});

Deno.test("update adds the copies a raised instances asks for and stops those a lower one drops", async () => {
  await using server = await startServer({ children: { web: WEB } });
  await server.json("start", "web");
  const before = await server.child("web:0");
  server.writeChild("web", WEB.replace("instances: 3", "instances: 2"));
  const lowered = await server.json("update");
  assert.equal(lowered.ok, true, lowered.message);
  assert.equal((await server.child("web:0")).pid, before.pid, "web:0 is left alone");
  const check = await server.json("check");
  const names = (check.data!.children as { name: string }[]).map((c) => c.name);
  assert.deepEqual(names, ["web:0", "web:1"], "web:2 was stopped and dropped");
  server.writeChild("web", WEB.replace("instances: 3", "instances: 4"));
  const raised = await server.json("update");
  assert.equal(raised.ok, true, raised.message);
  for (const name of ["web:2", "web:3"]) {
    assert.equal((await server.child(name)).state, "RUNNING", name);
  }
});
