import assert from "node:assert/strict";
import { backoffDelay, JITTER, shouldRestart } from "./restart_policy.ts";

Deno.test("never restarts nothing, always restarts every exit, on-failure only failures", () => {
  const clean = { code: 0, signal: null };
  const failed = { code: 2, signal: null };
  const killed = { code: null, signal: "SIGSEGV" };
  assert.deepEqual([clean, failed, killed].map((e) => shouldRestart("never", e)), [
    false,
    false,
    false,
  ]);
  assert.deepEqual([clean, failed, killed].map((e) => shouldRestart("always", e)), [
    true,
    true,
    true,
  ]);
  assert.deepEqual([clean, failed, killed].map((e) => shouldRestart("on-failure", e)), [
    false,
    true,
    true,
  ]);
});

Deno.test("backoff grows by the multiplier from initial and is capped at max", () => {
  const backoff = { initialMs: 100, maxMs: 1000, multiplier: 2 };
  const middle = () => 0.5; // no jitter
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(backoff, n, middle)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
});

Deno.test("jitter spreads a delay by at most the jitter share and never beyond max", () => {
  const backoff = { initialMs: 1000, maxMs: 1000, multiplier: 2 };
  assert.equal(backoffDelay({ ...backoff, maxMs: 10_000 }, 1, () => 0), 1000 * (1 - JITTER));
  assert.equal(
    backoffDelay({ ...backoff, maxMs: 10_000 }, 1, () => 0.999999),
    Math.round(1000 * (1 + JITTER * 0.999998)),
  );
  assert.equal(backoffDelay(backoff, 5, () => 0.999999), 1000);
});

Deno.test("a zero initial backoff restarts at once", () => {
  assert.equal(backoffDelay({ initialMs: 0, maxMs: 0, multiplier: 2 }, 7, Math.random), 0);
});
