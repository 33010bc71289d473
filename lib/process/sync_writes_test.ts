/**
 * Tests of SyncWriteGate and what it reads: the file system of a path from mountinfo, the
 * kernel's free-run ceiling from meminfo and vm settings, and when synchronous writes are
 * allowed, refused, and turned off after slow ones.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DIRTY_CHECK_BYTES,
  DIRTY_CHECK_MS,
  dirtyState,
  fileSystemOf,
  MAX_SYNC_WRITE_BYTES,
  SLOW_SYNC_WRITE_MS,
  SYNC_BACKOFF_MS,
  SyncWriteGate,
  VERY_SLOW_SYNC_WRITE_MS,
} from "./sync_writes.ts";
import type { SyncWriteSources } from "./sync_writes.ts";

const MOUNTS = [
  "22 1 0:21 / /proc rw,nosuid - proc proc rw",
  "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
  "30 25 0:40 / /srv/nfs rw,relatime - nfs4 server:/export rw",
  "31 25 8:2 / /srv/my\\040logs rw - xfs /dev/sda2 rw",
  "32 25 0:50 / /srv/fuse rw - fuse.sshfs host:/ rw",
  "33 32 0:51 / /srv/fuse rw - tmpfs tmpfs rw",
].join("\n");

Deno.test("the file system of a path is that of the longest mount point holding it", () => {
  assert.equal(fileSystemOf(MOUNTS, "/var/log/web.log"), "ext4");
  assert.equal(fileSystemOf(MOUNTS, "/srv/nfs/web.log"), "nfs4");
  assert.equal(fileSystemOf(MOUNTS, "/srv/nfsx/web.log"), "ext4", "a prefix that is no directory");
  assert.equal(fileSystemOf(MOUNTS, "/srv/my logs/web.log"), "xfs", "octal escapes decoded");
  assert.equal(fileSystemOf(MOUNTS, "/srv/fuse/a"), "tmpfs", "a later mount hides an earlier one");
  assert.equal(fileSystemOf("", "/x"), undefined);
});

const MEMINFO = (dirtyKiB: number, writebackKiB = 0) =>
  [
    "MemTotal:        4000000 kB",
    "MemFree:         1000000 kB",
    "Active(file):     500000 kB",
    "Inactive(file):   500000 kB",
    `Dirty:            ${dirtyKiB} kB`,
    `Writeback:        ${writebackKiB} kB`,
  ].join("\n");

const RATIOS: Record<string, string> = {
  dirty_ratio: "20\n",
  dirty_bytes: "0\n",
  dirty_background_ratio: "10\n",
  dirty_background_bytes: "0\n",
};

Deno.test("the free-run ceiling is halfway between the background and the dirty limits", () => {
  // Dirtyable: 2,000,000 KiB; limits 20 % and 10 %: 400,000 and 200,000 KiB.
  const state = dirtyState(MEMINFO(1000, 500), (name) => RATIOS[name]);
  assert.deepEqual(state, { dirty: 1500 * 1024, freeRun: 300_000 * 1024 });
  const bytes = dirtyState(
    MEMINFO(0),
    (name) => ({ ...RATIOS, dirty_bytes: "400000000", dirty_background_bytes: "0" })[name],
  );
  assert.equal(bytes?.freeRun, (400_000_000 + 200_000 * 1024) / 2, "dirty_bytes wins over ratio");
  const inverted = dirtyState(
    MEMINFO(0),
    (name) => ({ ...RATIOS, dirty_background_ratio: "50" })[name],
  );
  assert.equal(inverted?.freeRun, (400_000 + 200_000) * 1024 / 2, "background capped at half");
  assert.equal(dirtyState("MemFree: 1 kB", (name) => RATIOS[name]), undefined);
  assert.equal(dirtyState(MEMINFO(0), () => undefined), undefined);
});

/** Sources the test sets: time, dirty pages, mounts. */
class FakeSources implements SyncWriteSources {
  time = 0;
  dirtyKiB = 0;
  meminfoReads = 0;
  mounts: string | undefined = MOUNTS;
  now(): number {
    return this.time;
  }
  meminfo(): string | undefined {
    this.meminfoReads++;
    return MEMINFO(this.dirtyKiB);
  }
  vm(name: string): string | undefined {
    return RATIOS[name];
  }
  mountinfo(): string | undefined {
    return this.mounts;
  }
  realPath(path: string): string | undefined {
    return path;
  }
}

Deno.test("synchronous writes only to files on local file systems", () => {
  const sources = new FakeSources();
  const gate = new SyncWriteGate(sources);
  assert.equal(gate.local("/var/log/web.log"), true);
  assert.equal(gate.local("/srv/my logs/web.log"), true);
  assert.equal(gate.local("/srv/nfs/web.log"), false);
  const unknown = new FakeSources();
  unknown.mounts = undefined;
  assert.equal(new SyncWriteGate(unknown).local("/var/log/web.log"), false, "unknown: not local");
  const fuse = new FakeSources();
  fuse.mounts = "25 1 8:1 / / rw - fuse.sshfs host:/ rw";
  assert.equal(new SyncWriteGate(fuse).local("/var/log/web.log"), false);
});

Deno.test("synchronous writes only while the dirty pages are far below the free-run ceiling", () => {
  const sources = new FakeSources();
  const gate = new SyncWriteGate(sources);
  assert.equal(gate.allows(1024), true);
  assert.equal(gate.allows(MAX_SYNC_WRITE_BYTES + 1), false, "at most a pipe's read at a time");
  // 300,000 KiB is the ceiling: at half of it the gate closes, once it looks again.
  sources.dirtyKiB = 160_000;
  assert.equal(gate.allows(1024), true, "not looked at again yet");
  const reads = sources.meminfoReads;
  sources.time += DIRTY_CHECK_MS;
  assert.equal(gate.allows(1024), false);
  assert.equal(sources.meminfoReads, reads + 1);
  sources.dirtyKiB = 1000;
  assert.equal(gate.allows(1024), false, "not looked at again yet");
  gate.took(0.1, DIRTY_CHECK_BYTES);
  assert.equal(gate.allows(1024), true, "looked at again after as many bytes, before the time");
  const blind = new FakeSources();
  blind.meminfo = () => undefined;
  assert.equal(new SyncWriteGate(blind).allows(1024), false, "unknown: no synchronous write");
});

Deno.test("two slow synchronous writes, or one very slow, turn them off for a while", () => {
  const sources = new FakeSources();
  const gate = new SyncWriteGate(sources);
  gate.took(SLOW_SYNC_WRITE_MS + 1, 1024);
  assert.equal(gate.allows(1024), true, "one slow write alone may be a preemption");
  sources.time += SYNC_BACKOFF_MS + 1;
  gate.took(SLOW_SYNC_WRITE_MS + 1, 1024);
  assert.equal(gate.allows(1024), true, "the first one was long ago");
  sources.time += 1000;
  gate.took(SLOW_SYNC_WRITE_MS + 1, 1024);
  assert.equal(gate.allows(1024), false, "a second one soon after");
  assert.equal(gate.backingOff, true);
  sources.time += SYNC_BACKOFF_MS;
  assert.equal(gate.allows(1024), true, "on again after the backoff");
  gate.took(VERY_SLOW_SYNC_WRITE_MS + 1, 1024);
  assert.equal(gate.allows(1024), false, "a very slow one at once");
  sources.time += SYNC_BACKOFF_MS;
  gate.took(SLOW_SYNC_WRITE_MS + 1, 1024);
  assert.equal(gate.allows(1024), true, "a backoff starts a new count");
});

Deno.test("a gate turned off by the operator allows no synchronous write, whatever the system says", () => {
  const gate = new SyncWriteGate(new FakeSources());
  assert.equal(gate.allows(1024), true);
  gate.enabled = false;
  assert.equal(gate.allows(1024), false);
  gate.enabled = true;
  assert.equal(gate.allows(1024), true);
});
