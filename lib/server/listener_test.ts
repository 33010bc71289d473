import assert from "node:assert/strict";
import { BURST_CONNECTIONS, BurstCollector } from "./listener.ts";

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
