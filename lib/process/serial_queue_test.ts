import assert from "node:assert/strict";
import { SerialQueue } from "./serial_queue.ts";

/** A promise with its resolve function, to finish a task when the test says so. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every pending microtask and timer callback run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("tasks run one at a time, in the order they were queued", async () => {
  const queue = new SerialQueue();
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const task = (name: string, ticks: number) => async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    log.push(`start ${name}`);
    for (let i = 0; i < ticks; i++) await Promise.resolve();
    log.push(`end ${name}`);
    running--;
    return name;
  };
  const results = await Promise.all([
    queue.run(task("a", 5)),
    queue.run(task("b", 1)),
    queue.run(task("c", 3)),
  ]);
  assert.deepEqual(results, ["a", "b", "c"]);
  assert.deepEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
  assert.equal(maxRunning, 1);
});

Deno.test("a task does not start until the one before it has settled", async () => {
  const queue = new SerialQueue();
  const gate = deferred();
  let secondStarted = false;
  const first = queue.run(() => gate.promise);
  const second = queue.run(() => {
    secondStarted = true;
    return "second";
  });
  await settle();
  assert.equal(secondStarted, false);
  gate.resolve();
  await first;
  assert.equal(await second, "second");
  assert.equal(secondStarted, true);
});

Deno.test("a failing task rejects its own promise and does not block the next", async () => {
  const queue = new SerialQueue();
  const failing = queue.run(() => Promise.reject(new Error("boom")));
  const throwing = queue.run((): number => {
    throw new TypeError("sync boom");
  });
  const next = queue.run(() => Promise.resolve(42));
  await assert.rejects(failing, { message: "boom" });
  await assert.rejects(throwing, TypeError);
  assert.equal(await next, 42);
});

Deno.test("a synchronous task's value is delivered as a promise", async () => {
  const queue = new SerialQueue();
  assert.equal(await queue.run(() => "plain"), "plain");
});

Deno.test("length counts tasks queued or running and drops as each settles", async () => {
  const queue = new SerialQueue();
  assert.equal(queue.length, 0);
  const a = deferred();
  const b = deferred();
  const pa = queue.run(() => a.promise);
  const pb = queue.run(() => b.promise);
  const pc = queue.run(() => Promise.reject(new Error("c")));
  assert.equal(queue.length, 3);
  a.resolve();
  await pa;
  await settle();
  assert.equal(queue.length, 2);
  b.resolve();
  await pb;
  await assert.rejects(pc);
  await settle();
  assert.equal(queue.length, 0);
});

Deno.test("separate queues do not wait for each other", async () => {
  const one = new SerialQueue();
  const two = new SerialQueue();
  const gate = deferred();
  const blocked = one.run(() => gate.promise);
  assert.equal(await two.run(() => "free"), "free");
  gate.resolve();
  await blocked;
});
