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

Deno.test("a zero initial backoff stays a finite zero after thousands of failures (was NaN at 1,025)", () => {
  const backoff = { initialMs: 0, maxMs: 60_000, multiplier: 2 };
  for (const failures of [1024, 1025, 1026, 5000, Number.MAX_SAFE_INTEGER]) {
    assert.equal(backoffDelay(backoff, failures, Math.random), 0, `failures ${failures}`);
  }
});

Deno.test("huge failure counts, a multiplier of 1 and initial equal to max give finite delays", () => {
  const middle = () => 0.5;
  const cases: Array<[{ initialMs: number; maxMs: number; multiplier: number }, number, number]> = [
    [{ initialMs: 1000, maxMs: 60_000, multiplier: 2 }, 1_000_000, 60_000],
    [{ initialMs: 1000, maxMs: 60_000, multiplier: 2 }, Infinity, 60_000],
    [{ initialMs: 1000, maxMs: 60_000, multiplier: 1 }, Infinity, 1000],
    [{ initialMs: 1000, maxMs: 60_000, multiplier: 1 }, 1e308, 1000],
    [{ initialMs: 60_000, maxMs: 60_000, multiplier: 100 }, 1e9, 60_000],
    [{ initialMs: 0, maxMs: 0, multiplier: 1 }, Infinity, 0],
  ];
  for (const [backoff, failures, expected] of cases) {
    assert.equal(
      backoffDelay(backoff, failures, middle),
      expected,
      `${JSON.stringify(backoff)}, failures ${failures}`,
    );
  }
});

/** A small deterministic generator (mulberry32), so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A backoff as the config allows it (seconds 0…86,400, multiplier 1…100, max ≥ initial), edges often. */
function randomBackoff(
  next: () => number,
): { initialMs: number; maxMs: number; multiplier: number } {
  const dayMs = 86_400_000;
  const pick = (edges: number[], low: number, high: number) =>
    next() < 0.3 ? edges[Math.floor(next() * edges.length)]! : low + next() * (high - low);
  const initialMs = Math.round(pick([0, 0, 1, 1000, dayMs], 0, dayMs / (1 + next() * 1000)));
  const maxMs = next() < 0.2 ? initialMs : Math.round(pick([initialMs, dayMs], initialMs, dayMs));
  const multiplier = pick([1, 1, 1.0001, 2, 100], 1, 100);
  return { initialMs, maxMs, multiplier };
}

function randomFailures(next: () => number): number {
  const huge = [0, 1, 2, 1024, 1025, 1026, 100_000, 2 ** 40, Number.MAX_SAFE_INTEGER, Infinity];
  return next() < 0.3 ? huge[Math.floor(next() * huge.length)]! : Math.floor(next() ** 3 * 3000);
}

Deno.test("any backoff and failure count give a finite delay in [0, max], non-decreasing, jitter within 20 %", () => {
  const next = seeded(20_240_601);
  const middle = () => 0.5;
  for (let i = 0; i < 10_000; i++) {
    const backoff = randomBackoff(next);
    const failures = randomFailures(next);
    const later = failures + 1 + Math.floor(next() * 2000);
    const context = `case ${i}: ${JSON.stringify(backoff)}, failures ${failures}, later ${later}`;
    const base = backoffDelay(backoff, failures, middle);
    const baseLater = backoffDelay(backoff, later, middle);
    const r = next();
    const jittered = backoffDelay(backoff, failures, () => r);
    for (const delay of [base, baseLater, jittered]) {
      assert.ok(Number.isFinite(delay), `not finite: ${delay} ${context}`);
      assert.ok(delay >= 0 && delay <= backoff.maxMs, `outside [0, max]: ${delay} ${context}`);
    }
    assert.ok(baseLater >= base, `decreased from ${base} to ${baseLater}: ${context}`);
    assert.ok(
      Math.abs(jittered - base) <= base * JITTER + 1,
      `jitter ${jittered - base} beyond ${JITTER * 100} % of ${base}: ${context}`,
    );
  }
});
