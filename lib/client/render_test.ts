import assert from "node:assert/strict";
import { childData } from "../testing/wire_fixtures.ts";
import type { CheckData, ExitData } from "../protocol/payloads.ts";
import type { HostResult } from "./fanout.ts";
import { formatBytes } from "../format.ts";
import {
  changeLine,
  describeExitJson,
  errorLine,
  formatDuration,
  formatPercent,
  renderBody,
  renderResults,
  summaryLine,
} from "./render.ts";

/**
 * An exit with the declared shape: `fields` over plausible values that render as nothing;
 * `expected` unless given: a clean exit (code 0, as with the default `exit_codes`).
 */
function exit(fields: Partial<ExitData>): ExitData {
  const base = {
    code: 0,
    signal: null,
    at: "2026-01-01T00:00:00.000Z",
    ran_ms: 1000,
    requested: false,
    reason: null,
    stderr_tail: [],
  };
  const merged = { ...base, ...fields };
  return {
    ...merged,
    expected: fields.expected ?? (merged.signal === null && merged.code === 0),
    description: merged.signal ? `signal ${merged.signal}` : `exit code ${merged.code}`,
  };
}

/** A child with the declared shape (see lib/testing/wire_fixtures.ts). */
const child = childData;

Deno.test("durations under a second are shown in whole milliseconds", () => {
  assert.equal(formatDuration(0), "0ms");
  assert.equal(formatDuration(1), "1ms");
  assert.equal(formatDuration(850), "850ms");
  assert.equal(formatDuration(999), "999ms");
  assert.equal(formatDuration(-20), "0ms");
});

Deno.test("durations from one second to a minute are whole seconds", () => {
  assert.equal(formatDuration(1000), "1s");
  assert.equal(formatDuration(1999), "1s");
  assert.equal(formatDuration(12_000), "12s");
  assert.equal(formatDuration(59_999), "59s");
});

Deno.test("durations from a minute to an hour are minutes and two-digit seconds", () => {
  assert.equal(formatDuration(60_000), "1m00s");
  assert.equal(formatDuration(192_000), "3m12s");
  assert.equal(formatDuration(3_599_999), "59m59s");
});

Deno.test("durations from an hour to a day are hours and two-digit minutes", () => {
  assert.equal(formatDuration(3_600_000), "1h00m");
  assert.equal(formatDuration(2 * 3_600_000 + 5 * 60_000), "2h05m");
  assert.equal(formatDuration(86_399_999), "23h59m");
});

Deno.test("durations of a day or more are days and two-digit hours", () => {
  assert.equal(formatDuration(86_400_000), "1d00h");
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), "3d04h");
  assert.equal(formatDuration(400 * 86_400_000), "400d00h");
});

Deno.test("an exit is described by code or signal, marked when it was asked for", () => {
  assert.equal(describeExitJson(exit({ code: 1, signal: null, requested: false })), "exit code 1");
  assert.equal(describeExitJson(exit({ code: null, signal: "SIGKILL" })), "signal SIGKILL");
  assert.equal(
    describeExitJson(exit({ code: null, signal: "SIGTERM", requested: true })),
    "signal SIGTERM (stopped)",
  );
  assert.equal(describeExitJson(null), "-");
  assert.equal(describeExitJson("exit" as unknown as ExitData), "-");
});

Deno.test("one host gives one Server HOST response block and no summary", () => {
  const results: HostResult[] = [{ host: "127.0.0.1:33889", ok: true, message: "web started" }];
  assert.equal(
    renderResults("start", "web", results),
    "Server 127.0.0.1:33889 response:\nweb started\n",
  );
});

Deno.test("several hosts give their blocks in the order given, then a summary line", () => {
  const results: HostResult[] = [
    { host: "b:1", ok: true, message: "web started" },
    { host: "h", ok: false, code: "UNREACHABLE", message: "connection refused" },
    { host: "a:2", ok: true, message: "web is already running" },
  ];
  assert.equal(
    renderResults("start", "web", results),
    "Server b:1 response:\nweb started\n\n" +
      "Server h response:\nerror: connection refused [UNREACHABLE]\n\n" +
      "Server a:2 response:\nweb is already running\n\n" +
      "2 ok, 1 failed: h (UNREACHABLE)",
  );
});

Deno.test("no hosts give no output", () => {
  assert.equal(renderResults("check", undefined, []), "");
});

Deno.test("the summary line counts successes and names each failure with its code", () => {
  assert.equal(
    summaryLine([
      { host: "a", ok: true, message: "" },
      { host: "b", ok: true, message: "" },
    ]),
    "2 ok, 0 failed",
  );
  assert.equal(
    summaryLine([
      { host: "a", ok: false, code: "NOT_FOUND", message: "" },
      { host: "b", ok: true, message: "" },
      { host: "c", ok: false, message: "" },
    ]),
    "1 ok, 2 failed: a (NOT_FOUND), c (error)",
  );
});

Deno.test("a failed host's block shows error: MESSAGE [CODE]", () => {
  const message =
    'Cannot start child "web": it is already running (pid 7); use restart or trystart';
  const result: HostResult = { host: "h", ok: false, code: "ALREADY_RUNNING", message };
  assert.equal(renderBody("start", "web", result), `error: ${message} [ALREADY_RUNNING]`);
  assert.equal(
    renderResults("start", "web", [result]),
    `Server h response:\nerror: ${message} [ALREADY_RUNNING]\n`,
  );
});

Deno.test("a refusal whose message names no next step gets a hint line", () => {
  const result: HostResult = {
    host: "h",
    ok: false,
    code: "NOT_FOUND",
    message: 'Cannot find child "ghost"',
  };
  assert.equal(
    renderBody("start", "ghost", result),
    'error: Cannot find child "ghost" [NOT_FOUND]\n' +
      'hint: "check" lists the children this server knows',
  );
});

Deno.test("the server's words on signing get no hint from the client", () => {
  for (const code of ["UNKNOWN_KEY", "FORBIDDEN", "STALE_REQUEST"] as const) {
    const result: HostResult = { host: "h", ok: false, code, message: "Refused: no" };
    assert.equal(renderBody("stop", "web", result), `error: Refused: no [${code}]`);
  }
});

Deno.test("a failure without a code shows only the message", () => {
  assert.equal(
    renderBody("check", undefined, { host: "h", ok: false, message: "oops" }),
    "error: oops",
  );
});

Deno.test("check without a child renders a table with aligned columns, then the message", () => {
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "2 children",
    data: {
      children: [
        child({
          name: "web",
          state: "RUNNING",
          pid: 123,
          uptime_ms: 192_000,
          restarts: 2,
          last_exit: exit({ code: 1, signal: null, requested: false }),
          resources: {
            cpu_seconds: 12.5,
            cpu_percent: 3.25,
            rss_bytes: 47_500_000,
            processes: 2,
            sampled_at: "2026-01-01T00:00:00.000Z",
          },
        }),
        child({
          name: "db-long-name",
          state: "STOPPED",
          pid: null,
          uptime_ms: null,
          restarts: 0,
          last_exit: exit({ code: null, signal: "SIGTERM", requested: true }),
        }),
      ],
      problems: [],
    },
  };
  assert.equal(
    renderBody("check", undefined, result),
    [
      "NAME          STATE    PID  UPTIME  RESTARTS  CPU   MEM    LAST EXIT",
      "web           RUNNING  123  3m12s   2         3.3%  45.3M  exit code 1",
      "db-long-name  STOPPED  -    -       0         -     -      signal SIGTERM (stopped)",
      "2 children",
    ].join("\n"),
  );
});

Deno.test("check of one child renders its details and recent exits", () => {
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "web",
    data: {
      children: [child({
        name: "web",
        state: "EXITED",
        since: "2026-01-01T00:00:00.000Z",
        pid: null,
        uptime_ms: null,
        restarts: 1,
        crashes: 2,
        command: ["sleep", "a b"],
        config_path: "/srv/web.yml",
        last_exit: exit({ code: 3, signal: null, requested: false }),
        error: null,
        history: [
          exit({
            at: "2026-01-01T00:00:00.000Z",
            code: 3,
            signal: null,
            requested: false,
            ran_ms: 1500,
          }),
        ],
      })],
      problems: [],
    },
  };
  assert.equal(
    renderBody("check", "web", result),
    [
      "name:       web",
      "state:      EXITED since 2026-01-01T00:00:00.000Z",
      "pid:        -",
      "uptime:     -",
      "restarts:   1",
      "crashes:    2",
      'command:    "sleep" "a b"',
      "config:     /srv/web.yml",
      "last exit:  exit code 3",
      "recent exits (oldest first):",
      "  2026-01-01T00:00:00.000Z  exit code 3  ran 1s",
    ].join("\n"),
  );
});

Deno.test("info renders the server's facts as aligned lines", () => {
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "supervisor-ts 0.1.0",
    data: {
      version: "0.1.0",
      pid: 42,
      config_path: "/etc/server.yml",
      listen: "127.0.0.1:33889",
      encrypt: "off",
      mode: "quiet",
      loadpaths: [],
      started_at: "2026-01-01T00:00:00.000Z",
      uptime_ms: 3_600_000,
      running: ["api", "web"],
      counts: { RUNNING: 2 },
      repeat_timers: 0,
      problems: [],
    },
  };
  assert.equal(
    renderBody("info", undefined, result),
    [
      "version:      0.1.0",
      "pid:          42",
      "config path:  /etc/server.yml",
      "listen:       127.0.0.1:33889",
      "encrypt:      off",
      "mode:         quiet",
      "loadpaths:    (none)",
      "uptime:       1h00m",
      "running:      api web",
    ].join("\n"),
  );
});

Deno.test("problems the server reports are listed after the body", () => {
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "stopped web",
    data: { children: [], problems: ['loadpath "/x" cannot be read: does not exist'] },
  };
  assert.equal(
    renderBody("stop", "web", result),
    'stopped web\nproblem: loadpath "/x" cannot be read: does not exist',
  );
});

const CHECK_DATA: CheckData = {
  children: [
    child({ name: "web", state: "RUNNING", pid: 1, uptime_ms: 1000, restarts: 0, last_exit: null }),
    child({
      name: "db",
      state: "FATAL",
      pid: null,
      uptime_ms: null,
      restarts: 3,
      last_exit: exit({ code: 1, signal: null, requested: false }),
    }),
    child({
      name: "job",
      state: "BACKOFF",
      pid: null,
      uptime_ms: null,
      restarts: 1,
      last_exit: exit({ code: 2, signal: null, requested: false }),
    }),
  ],
  problems: [],
};

const CHECK: HostResult = { host: "h", ok: true, message: "3 children", data: CHECK_DATA };

/** `text` as paint() colours it: 31 red, 32 green, 33 yellow. */
const painted = (text: string, code: number) => `\x1b[${code}m${text}\x1b[39m`;

/** The text without its colour codes. */
const unpainted = (text: string) =>
  [31, 32, 33, 39].reduce((t, code) => t.replaceAll(`\x1b[${code}m`, ""), text);

Deno.test("with colour off, nothing rendered holds an escape code", () => {
  const failed: HostResult = { host: "x", ok: false, code: "NOT_FOUND", message: "gone" };
  const text = renderResults("check", undefined, [CHECK, failed], false);
  assert.ok(!text.includes("\x1b"), text);
  assert.equal(text, renderResults("check", undefined, [CHECK, failed]));
});

Deno.test("with colour on, check paints states and keeps the columns aligned", () => {
  const text = renderBody("check", undefined, CHECK, true);
  assert.ok(text.includes(painted("RUNNING", 32)), text);
  assert.ok(text.includes(painted("FATAL", 31)), text);
  assert.ok(text.includes(painted("BACKOFF", 33)), text);
  assert.equal(unpainted(text), renderBody("check", undefined, CHECK, false));
});

Deno.test("with colour on, check of one child paints its state", () => {
  const one: HostResult = {
    ...CHECK,
    data: { children: [{ ...CHECK_DATA.children[1]!, since: "t" }], problems: [] },
  };
  const text = renderBody("check", "db", one, true);
  assert.ok(text.includes(`state:      ${painted("FATAL", 31)} since t\n`), text);
  assert.equal(unpainted(text), renderBody("check", "db", one, false));
});

Deno.test("with colour on, error: is red and the summary's failures are red", () => {
  const failed: HostResult = { host: "x", ok: false, code: "BUSY", message: "busy; try again" };
  assert.equal(
    renderBody("stop", "web", failed, true),
    `${painted("error:", 31)} busy; try again [BUSY]`,
  );
  assert.equal(errorLine("bad", true), `${painted("error:", 31)} bad`);
  assert.equal(errorLine("bad"), "error: bad");
  assert.equal(summaryLine([CHECK, failed], true), `1 ok, ${painted("1 failed", 31)}: x (BUSY)`);
});

const EXITED_EARLY_MESSAGE = [
  'Cannot start child "db": pid 7 exited 5 ms after it started (exit code 3); its last stderr lines:',
  "  boom",
  "  no database at /var/db",
].join("\n");

const BULK_FAILED: HostResult = {
  host: "h",
  ok: false,
  code: "SOME_FAILED",
  message: "start all: 1 done, 1 failed: db (EXITED_EARLY)",
  data: {
    results: [
      { child: "db", ok: false, code: "EXITED_EARLY", message: EXITED_EARLY_MESSAGE },
      { child: "web", ok: true, message: "start web success" },
    ],
  },
};

Deno.test("a bulk answer shows a line per child, then the summary", () => {
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "restart all success: 2 children",
    data: {
      results: [
        { child: "api", ok: true, message: "restart api success" },
        { child: "web", ok: true, message: "restart web success" },
      ],
    },
  };
  assert.equal(
    renderBody("restart", "all", result),
    "api: restart api success\nweb: restart web success\nrestart all success: 2 children",
  );
});

Deno.test("a bulk answer with failures shows each failure with its code, lines and hint", () => {
  assert.equal(
    renderBody("start", "all", BULK_FAILED),
    [
      'db: error: Cannot start child "db": pid 7 exited 5 ms after it started (exit code 3); its last stderr lines: [EXITED_EARLY]',
      "    boom",
      "    no database at /var/db",
      '  hint: "log db --stderr" shows more of what it wrote',
      "web: start web success",
      "error: start all: 1 done, 1 failed: db (EXITED_EARLY) [SOME_FAILED]",
    ].join("\n"),
  );
});

Deno.test("with colour on, a bulk answer paints the failed children red and them only", () => {
  const text = renderBody("start", "all", BULK_FAILED, true);
  const lines = text.split("\n");
  const db = lines[0]!;
  assert.ok(db.startsWith(painted("db: error: ", 31).slice(0, -5)), db);
  assert.equal(db, painted(unpainted(db), 31), "the whole first line is red");
  assert.ok(lines.includes("web: start web success"), text);
  assert.ok(lines.at(-1)!.startsWith(`${painted("error:", 31)} start all: 1 done`), text);
  assert.equal(unpainted(text), renderBody("start", "all", BULK_FAILED));
});

Deno.test("an update with nothing to do shows its summary alone", () => {
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "update success: 0 children",
    data: { results: [] },
  };
  assert.equal(renderBody("update", undefined, result), "update success: 0 children");
});

Deno.test("signal shows the server's message", () => {
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "signal web success: SIGHUP sent to its process group 42",
    data: { pid: 42, signal: "SIGHUP", group: true },
  };
  assert.equal(
    renderBody("signal", "web", result),
    "signal web success: SIGHUP sent to its process group 42",
  );
});

Deno.test("a start that exited early shows the code on the first line and the stderr lines below", () => {
  const result: HostResult = {
    host: "h",
    ok: false,
    code: "EXITED_EARLY",
    message: EXITED_EARLY_MESSAGE,
  };
  assert.equal(
    renderBody("start", "db", result),
    [
      'error: Cannot start child "db": pid 7 exited 5 ms after it started (exit code 3); its last stderr lines: [EXITED_EARLY]',
      "    boom",
      "    no database at /var/db",
      'hint: "log db --stderr" shows more of what it wrote',
    ].join("\n"),
  );
});

const DRIFTED: CheckData = {
  children: [
    child({ name: "api", state: "RUNNING", pid: 1, uptime_ms: 1000, drift: "changed" }),
    child({
      name: "db",
      state: "RUNNING",
      pid: 2,
      uptime_ms: 1000,
      drift: "invalid",
      config_error: "db.yml:1:1: bad",
    }),
    child({ name: "job", state: "BACKOFF", drift: "removed" }),
    child({ name: "web", state: "RUNNING", pid: 3, uptime_ms: 1000 }),
  ],
  problems: [],
};

Deno.test("check marks each child whose config file differs from its run's after its state", () => {
  const result: HostResult = { host: "h", ok: true, message: "4 children", data: DRIFTED };
  assert.equal(
    renderBody("check", undefined, result),
    [
      "NAME  STATE                     PID  UPTIME  RESTARTS  CPU  MEM  LAST EXIT",
      "api   RUNNING (config changed)  1    1s      0         -    -    -",
      "db    RUNNING (config invalid)  2    1s      0         -    -    -",
      "job   BACKOFF (file removed)    -    -       0         -    -    -",
      "web   RUNNING                   3    1s      0         -    -    -",
      "4 children",
    ].join("\n"),
  );
  const text = renderBody("check", undefined, result, true);
  assert.ok(text.includes(painted("RUNNING", 32) + painted(" (config changed)", 33)), text);
  assert.equal(unpainted(text), renderBody("check", undefined, result));
});

Deno.test("check of a child whose config changed says that update applies it", () => {
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "api",
    data: { children: [{ ...DRIFTED.children[0]!, config_path: "/srv/api.yml" }], problems: [] },
  };
  const text = renderBody("check", "api", result);
  assert.match(
    text,
    /^config: {5}\/srv\/api\.yml\n {12}changed since this run started \(update applies it\)\n/m,
  );
});

Deno.test("check of a child whose config is invalid shows the config error, every line", () => {
  const db = { ...DRIFTED.children[1]!, config_error: "Config is invalid:\ndb.yml:1:1: bad" };
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "db",
    data: { children: [db], problems: [] },
  };
  const lines = renderBody("check", "db", result).split("\n");
  const at = lines.findIndex((l) => l.startsWith("config:"));
  assert.deepEqual(lines.slice(at, at + 4), [
    "config:        -",
    "               cannot be used now: this run keeps the config it started with",
    "config error:  Config is invalid:",
    "               db.yml:1:1: bad",
  ]);
});

Deno.test("an exit with one of the child's exit_codes is not red, and is marked expected", () => {
  const ended = (code: number, expected: boolean) =>
    child({ name: `c${code}`, state: "EXITED", last_exit: exit({ code, expected }) });
  const result: HostResult = {
    host: "h",
    ok: true,
    message: "3 children",
    data: { children: [ended(0, true), ended(2, true), ended(3, false)], problems: [] },
  };
  const text = renderBody("check", undefined, result, true);
  assert.match(unpainted(text), /^c0 +EXITED .* exit code 0$/m);
  assert.match(unpainted(text), /^c2 +EXITED .* exit code 2 \(expected\)$/m);
  assert.match(text, /^c0 +EXITED /m, "not painted");
  assert.match(text, /^c2 +EXITED /m, "not painted");
  assert.ok(text.includes(`c3    ${painted("EXITED", 31)}`), text);
});

Deno.test("bytes and CPU as the check table shows them", () => {
  assert.equal(formatBytes(0), "0B");
  assert.equal(formatBytes(812 * 1024), "812K");
  assert.equal(formatBytes(1536), "1.50K");
  assert.equal(formatBytes(47_500_000), "45.3M");
  assert.equal(formatBytes(3 * 2 ** 30), "3.00G");
  assert.equal(formatPercent(null), "-");
  assert.equal(formatPercent(0), "0.0%");
  assert.equal(formatPercent(187.46), "187.5%");
});

Deno.test("a change of state on one line, with the exit and the server's reason", () => {
  assert.equal(
    changeLine({
      child: "api",
      from: "RUNNING",
      to: "BACKOFF",
      at: "2026-12-01T09:00:00.000Z",
      exit: exit({ code: null, signal: "SIGTERM", requested: false }),
      reason: "memory limit",
    }),
    "2026-12-01T09:00:00.000Z api RUNNING -> BACKOFF signal SIGTERM (memory limit)",
  );
  assert.equal(
    changeLine({
      child: "api",
      from: "STOPPED",
      to: "STARTING",
      at: "2026-12-01T09:00:00.000Z",
      exit: null,
      reason: null,
    }),
    "2026-12-01T09:00:00.000Z api STOPPED -> STARTING",
  );
});
