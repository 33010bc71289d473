/**
 * Black-box tests of `GET /metrics`: a real server with `http_listen`, real children, the real
 * client driving them, and the page checked by Prometheus's own `promtool`. Every wait is
 * bounded.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { METRICS_CONTENT_TYPE } from "../lib/web/prometheus.ts";
import { delay, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { requirePrograms } from "./requires.ts";

const programs = requirePrograms(import.meta, ["promtool"]);

/** A child file: `command` as a YAML list (JSON is YAML), then more lines. */
function childYaml(command: readonly string[], ...more: string[]): string {
  return [`command: ${JSON.stringify(command)}`, ...more, ""].join("\n");
}

/** Quick to count as started, so that starts that wait do not take a second each. */
const QUICK = "start_seconds: 0.2";

/** The port of the server's HTTP listener, from the line it prints. */
async function httpPort(server: TestServer): Promise<number> {
  const match = await server.stdout.waitFor(/serving http on http:\/\/127\.0\.0\.1:(\d+)/);
  return Number(match[1]);
}

/** GET `path` on the HTTP listener: the status, the content type and the body. */
async function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    body: await response.text(),
  };
}

/** The sample lines of `text` whose metric name is `name`. */
function samples(text: string, name: string): string[] {
  return text.split("\n").filter((line) =>
    line.startsWith(`${name}{`) || line.startsWith(`${name} `)
  );
}

/** Fails unless `promtool check metrics` takes `text` without a complaint (when it is here). */
async function assertPromtoolAccepts(text: string): Promise<void> {
  if (programs.skip("promtool")) return;
  programs.check("promtool");
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  const said = decoder.decode(out.stdout) + decoder.decode(out.stderr);
  assert.equal(out.code, 0, `promtool check metrics:\n${said}\n${text}`);
  assert.equal(said.trim(), "");
}

Deno.test("/metrics reports a running child, a crashed one and one killed by a signal", async () => {
  await using server = await startServer({
    serverYaml: "http_listen: 127.0.0.1:0",
    children: {
      runner: childYaml(["sleep", "1000"], QUICK),
      crasher: childYaml(["sh", "-c", "exit 3"], QUICK, "restart: never"),
      victim: childYaml(["sleep", "1000"], QUICK, "restart: never"),
    },
  });
  const port = await httpPort(server);

  assert.equal((await server.client("start", "runner")).code, 0);
  const crash = await server.client("start", "crasher");
  assert.equal(crash.code, 1, crash.stdout);
  assert.match(crash.stdout, /EXITED_EARLY/);
  assert.equal((await server.client("start", "victim")).code, 0);
  assert.equal((await server.client("signal", "victim", "KILL")).code, 0);
  await server.waitChild("crasher", (c) => c.state === "EXITED");
  const victim = await server.waitChild("victim", (c) => c.state === "EXITED");
  assert.equal(victim.last_exit?.signal, "SIGKILL");
  const runner = await server.child("runner");

  const page = await get(port, "/metrics");
  assert.equal(page.status, 200, page.body);
  assert.equal(page.type, METRICS_CONTENT_TYPE);
  await assertPromtoolAccepts(page.body);
  const text = page.body;

  assert.deepEqual(
    samples(text, "supervisor_child_state").filter((line) => line.endsWith(" 1")),
    [
      'supervisor_child_state{child="crasher",state="EXITED"} 1',
      'supervisor_child_state{child="runner",state="RUNNING"} 1',
      'supervisor_child_state{child="victim",state="EXITED"} 1',
    ],
  );
  assert.deepEqual(samples(text, "supervisor_child_up"), [
    'supervisor_child_up{child="crasher"} 0',
    'supervisor_child_up{child="runner"} 1',
    'supervisor_child_up{child="victim"} 0',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_restarts_total"), [
    'supervisor_child_restarts_total{child="crasher"} 0',
    'supervisor_child_restarts_total{child="runner"} 0',
    'supervisor_child_restarts_total{child="victim"} 0',
  ]);
  // Exit 3 is not in exit_codes: a crash. The KILL came from an operator, but through
  // `signal`, not `stop`: the server did not end the run, so like the restart policy it
  // counts the run as ended on its own, a crash.
  assert.deepEqual(samples(text, "supervisor_child_crashes_total"), [
    'supervisor_child_crashes_total{child="crasher"} 1',
    'supervisor_child_crashes_total{child="runner"} 0',
    'supervisor_child_crashes_total{child="victim"} 1',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_last_exit_code"), [
    'supervisor_child_last_exit_code{child="crasher"} 3',
    'supervisor_child_last_exit_code{child="victim"} 137',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_last_exit_signal"), [
    'supervisor_child_last_exit_signal{child="victim",signal="SIGKILL"} 1',
  ]);
  assert.deepEqual(samples(text, "supervisor_child_start_time_seconds"), [
    `supervisor_child_start_time_seconds{child="runner"} ${Date.parse(runner.started_at!) / 1000}`,
  ]);
  assert.deepEqual(
    samples(text, "supervisor_children").filter((line) => !line.endsWith(" 0")),
    ['supervisor_children{state="RUNNING"} 1', 'supervisor_children{state="EXITED"} 2'],
  );

  // The client's requests: two starts that worked, one refused, one signal.
  const requests = samples(text, "supervisor_requests_total");
  assert.deepEqual(requests.filter((line) => /op="(start|signal)"/.test(line)), [
    'supervisor_requests_total{op="signal",code="OK"} 1',
    'supervisor_requests_total{op="start",code="EXITED_EARLY"} 1',
    'supervisor_requests_total{op="start",code="OK"} 2',
  ]);
  assert.match(text, /^supervisor_requests_total\{op="check",code="OK"\} [1-9]\d*$/m);
  assert.match(text, /^supervisor_connections_accepted_total [1-9]\d*$/m);
  assert.match(text, /^supervisor_connections_open \d+$/m);
  assert.match(text, /^supervisor_uptime_seconds \d+(\.\d+)?$/m);
  assert.match(text, /^supervisor_start_time_seconds \d+(\.\d+)?$/m);
  assert.match(text, /^supervisor_repeat_timers 0$/m);
  assert.equal(samples(text, "supervisor_build_info").length, 1);
  assert.match(
    text,
    new RegExp(
      `^supervisor_build_info\\{version="[^"]+",deno="${
        Deno.version.deno.replaceAll(".", "\\.")
      }",v8="[^"]+",typescript="[^"]+"\\} 1$`,
      "m",
    ),
  );
});

Deno.test("a scrape samples each running child: its CPU, memory and processes are on /metrics", async () => {
  // No max_memory, no status page: only the scrapes ask for samples.
  await using server = await startServer({
    serverYaml: "http_listen: 127.0.0.1:0\nsample_interval: 1",
    children: { hog: childYaml(["sleep", "1000"], QUICK) },
  });
  const port = await httpPort(server);
  assert.equal((await server.client("start", "hog")).code, 0);
  const deadline = Date.now() + 15_000;
  let text = "";
  for (;;) {
    text = (await get(port, "/metrics")).body;
    if (samples(text, "supervisor_child_resident_memory_bytes").length > 0) break;
    if (Date.now() > deadline) assert.fail(`no resource metrics in 15 s:\n${text}`);
    await delay(200);
  }
  await assertPromtoolAccepts(text);
  assert.match(text, /^supervisor_child_resident_memory_bytes\{child="hog"\} [1-9]\d*$/m);
  assert.match(text, /^supervisor_child_processes\{child="hog"\} 1$/m);
  assert.match(text, /^supervisor_child_cpu_seconds_total\{child="hog"\} \d+(\.\d+)?$/m);
});

Deno.test("with http_token_file, /metrics answers only the bearer token a scrape config sends", async () => {
  const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-token-" });
  try {
    const token = join(dir, "metrics.token");
    await Deno.writeTextFile(token, "s3cret-metrics-token-0123456789\n", { mode: 0o600 });
    await using server = await startServer({
      serverYaml: `http_listen: 127.0.0.1:0\nhttp_token_file: ${token}`,
    });
    const port = await httpPort(server);
    const none = await get(port, "/metrics");
    assert.equal(none.status, 401, none.body);
    const wrong = await get(port, "/metrics", { authorization: "Bearer nope" });
    assert.equal(wrong.status, 401, wrong.body);
    const right = await get(port, "/metrics", {
      authorization: "Bearer s3cret-metrics-token-0123456789",
    });
    assert.equal(right.status, 200, right.body);
    await assertPromtoolAccepts(right.body);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
