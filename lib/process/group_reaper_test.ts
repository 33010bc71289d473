import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { FakeProcessTable } from "../testing/fake_process_table.ts";
import {
  GroupReaper,
  KILL_GRACE_MS,
  REAP_LIST_EVERY_MS,
  REAP_MAX_INTERVAL_MS,
  REAP_MIN_INTERVAL_MS,
} from "./group_reaper.ts";
import type { Reaped } from "./group_reaper.ts";
import { probeProcessTable } from "./process_group.ts";

/** Lets the reaper's promise callbacks run (the fake table answers without I/O). */
async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

function setup() {
  const clock = new FakeClock(0);
  const table = new FakeProcessTable();
  const reaper = new GroupReaper(table, clock);
  /** Moves time forward `ms`, a millisecond at a time, letting the reaper act at each. */
  const run = async (ms: number) => {
    for (let i = 0; i < ms; i++) {
      await clock.advance(1);
      await flush();
    }
  };
  /** Registers the group of `leader`; SIGKILL to it goes to the fake table. */
  const clear = (leader: number, deadline: number) => {
    const result: { reaped?: Reaped; kills: number } = { kills: 0 };
    reaper.clear({
      leader,
      deadline,
      killGroup: () => {
        result.kills++;
        table.signalGroup(leader, "SIGKILL");
      },
    }).then((reaped) => (result.reaped = reaped));
    return result;
  };
  return { clock, table, reaper, run, clear };
}

Deno.test("fifty groups that are empty are cleared by one look and one listing", async () => {
  const t = setup();
  const results = Array.from({ length: 50 }, (_, i) => t.clear(100 + i, 3000));
  await t.run(REAP_MIN_INTERVAL_MS);
  for (const result of results) assert.deepEqual(result.reaped, { killed: false, left: 0 });
  assert.deepEqual(t.reaper.counts, { looks: 1, listings: 1 });
  assert.equal(t.clock.pending, 0, "no timer is left once every group is cleared");
});

Deno.test("lingering groups cost one probe each per look, looks back off, and one listing serves them all", async () => {
  const t = setup();
  const leaders = Array.from({ length: 50 }, (_, i) => 100 + i);
  for (const leader of leaders) t.table.add(leader + 1000, { pgid: leader, diesOn: [] });
  const results = leaders.map((leader) => t.clear(leader, 10_000));
  await t.run(5000);
  const { looks, listings } = t.reaper.counts;
  // At once, then 10, 30, 70, 150, 310, 630 ms later, then every 500 ms.
  assert.ok(looks >= 14 && looks <= 16, `${looks} looks in 5 s`);
  // From 630 ms, once REAP_LIST_EVERY_MS has passed since the registration: at every look.
  assert.equal(listings, looks - 6, `${listings} listings in ${looks} looks`);
  assert.equal(t.table.probes, looks * leaders.length);
  assert.ok(results.every((r) => r.reaped === undefined), "nothing is cleared before its deadline");
  await t.run(5000 + REAP_MIN_INTERVAL_MS * 2);
  for (const result of results) {
    assert.equal(result.kills, 1);
    assert.deepEqual(result.reaped, { killed: true, left: 0 });
  }
});

Deno.test("listings are charged the work they report: past the burst, the next waits until it is earned back", async () => {
  for (const workMs of [40, 0]) {
    const t = setup();
    t.table.listingWorkMs = workMs;
    // Four stops a millisecond apart, each group empty: each look wants a listing.
    const results = [];
    for (let i = 0; i < 4; i++) {
      results.push(t.clear(100 + i, 10_000));
      await t.run(1);
    }
    await t.run(100);
    const cleared = results.filter((r) => r.reaped !== undefined).length;
    if (workMs === 0) {
      // However long a listing waited while the server did other work, it cost nothing.
      assert.equal(cleared, 4);
      continue;
    }
    // 100 ms of burst pays for three listings of 40 ms; the fourth waits until 10% of the time
    // since has paid back the 20 ms overdrawn: about 200 ms.
    assert.equal(cleared, 3, `${cleared} cleared in the burst`);
    assert.equal(t.reaper.counts.listings, 3);
    await t.run(76); // 180 ms
    assert.equal(results[3]!.reaped, undefined, "the fourth waits for the budget");
    await t.run(80); // 260 ms
    assert.deepEqual(results[3]!.reaped, { killed: false, left: 0 });
  }
});

Deno.test("a listing that waited while the server was busy, but did little, is not held back", async () => {
  const t = setup();
  // Each listing takes 80 ms of the clock and reports no work: the time a busy server's other
  // work took between its slices. Charged by the clock, the third would wait 400 ms.
  const slow = {
    probeGroup: (pgid: number) => t.table.probeGroup(pgid),
    signal: (pid: number, signal: Deno.Signal) => t.table.signal(pid, signal),
    list: (ids: ReadonlySet<number>) =>
      t.clock.sleep(80).then(async () => ({ ...(await t.table.list(ids)), workMs: 0 })),
  };
  const reaper = new GroupReaper(slow, t.clock);
  const cleared: number[] = [];
  for (let i = 0; i < 4; i++) {
    void reaper.clear({ leader: 100 + i, deadline: 10_000, killGroup: () => {} })
      .then(() => cleared.push(t.clock.now()));
    await t.run(100);
  }
  assert.deepEqual(cleared, [81, 181, 281, 381]);
});

Deno.test("looks start again at the shortest interval when a new group registers", async () => {
  const t = setup();
  t.table.add(201, { pgid: 200, diesOn: [] });
  t.clear(200, 60_000);
  await t.run(3000);
  const before = t.reaper.counts.looks;
  await t.run(REAP_MAX_INTERVAL_MS / 2);
  assert.ok(t.reaper.counts.looks <= before + 1, "the interval has grown");
  t.table.add(301, { pgid: 300, diesOn: [] });
  t.clear(300, 60_000);
  const registered = t.reaper.counts.looks;
  await t.run(1);
  assert.equal(t.reaper.counts.looks, registered + 1, "a new group is looked at at once");
  await t.run(REAP_MIN_INTERVAL_MS);
  assert.equal(t.reaper.counts.looks, registered + 2);
  await t.run(REAP_MIN_INTERVAL_MS * 2);
  assert.equal(t.reaper.counts.looks, registered + 3);
});

Deno.test("a group of zombies is empty: it is cleared at the next listing, without SIGKILL", async () => {
  const t = setup();
  t.table.add(201, { pgid: 200 });
  t.table.processes.get(201)!.zombie = true;
  const result = t.clear(200, 60_000);
  await t.run(REAP_LIST_EVERY_MS + REAP_MAX_INTERVAL_MS);
  assert.deepEqual(result.reaped, { killed: false, left: 0 });
  assert.equal(result.kills, 0);
});

Deno.test("at the deadline the group gets SIGKILL through the child, and the rest of the session by pid", async () => {
  const t = setup();
  t.table.add(301, { pgid: 300, sid: 300, diesOn: [] });
  t.table.add(302, { pgid: 302, sid: 300, diesOn: [] });
  t.table.add(900, { diesOn: [] });
  const result = t.clear(300, 1000);
  await t.run(999);
  assert.equal(result.kills, 0);
  await t.run(1 + REAP_MIN_INTERVAL_MS * 2);
  assert.equal(result.kills, 1);
  assert.deepEqual(t.table.signals, [{ pid: 302, signal: "SIGKILL" }]);
  assert.deepEqual(result.reaped, { killed: true, left: 0 });
  assert.deepEqual(t.table.live(300), []);
  assert.deepEqual(t.table.live(900), [900], "a process of another session is left alone");
});

Deno.test("what survives SIGKILL is reported once the grace has passed", async () => {
  const t = setup();
  t.table.add(401, { pgid: 400, diesOn: [] });
  let kills = 0;
  let reaped: Reaped | undefined;
  // A process stuck in the kernel: SIGKILL to its group does nothing yet.
  t.reaper.clear({ leader: 400, deadline: 0, killGroup: () => kills++ }).then((r) => (reaped = r));
  await t.run(KILL_GRACE_MS - 1);
  assert.equal(kills, 1);
  assert.equal(reaped, undefined, "not before the grace has passed");
  await t.run(REAP_MAX_INTERVAL_MS);
  assert.deepEqual(reaped, { killed: true, left: 1 });
});

Deno.test("signalSession signals the processes of the session outside the group, and no other", async () => {
  const t = setup();
  t.table.add(501, { pgid: 500, sid: 500 });
  t.table.add(502, { pgid: 502, sid: 500, diesOn: [] });
  t.table.add(503, { pgid: 502, sid: 500 });
  t.table.add(900);
  let signalled: number | undefined;
  t.reaper.signalSession(500, "SIGTERM").then((n) => (signalled = n));
  await t.run(REAP_MIN_INTERVAL_MS);
  assert.equal(signalled, 2);
  assert.deepEqual(t.table.signals, [
    { pid: 502, signal: "SIGTERM" },
    { pid: 503, signal: "SIGTERM" },
  ]);
  assert.deepEqual(t.table.live(500), [501, 502]);
  assert.equal(t.clock.pending, 0);
});

Deno.test("with a probe alone, an empty group is cleared at once and nothing is listed or signalled", async () => {
  const clock = new FakeClock(0);
  const reaper = new GroupReaper(probeProcessTable(() => 0), clock);
  assert.deepEqual(
    await reaper.clear({ leader: 100, deadline: 0, killGroup: () => assert.fail("no kill") }),
    { killed: false, left: 0 },
  );
  assert.equal(await reaper.signalSession(100, "SIGTERM"), 0);
  assert.equal(clock.pending, 0);
  assert.deepEqual(reaper.counts, { looks: 0, listings: 0 });
});

Deno.test("with a probe alone, a lingering group is killed at its deadline", async () => {
  const clock = new FakeClock(0);
  let members = 2;
  const reaper = new GroupReaper(probeProcessTable(() => members), clock);
  let reaped: Reaped | undefined;
  reaper.clear({ leader: 100, deadline: 700, killGroup: () => (members = 0) })
    .then((r) => (reaped = r));
  for (let i = 0; i < 700 + REAP_MIN_INTERVAL_MS * 2; i++) {
    await clock.advance(1);
    await flush();
  }
  assert.deepEqual(reaped, { killed: true, left: 0 });
});

Deno.test("a group cleared 'soon' is first looked at after REAP_MIN_INTERVAL_MS, one cleared 'now' at once", async () => {
  const t = setup();
  let soon: Reaped | undefined;
  t.reaper.clear({ leader: 600, deadline: 60_000, killGroup: () => assert.fail("no kill") }, "soon")
    .then((r) => (soon = r));
  await flush();
  assert.equal(t.reaper.counts.looks, 0, "no look while the restart may be on its way");
  assert.equal(soon, undefined);
  await t.run(REAP_MIN_INTERVAL_MS);
  assert.deepEqual(soon, { killed: false, left: 0 });
  assert.equal(t.reaper.counts.looks, 1);

  let now: Reaped | undefined;
  t.reaper.clear({ leader: 700, deadline: 60_000, killGroup: () => assert.fail("no kill") })
    .then((r) => (now = r));
  await flush();
  assert.deepEqual(now, { killed: false, left: 0 });
  assert.equal(t.reaper.counts.looks, 2);
});
