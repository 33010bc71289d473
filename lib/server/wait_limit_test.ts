import assert from "node:assert/strict";
import { WaitLimit } from "./wait_limit.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a wait that overruns its limit is ended once, not before its limit", async () => {
  const limit = new WaitLimit();
  const calls: number[] = [];
  const started = performance.now();
  limit.start(40, () => calls.push(performance.now() - started));
  await delay(120);
  limit.close();
  assert.equal(calls.length, 1);
  assert.ok(calls[0]! >= 39, `ended after ${calls[0]} ms`);
});

Deno.test("waits that end in time end nothing, and a later wait gets its whole limit", async () => {
  const limit = new WaitLimit();
  let expired = 0;
  const onExpired = () => expired++;
  // Waits in a row shorter than the limit: the timer set for the first fires before the last
  // one's deadline, and is set again for what is left.
  for (let i = 0; i < 6; i++) {
    limit.start(60, onExpired);
    await delay(15);
    limit.stop();
  }
  assert.equal(expired, 0);
  const started = performance.now();
  let endedAfter = 0;
  limit.start(60, () => endedAfter = performance.now() - started);
  await delay(30);
  assert.equal(endedAfter, 0, "not ended halfway through its limit");
  await delay(90);
  assert.ok(endedAfter >= 59, `ended after ${endedAfter} ms`);
  assert.equal(expired, 0, "an earlier wait's callback never runs");
  limit.close();
});

Deno.test("a closed limit ends nothing and holds no timer", async () => {
  const limit = new WaitLimit();
  let expired = 0;
  limit.start(20, () => expired++);
  limit.close();
  limit.start(20, () => expired++);
  await delay(60);
  assert.equal(expired, 0);
});
