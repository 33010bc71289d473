import assert from "node:assert/strict";
import type { ExitRecord } from "../process/exit_record.ts";
import type { Checked, ChildReport } from "../server/results.ts";
import { encodeResponse, encodeResponseBytes } from "./messages.ts";
import type { Response } from "./messages.ts";
import { decodeCheckData, encodeChild, encodeResult, wireData } from "./payloads.ts";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function running(name: string, over: Partial<ChildReport> = {}): ChildReport {
  return {
    name,
    state: "RUNNING",
    since: T0,
    pid: 4242,
    startedAt: T0,
    uptimeMs: 61_000,
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

/** The response line of a check of `children`, both ways: from the parts, and as JSON. */
function bothWays(children: readonly ChildReport[], problems: readonly string[] = []) {
  const checked: Checked = {
    kind: "checked",
    message: `${children.length} children`,
    children,
    problems,
  };
  const response: Response = {
    id: 7,
    ok: true,
    message: checked.message,
    data: wireData(encodeResult(checked)),
  };
  return {
    bytes: encodeResponseBytes(response),
    parts: new TextDecoder().decode(encodeResponseBytes(response)),
    json: encodeResponse(response),
    plain:
      JSON.stringify({ ...response, data: { children: children.map(encodeChild), problems } }) +
      "\n",
  };
}

function assertSameLine(children: readonly ChildReport[], problems: readonly string[] = []): void {
  const { bytes, json, plain } = bothWays(children, problems);
  assert.deepEqual(bytes, new TextEncoder().encode(plain));
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
      uptimeMs: null,
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
      uptimeMs: -0,
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
    running("ready", { ready: true, readySince: T0 + 1, drift: "changed", uptimeMs: 12.5 }),
  ], ["loadpath /nowhere: not found", "ünïcode ✓"]);
  assertSameLine([]);
});

Deno.test("a child's text follows every change of its report from one check to the next", () => {
  const first = exit();
  const steps: ChildReport[] = [
    running("svc"),
    running("svc", { uptimeMs: 61_001 }),
    running("svc", { uptimeMs: 9, pid: 4343, startedAt: T0 + 10, restarts: 3 }),
    running("svc", { resources: { ...running("svc").resources!, rssBytes: 6_000_000 } }),
    running("svc", { resources: null }),
    running("svc", { state: "BACKOFF", pid: null, lastExit: first, history: [first] }),
    running("svc", { lastExit: first, history: [first, exit({ code: 0, expected: true })] }),
    running("svc", { command: ["sleep", "2000"] }),
    running("svc", { drift: "removed", error: "gone" }),
    running("svc", { error: undefined as unknown as null }),
    running("svc"),
  ];
  for (const report of steps) assertSameLine([report, running("other")]);
});

Deno.test("a check's data reads as wire objects too (the page, the HTTP API, the client)", () => {
  const report = running("web", { lastExit: exit(), history: [exit()] });
  const checked: Checked = {
    kind: "checked",
    message: "1 child",
    children: [report],
    problems: [],
  };
  const data = encodeResult(checked);
  const decoded = decodeCheckData(JSON.parse(JSON.stringify(data)));
  assert.deepEqual(decoded.children, [encodeChild(report)]);
  assert.deepEqual(JSON.parse(bothWays([report]).parts).data, JSON.parse(JSON.stringify(data)));
});
