/**
 * Black-box tests of the process model: real server, real client, real children.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  delay,
  isAlive,
  liveGroupMembers,
  startServer,
  waitUntil,
  zombieChildren,
} from "./harness.ts";

Deno.test("start, check, restart and stop a child with the seed's success phrases", async () => {
  await using server = await startServer({
    children: { web: "command: sleep 1000\nstart_seconds: 0\n" },
  });
  const started = await server.client("start", "web");
  assert.equal(started.code, 0, started.stderr);
  assert.match(
    started.stdout,
    new RegExp(`^Server ${server.address.replace(/\./g, "\\.")} response:\nstart web success`),
  );
  const first = await server.waitChild("web", (c) => c.state === "RUNNING");
  assert.ok(first.pid && isAlive(first.pid));

  const restarted = await server.client("restart", "web");
  assert.equal(restarted.code, 0, restarted.stdout);
  assert.match(restarted.stdout, /restart web success/);
  const second = await server.child("web");
  assert.notEqual(second.pid, first.pid);
  assert.equal(second.restarts, 1);
  assert.ok(!isAlive(first.pid!), "the old process is gone after restart");

  const stopped = await server.client("stop", "web");
  assert.equal(stopped.code, 0);
  assert.match(stopped.stdout, /stop web success/);
  const after = await server.child("web");
  assert.equal(after.state, "STOPPED");
  assert.equal(after.pid, null);
  assert.equal(after.last_exit?.signal, "SIGTERM");
  assert.equal(after.last_exit?.requested, true);
  assert.ok(!isAlive(second.pid!));
});

Deno.test("start of a running child, and restart or stop of a stopped one, are refused with codes", async () => {
  await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
  const restart = await server.json("restart", "web");
  assert.equal(restart.ok, false);
  assert.equal(restart.code, "NOT_RUNNING");
  assert.match(restart.message, /Cannot restart child "web": it is not running/);
  const stop = await server.json("stop", "web");
  assert.equal(stop.code, "NOT_RUNNING");

  assert.equal((await server.json("start", "web")).ok, true);
  const again = await server.client("start", "web");
  assert.equal(again.code, 1, "a failed operation exits 1");
  assert.match(
    again.stdout,
    /error: Cannot start child "web": it is already running \(pid \d+\).*\[ALREADY_RUNNING\]/,
  );

  const missing = await server.json("start", "nosuch");
  assert.equal(missing.code, "NOT_FOUND");
  assert.match(missing.message, /Cannot find child "nosuch"/);
});

Deno.test("trystart starts a stopped child and restarts a running one", async () => {
  await using server = await startServer({ children: { job: "command: sleep 1000\n" } });
  const first = await server.json("trystart", "job");
  assert.equal(first.ok, true);
  assert.match(first.message, /trystart job success \(started\)/);
  const pid1 = (await server.child("job")).pid!;
  const second = await server.json("trystart", "job");
  assert.match(second.message, /trystart job success \(restarted\)/);
  const pid2 = (await server.child("job")).pid!;
  assert.notEqual(pid1, pid2);
  assert.ok(!isAlive(pid1));
  assert.ok(isAlive(pid2));
});

Deno.test("stop escalates to SIGKILL after stop_timeout when the child ignores its stop signal", async () => {
  await using server = await startServer({
    children: {
      stubborn:
        `command: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done"]\nstop_timeout: 1\noutput:\n  - stdout: stubborn.out\n`,
    },
  });
  await server.json("start", "stubborn");
  const out = join(server.childDir, "stubborn.out");
  await waitUntil(
    () => {
      try {
        return Deno.readTextFileSync(out).includes("ready");
      } catch {
        return false;
      }
    },
    10_000,
    "child ready",
  );
  const { pid } = await server.child("stubborn");
  const began = Date.now();
  const stop = await server.json("stop", "stubborn");
  const took = Date.now() - began;
  assert.equal(stop.ok, true, stop.message);
  assert.ok(took >= 900, `stop waited for stop_timeout (took ${took} ms)`);
  assert.ok(took < 6000, `stop did not hang (took ${took} ms)`);
  const child = await server.child("stubborn");
  assert.equal(child.last_exit?.signal, "SIGKILL");
  assert.ok(liveGroupMembers(pid!).length === 0);
  await server.stderr.waitFor(/did not stop within 1s of SIGTERM; sending SIGKILL/);
});

Deno.test("stop of sh -c 'sleep 1000 & sleep 1000' leaves no sleep behind", async () => {
  await using server = await startServer({
    children: { pair: `command: sh -c 'sleep 1000 & sleep 1000'\n` },
  });
  await server.json("start", "pair");
  const { pid } = await server.child("pair");
  await waitUntil(() => liveGroupMembers(pid!).length >= 3, 5000, "sh and two sleeps");
  const stop = await server.json("stop", "pair");
  assert.equal(stop.ok, true);
  assert.deepEqual(liveGroupMembers(pid!), [], "no member of the child's process group is alive");
});

Deno.test("a grandchild that ignores SIGTERM after its parent exited is killed when stop_timeout passes", async () => {
  await using server = await startServer({
    children: {
      leaver:
        `command: ["sh", "-c", "(trap '' TERM; exec sleep 1000) & sleep 1000"]\nstop_timeout: 1\n`,
    },
  });
  await server.json("start", "leaver");
  const { pid } = await server.child("leaver");
  await waitUntil(() => liveGroupMembers(pid!).length >= 3, 5000, "group ready");
  const stop = await server.json("stop", "leaver");
  assert.equal(stop.ok, true);
  assert.deepEqual(liveGroupMembers(pid!), []);
});

Deno.test("a crash loop without backoff leaves nothing behind: each run's group and session are stopped", async () => {
  const runs = await Deno.makeTempFile({ prefix: "supervisor-ts-runs-" });
  try {
    // Each run leaves a sleep in its group and, with `set -m`, one in a group of its own in
    // its session, then crashes before start_seconds; restarted at once (backoff 0) until
    // max_restarts.
    const script = `sleep 1000 & set -m; sleep 1000 & echo "$$ $!" >> ${runs}; exit 1`;
    await using server = await startServer({
      children: {
        crashy: `command: ["bash", "-c", ${
          JSON.stringify(script)
        }]\nstart_seconds: 1\nrestart: always\nbackoff: { initial: 0, max: 0 }\nmax_restarts: 5\nstop_timeout: 2\n`,
      },
    });
    await server.json("start", "crashy");
    await server.waitChild("crashy", (c) => c.state === "FATAL", 10_000);
    const lines = (await Deno.readTextFile(runs)).trim().split("\n");
    assert.equal(lines.length, 6, "the first run and 5 restarts");
    await waitUntil(
      () =>
        lines.every((line) => {
          const [leader, job] = line.split(" ").map(Number);
          return liveGroupMembers(leader!).length === 0 && !isAlive(job!);
        }),
      5000,
      "every run's group and its session's other group empty",
    );
    assert.deepEqual(zombieChildren(server.pid), [], "the server leaves no zombie");
  } finally {
    await Deno.remove(runs).catch(() => {});
  }
});

Deno.test("a child that exits by itself is reported with its exit code and is not a zombie", async () => {
  await using server = await startServer({
    children: { quitter: "command: sh -c 'exit 3'\n" },
  });
  await server.json("start", "quitter");
  const child = await server.waitChild("quitter", (c) => c.state === "EXITED");
  assert.equal(child.pid, null);
  assert.equal(child.last_exit?.code, 3);
  assert.equal(child.last_exit?.signal, null);
  assert.equal(child.last_exit?.requested, false);
  assert.deepEqual(zombieChildren(server.pid), [], "the server leaves no zombie");
  const text = await server.client("check");
  assert.match(text.stdout, /quitter\s+EXITED\s+-\s+-\s+0\s+-\s+-\s+exit code 3/);
});

Deno.test("a child killed by a signal is reported with that signal", async () => {
  await using server = await startServer({ children: { victim: "command: sleep 1000\n" } });
  await server.json("start", "victim");
  const { pid } = await server.child("victim");
  Deno.kill(pid!, "SIGKILL");
  const child = await server.waitChild("victim", (c) => c.state === "EXITED");
  assert.equal(child.last_exit?.signal, "SIGKILL");
  assert.equal(child.last_exit?.code, null);
  assert.deepEqual(zombieChildren(server.pid), []);
});

Deno.test("output mode create truncates at each start and append keeps earlier runs", async () => {
  await using server = await startServer({
    children: {
      c: "command: echo hello\noutput:\n  - stdout: c.log\n    mode: create\n",
      a: "command: echo hello\noutput:\n  - stdout: logs/a.log\n    mode: append\n",
    },
  });
  await Deno.mkdir(join(server.childDir, "logs"));
  for (let i = 0; i < 2; i++) {
    for (const name of ["c", "a"]) {
      assert.equal((await server.json("start", name)).ok, true);
      await server.waitChild(name, (c) => c.state === "EXITED");
    }
  }
  await waitUntil(
    () => {
      try {
        return Deno.readTextFileSync(join(server.childDir, "logs", "a.log")) === "hello\nhello\n";
      } catch {
        return false;
      }
    },
    5000,
    "append log",
  );
  assert.equal(Deno.readTextFileSync(join(server.childDir, "c.log")), "hello\n");
});

Deno.test("stdout and stderr may name the same file", async () => {
  await using server = await startServer({
    children: {
      both:
        `command: ["sh", "-c", "echo out; echo err >&2"]\noutput:\n  - stdout: both.log\n  - stderr: both.log\n`,
    },
  });
  await server.json("start", "both");
  await server.waitChild("both", (c) => c.state === "EXITED");
  const file = join(server.childDir, "both.log");
  await waitUntil(() => Deno.readTextFileSync(file).split("\n").length === 3, 5000, "both lines");
  assert.deepEqual(Deno.readTextFileSync(file).split("\n").sort(), ["", "err", "out"]);
});

Deno.test("a child runs in its config's directory by default, or in cwd when given", async () => {
  await using server = await startServer({
    children: {
      here: "command: pwd\noutput:\n  - stdout: here.out\n",
      there: "command: pwd\ncwd: /tmp\noutput:\n  - stdout: there.out\n",
    },
  });
  for (const name of ["here", "there"]) {
    await server.json("start", name);
    await server.waitChild(name, (c) => c.state === "EXITED");
  }
  await waitUntil(() => {
    try {
      return Deno.readTextFileSync(join(server.childDir, "there.out")).length > 0;
    } catch {
      return false;
    }
  });
  assert.equal(
    Deno.readTextFileSync(join(server.childDir, "here.out")).trim(),
    Deno.realPathSync(server.childDir),
  );
  assert.equal(Deno.readTextFileSync(join(server.childDir, "there.out")).trim(), "/tmp");
});

Deno.test("env adds to the server's environment", async () => {
  await using server = await startServer({
    children: {
      envy:
        `command: ["sh", "-c", "echo $GREETING-$PORT-$HOME"]\nenv:\n  GREETING: hi\n  PORT: 8080\noutput:\n  - stdout: envy.out\n`,
    },
  });
  await server.json("start", "envy");
  await server.waitChild("envy", (c) => c.state === "EXITED");
  await waitUntil(() => {
    try {
      return Deno.readTextFileSync(join(server.childDir, "envy.out")).length > 0;
    } catch {
      return false;
    }
  });
  assert.equal(
    Deno.readTextFileSync(join(server.childDir, "envy.out")),
    `hi-8080-${Deno.env.get("HOME")}\n`,
  );
});

Deno.test("a child without output writes to the server's stdout and stderr, prefixed with its name", async () => {
  await using server = await startServer({
    children: {
      talker: `command: ["sh", "-c", "echo one; echo two; printf 'no newline'; echo oops >&2"]\n`,
    },
  });
  await server.json("start", "talker");
  await server.stdout.waitFor("talker | no newline\n");
  assert.match(server.stdout.text, /talker \| one\ntalker \| two\n/);
  await server.stderr.waitFor("talker | oops\n");
});

Deno.test("a bad child YAML is reported with file, line and column, and the server keeps working", async () => {
  await using server = await startServer({
    children: {
      good: "command: sleep 1000\n",
      bad: "command: sleep 1\nstop_timeout: soon\ncomand: x\n",
    },
  });
  const result = await server.json("start", "bad");
  assert.equal(result.ok, false);
  assert.equal(result.code, "CONFIG_INVALID");
  const file = join(server.childDir, "bad.yml");
  assert.ok(
    result.message.includes(`${file}:2:15: stop_timeout (seconds) must be a number`),
    result.message,
  );
  assert.ok(
    result.message.includes(
      `${file}:3:1: unknown key "comand" in child config (did you mean "command"?)`,
    ),
    result.message,
  );
  const good = await server.json("start", "good");
  assert.equal(good.ok, true);
  assert.equal((await server.child("good")).state !== "STOPPED", true);
});

Deno.test("restart with a broken config keeps the running child", async () => {
  await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
  await server.json("start", "web");
  const { pid } = await server.child("web");
  server.writeChild("web", "command: [unclosed\n");
  const restart = await server.json("restart", "web");
  assert.equal(restart.code, "CONFIG_INVALID");
  assert.match(restart.message, /web\.yml:\d+:\d+: invalid YAML/);
  const child = await server.child("web");
  assert.equal(child.pid, pid);
  assert.ok(isAlive(pid!));
});

Deno.test("config is re-read at every operation: a changed command takes effect at restart", async () => {
  await using server = await startServer({
    children: { web: "command: sleep 1000\n" },
  });
  await server.json("start", "web");
  server.writeChild("web", "command: sleep 2000\n");
  await server.json("restart", "web");
  const child = await server.child("web");
  assert.deepEqual(child.command, ["sleep", "2000"]);
  const cmdline = Deno.readTextFileSync(`/proc/${child.pid}/cmdline`).split("\0");
  assert.match(cmdline[0]!, /(^|\/)sleep$/);
  assert.equal(cmdline[1], "2000");
  // A child file added while running is found too.
  server.writeChild("late", "command: sleep 1000\n");
  assert.equal((await server.json("start", "late")).ok, true);
});

Deno.test("a command that does not exist fails with SPAWN_FAILED and the child is FATAL", async () => {
  await using server = await startServer({
    children: { ghost: "command: /nonexistent/program --flag\n" },
  });
  const result = await server.json("start", "ghost");
  assert.equal(result.code, "SPAWN_FAILED");
  assert.equal(
    result.message,
    `Cannot start child "ghost": command "/nonexistent/program" was not found`,
  );
  const child = await server.child("ghost");
  assert.equal(child.state, "FATAL");
  assert.match(String(child.error), /was not found/);
});

Deno.test("stop all stops every running child in parallel", async () => {
  await using server = await startServer({
    children: {
      a: "command: sleep 1000\n",
      b: "command: sleep 1000\n",
      slow:
        `command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"]\nstop_timeout: 1\n`,
    },
  });
  const pids: number[] = [];
  for (const name of ["a", "b", "slow"]) {
    await server.json("start", name);
    pids.push((await server.child(name)).pid!);
  }
  await delay(100);
  const began = Date.now();
  const result = await server.client("stop", "all");
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, /stop all success/);
  assert.ok(Date.now() - began < 4000);
  for (const pid of pids) assert.ok(!isAlive(pid));
  const check = await server.json("check");
  const states = (check.data!.children as { state: string }[]).map((c) => c.state);
  assert.deepEqual(states, ["STOPPED", "STOPPED", "STOPPED"]);
});

Deno.test("check and info never wait behind a slow stop", async () => {
  await using server = await startServer({
    children: {
      slow:
        `command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"]\nstop_timeout: 3\n`,
    },
  });
  await server.json("start", "slow");
  await delay(200);
  const stopping = server.request({ op: "stop", child: "slow" });
  const stateOf = (reply: Record<string, unknown>) =>
    (reply.data as { children: { state: string }[] }).children[0]!.state;
  // Wait (however loaded the machine) until the stop is under way, then time check and info.
  await waitUntil(
    async () => stateOf(await server.request({ op: "check", child: "slow" })) === "STOPPING",
    5000,
    "the stop to begin",
  );
  const began = Date.now();
  const check = await server.request({ op: "check", child: "slow" });
  const info = await server.request({ op: "info" });
  const took = Date.now() - began;
  assert.ok(took < 1000, `check and info answered in ${took} ms during a 3 s stop`);
  assert.equal(stateOf(check), "STOPPING");
  assert.equal(info.ok, true);
  assert.equal((await stopping).ok, true);
});

Deno.test("SIGTERM to the server stops every child gracefully and exits 0", async () => {
  const server = await startServer({
    children: { a: "command: sleep 1000\n", b: `command: sh -c 'sleep 1000 & sleep 1000'\n` },
  });
  try {
    await server.json("start", "a");
    await server.json("start", "b");
    const a = (await server.child("a")).pid!;
    const b = (await server.child("b")).pid!;
    await waitUntil(() => liveGroupMembers(b).length === 3, 5000, "b's group");
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr.text);
    assert.ok(!isAlive(a));
    assert.deepEqual(liveGroupMembers(b), []);
    assert.match(server.stderr.text, /all children stopped/);
  } finally {
    await server[Symbol.asyncDispose]();
  }
});

Deno.test("kill replies, stops every child and the server exits 0", async () => {
  const server = await startServer({ children: { a: "command: sleep 1000\n" } });
  try {
    await server.json("start", "a");
    const pid = (await server.child("a")).pid!;
    const kill = await server.client("kill");
    assert.equal(kill.code, 0);
    assert.match(kill.stdout, /kill success/);
    const status = await server.exited;
    assert.equal(status.code, 0);
    assert.ok(!isAlive(pid));
  } finally {
    await server[Symbol.asyncDispose]();
  }
});
