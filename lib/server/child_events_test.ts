import assert from "node:assert/strict";
import { SupervisorError } from "../errors.ts";
import type { Child } from "../process/child.ts";
import type { ExitRecord } from "../process/exit_record.ts";
import type { StateEvent } from "../process/state.ts";
import { ChildEvents, RECENT_CHANGES } from "./child_events.ts";

/** A child that changes state when told: enough of one for the events to watch. */
function fakeChild(name: string) {
  const listeners: ((event: StateEvent) => void)[] = [];
  let lastExit: ExitRecord | null = null;
  const child = {
    name,
    onStateChange: (listener: (event: StateEvent) => void) => listeners.push(listener),
    status: () => ({ lastExit }),
  } as unknown as Child;
  return {
    child,
    move(from: StateEvent["from"], to: StateEvent["to"], at: number, exit?: ExitRecord) {
      if (exit) lastExit = exit;
      for (const listener of listeners) listener({ from, to, at });
    },
  };
}

const EXIT: ExitRecord = {
  code: 3,
  signal: null,
  at: 5,
  ranMs: 4,
  requested: false,
  expected: false,
  stderrTail: [],
  reason: "memory limit",
};

Deno.test("a change carries the exit that ended a live run once, with the server's reason", () => {
  const events = new ChildEvents({ maxFollowers: 4 });
  const web = fakeChild("web");
  events.watch(web.child);
  web.move("STOPPED", "STARTING", 1);
  web.move("STARTING", "RUNNING", 2);
  web.move("RUNNING", "BACKOFF", 5, EXIT);
  // A start that fails before any run leaves the old exit where it was: not this change's.
  web.move("BACKOFF", "STARTING", 6);
  web.move("STARTING", "BACKOFF", 7);
  const recent = events.recent();
  assert.deepEqual(recent.map((c) => [c.from, c.to, c.exit?.code ?? null, c.reason]), [
    ["STOPPED", "STARTING", null, null],
    ["STARTING", "RUNNING", null, null],
    ["RUNNING", "BACKOFF", 3, "memory limit"],
    ["BACKOFF", "STARTING", null, null],
    ["STARTING", "BACKOFF", null, null],
  ]);
});

Deno.test("recent changes are bounded; followers get what comes after they follow", async () => {
  const events = new ChildEvents({ maxFollowers: 1 });
  const web = fakeChild("web");
  events.watch(web.child);
  for (let i = 0; i < RECENT_CHANGES + 5; i++) web.move("STOPPED", "STARTING", i);
  assert.equal(events.recent().length, RECENT_CHANGES);
  assert.equal(events.recent()[0]!.at, 5);
  const feed = events.follow();
  assert.throws(
    () => events.follow(),
    (error) => error instanceof SupervisorError && error.code === "BUSY",
  );
  web.move("STARTING", "RUNNING", 1000);
  events.closeAll();
  const got = [];
  for await (const item of feed) got.push(item);
  assert.deepEqual(got.map((c) => "to" in c && c.to), ["RUNNING"]);
  // A place is free again once the follower is gone.
  events.follow().close();
});
