import assert from "node:assert/strict";
import { SupervisorError } from "../errors.ts";
import {
  FOLLOW_QUEUE,
  FOLLOW_QUEUE_BYTES,
  Follower,
  FollowerCount,
  LogBus,
  MAX_FOLLOWERS_PER_CHILD,
} from "./log_bus.ts";
import type { LogLine } from "./log_bus.ts";

const encoder = new TextEncoder();

type Item = LogLine | { dropped: number };

/** Takes the next `n` items of `iterator`, failing if they do not come within `ms`. */
async function take(iterator: AsyncIterator<Item>, n: number, ms = 1000): Promise<Item[]> {
  const out: Item[] = [];
  for (let i = 0; i < n; i++) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`item ${i} did not come`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
    if (next.done) throw new Error(`iteration ended after ${i} items`);
    out.push(next.value);
  }
  return out;
}

/** Everything left in `follower` once it is closed. */
async function drain(follower: Follower): Promise<Item[]> {
  const out: Item[] = [];
  for await (const item of follower) out.push(item);
  return out;
}

function line(stream: "stdout" | "stderr", text: string): LogLine {
  return { stream, line: text };
}

Deno.test("a follower gets the lines offered, in order", async () => {
  const follower = new Follower(["stdout"], () => {});
  follower.offer(line("stdout", "a"));
  follower.offer(line("stdout", "b"));
  follower.close();
  assert.deepEqual(await drain(follower), [line("stdout", "a"), line("stdout", "b")]);
});

Deno.test("a follower waiting for lines wakes up when one is offered", async () => {
  const follower = new Follower(["stdout"], () => {});
  const iterator = follower[Symbol.asyncIterator]();
  const pending = take(iterator, 2);
  await new Promise((resolve) => setTimeout(resolve, 10));
  follower.offer(line("stdout", "late 1"));
  await new Promise((resolve) => setTimeout(resolve, 10));
  follower.offer(line("stdout", "late 2"));
  assert.deepEqual(await pending, [line("stdout", "late 1"), line("stdout", "late 2")]);
  follower.close();
});

Deno.test("close ends the iteration of a waiting follower and calls onClose once", async () => {
  let closed = 0;
  const follower = new Follower(["stdout"], () => closed++);
  const iterating = drain(follower);
  await new Promise((resolve) => setTimeout(resolve, 10));
  follower.close();
  follower.close();
  assert.deepEqual(await iterating, []);
  assert.equal(closed, 1);
});

Deno.test("lines offered after close are ignored", async () => {
  const follower = new Follower(["stdout"], () => {});
  follower.close();
  follower.offer(line("stdout", "too late"));
  assert.deepEqual(await drain(follower), []);
});

Deno.test("a follower only gets the streams it subscribed to", async () => {
  const err = new Follower(["stderr"], () => {});
  const both = new Follower(["stdout", "stderr"], () => {});
  for (const f of [err, both]) {
    f.offer(line("stdout", "o1"));
    f.offer(line("stderr", "e1"));
    f.offer(line("stdout", "o2"));
    f.close();
  }
  assert.deepEqual(await drain(err), [line("stderr", "e1")]);
  assert.deepEqual(await drain(both), [
    line("stdout", "o1"),
    line("stderr", "e1"),
    line("stdout", "o2"),
  ]);
});

Deno.test("a full queue drops the oldest lines and reports how many before the lines kept", async () => {
  const follower = new Follower(["stdout"], () => {}, { maxLines: 3 });
  for (let i = 1; i <= 8; i++) follower.offer(line("stdout", `l${i}`));
  const iterator = follower[Symbol.asyncIterator]();
  // The last three were kept; the five before them were dropped.
  assert.deepEqual(await take(iterator, 4), [
    { dropped: 5 },
    line("stdout", "l6"),
    line("stdout", "l7"),
    line("stdout", "l8"),
  ]);
  follower.offer(line("stdout", "l9"));
  assert.deepEqual(await take(iterator, 1), [line("stdout", "l9")]);
  follower.close();
  assert.deepEqual((await iterator.next()).done, true);
});

Deno.test("a follower that lags again after catching up gets a new dropped count, then continues", async () => {
  const follower = new Follower(["stdout"], () => {}, { maxLines: 2 });
  const iterator = follower[Symbol.asyncIterator]();
  follower.offer(line("stdout", "a"));
  assert.deepEqual(await take(iterator, 1), [line("stdout", "a")]);
  for (const text of ["b", "c", "d", "e"]) follower.offer(line("stdout", text));
  assert.deepEqual(await take(iterator, 3), [
    { dropped: 2 },
    line("stdout", "d"),
    line("stdout", "e"),
  ]);
  follower.close();
});

Deno.test("the queue never holds more than its limit, however many lines are offered", async () => {
  const follower = new Follower(["stdout"], () => {}, { maxLines: 100 });
  for (let i = 0; i < 100_000; i++) follower.offer(line("stdout", `l${i}`));
  assert.equal(follower.queuedLines, 100);
  follower.close();
  const items = await drain(follower);
  assert.deepEqual(items, [
    { dropped: 99_900 },
    ...Array.from({ length: 100 }, (_, i) => line("stdout", `l${99_900 + i}`)),
  ]);
});

Deno.test("the default queue bound is FOLLOW_QUEUE lines", async () => {
  const follower = new Follower(["stdout"], () => {});
  for (let i = 0; i < FOLLOW_QUEUE + 50; i++) follower.offer(line("stdout", `l${i}`));
  follower.close();
  const items = await drain(follower);
  assert.deepEqual(items[0], { dropped: 50 });
  assert.equal(items.length, FOLLOW_QUEUE + 1);
});

Deno.test("a follower that never reads holds at most FOLLOW_QUEUE_BYTES of 60 KB lines, then the newest", async () => {
  const follower = new Follower(["stdout"], () => {});
  const big = (i: number) => `${String(i).padStart(3, "0")}${"x".repeat(60_000 - 3)}`;
  for (let i = 0; i < 100; i++) {
    follower.offer(line("stdout", big(i)));
    assert.ok(
      follower.queuedBytes <= FOLLOW_QUEUE_BYTES,
      `${follower.queuedBytes} bytes queued after line ${i}, above ${FOLLOW_QUEUE_BYTES}`,
    );
  }
  const kept = Math.floor(FOLLOW_QUEUE_BYTES / 60_000);
  assert.equal(follower.queuedBytes, kept * 60_000);
  follower.close();
  const items = await drain(follower);
  assert.deepEqual(items, [
    { dropped: 100 - kept },
    ...Array.from({ length: kept }, (_, i) => line("stdout", big(100 - kept + i))),
  ]);
});

Deno.test("queued bytes count the UTF-8 size of a line, not its length in characters", () => {
  const follower = new Follower(["stdout"], () => {});
  follower.offer(line("stdout", "é✓😀a"));
  assert.equal(follower.queuedBytes, 2 + 3 + 4 + 1);
  follower.close();
});

Deno.test("a line larger than the byte bound is still delivered to a follower that keeps up", async () => {
  const follower = new Follower(["stdout"], () => {}, { maxBytes: 10 });
  const iterator = follower[Symbol.asyncIterator]();
  follower.offer(line("stdout", "x".repeat(50)));
  assert.deepEqual(await take(iterator, 1), [line("stdout", "x".repeat(50))]);
  follower.offer(line("stdout", "y".repeat(50)));
  follower.offer(line("stdout", "z".repeat(50)));
  assert.deepEqual(await take(iterator, 2), [{ dropped: 1 }, line("stdout", "z".repeat(50))]);
  follower.close();
});

Deno.test("the bus publishes complete lines to each follower and keeps partial ones", async () => {
  const bus = new LogBus();
  assert.equal(bus.active, false);
  const a = bus.follow(["stdout"]);
  const b = bus.follow(["stdout", "stderr"]);
  assert.equal(bus.active, true);
  bus.publish("stdout", encoder.encode("one\ntw"));
  bus.publish("stderr", encoder.encode("err"));
  bus.publish("stdout", encoder.encode("o\n"));
  bus.publish("stderr", encoder.encode("or\n\n"));
  bus.closeAll();
  assert.equal(bus.active, false);
  assert.deepEqual(await drain(a), [line("stdout", "one"), line("stdout", "two")]);
  assert.deepEqual(await drain(b), [
    line("stdout", "one"),
    line("stdout", "two"),
    line("stderr", "error"),
    line("stderr", ""),
  ]);
});

Deno.test("closing a follower removes it from the bus", () => {
  const bus = new LogBus();
  const f = bus.follow(["stdout"]);
  const g = bus.follow(["stdout"]);
  f.close();
  assert.equal(bus.active, true);
  g.close();
  assert.equal(bus.active, false);
});

Deno.test("a stalled follower does not hold back another one", async () => {
  const bus = new LogBus();
  const stalled = bus.follow(["stdout"]);
  const live = bus.follow(["stdout"]);
  const iterator = live[Symbol.asyncIterator]();
  for (let i = 0; i < FOLLOW_QUEUE + 10; i++) {
    bus.publish("stdout", encoder.encode(`l${i}\n`));
    const [item] = await take(iterator, 1);
    assert.deepEqual(item, line("stdout", `l${i}`));
  }
  stalled.close();
  const items = await drain(stalled);
  assert.deepEqual(items[0], { dropped: 10 });
  assert.equal(items.length, FOLLOW_QUEUE + 1);
  live.close();
});

Deno.test("a multi-byte character split between two chunks reaches the follower whole", async () => {
  const bus = new LogBus();
  const f = bus.follow(["stdout"]);
  const data = encoder.encode("café ✓\n");
  // Split inside "é" (0xC3 0xA9) and inside "✓" (three bytes).
  bus.publish("stdout", data.subarray(0, 4));
  bus.publish("stdout", data.subarray(4, 7));
  bus.publish("stdout", data.subarray(7));
  f.close();
  assert.deepEqual(await drain(f), [line("stdout", "café ✓")]);
});

Deno.test("a child refuses a follower beyond MAX_FOLLOWERS_PER_CHILD with BUSY, and takes one again when one leaves", () => {
  const bus = new LogBus({ all: new FollowerCount(1000) });
  const followers = Array.from(
    { length: MAX_FOLLOWERS_PER_CHILD },
    () => bus.follow(["stdout"]),
  );
  assert.throws(() => bus.follow(["stdout"]), (error: unknown) => {
    assert.ok(error instanceof SupervisorError);
    assert.equal(error.code, "BUSY");
    assert.match(error.message, new RegExp(`limit ${MAX_FOLLOWERS_PER_CHILD}\\b`));
    return true;
  });
  followers[0]!.close();
  bus.follow(["stdout"]).close();
  bus.closeAll();
});

Deno.test("followers are capped across every child of the server, and a closed one frees its place", () => {
  const all = new FollowerCount(3);
  const web = new LogBus({ all });
  const db = new LogBus({ all });
  const a = web.follow(["stdout"]);
  web.follow(["stderr"]);
  db.follow(["stdout"]);
  assert.equal(all.count, 3);
  assert.throws(
    () => db.follow(["stdout"]),
    (error: unknown) =>
      error instanceof SupervisorError && error.code === "BUSY" && /limit 3\b/.test(error.message),
  );
  a.close();
  a.close();
  assert.equal(all.count, 2);
  db.follow(["stdout"]);
  web.closeAll();
  db.closeAll();
  assert.equal(all.count, 0);
});

Deno.test("the bus offers a line to each follower by its UTF-8 size", () => {
  const bus = new LogBus({ all: new FollowerCount(10) });
  const f = bus.follow(["stdout"]);
  bus.publish("stdout", encoder.encode("café\nok\n"));
  assert.equal(f.queuedBytes, 5 + 2);
  assert.equal(f.queuedLines, 2);
  bus.closeAll();
});
