import assert from "node:assert/strict";
import { MemoryConfigSource } from "../testing/memory_config_source.ts";
import type { FileStamp } from "./config_source.ts";
import { SupervisorError } from "../errors.ts";
import { ConfigStore, STATUS_TRUST_MS } from "./store.ts";
import { AUTO_RESTART_TRUST_MS } from "../process/restart_policy.ts";

/**
 * Config files in memory that also have stamps, all settled long ago; counts child stats,
 * server.yml stats and directory stats.
 */
class StampedSource extends MemoryConfigSource {
  stats = 0;
  serverStats = 0;
  dirStats = 0;
  readonly #texts = new Map<string, string>();

  override write(path: string, text: string): void {
    super.write(path, text);
    this.#texts.set(path, text);
  }

  stamp(path: string): Promise<FileStamp | undefined> {
    if (path.includes("/children/")) this.stats++;
    if (path.endsWith("/server.yml")) this.serverStats++;
    const text = this.#texts.get(path);
    if (text === undefined) return Promise.resolve(undefined);
    return Promise.resolve({ ino: 1, size: text.length, mtimeMs: 1000, ctimeMs: 1000 });
  }

  override modifiedAt(dir: string): Promise<number | undefined> {
    this.dirStats++;
    return super.modifiedAt(dir);
  }
}

function fleet(): { store: ConfigStore; source: StampedSource } {
  const source = new StampedSource();
  source.write("/srv/server.yml", "loadpaths: [children]\n");
  source.write("/srv/children/web.yml", "command: sleep 1000\n");
  source.write("/srv/children/api.yml", "command: sleep 2000\ninstances: 2\n");
  source.write("/srv/children/bad.yml", "command: [\n");
  return { store: new ConfigStore("/srv/server.yml", { source }), source };
}

Deno.test("a status takes every config at once, the same as one child at a time", async () => {
  const { store } = fleet();
  const one = store.snapshot();
  const status = store.snapshot().forStatus();
  const configs = await status.children(["web", "api", "bad", "nowhere", "api:1", "web"]);
  assert.deepEqual([...configs.keys()].sort(), ["api", "api:1", "web"]);
  for (const name of ["web", "api", "api:1"]) {
    assert.deepEqual(configs.get(name), await one.child(name));
    assert.equal(configs.get(name), await status.child(name), `${name}: the snapshot's answer`);
  }
  await assert.rejects(status.child("bad"), /invalid/);
  await assert.rejects(status.child("nowhere"), /Cannot find child/);
});

Deno.test("files a status checked within the last second are taken without a stat", async () => {
  const { store, source } = fleet();
  const first = await store.snapshot().forStatus().children(["web", "api"]);
  const stats = source.stats;
  const again = await store.snapshot().forStatus().children(["web", "api"]);
  assert.equal(source.stats, stats, "no child file stat-ed again");
  assert.equal(again.get("web"), first.get("web"));
  // An operation that acts checks the file whatever a status did.
  await store.snapshot().child("web");
  assert.ok(source.stats > stats);
});

Deno.test("an unsigned status takes server.yml and the listing checked within the last second", async () => {
  const { store, source } = fleet();
  const names = async (snap: ReturnType<ConfigStore["statusSnapshot"]>) =>
    [...(await snap.catalog()).files.keys()].sort();
  assert.deepEqual(await names(store.statusSnapshot()), ["api", "bad", "web"]);
  const seen = { server: source.serverStats, dirs: source.dirStats };
  // Checked just now: a second status makes no file system call at all.
  assert.deepEqual(await names(store.statusSnapshot()), ["api", "bad", "web"]);
  await store.statusSnapshot().settings();
  assert.deepEqual({ server: source.serverStats, dirs: source.dirStats }, seen);
  // What acts (and a signed request, which gets the same snapshot) checks both again, and sees
  // an edit at once; the status sees it from then on.
  source.write("/srv/server.yml", "loadpaths: [children, more]\n");
  source.write("/srv/more/db.yml", "command: sleep 3000\n");
  assert.deepEqual(await names(store.snapshot()), ["api", "bad", "db", "web"]);
  assert.ok(source.serverStats > seen.server && source.dirStats > seen.dirs);
  assert.deepEqual(await names(store.statusSnapshot()), ["api", "bad", "db", "web"]);
});

Deno.test("a child file removed while the listing is trusted is not found, not invalid", async () => {
  const { store, source } = fleet();
  await store.statusSnapshot().catalog();
  source.remove("/srv/children/web.yml");
  const status = store.statusSnapshot();
  assert.ok((await status.catalog()).files.has("web"), "the listing is the trusted one");
  await assert.rejects(
    status.child("web"),
    (error: unknown) => error instanceof SupervisorError && error.code === "NOT_FOUND",
  );
});

Deno.test("a status of the same names is given the same map again while every file reads the same", async () => {
  const { store, source } = fleet();
  const names = ["web", "api", "bad", "api:1", "web"];
  const first = await store.statusSnapshot().children(names);
  assert.deepEqual([...first.keys()].sort(), ["api", "api:1", "web"]);
  const stats = source.stats;
  const again = await store.statusSnapshot().children(names);
  assert.equal(again, first, "no map made: the last one given again");
  assert.equal(source.stats, stats, "and no child file stat-ed");
  // What the snapshot then answers one at a time is what the map holds.
  const status = store.statusSnapshot();
  const third = await status.children(names);
  assert.equal(await status.child("web"), third.get("web"));
  await assert.rejects(status.child("bad"), /invalid/);
  // Other names are another status: a map of their own.
  assert.notEqual(await store.statusSnapshot().children(["web"]), first);
});

Deno.test("a status of the same names sees a file read again since, changed", async () => {
  const { store, source } = fleet();
  const names = ["web", "api"];
  const first = await store.statusSnapshot().children(names);
  source.write("/srv/children/web.yml", "command: sleep 1000 --longer\n");
  // An operation that acts reads it at once; the next status takes that reading.
  await store.snapshot().child("web");
  const second = await store.statusSnapshot().children(names);
  assert.notEqual(second, first);
  assert.deepEqual(second.get("web")?.argv, ["sleep", "1000", "--longer"]);
  assert.equal(second.get("api"), first.get("api"), "an unchanged file: the same config");
  assert.equal(await store.statusSnapshot().children(names), second);
});

Deno.test("a status of the same names sees a file changed once its trust ran out", async () => {
  const { store, source } = fleet();
  const names = ["web", "api"];
  const first = await store.statusSnapshot().children(names);
  source.write("/srv/children/web.yml", "command: sleep 1000 --edited\n");
  assert.equal(await store.statusSnapshot().children(names), first, "within the trust");
  await new Promise((resolve) => setTimeout(resolve, STATUS_TRUST_MS + 50));
  const later = await store.statusSnapshot().children(names);
  assert.deepEqual(later.get("web")?.argv, ["sleep", "1000", "--edited"]);
});

Deno.test("a status's server.yml checked within the trust is there without waiting", async () => {
  const { store } = fleet();
  assert.equal(store.snapshot().settingsNow(), undefined, "an operation that acts reads it");
  const read = await store.statusSnapshot().settings();
  const status = store.statusSnapshot();
  assert.equal(status.settingsNow(), read);
  assert.equal(await status.settings(), read);
  assert.equal(await status.server(), read);
  // Once listed, the same settled promise of the listing for every status while it holds.
  await status.catalog();
  assert.equal(store.statusSnapshot().catalog(), store.statusSnapshot().catalog());
});

Deno.test("childNow gives what child would, without waiting, only once everything was checked within the trust", async () => {
  const { store } = fleet();
  assert.equal(store.snapshot(AUTO_RESTART_TRUST_MS).childNow("web"), undefined, "never read");
  const first = await store.snapshot().child("web");
  await store.snapshot().child("bad").catch(() => {});
  await store.snapshot().child("api:1");
  const snap = store.snapshot(AUTO_RESTART_TRUST_MS);
  assert.equal(snap.childNow("web"), first);
  assert.equal(snap.childNow("bad"), undefined, "an error is child's to give");
  assert.equal(snap.childNow("api:1"), undefined, "a copy is child's to make");
  assert.equal(snap.childNow("nowhere"), undefined, "not found is child's to say");
  assert.equal(store.snapshot().childNow("web"), undefined, "no trust: always read");
});

Deno.test("a snapshot with a trust (an automatic restart) takes server.yml, the listing and the child's file checked within it", async () => {
  const { store, source } = fleet();
  const first = await store.snapshot().child("web");
  const counts = () => [source.stats, source.serverStats, source.dirStats];
  const before = counts();
  const restart = await store.snapshot(AUTO_RESTART_TRUST_MS).child("web");
  assert.deepEqual(counts(), before, "nothing stat-ed again within the trust");
  assert.equal(restart, first);
  // Without a trust (what an operator asks for), each is checked again.
  await store.snapshot().child("web");
  const after = counts();
  for (let i = 0; i < before.length; i++) assert.ok(after[i]! > before[i]!, `count ${i}`);
});
