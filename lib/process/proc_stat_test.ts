/**
 * Tests of the /proc/PID/stat parser and the scan, over directories of fake stat files and,
 * on Linux, the real /proc.
 *
 * @module
 */
import assert from "node:assert/strict";
import { isZombie, parseProcStat, readProcStat, scanProcStats } from "./proc_stat.ts";

const linux = Deno.build.os === "linux";

/** A stat line with the fields the parser reads; the others are zeros. */
function statLine(fields: {
  pid: number;
  comm?: string;
  state?: string;
  ppid?: number;
  pgrp: number;
  session: number;
  utime?: number;
  stime?: number;
  cutime?: number;
  cstime?: number;
  starttime?: number;
  rss?: number;
}): string {
  const after = [
    fields.state ?? "S",
    fields.ppid ?? 1,
    fields.pgrp,
    fields.session,
    0, // tty_nr
    -1, // tpgid
    4194560, // flags
    0, // minflt
    0, // cminflt
    0, // majflt
    0, // cmajflt
    fields.utime ?? 0,
    fields.stime ?? 0,
    fields.cutime ?? 0,
    fields.cstime ?? 0,
    20, // priority
    0, // nice
    1, // num_threads
    0, // itrealvalue
    fields.starttime ?? 1000,
    2_000_000, // vsize
    fields.rss ?? 0,
    "18446744073709551615", // rsslim
  ];
  return `${fields.pid} (${fields.comm ?? "sleep"}) ${after.join(" ")}\n`;
}

/** A temporary directory laid out like /proc: `<pid>/stat` for each line of `stats`. */
async function fakeProc(stats: Record<string, string | null>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "fake-proc-" });
  for (const [name, text] of Object.entries(stats)) {
    await Deno.mkdir(`${root}/${name}`);
    if (text !== null) await Deno.writeTextFile(`${root}/${name}/stat`, text);
  }
  return root;
}

Deno.test("a stat line gives every field the supervisor uses", () => {
  const stat = parseProcStat(statLine({
    pid: 42,
    ppid: 7,
    pgrp: 40,
    session: 30,
    utime: 11,
    stime: 12,
    cutime: 13,
    cstime: 14,
    starttime: 9999,
    rss: 321,
  }));
  assert.deepEqual(stat, {
    pid: 42,
    comm: "sleep",
    state: "S",
    ppid: 7,
    pgrp: 40,
    session: 30,
    utime: 11,
    stime: 12,
    cutime: 13,
    cstime: 14,
    starttime: 9999,
    rss: 321,
  });
});

Deno.test("a command name with spaces and parentheses is cut at the last parenthesis", () => {
  const stat = parseProcStat(statLine({ pid: 5, comm: "a) (b ) c", pgrp: 4, session: 3 }));
  assert.equal(stat?.comm, "a) (b ) c");
  assert.deepEqual([stat?.pid, stat?.pgrp, stat?.session], [5, 4, 3]);
});

Deno.test({
  name: "a real stat line parses, and this process is no zombie",
  ignore: !linux,
  async fn() {
    const stat = await readProcStat(Deno.pid);
    assert.equal(stat?.pid, Deno.pid);
    assert.ok(stat && !isZombie(stat) && stat.rss > 0);
  },
});

Deno.test("a line that does not have the shape is no stat", () => {
  assert.equal(parseProcStat(""), undefined);
  assert.equal(parseProcStat("garbage"), undefined);
  assert.equal(parseProcStat("42 (sleep) S 1 40 30"), undefined);
  assert.equal(
    parseProcStat(statLine({ pid: 1, pgrp: 1, session: 1 }).replace(" 1000 ", " x ")),
    undefined,
  );
});

Deno.test("zombies are told apart", () => {
  const zombie = parseProcStat(statLine({ pid: 9, state: "Z", pgrp: 9, session: 9 }));
  assert.ok(zombie && isZombie(zombie));
});

Deno.test("a scan reads every numeric entry once, and leaves out what vanished", async () => {
  const root = await fakeProc({
    "10": statLine({ pid: 10, pgrp: 10, session: 10 }),
    "11": statLine({ pid: 11, comm: "x) (y", pgrp: 10, session: 10 }),
    "12": null, // ended between the listing and the read
    "13": "not a stat line",
    "14": null, // unreadable: its stat is a directory (see below)
    "self": statLine({ pid: 10, pgrp: 10, session: 10 }),
  });
  try {
    await Deno.mkdir(`${root}/14/stat`);
    const stats = await scanProcStats({ root, batch: 2 });
    assert.deepEqual(stats.map((s) => s.pid).sort(), [10, 11]);
    assert.equal(await readProcStat(12, root), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a scan of a root that cannot be listed fails", async () => {
  await assert.rejects(scanProcStats({ root: "/nonexistent-proc-root" }), Deno.errors.NotFound);
});

Deno.test({
  name: "a scan of the real /proc finds this process",
  ignore: !linux,
  async fn() {
    const stats = await scanProcStats();
    assert.ok(stats.some((s) => s.pid === Deno.pid));
  },
});
