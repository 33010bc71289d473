import assert from "node:assert/strict";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { defaultStatePath, parseState, StateFile } from "./state_file.ts";
import type { ServerState } from "./state_file.ts";

const SERVER = { pid: 4242, startTicks: 100, bootId: "boot-a" };

const STATE: ServerState = {
  server: SERVER,
  children: [{
    name: "web",
    identity: { pid: 5000, startTicks: 200, bootId: "boot-a" },
    startedAt: 1_700_000_000_000,
    configPath: "/srv/children/web.yml",
  }],
};

Deno.test("a state written is read back the same", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = new StateFile(`${dir}/s.state`, new MemoryLogger());
    await file.record(STATE);
    assert.deepEqual(await file.load(), STATE);
    assert.equal((await Deno.stat(`${dir}/s.state`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("states recorded while one is being written are coalesced: the newest wins", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = new StateFile(`${dir}/s.state`, new MemoryLogger());
    const writes = [1, 2, 3, 4, 5].map((n) =>
      file.record({ server: SERVER, children: STATE.children.map((c) => ({ ...c, startedAt: n })) })
    );
    await Promise.all(writes);
    assert.equal((await file.load())?.children[0]?.startedAt, 5);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["s.state"], "no temporary file is left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a malformed state file is ignored, and bad records are skipped", () => {
  assert.equal(parseState("not json"), undefined);
  assert.equal(parseState(JSON.stringify({ format: 2, server: SERVER, children: [] })), undefined);
  assert.equal(parseState(JSON.stringify({ format: 1, children: [] })), undefined);
  const mixed = parseState(JSON.stringify({
    format: 1,
    server: SERVER,
    children: [
      ...STATE.children,
      { name: "init", identity: { pid: 1, startTicks: 1, bootId: "boot-a" } },
      { name: 7 },
      "web",
    ],
  }));
  assert.deepEqual(mixed, STATE, "pid 1 and malformed records are never adopted");
});

Deno.test("a missing state file reads as none, without a warning", async () => {
  const logger = new MemoryLogger();
  assert.equal(await new StateFile("/nonexistent/dir/s.state", logger).load(), undefined);
  assert.deepEqual(logger.lines, []);
});

Deno.test("the default state path is per config file and in a runtime directory", () => {
  const a = defaultStatePath("/etc/supervisor-ts/server.yml");
  const b = defaultStatePath("/etc/supervisor-ts/other.yml");
  assert.notEqual(a, b);
  assert.match(a, /etc_supervisor-ts_server\.yml-[0-9a-f]{8}\.state$/);
  const uid = Deno.uid();
  if (uid === 0) assert.match(a, /^\/run\/supervisor-ts\//);
  else assert.ok(a.includes("supervisor-ts"), a);
});
