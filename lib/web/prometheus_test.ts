import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { requirePrograms } from "../../tests/requires.ts";
import type { ChildData, ExitData, InfoData } from "../protocol/payloads.ts";
import { CHILD_STATES } from "../process/state.ts";
import { childData } from "../testing/wire_fixtures.ts";
import {
  escapeLabelValue,
  formatValue,
  METRICS_CONTENT_TYPE,
  renderMetrics,
  signalNumber,
} from "./prometheus.ts";
import type { MetricsInput } from "./prometheus.ts";

const programs = requirePrograms(import.meta, ["promtool"]);

const EXAMPLES = fileURLToPath(new URL("../../examples/prometheus/", import.meta.url));

/** An exit with the declared shape: `fields` over a crash with exit code 1. */
function exit(fields: Partial<ExitData>): ExitData {
  return {
    code: 1,
    signal: null,
    at: "2026-01-01T12:00:00.000Z",
    ran_ms: 1500,
    requested: false,
    expected: false,
    reason: null,
    description: "exit code 1",
    stderr_tail: [],
    ...fields,
  };
}

const INFO: InfoData = {
  version: "0.1.0",
  pid: 4242,
  config_path: "/etc/supervisor-ts/server.yml",
  listen: "127.0.0.1:33889",
  encrypt: "off",
  mode: "half",
  loadpaths: ["children"],
  started_at: "2026-01-01T00:00:00.000Z",
  uptime_ms: 93_784_567,
  running: [],
  counts: {},
  repeat_timers: 2,
  problems: [],
};

const BUILD = { version: "0.1.0", deno: "2.9.6", v8: "13.0.245.12", typescript: "5.6.2" };

/** A fleet with a child in most states, in no particular order. */
const FLEET: readonly ChildData[] = [
  // Six runs (five automatic restarts), each crashed; waiting to start a seventh.
  childData({
    name: "worker",
    state: "BACKOFF",
    restarts: 5,
    crashes: 6,
    last_exit: exit({ code: 1 }),
  }),
  childData({
    name: "web",
    state: "RUNNING",
    pid: 100,
    started_at: "2026-01-02T03:04:05.678Z",
    uptime_ms: 1000,
    // Restarted twice by an operator (a deploy): no crash.
    restarts: 2,
    ready: true,
    resources: {
      cpu_seconds: 12.34,
      cpu_percent: 1.5,
      rss_bytes: 52_428_800,
      processes: 3,
      sampled_at: "2026-01-02T04:00:00.000Z",
    },
  }),
  childData({
    name: "killed",
    state: "FATAL",
    restarts: 3,
    crashes: 4,
    last_exit: exit({ code: null, signal: "SIGKILL", description: "signal SIGKILL" }),
  }),
  childData({ name: "batch", state: "EXITED", last_exit: exit({ code: 0, expected: true }) }),
  childData({
    name: "web:2",
    state: "STARTING",
    pid: 101,
    started_at: "2026-01-02T03:04:06.000Z",
    ready: false,
  }),
  // Taken over from a killed server: how its last run ended is unknown.
  childData({
    name: "adopted",
    state: "RUNNING",
    pid: 102,
    started_at: "2026-01-01T00:00:00.500Z",
    adopted: true,
    last_exit: exit({ code: null, signal: null, description: "exit status unknown" }),
  }),
  childData({ name: "idle", state: "STOPPED" }),
];

function input(fields: Partial<MetricsInput> = {}): MetricsInput {
  return {
    children: FLEET,
    info: INFO,
    requests: [
      { op: "start", code: "OK", count: 4 },
      { op: "check", code: "OK", count: 10 },
      { op: "start", code: "EXITED_EARLY", count: 1 },
    ],
    connections: { open: 1, accepted: 17 },
    build: BUILD,
    ...fields,
  };
}

/** The sample lines (not comments) of `text` whose metric name is `name`. */
function samples(text: string, name: string): string[] {
  return text.split("\n").filter((line) =>
    line.startsWith(`${name}{`) || line.startsWith(`${name} `)
  );
}

Deno.test("the content type is the text format 0.0.4", () => {
  assert.equal(METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("a server with one running child renders exactly these lines", () => {
  const text = renderMetrics({
    children: [
      childData({
        name: "web",
        state: "RUNNING",
        pid: 100,
        started_at: "2026-01-02T03:04:05.678Z",
        restarts: 1,
        crashes: 1,
        last_exit: exit({ code: 2 }),
      }),
    ],
    info: { ...INFO, uptime_ms: 1500 },
    requests: [{ op: "start", code: "OK", count: 1 }],
    connections: { open: 0, accepted: 3 },
    build: BUILD,
  });
  const states = CHILD_STATES.join(", ");
  assert.equal(
    text,
    [
      `# HELP supervisor_child_state The child's state: 1 for the one it is in, 0 for the others (${states}).`,
      "# TYPE supervisor_child_state gauge",
      'supervisor_child_state{child="web",state="STOPPED"} 0',
      'supervisor_child_state{child="web",state="STARTING"} 0',
      'supervisor_child_state{child="web",state="RUNNING"} 1',
      'supervisor_child_state{child="web",state="BACKOFF"} 0',
      'supervisor_child_state{child="web",state="STOPPING"} 0',
      'supervisor_child_state{child="web",state="EXITED"} 0',
      'supervisor_child_state{child="web",state="FATAL"} 0',
      "# HELP supervisor_child_up 1 when the child is RUNNING, else 0.",
      "# TYPE supervisor_child_up gauge",
      'supervisor_child_up{child="web"} 1',
      "# HELP supervisor_child_restarts_total Starts of the child after its first one since the server started (automatic restarts and operators' starts alike).",
      "# TYPE supervisor_child_restarts_total counter",
      'supervisor_child_restarts_total{child="web"} 1',
      "# HELP supervisor_child_crashes_total Runs of the child that ended on their own with an exit not in its exit_codes, or that the server ended (unhealthy, never ready, memory limit), since the server started. A stop, restart or update asked for never counts, so deploys leave it flat: its increase is the signal for crash loops.",
      "# TYPE supervisor_child_crashes_total counter",
      'supervisor_child_crashes_total{child="web"} 1',
      "# HELP supervisor_child_last_exit_code How the child's last run ended: its exit code, or 128 plus the signal's number when a signal ended it (as a shell reports it; the signal's name is in supervisor_child_last_exit_signal). Absent before its first exit, and when the status of an adopted run could not be read.",
      "# TYPE supervisor_child_last_exit_code gauge",
      'supervisor_child_last_exit_code{child="web"} 2',
      "# HELP supervisor_child_last_exit_signal 1, labelled with the signal's name, when a signal ended the child's last run; absent when it exited with a code.",
      "# TYPE supervisor_child_last_exit_signal gauge",
      "# HELP supervisor_child_cpu_seconds_total CPU time (user and system) used by the processes of the child's current run; starts again from 0 with each run. Only for a child whose resources were sampled.",
      "# TYPE supervisor_child_cpu_seconds_total counter",
      "# HELP supervisor_child_resident_memory_bytes Resident memory of the processes of the child's current run, at the last sample. Only for a child whose resources were sampled.",
      "# TYPE supervisor_child_resident_memory_bytes gauge",
      "# HELP supervisor_child_processes Processes in the child's current run (its process group), at the last sample. Only for a child whose resources were sampled.",
      "# TYPE supervisor_child_processes gauge",
      "# HELP supervisor_child_start_time_seconds When the child's current process started, in seconds since the Unix epoch. Only while it has a process (STARTING, RUNNING or STOPPING).",
      "# TYPE supervisor_child_start_time_seconds gauge",
      'supervisor_child_start_time_seconds{child="web"} 1767323045.678',
      "# HELP supervisor_child_ready 1 when the child's readiness probe passed for the current run, else 0. Only for a child with a readiness probe.",
      "# TYPE supervisor_child_ready gauge",
      "# HELP supervisor_start_time_seconds When the server started, in seconds since the Unix epoch.",
      "# TYPE supervisor_start_time_seconds gauge",
      "supervisor_start_time_seconds 1767225600",
      "# HELP supervisor_uptime_seconds How long the server has run, in seconds.",
      "# TYPE supervisor_uptime_seconds gauge",
      "supervisor_uptime_seconds 1.5",
      "# HELP supervisor_children Children in each state (every state listed, 0 included; they add up to the number of supervisor_child_up series).",
      "# TYPE supervisor_children gauge",
      'supervisor_children{state="STOPPED"} 0',
      'supervisor_children{state="STARTING"} 0',
      'supervisor_children{state="RUNNING"} 1',
      'supervisor_children{state="BACKOFF"} 0',
      'supervisor_children{state="STOPPING"} 0',
      'supervisor_children{state="EXITED"} 0',
      'supervisor_children{state="FATAL"} 0',
      '# HELP supervisor_requests_total Requests the server answered, by operation and by code ("OK" for a success, else the error code of the response).',
      "# TYPE supervisor_requests_total counter",
      'supervisor_requests_total{op="start",code="OK"} 1',
      "# HELP supervisor_connections_open Connections to the control port open now.",
      "# TYPE supervisor_connections_open gauge",
      "supervisor_connections_open 0",
      "# HELP supervisor_connections_accepted_total Connections to the control port accepted since the server started.",
      "# TYPE supervisor_connections_accepted_total counter",
      "supervisor_connections_accepted_total 3",
      "# HELP supervisor_repeat_timers Repeat timers pending (children with a repeat schedule).",
      "# TYPE supervisor_repeat_timers gauge",
      "supervisor_repeat_timers 2",
      "# HELP supervisor_build_info Always 1; the labels say which supervisor-ts runs, on which Deno, V8 and TypeScript.",
      "# TYPE supervisor_build_info gauge",
      'supervisor_build_info{version="0.1.0",deno="2.9.6",v8="13.0.245.12",typescript="5.6.2"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("children come sorted by name, each with its state as an enum and up", () => {
  const text = renderMetrics(input());
  assert.deepEqual(samples(text, "supervisor_child_up"), [
    'supervisor_child_up{child="adopted"} 1',
    'supervisor_child_up{child="batch"} 0',
    'supervisor_child_up{child="idle"} 0',
    'supervisor_child_up{child="killed"} 0',
    'supervisor_child_up{child="web"} 1',
    'supervisor_child_up{child="web:2"} 0',
    'supervisor_child_up{child="worker"} 0',
  ]);
  const states = samples(text, "supervisor_child_state");
  assert.equal(states.length, FLEET.length * CHILD_STATES.length);
  assert.deepEqual(states.filter((line) => line.endsWith(" 1")), [
    'supervisor_child_state{child="adopted",state="RUNNING"} 1',
    'supervisor_child_state{child="batch",state="EXITED"} 1',
    'supervisor_child_state{child="idle",state="STOPPED"} 1',
    'supervisor_child_state{child="killed",state="FATAL"} 1',
    'supervisor_child_state{child="web",state="RUNNING"} 1',
    'supervisor_child_state{child="web:2",state="STARTING"} 1',
    'supervisor_child_state{child="worker",state="BACKOFF"} 1',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_restarts_total"), [
    'supervisor_child_restarts_total{child="adopted"} 0',
    'supervisor_child_restarts_total{child="batch"} 0',
    'supervisor_child_restarts_total{child="idle"} 0',
    'supervisor_child_restarts_total{child="killed"} 3',
    'supervisor_child_restarts_total{child="web"} 2',
    'supervisor_child_restarts_total{child="web:2"} 0',
    'supervisor_child_restarts_total{child="worker"} 5',
  ]);
  // Restarts an operator asked for are not crashes (web); the first run's crash is (worker).
  assert.deepEqual(samples(text, "supervisor_child_crashes_total"), [
    'supervisor_child_crashes_total{child="adopted"} 0',
    'supervisor_child_crashes_total{child="batch"} 0',
    'supervisor_child_crashes_total{child="idle"} 0',
    'supervisor_child_crashes_total{child="killed"} 4',
    'supervisor_child_crashes_total{child="web"} 0',
    'supervisor_child_crashes_total{child="web:2"} 0',
    'supervisor_child_crashes_total{child="worker"} 6',
  ]);
});

Deno.test("a death by signal is 128 plus its number, and named in last_exit_signal", () => {
  const text = renderMetrics(input());
  // No line for a child that never exited, nor for an adopted run whose status is unknown.
  assert.deepEqual(samples(text, "supervisor_child_last_exit_code"), [
    'supervisor_child_last_exit_code{child="batch"} 0',
    'supervisor_child_last_exit_code{child="killed"} 137',
    'supervisor_child_last_exit_code{child="worker"} 1',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_last_exit_signal"), [
    'supervisor_child_last_exit_signal{child="killed",signal="SIGKILL"} 1',
  ]);
});

Deno.test("a signal the table lacks still names the signal, without an exit code", () => {
  const odd = childData({
    name: "odd",
    state: "EXITED",
    last_exit: exit({ code: null, signal: "SIGNOPE" }),
  });
  const text = renderMetrics(input({ children: [odd] }));
  assert.deepEqual(samples(text, "supervisor_child_last_exit_code"), []);
  assert.deepEqual(samples(text, "supervisor_child_last_exit_signal"), [
    'supervisor_child_last_exit_signal{child="odd",signal="SIGNOPE"} 1',
  ]);
});

Deno.test("signal numbers follow the platform", () => {
  assert.equal(signalNumber("SIGKILL", "linux"), 9);
  assert.equal(signalNumber("SIGTERM", "linux"), 15);
  assert.equal(signalNumber("SIGUSR1", "linux"), 10);
  assert.equal(signalNumber("SIGUSR1", "darwin"), 30);
  assert.equal(signalNumber("SIGCHLD", "darwin"), 20);
  assert.equal(signalNumber("SIGNOPE", "linux"), undefined);
  assert.equal(signalNumber("toString", "linux"), undefined);
});

Deno.test("resources, start time and readiness appear only for the children that have them", () => {
  const text = renderMetrics(input());
  assert.deepEqual(samples(text, "supervisor_child_cpu_seconds_total"), [
    'supervisor_child_cpu_seconds_total{child="web"} 12.34',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_resident_memory_bytes"), [
    'supervisor_child_resident_memory_bytes{child="web"} 52428800',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_processes"), [
    'supervisor_child_processes{child="web"} 3',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_start_time_seconds"), [
    'supervisor_child_start_time_seconds{child="adopted"} 1767225600.5',
    'supervisor_child_start_time_seconds{child="web"} 1767323045.678',
    'supervisor_child_start_time_seconds{child="web:2"} 1767323046',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_ready"), [
    'supervisor_child_ready{child="web"} 1',
    'supervisor_child_ready{child="web:2"} 0',
  ]);
});

Deno.test("CPU seconds are written to the millisecond, without float noise", () => {
  const child = childData({
    name: "web",
    state: "RUNNING",
    resources: {
      cpu_seconds: 0.1 + 0.2,
      cpu_percent: null,
      rss_bytes: 1,
      processes: 1,
      sampled_at: "2026-01-01T00:00:00.000Z",
    },
  });
  const text = renderMetrics(input({ children: [child] }));
  assert.deepEqual(samples(text, "supervisor_child_cpu_seconds_total"), [
    'supervisor_child_cpu_seconds_total{child="web"} 0.3',
  ]);
});

Deno.test("the server's own metrics: uptime, children per state, requests, connections, build", () => {
  const text = renderMetrics(input());
  assert.deepEqual(samples(text, "supervisor_start_time_seconds"), [
    "supervisor_start_time_seconds 1767225600",
  ]);
  assert.deepEqual(samples(text, "supervisor_uptime_seconds"), [
    "supervisor_uptime_seconds 93784.567",
  ]);
  assert.deepEqual(samples(text, "supervisor_children"), [
    'supervisor_children{state="STOPPED"} 1',
    'supervisor_children{state="STARTING"} 1',
    'supervisor_children{state="RUNNING"} 2',
    'supervisor_children{state="BACKOFF"} 1',
    'supervisor_children{state="STOPPING"} 0',
    'supervisor_children{state="EXITED"} 1',
    'supervisor_children{state="FATAL"} 1',
  ]);
  assert.deepEqual(samples(text, "supervisor_requests_total"), [
    'supervisor_requests_total{op="check",code="OK"} 10',
    'supervisor_requests_total{op="start",code="EXITED_EARLY"} 1',
    'supervisor_requests_total{op="start",code="OK"} 4',
  ]);
  assert.deepEqual(samples(text, "supervisor_connections_open"), [
    "supervisor_connections_open 1",
  ]);
  assert.deepEqual(samples(text, "supervisor_connections_accepted_total"), [
    "supervisor_connections_accepted_total 17",
  ]);
  assert.deepEqual(samples(text, "supervisor_repeat_timers"), ["supervisor_repeat_timers 2"]);
});

Deno.test("counts of the same operation and code are added into one series", () => {
  const text = renderMetrics(input({
    requests: [
      { op: "stop", code: "OK", count: 2 },
      { op: "stop", code: "OK", count: 3 },
    ],
  }));
  assert.deepEqual(samples(text, "supervisor_requests_total"), [
    'supervisor_requests_total{op="stop",code="OK"} 5',
  ]);
});

Deno.test("label values escape backslashes, double quotes and newlines", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeLabelValue("web:1"), "web:1");
  // Child names cannot hold these (lib/config/names.ts); the build's labels are free text.
  const text = renderMetrics(input({
    build: { ...BUILD, version: '0.1.0 "dev"\nC:\\build' },
  }));
  assert.deepEqual(samples(text, "supervisor_build_info"), [
    'supervisor_build_info{version="0.1.0 \\"dev\\"\\nC:\\\\build",deno="2.9.6",v8="13.0.245.12",typescript="5.6.2"} 1',
  ]);
});

Deno.test("values: integers as integers, fractions as they are, non-finite as the format spells them", () => {
  assert.equal(formatValue(0), "0");
  assert.equal(formatValue(-0), "0");
  assert.equal(formatValue(52_428_800), "52428800");
  assert.equal(formatValue(1767225600.5), "1767225600.5");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
});

Deno.test("the output does not depend on the order of the input", () => {
  const reversed = input({
    children: [...FLEET].reverse(),
    requests: [...input().requests].reverse(),
  });
  assert.equal(renderMetrics(reversed), renderMetrics(input()));
});

Deno.test("each family is one block: HELP, TYPE, then only its own samples", () => {
  const text = renderMetrics(input());
  assert.ok(text.endsWith("\n") && !text.endsWith("\n\n"));
  const seen = new Set<string>();
  let current = "";
  for (const line of text.trimEnd().split("\n")) {
    const help = /^# HELP (\w+) \S/.exec(line);
    if (help) {
      assert.ok(!seen.has(help[1]!), `${help[1]} declared twice`);
      seen.add(help[1]!);
      current = help[1]!;
      continue;
    }
    const type = /^# TYPE (\w+) (gauge|counter)$/.exec(line);
    if (type) {
      assert.equal(type[1], current);
      assert.equal(type[2] === "counter", current.endsWith("_total"), current);
      continue;
    }
    assert.match(line, /^(\w+)(\{[^}]*\})? \S+$/);
    assert.equal(/^\w+/.exec(line)![0], current, line);
  }
  assert.ok([...seen].every((name) => name.startsWith("supervisor_")));
});

Deno.test("with no children every family is still declared", () => {
  const text = renderMetrics(input({ children: [], requests: [] }));
  assert.match(text, /^# TYPE supervisor_child_state gauge$/m);
  assert.deepEqual(samples(text, "supervisor_child_state"), []);
  assert.deepEqual(samples(text, "supervisor_children").map((line) => line.split(" ")[1]), [
    ...CHILD_STATES.map(() => "0"),
  ]);
});

/** Runs promtool with `args` (and `stdin`); its exit code and everything it printed. */
async function promtool(args: string[], stdin = ""): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

Deno.test({
  name: "promtool check metrics accepts the output without a lint complaint",
  ignore: programs.skip("promtool"),
  async fn() {
    programs.check("promtool");
    for (const metrics of [renderMetrics(input()), renderMetrics(input({ children: [] }))]) {
      const result = await promtool(["check", "metrics"], metrics);
      assert.equal(result.code, 0, result.output);
      assert.equal(result.output.trim(), "");
    }
  },
});

Deno.test({
  name: "the example scrape config and alert rules pass promtool, and the alerts fire",
  ignore: programs.skip("promtool"),
  async fn() {
    programs.check("promtool");
    const config = await promtool(["check", "config", `${EXAMPLES}prometheus.yml`]);
    assert.equal(config.code, 0, config.output);
    assert.match(config.output, /SUCCESS/);
    const rules = await promtool(["check", "rules", `${EXAMPLES}alerts.yml`]);
    assert.equal(rules.code, 0, rules.output);
    assert.match(rules.output, /SUCCESS: \d+ rules found/);
    const tests = await promtool(["test", "rules", `${EXAMPLES}alerts_test.yml`]);
    assert.equal(tests.code, 0, tests.output);
    assert.match(tests.output, /SUCCESS/);
  },
});

Deno.test({
  name: "the example scrape config with its authorization lines uncommented passes promtool",
  ignore: programs.skip("promtool"),
  async fn() {
    programs.check("promtool");
    const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-prometheus-" });
    try {
      const token = `${dir}/supervisor-ts.token`;
      await Deno.writeTextFile(token, "secret\n");
      const example = await Deno.readTextFile(`${EXAMPLES}prometheus.yml`);
      const config = example
        .replace(/^( +)# (authorization:| {2}type:| {2}credentials_file:)/gm, "$1$2")
        .replace("/etc/prometheus/supervisor-ts.token", token);
      assert.match(config, /^ {4}authorization:\n {6}type: Bearer\n {6}credentials_file: /m);
      await Deno.writeTextFile(`${dir}/prometheus.yml`, config);
      await Deno.copyFile(`${EXAMPLES}alerts.yml`, `${dir}/alerts.yml`);
      const result = await promtool(["check", "config", `${dir}/prometheus.yml`]);
      assert.equal(result.code, 0, result.output);
      // promtool reads the credentials file: a missing one fails the check.
      await Deno.remove(token);
      assert.notEqual((await promtool(["check", "config", `${dir}/prometheus.yml`])).code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
