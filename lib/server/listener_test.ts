import assert from "node:assert/strict";
import { BURST_CONNECTIONS, BurstCollector, HEAP_GROWTH_BYTES } from "./listener.ts";

/** A collector whose `gc` counts its calls, collecting 20 ms after the last connection. */
function counting(available = true): { collector: BurstCollector; calls: unknown[] } {
  const calls: unknown[] = [];
  const gc = (options: unknown) => void calls.push(options);
  return {
    collector: new BurstCollector({ collect: () => (available ? gc : undefined), delayMs: 20 }),
    calls,
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 60));

Deno.test("the heap is collected once after a burst of clients, when none is left", async () => {
  const { collector, calls } = counting();
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.began();
  for (let i = 0; i < BURST_CONNECTIONS - 1; i++) collector.ended();
  await settle();
  assert.equal(calls.length, 0, "one client still connected");
  collector.ended();
  await settle();
  assert.deepEqual(calls, [{ type: "major", execution: "sync", flavor: "last-resort" }]);
  collector.began();
  collector.ended();
  await settle();
  assert.equal(calls.length, 1, "a few clients after are no burst");
});

Deno.test("a client arriving before the collection puts it off until it leaves", async () => {
  const { collector, calls } = counting();
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.began();
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.ended();
  collector.began();
  await settle();
  assert.equal(calls.length, 0);
  collector.ended();
  await settle();
  assert.equal(calls.length, 1);
});

Deno.test("without the runtime's gc, a burst arms no timer", async () => {
  const { collector, calls } = counting(false);
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.began();
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.ended();
  await settle();
  assert.equal(calls.length, 0);
});

Deno.test("a heap grown by a few clients is given back at the first lull, once", async () => {
  const calls: unknown[] = [];
  let heap = 40 * 1024 * 1024;
  const collector = new BurstCollector({
    collect: () => (options) => {
      calls.push(options);
      heap = 41 * 1024 * 1024; // what the collection left
    },
    heapSize: () => heap,
    delayMs: 1000,
    lullMs: 10,
  });
  collector.began();
  heap += HEAP_GROWTH_BYTES - 1;
  collector.ended();
  await settle();
  assert.equal(calls.length, 0, "grown by less than the threshold");
  collector.began();
  heap += 1;
  collector.ended();
  collector.began();
  await settle();
  assert.equal(calls.length, 0, "a client came back within the lull");
  collector.ended();
  await settle();
  assert.equal(calls.length, 1, "collected at the lull, long before a burst's delay");
  collector.began();
  collector.ended();
  await settle();
  assert.equal(calls.length, 1, "measured from what the collection left");
});

Deno.test("clients coming and going look at the heap once, when they have all left", async () => {
  let looks = 0;
  const collector = new BurstCollector({
    collect: () => () => {},
    heapSize: () => {
      looks++;
      return 0;
    },
    lullMs: 10,
  });
  looks = 0; // the constructor's
  for (let i = 0; i < 50; i++) {
    collector.began();
    collector.ended();
  }
  assert.equal(looks, 0, "not while they come and go");
  await settle();
  assert.equal(looks, 1, "once the lull is complete");
});

Deno.test("once every listener has closed, the connections closing with them collect nothing", async () => {
  const { collector, calls } = counting();
  collector.listenerOpened();
  collector.listenerOpened();
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.began();
  for (let i = 0; i < BURST_CONNECTIONS - 1; i++) collector.ended();
  collector.listenerClosed();
  collector.ended();
  await settle();
  assert.equal(calls.length, 1, "one listener still open: the burst is collected");
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.began();
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.ended();
  collector.listenerClosed(); // the last: the collection pending is called off
  await settle();
  assert.equal(calls.length, 1, "shutting down: the pending collection is not made");
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.began();
  for (let i = 0; i < BURST_CONNECTIONS; i++) collector.ended();
  await settle();
  assert.equal(calls.length, 1, "shutting down: connections closing arm nothing");
});
