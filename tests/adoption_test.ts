/**
 * A server killed with SIGKILL (the OOM killer, a crash) leaves its children running; the next
 * server on the same config reads the state file and adopts them instead of starting copies.
 * Real servers, real children, real signals; every child's command line carries a marker so
 * the test can count its processes in /proc.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  isAlive,
  launchServer,
  processesWith,
  startServer,
  type TestServer,
  waitUntil,
} from "./harness.ts";

/** A command line no other process has: `sleep 1000.NNNNN`. */
function marker(): string {
  return `1000.${Math.floor(Math.random() * 90_000) + 10_000}`;
}

/** SIGKILLs the server, leaving its directory (and children) as they are. */
async function killHard(server: TestServer): Promise<void> {
  server.process.kill("SIGKILL");
  await server.exited;
  await Promise.all([server.stdout.done, server.stderr.done]);
}

/** Kills whatever is left with `text` in its command line. */
function cleanUp(text: string): void {
  for (const pid of processesWith(text)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

Deno.test("children of a server killed with SIGKILL are adopted by the next one, never started twice", async () => {
  const mark = marker();
  const first = await startServer({
    serverYaml: "mode: full\n",
    children: {
      web: `command: sleep ${mark}\n`,
      api: `command: sh -c 'sleep ${mark} & sleep ${mark}; wait'\n`,
    },
  });
  try {
    await first.waitChild("api", (c) => c.state === "RUNNING");
    const before = {
      web: (await first.child("web")).pid,
      api: (await first.child("api")).pid,
    };
    // web's sleep; api's shell and its two sleeps.
    await waitUntil(() => processesWith(mark).length === 4, 5_000, "four processes");
    await killHard(first);
    assert.equal(processesWith(mark).length, 4, "the children outlived the server");

    await using second = await launchServer(first.dir);
    for (const name of ["web", "api"] as const) {
      const child = await second.child(name);
      assert.equal(child.state, "RUNNING", name);
      assert.equal(child.pid, before[name], `${name} kept its process`);
      assert.equal(child.adopted, true, name);
    }
    assert.equal(processesWith(mark).length, 4, "no second copy was started");
    assert.match(
      second.stderr.text,
      /child "web" \(pid \d+\) outlived the previous server: adopted/,
    );

    // Stopping an adopted child reaches its whole group.
    const stop = await second.json("stop", "api");
    assert.equal(stop.ok, true, stop.message);
    await waitUntil(() => processesWith(mark).length === 1, 5_000, "api's group stopped");
  } finally {
    cleanUp(mark);
    await first[Symbol.asyncDispose]().catch(() => {});
  }
});

Deno.test("an adopted child's exit is seen, and its restart policy starts a captured run", async () => {
  const mark = marker();
  const first = await startServer({
    serverYaml: "mode: full\n",
    children: { web: `command: sleep ${mark}\nrestart: always\nbackoff: { initial: 0.1 }\n` },
  });
  try {
    const pid = (await first.waitChild("web", (c) => c.state === "RUNNING")).pid!;
    await killHard(first);
    await using second = await launchServer(first.dir);
    assert.equal((await second.child("web")).adopted, true);
    Deno.kill(pid, "SIGTERM");
    const next = await second.waitChild("web", (c) => c.pid !== null && c.pid !== pid, 5_000);
    assert.equal(next.adopted, false, "the new run is this server's own");
    assert.equal(next.last_exit?.description, "exit status unknown");
    assert.deepEqual(processesWith(mark), [next.pid]);
  } finally {
    cleanUp(mark);
    await first[Symbol.asyncDispose]().catch(() => {});
  }
});

Deno.test("adopt: off stops the run a killed server left, and startup starts it afresh", async () => {
  const mark = marker();
  const first = await startServer({
    serverYaml: "mode: full\n",
    children: { worker: `command: sleep ${mark}\nadopt: off\n` },
  });
  try {
    const old = (await first.waitChild("worker", (c) => c.pid !== null)).pid!;
    await killHard(first);
    await using second = await launchServer(first.dir);
    const child = await second.waitChild("worker", (c) => c.state === "RUNNING");
    assert.notEqual(child.pid, old);
    assert.equal(child.adopted, false);
    assert.equal(isAlive(old), false, "the old run was stopped");
    assert.deepEqual(processesWith(mark), [child.pid]);
  } finally {
    cleanUp(mark);
    await first[Symbol.asyncDispose]().catch(() => {});
  }
});

Deno.test("a second server on the same state file refuses to start while the first runs", async () => {
  await using first = await startServer({ children: { web: "command: sleep 1000\n" } });
  const second = await launchServer(first.dir, { expectFailure: true });
  const status = await second.exited;
  await Promise.all([second.stdout.done, second.stderr.done]);
  assert.equal(status.code, 1);
  assert.match(
    second.stderr.text,
    new RegExp(`another server \\(pid ${first.pid}\\) is running with state file`),
  );
  const check = await first.json("check");
  assert.equal(check.ok, true, "the first server is untouched");
});

Deno.test("a clean shutdown removes the state file; a run that exited is not adopted", async () => {
  await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
  const path = join(server.dir, "server.state");
  await server.json("start", "web");
  await waitUntil(
    async () => {
      try {
        return (await Deno.readTextFile(path)).includes('"web"');
      } catch {
        return false;
      }
    },
    5_000,
    "the state file to name web",
  );
  await server.stop();
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
});
