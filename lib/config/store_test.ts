import assert from "node:assert/strict";
import { MemoryConfigSource } from "../testing/memory_config_source.ts";
import type { FileStamp } from "./config_source.ts";
import { ConfigStore } from "./store.ts";

/** Config files in memory that also have stamps, all settled long ago; counts child stats. */
class StampedSource extends MemoryConfigSource {
  stats = 0;
  readonly #texts = new Map<string, string>();

  override write(path: string, text: string): void {
    super.write(path, text);
    this.#texts.set(path, text);
  }

  stamp(path: string): Promise<FileStamp | undefined> {
    if (path.includes("/children/")) this.stats++;
    const text = this.#texts.get(path);
    if (text === undefined) return Promise.resolve(undefined);
    return Promise.resolve({ ino: 1, size: text.length, mtimeMs: 1000, ctimeMs: 1000 });
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
