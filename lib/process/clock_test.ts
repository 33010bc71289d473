/**
 * Tests of the real clock: it sleeps, and a sleep can be aborted.
 *
 * @module
 */
import assert from "node:assert/strict";
import { callOff, realClock } from "./clock.ts";

Deno.test("the real clock sleeps and can be aborted", async () => {
  const before = realClock.now();
  await realClock.sleep(2);
  assert.ok(realClock.now() >= before);
  const controller = new AbortController();
  const sleep = realClock.sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(sleep, { message: "stop" });
});

Deno.test("a timer called off rejects its sleep with an AbortError, already aborted or not", async () => {
  const controller = new AbortController();
  const sleep = realClock.sleep(60_000, controller.signal);
  callOff(controller);
  await assert.rejects(sleep, { name: "AbortError" });
  await assert.rejects(realClock.sleep(60_000, controller.signal), { name: "AbortError" });
  await assert.rejects(realClock.sleep(0, controller.signal), { name: "AbortError" });
  callOff(undefined); // nothing to call off
});
