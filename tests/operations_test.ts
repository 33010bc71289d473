/**
 * Black-box tests of the operations on many children and on running programs: `signal`,
 * `start all`, `restart all`, `update`, starts that wait until a child counts as started
 * (EXITED_EARLY, `--no-wait`), `status`, and `exit_codes`. Real server, real client, real
 * children; every wait is bounded.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { delay, startServer, waitUntil } from "./harness.ts";
import type { TestServer } from "./harness.ts";

/** A child file: `command` as a YAML list (JSON is YAML), then more lines. */
function childYaml(command: readonly string[], ...more: string[]): string {
  return [`command: ${JSON.stringify(command)}`, ...more, ""].join("\n");
}

/** Quick to count as started, so that starts that wait do not take a second each. */
const QUICK = "start_seconds: 0.2";

const SLEEPER = childYaml(["sleep", "1000"], QUICK);

/** How many lines of `path` are `line`; 0 when it does not exist. */
async function count(path: string, line: string): Promise<number> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l === line).length;
  } catch {
    return 0;
  }
}

/**
 * A shell script that writes `ready` to its first argument once it traps HUP, then `got HUP`
 * at each HUP; with a second argument, it first starts a helper in its process group that does
 * the same with that file.
 */
const HUP_SCRIPT = [
  `if [ -n "$2" ]; then sh "$0" "$2" & fi`,
  `trap 'echo got HUP >> "$1"' HUP`,
  `echo ready >> "$1"`,
  `while :; do sleep 0.1; done`,
  "",
].join("\n");

/** The pid of each child named, from `check --json`. */
async function pids(server: TestServer, ...names: string[]): Promise<(number | null)[]> {
  return await Promise.all(names.map(async (n) => (await server.child(n)).pid));
}

Deno.test("signal NAME HUP reaches the child's whole process group, --main its main process only", async () => {
  await using server = await startServer();
  const script = join(server.dir, "hup.sh");
  const main = join(server.dir, "main.txt");
  const helper = join(server.dir, "helper.txt");
  await Deno.writeTextFile(script, HUP_SCRIPT);
  server.writeChild("hup", childYaml(["sh", script, main, helper], QUICK));
  assert.equal((await server.client("start", "hup")).code, 0);
  await waitUntil(
    async () => (await count(main, "ready")) === 1 && (await count(helper, "ready")) === 1,
    10_000,
    "both processes to trap HUP",
  );

  const group = await server.client("signal", "hup", "HUP");
  assert.equal(group.code, 0, group.stdout);
  assert.match(group.stdout, /signal hup success: SIGHUP sent to its process group \d+/);
  await waitUntil(
    async () => (await count(main, "got HUP")) === 1 && (await count(helper, "got HUP")) === 1,
    10_000,
    "HUP in both processes",
  );

  const only = await server.client("signal", "hup", "SIGHUP", "--main");
  assert.equal(only.code, 0, only.stdout);
  assert.match(only.stdout, /SIGHUP sent to its main process \(pid \d+\)/);
  await waitUntil(async () => (await count(main, "got HUP")) === 2, 10_000, "a second HUP");
  // The helper sleeps 0.1 s at a time: a HUP it got would be written by now.
  await delay(500);
  assert.equal(await count(helper, "got HUP"), 1, "the helper got no second HUP");
  assert.equal((await server.child("hup")).state, "RUNNING");
});

Deno.test("signal needs a signal (usage error); the server refuses one it does not know", async () => {
  await using server = await startServer({ children: { web: SLEEPER } });
  const missing = await server.client("signal", "web");
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /"signal" needs a signal after the child name, e.g\. "signal web HUP"/,
  );
  assert.equal((await server.client("start", "web")).code, 0);
  const unknown = await server.client("signal", "web", "NOPE");
  assert.equal(unknown.code, 1);
  assert.match(unknown.stdout, /Unknown signal "NOPE"; expected one of: HUP, .*\[BAD_SIGNAL\]/);
  const json = await server.json("signal", "web", "usr1");
  assert.equal(json.ok, true);
  assert.equal(json.data?.signal, "SIGUSR1");
  assert.equal(json.data?.group, true);
});

Deno.test("start all starts every defined child; restart all restarts the running ones", async () => {
  await using server = await startServer({ children: { a: SLEEPER, b: SLEEPER, c: SLEEPER } });
  const started = await server.client("start", "all");
  assert.equal(started.code, 0, started.stdout);
  assert.match(started.stdout, /^a: start a success/m);
  assert.match(started.stdout, /^c: start c success/m);
  assert.match(started.stdout, /^start all success: 3 children$/m);
  for (const name of ["a", "b", "c"]) assert.equal((await server.child(name)).state, "RUNNING");

  assert.equal((await server.client("stop", "c")).code, 0);
  const before = await pids(server, "a", "b");
  const restarted = await server.client("restart", "all");
  assert.equal(restarted.code, 0, restarted.stdout);
  assert.match(restarted.stdout, /^restart all success: 2 children$/m);
  assert.doesNotMatch(restarted.stdout, /^c: /m);
  const after = await pids(server, "a", "b");
  for (const [i, pid] of after.entries()) {
    assert.ok(pid !== null && pid !== before[i], `new pid for ${"ab"[i]}: ${before[i]} → ${pid}`);
  }
  assert.equal((await server.child("c")).state, "STOPPED");

  // The running ones are left alone: only c is started.
  const again = await server.json("start", "all");
  assert.equal(again.ok, true);
  assert.deepEqual(again.data?.results?.map((r) => r.child), ["c"]);
  assert.deepEqual(await pids(server, "a", "b"), after);
});

Deno.test("a child that exits at once fails start and restart with EXITED_EARLY and its stderr", async () => {
  await using server = await startServer();
  server.writeChild("boom", childYaml(["sh", "-c", "echo boom >&2; exit 3"], QUICK));
  const start = await server.client("start", "boom");
  assert.equal(start.code, 1, start.stdout);
  assert.match(
    start.stdout,
    /^error: Cannot start child "boom": .*exit code 3.*\[EXITED_EARLY\]$/m,
  );
  assert.match(start.stdout, /^ {3,}boom$/m);
  assert.match(start.stdout, /^hint: "log boom --stderr"/m);
  const json = await server.json("start", "boom");
  assert.equal(json.ok, false);
  assert.equal(json.code, "EXITED_EARLY");

  // Runs the first time, then exits at once at every start after that.
  const marker = join(server.dir, "ran-once");
  const flaky =
    `if [ -e '${marker}' ]; then echo broken >&2; exit 4; fi; touch '${marker}'; exec sleep 1000`;
  server.writeChild("flaky", childYaml(["sh", "-c", flaky], QUICK));
  assert.equal((await server.client("start", "flaky")).code, 0);
  const restart = await server.client("restart", "flaky");
  assert.equal(restart.code, 1, restart.stdout);
  assert.match(
    restart.stdout,
    /^error: Cannot restart child "flaky": .*exit code 4.*\[EXITED_EARLY\]$/m,
  );
  assert.match(restart.stdout, /^ {3,}broken$/m);
});

Deno.test("start all reports each child, and fails when one exits at once, with every item in --json", async () => {
  await using server = await startServer({
    children: { boom: childYaml(["sh", "-c", "echo boom >&2; exit 3"], QUICK), web: SLEEPER },
  });
  const text = await server.client("start", "all");
  assert.equal(text.code, 1, text.stdout);
  assert.match(text.stdout, /^boom: error: Cannot start child "boom": .*\[EXITED_EARLY\]$/m);
  assert.match(text.stdout, /^web: start web success/m);
  assert.match(
    text.stdout,
    /^error: start all: 1 done, 1 failed: boom \(EXITED_EARLY\) \[SOME_FAILED\]$/m,
  );
  await server.client("stop", "web");
  const json = await server.json("start", "all");
  assert.equal(json.ok, false);
  assert.equal(json.code, "SOME_FAILED");
  const items = json.data?.results ?? [];
  assert.deepEqual(items.map((i) => [i.child, i.ok, i.code]), [
    ["boom", false, "EXITED_EARLY"],
    ["web", true, undefined],
  ]);
  assert.match(items[0]!.message, /boom/);
});

Deno.test("--no-wait answers at once, without waiting for the child to count as started", async () => {
  await using server = await startServer({
    children: {
      boom: childYaml(["sh", "-c", "echo boom >&2; exit 3"], QUICK),
      slow: childYaml(["sleep", "1000"], "start_seconds: 20"),
    },
  });
  const boom = await server.client("start", "boom", "--no-wait");
  assert.equal(boom.code, 0, boom.stdout);
  assert.match(boom.stdout, /start boom success/);
  const began = Date.now();
  const slow = await server.client("start", "slow", "--no-wait");
  assert.equal(slow.code, 0, slow.stdout);
  assert.ok(Date.now() - began < 15_000, "answered before start_seconds");
  assert.equal((await server.child("slow")).state, "STARTING");
});

Deno.test("update restarts the child whose file changed, stops the one whose file was removed", async () => {
  await using server = await startServer({ children: { a: SLEEPER, b: SLEEPER, c: SLEEPER } });
  assert.equal((await server.client("start", "all")).code, 0);
  const [a, b] = await pids(server, "a", "b");
  server.writeChild("b", childYaml(["sleep", "1001"], QUICK));
  await Deno.remove(join(server.childDir, "c.yml"));

  const check = await server.client("check");
  assert.equal(check.code, 0, check.stdout);
  assert.match(check.stdout, /^a +RUNNING +\d+/m);
  assert.match(check.stdout, /^b +RUNNING \(config changed\) +\d+/m);
  assert.match(check.stdout, /^c +RUNNING \(file removed\) +\d+/m);
  const detail = await server.client("check", "b");
  assert.match(detail.stdout, /^ +changed since this run started \(update applies it\)$/m);

  const update = await server.client("update");
  assert.equal(update.code, 0, update.stdout);
  assert.match(update.stdout, /^b: restart b success \(its config changed\)$/m);
  assert.match(update.stdout, /^c: stop c success \(its config file was removed\)$/m);
  assert.doesNotMatch(update.stdout, /^a: /m);
  assert.match(update.stdout, /^update success: 2 children$/m);

  const [a2, b2] = await pids(server, "a", "b");
  assert.equal(a2, a, "a keeps its pid");
  assert.ok(b2 !== null && b2 !== b, "b has a new pid");
  const bNow = await server.child("b");
  assert.deepEqual(bNow.command, ["sleep", "1001"]);
  assert.equal(bNow.drift, null);
  const names = (await server.json("check")).data?.children?.map((c) => c.name);
  assert.deepEqual(names, ["a", "b"]);
  const nothing = await server.client("update");
  assert.equal(nothing.code, 0);
  assert.match(nothing.stdout, /^update success: 0 children$/m);
});

Deno.test("status is check", async () => {
  await using server = await startServer({ children: { x: SLEEPER, y: SLEEPER } });
  const check = await server.client("check");
  const status = await server.client("status");
  assert.equal(status.code, 0);
  assert.equal(status.stdout, check.stdout);
  assert.match(status.stdout, /^x +STOPPED/m);
  const one = await server.client("status", "x");
  assert.equal(one.code, 0);
  assert.match(one.stdout, /^name: +x$/m);
  const typo = await server.client("stauts");
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Unknown operation "stauts" \(did you mean "status"\?\)/);
});

Deno.test("with restart: on-failure, an exit code in exit_codes is not restarted and another is", async () => {
  const ending = (code: number) =>
    childYaml(
      ["sh", "-c", `sleep 0.2; exit ${code}`],
      "start_seconds: 0",
      "restart: on-failure",
      "exit_codes: [0, 2]",
      "backoff: { initial: 0.2 }",
    );
  await using server = await startServer({ children: { two: ending(2), three: ending(3) } });
  assert.equal((await server.client("start", "two")).code, 0);
  assert.equal((await server.client("start", "three")).code, 0);
  await server.waitChild("three", (c) => c.history.length >= 2, 10_000);
  const two = await server.waitChild("two", (c) => c.state === "EXITED", 10_000);
  assert.equal(two.last_exit?.code, 2);
  assert.equal(two.last_exit?.expected, true);
  // Longer than three's backoff: two would have been started again by now.
  await delay(1_000);
  const still = await server.child("two");
  assert.equal(still.state, "EXITED");
  assert.equal(still.history.length, 1);
  assert.equal((await server.child("three")).history.at(-1)?.expected, false);
  const check = await server.client("check");
  assert.match(check.stdout, /^two +EXITED .*exit code 2 \(expected\)$/m);
});
