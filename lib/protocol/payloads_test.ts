import assert from "node:assert/strict";
import { uptimeAt } from "../process/uptime.ts";
import type { ExitRecord } from "../process/exit_record.ts";
import type { Checked, ChildSnapshot } from "../server/results.ts";
import { encodeResponse, encodeResponseBytes, responseWritten } from "./messages.ts";
import type { Response } from "./messages.ts";
import { decodeCheckData, encodeChild, encodeResult, wireData } from "./payloads.ts";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

/** When the checks of these tests look at their children: a minute after T0. */
const AT = T0 + 61_000;

function running(name: string, over: Partial<ChildSnapshot> = {}): ChildSnapshot {
  return {
    name,
    state: "RUNNING",
    since: T0,
    pid: 4242,
    startedAt: T0,
    restarts: 2,
    crashes: 1,
    lastExit: null,
    history: [],
    configPath: `/etc/supervisor/children/${name}.yml`,
    command: ["sleep", "1000"],
    error: null,
    failures: 0,
    nextAttemptAt: null,
    adopted: false,
    ready: null,
    readySince: null,
    repeatAt: null,
    drift: null,
    configError: null,
    resources: { cpuSeconds: 1.2345, cpuPercent: 12.34, rssBytes: 5_000_000, processes: 2, at: T0 },
    ...over,
  };
}

function exit(over: Partial<ExitRecord> = {}): ExitRecord {
  return {
    code: 3,
    signal: null,
    at: T0 + 5,
    ranMs: 1500,
    requested: false,
    expected: false,
    stderrTail: ["boom", 'a "quoted" line\twith tab', "naïve ✓ \u2028 \ud800"],
    ...over,
  };
}

/** A check of `snapshots` at `at`, as `checkReport` makes it. */
function checkOf(
  snapshots: readonly ChildSnapshot[],
  problems: readonly string[] = [],
  at = AT,
): Checked {
  return {
    kind: "checked",
    message: `${snapshots.length} children`,
    at,
    snapshots,
    children: snapshots.map((s) => ({ ...s, uptimeMs: uptimeAt(s, at) })),
    problems,
  };
}

/** The response line of a check, both ways: from its text, and as JSON. */
function bothWays(checked: Checked) {
  const response: Response = {
    id: 7,
    ok: true,
    message: checked.message,
    data: wireData(encodeResult(checked)),
  };
  const children = checked.children.map(encodeChild);
  return {
    bytes: encodeResponseBytes(response),
    parts: new TextDecoder().decode(encodeResponseBytes(response)),
    json: encodeResponse(response),
    plain: JSON.stringify({ ...response, data: { children, problems: checked.problems } }) +
      "\n",
  };
}

function assertSameLine(
  snapshots: readonly ChildSnapshot[],
  problems: readonly string[] = [],
  at = AT,
): void {
  const { bytes, parts, json, plain } = bothWays(checkOf(snapshots, problems, at));
  assert.deepEqual(bytes, new TextEncoder().encode(plain));
  // Written a second time: from the copy of the first writing, each uptime written over.
  assert.equal(parts, plain);
  assert.equal(json, plain);
}

Deno.test("a check's response line is the same bytes as its JSON, whatever its children hold", () => {
  const history = [exit(), exit({ code: null, signal: "SIGKILL", reason: "unhealthy" })];
  assertSameLine([
    running("web"),
    running("stopped", {
      state: "STOPPED",
      pid: null,
      startedAt: null,
      lastExit: history[1]!,
      history,
      resources: null,
      command: null,
      configPath: null,
    }),
    running('odd "name" ✓', {
      error: 'spawn failed:\n"no such file"',
      failures: 3,
      nextAttemptAt: T0 + 2000,
      repeatAt: T0 + 60_000,
      adopted: true,
      ready: false,
      readySince: null,
      drift: "invalid",
      configError: "line 3: bad \\ value",
      command: ["sh", "-c", 'echo "$HOME" \u0001'],
      resources: { cpuSeconds: 0, cpuPercent: null, rssBytes: 0, processes: 1, at: T0 },
    }),
    running("numbers", {
      startedAt: AT + 5,
      restarts: 1e21,
      crashes: 0.5,
      failures: Number.NaN,
      resources: {
        cpuSeconds: 1e-7,
        cpuPercent: -3.25,
        rssBytes: Number.MAX_SAFE_INTEGER + 2,
        processes: Infinity,
        at: T0,
      },
    }),
    running("ready", { ready: true, readySince: T0 + 1, drift: "changed", startedAt: AT - 12.5 }),
    running("just started", { startedAt: AT }),
    running("long ago", { startedAt: AT - 8e15 }),
  ], ["loadpath /nowhere: not found", "ünïcode ✓"]);
  assertSameLine([]);
});

Deno.test("a child's text follows every change of its snapshot from one check to the next", () => {
  const first = exit();
  const steps: ChildSnapshot[] = [
    running("svc"),
    running("svc", { pid: 4343, startedAt: T0 + 10, restarts: 3 }),
    running("svc", { resources: { ...running("svc").resources!, rssBytes: 6_000_000 } }),
    running("svc", { resources: null }),
    running("svc", { state: "BACKOFF", pid: null, startedAt: null, lastExit: first }),
    running("svc", { lastExit: first, history: [first, exit({ code: 0, expected: true })] }),
    running("svc", { command: ["sleep", "2000"] }),
    running("svc", { drift: "removed", error: "gone" }),
    running("svc", { error: undefined as unknown as null }),
    running("svc", { pid: undefined as unknown as null }),
    running("svc", { resources: undefined as unknown as null }),
    running("svc", { name: undefined as unknown as string, state: "STOPPED" }),
    running("svc"),
  ];
  const other = running("other");
  for (const snapshot of steps) assertSameLine([snapshot, other]);
});

Deno.test("a check of the same snapshots shows the uptimes at its own time", () => {
  const snapshots = [running("web"), running("stopped", { startedAt: null, pid: null })];
  for (const at of [AT, AT + 1, AT + 2, AT + 999_999, AT + 999_998, AT + 0.25, AT + 0.5, AT]) {
    assertSameLine(snapshots, [], at);
    const data = JSON.parse(bothWays(checkOf(snapshots, [], at)).parts).data;
    assert.deepEqual(data.children.map((c: { uptime_ms: number | null }) => c.uptime_ms), [
      at - T0,
      null,
    ]);
  }
});

Deno.test("a new sample of a child's resources shows in the next check", () => {
  const before = running("web", { resources: null });
  const sample = { cpuSeconds: 2.5, cpuPercent: 50, rssBytes: 7_000_000, processes: 3, at: AT };
  const after = { ...before, resources: sample };
  const line = (s: ChildSnapshot) => JSON.parse(bothWays(checkOf([s])).parts).data.children[0];
  assert.equal(line(before).resources, null);
  assert.deepEqual(line(after).resources, {
    cpu_seconds: 2.5,
    cpu_percent: 50,
    rss_bytes: 7_000_000,
    processes: 3,
    sampled_at: new Date(AT).toISOString(),
  });
  assertSameLine([after]);
  // A sample with the same figures as the one shown, and then the first one again.
  assertSameLine([{ ...before, resources: { ...sample } }]);
  assertSameLine([before]);
});

Deno.test("a check's data reads as wire objects too (the page, the HTTP API, the client)", () => {
  const snapshot = running("web", { lastExit: exit(), history: [exit()] });
  const checked = checkOf([snapshot]);
  const data = encodeResult(checked);
  const decoded = decodeCheckData(JSON.parse(JSON.stringify(data)));
  assert.deepEqual(decoded.children, [encodeChild({ ...snapshot, uptimeMs: 61_000 })]);
  assert.deepEqual(JSON.parse(bothWays(checked).parts).data, JSON.parse(JSON.stringify(data)));
});

/** The response line of a check of `snapshots` at `at`, asserted equal to its plain JSON. */
function checkLine(
  snapshots: readonly ChildSnapshot[],
  problems: readonly string[],
  at: number,
  id: number | string,
): Uint8Array {
  const checked = checkOf(snapshots, problems, at);
  const response: Response = {
    id,
    ok: true,
    message: checked.message,
    data: wireData(encodeResult(checked)),
  };
  const bytes = encodeResponseBytes(response);
  const children = checked.children.map(encodeChild);
  const plain = JSON.stringify({ ...response, data: { children, problems: checked.problems } });
  assert.equal(new TextDecoder().decode(bytes), `${plain}\n`);
  return bytes;
}

Deno.test("a line made ready for the next check is that check's line, and serves it alone", async () => {
  const snapshots = [running("web"), running("db", { startedAt: null, pid: null }), running("x")];
  const line = (at: number, id: number | string) => checkLine(snapshots, ["a problem"], at, id);
  line(AT, 1);
  line(AT + 1, 1);
  // Made ready once the task that answered is done.
  await Promise.resolve();
  const first = line(AT + 2, 1);
  assert.ok(first.byteOffset > 0, "written in the copy made ready");
  const copy = first.slice();
  await Promise.resolve();
  // A head of another length, other uptimes of the same lengths: in the next copy.
  const second = line(AT + 3, "a longer id");
  assert.ok(second.byteOffset > 0);
  assert.notEqual(second.buffer, first.buffer);
  assert.deepEqual(first, copy, "a line handed out is never written again");
  // Asked again before a copy is ready: written whole, the same bytes.
  const third = line(AT + 4, 2);
  assert.notEqual(third.buffer, second.buffer);
  await Promise.resolve();
  // An uptime grown longer: written whole again, then made ready from that writing.
  line(AT + 10_000_000, 3);
  line(AT + 10_000_001, 3);
  await Promise.resolve();
  assert.ok(line(AT + 10_000_002, 3).byteOffset > 0);
});

Deno.test("a line written out is written into again for a later check of the same children", async () => {
  const snapshots = [running("web"), running("db", { startedAt: null, pid: null })];
  const line = (at: number, id: number) => checkLine(snapshots, [], at, id);
  line(AT, 1);
  line(AT + 1, 1);
  await Promise.resolve();
  // As a connection goes: a line is handed out, the next copy made ready, the line written.
  const first = line(AT + 2, 1);
  await Promise.resolve();
  responseWritten(first);
  const second = line(AT + 3, 2);
  assert.notEqual(second.buffer, first.buffer, "the copy made while the first was written");
  await Promise.resolve();
  responseWritten(second);
  const third = line(AT + 4, 3);
  assert.equal(third.buffer, first.buffer, "the first line's bytes, written out, used again");
  await Promise.resolve();
  // A line not handed back (a socket may still read it) is never written again.
  const kept = third.slice();
  const fourth = line(AT + 5, 4);
  assert.equal(fourth.buffer, second.buffer);
  await Promise.resolve();
  line(AT + 6, 5);
  assert.deepEqual(third, kept);
  // Handing back bytes twice, or bytes of no status, changes nothing.
  responseWritten(first);
  responseWritten(new Uint8Array(3));
});
