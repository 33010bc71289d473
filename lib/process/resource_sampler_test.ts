/**
 * Tests of the resource sampler: membership by session and group, sums, the CPU share between
 * samples, over a directory of fake stat files driven by a fake clock; and, on Linux, one real
 * child with background processes and a CPU burn.
 *
 * @module
 */
import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { ResourceSampler } from "./resource_sampler.ts";

const linux = Deno.build.os === "linux";

/** A fake process: what its stat line says; CPU times in ticks, rss in pages. */
interface FakeProcess {
  comm?: string;
  state?: string;
  pgrp: number;
  session: number;
  utime?: number;
  stime?: number;
  cutime?: number;
  cstime?: number;
  rss?: number;
}

/** A stat line for `pid`: the fields read by the sampler in place, the others plausible. */
function lineFor(pid: number, p: FakeProcess): string {
  const head = [p.state ?? "S", 1, p.pgrp, p.session, 0, -1, 0, 0, 0, 0, 0];
  const times = [p.utime ?? 0, p.stime ?? 0, p.cutime ?? 0, p.cstime ?? 0];
  const tail = [20, 0, 1, 0, 500, 1_000_000, p.rss ?? 0, 0];
  return `${pid} (${p.comm ?? "worker"}) ${[...head, ...times, ...tail].join(" ")}\n`;
}

/** A directory laid out like /proc whose processes a test rewrites between samples. */
class FakeProcDir {
  constructor(readonly root: string) {}

  static async create(): Promise<FakeProcDir> {
    return new FakeProcDir(await Deno.makeTempDir({ prefix: "fake-proc-" }));
  }

  /** Replaces every process with `processes`. */
  async set(processes: Record<number, FakeProcess>): Promise<void> {
    for await (const entry of Deno.readDir(this.root)) {
      await Deno.remove(`${this.root}/${entry.name}`, { recursive: true });
    }
    for (const [pid, p] of Object.entries(processes)) {
      await Deno.mkdir(`${this.root}/${pid}`);
      await Deno.writeTextFile(`${this.root}/${pid}/stat`, lineFor(Number(pid), p));
    }
  }

  remove(): Promise<void> {
    return Deno.remove(this.root, { recursive: true });
  }
}

/** A sampler over `dir` with a fake clock, and the clock. */
function fakeSampler(dir: FakeProcDir): { sampler: ResourceSampler; clock: FakeClock } {
  const clock = new FakeClock();
  return { sampler: new ResourceSampler({ clock, procRoot: dir.root }), clock };
}

Deno.test("a child is every process of its session or of its group", async () => {
  const dir = await FakeProcDir.create();
  try {
    await dir.set({
      100: { pgrp: 100, session: 100, utime: 50, stime: 25, rss: 10 }, // the leader
      101: { pgrp: 100, session: 100, utime: 5, rss: 2 }, // in its group
      102: { pgrp: 102, session: 100, stime: 20, rss: 3 }, // own group, same session
      103: { pgrp: 100, session: 900, rss: 4 }, // group member that left the session
      200: { pgrp: 200, session: 200, rss: 7, comm: "x) (y" }, // another child
      300: { pgrp: 300, session: 300, rss: 1000 }, // not a child
    });
    const { sampler, clock } = fakeSampler(dir);
    const samples = await sampler.sample(new Map([["web", 100], ["db", 200]]));
    assert.deepEqual(samples.get("web"), {
      cpuSeconds: 1,
      cpuPercent: null,
      rssBytes: 19 * 4096,
      processes: 4,
      at: clock.now(),
    });
    assert.deepEqual(
      [samples.get("db")?.processes, samples.get("db")?.rssBytes],
      [1, 7 * 4096],
    );
    assert.equal(samples.size, 2);
  } finally {
    await dir.remove();
  }
});

Deno.test("reaped children's CPU counts, zombies add CPU but no process", async () => {
  const dir = await FakeProcDir.create();
  try {
    await dir.set({
      100: { pgrp: 100, session: 100, utime: 10, cutime: 30, cstime: 10, rss: 5 },
      101: { pgrp: 100, session: 100, state: "Z", utime: 50 },
    });
    const sample = (await fakeSampler(dir).sampler.sample(new Map([["web", 100]]))).get("web");
    assert.equal(sample?.cpuSeconds, 1);
    assert.equal(sample?.processes, 1);
  } finally {
    await dir.remove();
  }
});

Deno.test("a leader with no live process gets no entry", async () => {
  const dir = await FakeProcDir.create();
  try {
    await dir.set({ 100: { pgrp: 100, session: 100, state: "Z" } });
    const samples = await fakeSampler(dir).sampler.sample(new Map([["web", 100], ["gone", 555]]));
    assert.equal(samples.size, 0);
  } finally {
    await dir.remove();
  }
});

Deno.test("ticks per second and page size can be told", async () => {
  const dir = await FakeProcDir.create();
  try {
    await dir.set({ 100: { pgrp: 100, session: 100, utime: 250, rss: 3 } });
    const sampler = new ResourceSampler({
      procRoot: dir.root,
      ticksPerSecond: 250,
      pageSize: 16384,
    });
    const sample = (await sampler.sample(new Map([["web", 100]]))).get("web");
    assert.deepEqual([sample?.cpuSeconds, sample?.rssBytes], [1, 3 * 16384]);
  } finally {
    await dir.remove();
  }
});

Deno.test("the CPU share compares with the previous sample of the same pid", async () => {
  const dir = await FakeProcDir.create();
  try {
    const { sampler, clock } = fakeSampler(dir);
    const web = () => sampler.sample(new Map([["web", 100]])).then((s) => s.get("web"));
    await dir.set({ 100: { pgrp: 100, session: 100, utime: 100 } });
    assert.equal((await web())?.cpuPercent, null, "first sample");

    await clock.advance(2000);
    await dir.set({ 100: { pgrp: 100, session: 100, utime: 200 } });
    assert.equal((await web())?.cpuPercent, 50, "1 s of CPU in 2 s");

    await clock.advance(1000);
    await dir.set({ 100: { pgrp: 100, session: 100, utime: 120 } }); // a grandchild's CPU left
    assert.equal((await web())?.cpuPercent, 0, "never negative");

    await clock.advance(1000);
    await dir.set({ 101: { pgrp: 101, session: 101, utime: 500 } }); // restarted: a new pid
    const restarted = await sampler.sample(new Map([["web", 101]]));
    assert.equal(restarted.get("web")?.cpuPercent, null, "a new pid starts over");

    await clock.advance(1000);
    await dir.set({ 101: { pgrp: 101, session: 101, utime: 800 } });
    const again = await sampler.sample(new Map([["web", 101]]));
    assert.equal(again.get("web")?.cpuPercent, 300, "3 cores' worth");
  } finally {
    await dir.remove();
  }
});

Deno.test("a child left out of a call starts over when it comes back", async () => {
  const dir = await FakeProcDir.create();
  try {
    const { sampler, clock } = fakeSampler(dir);
    await dir.set({ 100: { pgrp: 100, session: 100, utime: 100 } });
    await sampler.sample(new Map([["web", 100]]));
    await clock.advance(1000);
    await sampler.sample(new Map());
    await clock.advance(1000);
    const back = await sampler.sample(new Map([["web", 100]]));
    assert.equal(back.get("web")?.cpuPercent, null);
  } finally {
    await dir.remove();
  }
});

/** Reads stdout of `proc` until it has printed `word`. */
async function waitForLine(reader: ReadableStreamDefaultReader<string>, word: string) {
  let seen = "";
  while (!seen.includes(word)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`output ended before ${word}: ${seen}`);
    seen += value;
  }
}

Deno.test({
  name: "a real child: its background processes, memory, and a reaped subshell's CPU burn",
  ignore: !linux,
  async fn() {
    const script = "sleep 30 & sleep 30 & echo ready; " +
      '( i=0; while [ "$i" -lt 250000 ]; do i=$((i+1)); done ); echo burned; wait';
    const proc = new Deno.Command("sh", {
      args: ["-c", script],
      detached: true,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      const sampler = new ResourceSampler();
      const leaders = new Map([["burner", proc.pid]]);
      await waitForLine(reader, "ready");
      const first = (await sampler.sample(leaders)).get("burner");
      assert.ok(first && first.processes >= 3, JSON.stringify(first));
      assert.ok(first.rssBytes > 0);
      assert.equal(first.cpuPercent, null);

      await waitForLine(reader, "burned");
      const second = (await sampler.sample(leaders)).get("burner");
      assert.ok(second && second.cpuSeconds > 0.1, JSON.stringify(second));
      assert.ok(second.cpuPercent !== null && second.cpuPercent > 0);
    } finally {
      Deno.kill(-proc.pid, "SIGKILL");
      await reader.cancel();
      await proc.status;
    }
  },
});

Deno.test("a run's first sample shows its average share since it began, as ps does", async () => {
  const dir = await FakeProcDir.create();
  try {
    // Started 5 s after boot (starttime 500 ticks), now 25 s after boot: 20 s old, 1 s of CPU.
    await dir.set({ 100: { pgrp: 100, session: 100, utime: 60, stime: 40, rss: 10 } });
    await Deno.writeTextFile(`${dir.root}/uptime`, "25.00 40.00\n");
    const { sampler } = fakeSampler(dir);
    const first = await sampler.sample(new Map([["web", 100]]));
    assert.equal(first.get("web")?.cpuPercent, 5);
  } finally {
    await dir.remove();
  }
});
