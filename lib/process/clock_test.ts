/**
 * Tests of the real clock: it sleeps, and a sleep can be aborted.
 *
 * @module
 */
import assert from "node:assert/strict";
import { realClock } from "./clock.ts";

Deno.test("the real clock sleeps and can be aborted", async () => {
  const before = realClock.now();
  await realClock.sleep(2);
  assert.ok(realClock.now() >= before);
  const controller = new AbortController();
  const sleep = realClock.sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(sleep, { message: "stop" });
});
