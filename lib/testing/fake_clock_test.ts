/**
 * Tests of FakeClock: time stands still until advanced, sleepers wake in deadline order, and
 * aborts remove them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { FakeClock } from "./fake_clock.ts";

/** Tracks whether a promise has settled, and how. */
function track(promise: Promise<unknown>): { state: "pending" | "resolved" | "rejected" } {
  const tracker = { state: "pending" as "pending" | "resolved" | "rejected" };
  promise.then(() => (tracker.state = "resolved"), () => (tracker.state = "rejected"));
  return tracker;
}

Deno.test("a fake clock starts at the given time and stands still", () => {
  const clock = new FakeClock(1000);
  assert.equal(clock.now(), 1000);
  assert.equal(clock.now(), 1000);
  assert.equal(new FakeClock().now(), 1_700_000_000_000);
});

Deno.test("a fake sleep resolves only once advance reaches its deadline", async () => {
  const clock = new FakeClock(0);
  const sleep = track(clock.sleep(100));
  assert.equal(clock.pending, 1);
  await clock.advance(99);
  assert.equal(sleep.state, "pending");
  assert.equal(clock.now(), 99);
  await clock.advance(1);
  assert.equal(sleep.state, "resolved");
  assert.equal(clock.now(), 100);
  assert.equal(clock.pending, 0);
});

Deno.test("advance moves time to the target even when nobody sleeps", async () => {
  const clock = new FakeClock(10);
  await clock.advance(5000);
  assert.equal(clock.now(), 5010);
});

Deno.test("a sleep of zero resolves on the next advance", async () => {
  const clock = new FakeClock(0);
  const sleep = track(clock.sleep(0));
  await clock.advance(0);
  assert.equal(sleep.state, "resolved");
});

Deno.test("sleepers wake in deadline order, and see the clock at their deadline", async () => {
  const clock = new FakeClock(0);
  const woke: string[] = [];
  const sleepFor = (name: string, ms: number) =>
    clock.sleep(ms).then(() => woke.push(`${name}@${clock.now()}`));
  const all = Promise.all([
    sleepFor("c", 300),
    sleepFor("a", 100),
    sleepFor("b", 200),
    sleepFor("a2", 100),
  ]);
  await clock.advance(1000);
  await all;
  assert.deepEqual(woke, ["a@100", "a2@100", "b@200", "c@300"]);
  assert.equal(clock.now(), 1000);
});

Deno.test("a sleep started by a woken sleeper within the same advance also wakes", async () => {
  const clock = new FakeClock(0);
  const woke: number[] = [];
  const chain = (async () => {
    await clock.sleep(100);
    woke.push(clock.now());
    await clock.sleep(100);
    woke.push(clock.now());
  })();
  await clock.advance(250);
  await chain;
  assert.deepEqual(woke, [100, 200]);
});

Deno.test("an abort rejects the sleep with the signal's reason and removes it", async () => {
  const clock = new FakeClock(0);
  const controller = new AbortController();
  const sleep = clock.sleep(100, controller.signal);
  assert.equal(clock.pending, 1);
  const reason = new Error("cancelled");
  controller.abort(reason);
  await assert.rejects(sleep, (error: unknown) => error === reason);
  assert.equal(clock.pending, 0);
  await clock.advance(1000);
});

Deno.test("a sleep with an already aborted signal rejects at once", async () => {
  const clock = new FakeClock(0);
  const signal = AbortSignal.abort(new Error("too late"));
  await assert.rejects(clock.sleep(10, signal), { message: "too late" });
  assert.equal(clock.pending, 0);
});

Deno.test("aborting one sleeper leaves the others asleep", async () => {
  const clock = new FakeClock(0);
  const controller = new AbortController();
  const aborted = clock.sleep(50, controller.signal);
  const kept = track(clock.sleep(50));
  controller.abort();
  await assert.rejects(aborted);
  assert.equal(kept.state, "pending");
  await clock.advance(50);
  assert.equal(kept.state, "resolved");
});
