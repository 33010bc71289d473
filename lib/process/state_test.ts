import assert from "node:assert/strict";
import { InvalidTransitionError } from "../errors.ts";
import { ALLOWED_FROM, canTransition, Lifecycle, LIVE_STATES } from "./state.ts";
import type { ChildState, StateEvent } from "./state.ts";

const STATES: readonly ChildState[] = [
  "STOPPED",
  "STARTING",
  "RUNNING",
  "BACKOFF",
  "STOPPING",
  "EXITED",
  "FATAL",
];

/**
 * Paths from the initial STOPPED state to each state, through allowed transitions only, so a
 * test can put a lifecycle in any state the honest way.
 */
const PATH_TO: Readonly<Record<ChildState, readonly ChildState[]>> = {
  STOPPED: [],
  STARTING: ["STARTING"],
  RUNNING: ["STARTING", "RUNNING"],
  BACKOFF: ["STARTING", "BACKOFF"],
  STOPPING: ["STARTING", "STOPPING"],
  EXITED: ["STARTING", "EXITED"],
  FATAL: ["STARTING", "FATAL"],
};

function lifecycleIn(state: ChildState): Lifecycle {
  const life = new Lifecycle(0);
  let at = 1;
  for (const step of PATH_TO[state]) life.transition(step, at++);
  assert.equal(life.state, state);
  return life;
}

Deno.test("the table names all seven states, and only them", () => {
  assert.deepEqual(Object.keys(ALLOWED_FROM).sort(), [...STATES].sort());
  for (const to of STATES) {
    for (const from of ALLOWED_FROM[to]) assert.ok(STATES.includes(from), `${from} -> ${to}`);
  }
});

Deno.test("the table holds the supervisord transitions", () => {
  assert.deepEqual(ALLOWED_FROM, {
    STOPPED: ["STOPPING", "BACKOFF"],
    STARTING: ["STOPPED", "EXITED", "FATAL", "BACKOFF"],
    RUNNING: ["STARTING"],
    BACKOFF: ["STARTING", "RUNNING"],
    STOPPING: ["STARTING", "RUNNING"],
    EXITED: ["STARTING", "RUNNING"],
    FATAL: ["STARTING", "RUNNING", "BACKOFF"],
  });
});

Deno.test("a new lifecycle is STOPPED since the time it was made", () => {
  const life = new Lifecycle(1234);
  assert.equal(life.state, "STOPPED");
  assert.equal(life.since, 1234);
});

Deno.test("live states are those with a process: STARTING, RUNNING and STOPPING", () => {
  assert.deepEqual([...LIVE_STATES].sort(), ["RUNNING", "STARTING", "STOPPING"]);
});

Deno.test("every one of the 49 pairs is allowed exactly when the table says so", () => {
  let allowed = 0;
  for (const from of STATES) {
    for (const to of STATES) {
      const expected = ALLOWED_FROM[to].includes(from);
      assert.equal(canTransition(from, to), expected, `canTransition(${from}, ${to})`);
      const life = lifecycleIn(from);
      const events: StateEvent[] = [];
      life.onTransition((event) => events.push(event));
      const sinceBefore = life.since;
      if (expected) {
        allowed++;
        const event = life.transition(to, 5000);
        assert.deepEqual(event, { from, to, at: 5000 });
        assert.deepEqual(events, [{ from, to, at: 5000 }]);
        assert.equal(life.state, to);
        assert.equal(life.since, 5000);
      } else {
        assert.throws(() => life.transition(to, 5000), (error: unknown) => {
          assert.ok(error instanceof InvalidTransitionError, `${from} -> ${to}: ${error}`);
          assert.equal(error.name, "InvalidTransitionError");
          assert.equal(error.from, from);
          assert.equal(error.to, to);
          assert.equal(error.message, `Invalid state transition: ${from} -> ${to}`);
          return true;
        });
        assert.equal(life.state, from, `${from} -> ${to} changed the state`);
        assert.equal(life.since, sinceBefore, `${from} -> ${to} changed since`);
        assert.deepEqual(events, [], `${from} -> ${to} emitted an event`);
      }
    }
  }
  const tableSize = STATES.reduce((n, to) => n + ALLOWED_FROM[to].length, 0);
  assert.equal(allowed, tableSize);
});

Deno.test("no state may transition to itself", () => {
  for (const state of STATES) assert.equal(canTransition(state, state), false, state);
});

Deno.test("every listener sees every transition in order", () => {
  const life = new Lifecycle(0);
  const first: string[] = [];
  const second: string[] = [];
  life.onTransition((e) => first.push(`${e.from}>${e.to}@${e.at}`));
  life.onTransition((e) => second.push(e.to));
  life.transition("STARTING", 1);
  life.transition("RUNNING", 2);
  life.transition("STOPPING", 3);
  life.transition("STOPPED", 4);
  assert.deepEqual(first, [
    "STOPPED>STARTING@1",
    "STARTING>RUNNING@2",
    "RUNNING>STOPPING@3",
    "STOPPING>STOPPED@4",
  ]);
  assert.deepEqual(second, ["STARTING", "RUNNING", "STOPPING", "STOPPED"]);
});

Deno.test("a running child cannot be stopped without passing through STOPPING", () => {
  const life = lifecycleIn("RUNNING");
  assert.throws(() => life.transition("STOPPED", 9), InvalidTransitionError);
  assert.equal(life.state, "RUNNING");
});

Deno.test("the count of changes moves with every transition, and not with a refused one", () => {
  const life = new Lifecycle(0);
  assert.equal(life.changes, 0);
  life.apply("spawn", 1);
  life.apply("started", 2);
  assert.equal(life.changes, 2);
  assert.throws(() => life.apply("started", 3), InvalidTransitionError);
  assert.equal(life.changes, 2);
  life.apply("crashed", 4);
  life.apply("spawn", 4);
  assert.equal(life.changes, 4);
});
