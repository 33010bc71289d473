import assert from "node:assert/strict";
import { Checker } from "./checker.ts";
import { parseProbe, PROBE_DEFAULTS } from "./probe_config.ts";
import type { ProbeConfig, ProbeRole } from "./probe_config.ts";
import { YamlSource } from "./yaml_source.ts";

const FILE = "/srv/children/db.yml";

/** Parses a child file's text and validates its `ready:` or `health:` value. */
function parse(text: string, key: ProbeRole = "ready") {
  const source = YamlSource.parse(FILE, text);
  const check = new Checker(source);
  const map = check.record(source.value, [], "child config") ?? {};
  const probe = parseProbe(check, map[key], key);
  return { probe, problems: check.problems };
}

/** The probe `text` describes, which must have no problem. */
function probeOf(text: string, key: ProbeRole = "ready"): ProbeConfig | undefined {
  const { probe, problems } = parse(text, key);
  assert.deepEqual(problems, []);
  return probe;
}

/** Asserts that `text` is rejected with exactly these problems, and yields no probe. */
function assertProblems(
  text: string,
  expected: { line: number; col: number; message: string }[],
  key: ProbeRole = "ready",
): void {
  const { probe, problems } = parse(text, key);
  assert.deepEqual(problems, expected.map((problem) => ({ file: FILE, ...problem })));
  assert.equal(probe, undefined);
}

/** The action fields of the probe `text` describes. */
function actionOf(text: string, key: ProbeRole = "ready") {
  const probe = probeOf(text, key);
  assert.ok(probe);
  switch (probe.kind) {
    case "tcp":
      return { kind: probe.kind, host: probe.host, port: probe.port };
    case "http":
      return { kind: probe.kind, url: probe.url };
    case "exec":
      return { kind: probe.kind, argv: probe.argv };
    case "log":
      return { kind: probe.kind, source: probe.source };
  }
}

Deno.test("a ready probe with only tcp gets every default", () => {
  assert.deepEqual(probeOf("command: x\nready:\n  tcp: 127.0.0.1:5432\n"), {
    kind: "tcp",
    host: "127.0.0.1",
    port: 5432,
    role: "ready",
    initialDelayMs: 0,
    periodMs: 1000,
    timeoutMs: 1000,
    successThreshold: 1,
    failureThreshold: 3,
    timeoutTotalMs: 60_000,
  });
  assert.deepEqual(PROBE_DEFAULTS, {
    initialDelayMs: 0,
    periodMs: 1000,
    timeoutMs: 1000,
    successThreshold: 1,
    failureThreshold: 3,
    timeoutTotalMs: 60_000,
  });
});

Deno.test("a health probe has no total timeout", () => {
  const probe = probeOf("command: x\nhealth:\n  http: http://127.0.0.1:8080/healthz\n", "health");
  assert.deepEqual(probe, {
    kind: "http",
    url: "http://127.0.0.1:8080/healthz",
    role: "health",
    initialDelayMs: 0,
    periodMs: 1000,
    timeoutMs: 1000,
    successThreshold: 1,
    failureThreshold: 3,
    timeoutTotalMs: undefined,
  });
});

Deno.test("every timing key is read, in seconds with fractions, into milliseconds", () => {
  const probe = probeOf(
    [
      "command: x",
      "ready:",
      "  exec: pg_isready -h 127.0.0.1",
      "  initial_delay: 0.5",
      "  period: 0.25",
      "  timeout: 2",
      "  success_threshold: 2",
      "  failure_threshold: 5",
      "  timeout_total: 90",
      "",
    ].join("\n"),
  );
  assert.deepEqual(probe, {
    kind: "exec",
    argv: ["pg_isready", "-h", "127.0.0.1"],
    role: "ready",
    initialDelayMs: 500,
    periodMs: 250,
    timeoutMs: 2000,
    successThreshold: 2,
    failureThreshold: 5,
    timeoutTotalMs: 90_000,
  });
});

Deno.test("the shortest period is 50 ms, and a tiny timeout is still at least 1 ms", () => {
  const probe = probeOf("ready:\n  tcp: 80\n  period: 0.05\n  timeout: 0.0001\n");
  assert.equal(probe?.periodMs, 50);
  assert.equal(probe?.timeoutMs, 1);
});

Deno.test("an absent or empty probe is no probe, and no problem", () => {
  assert.equal(probeOf("command: x\n"), undefined);
  assert.equal(probeOf("command: x\nready:\n"), undefined);
  assert.equal(probeOf("command: x\nhealth: ~\n", "health"), undefined);
});

Deno.test("tcp takes a port alone (on 127.0.0.1), host:port, or [IPv6]:port", () => {
  assert.deepEqual(actionOf("ready:\n  tcp: 5432\n"), {
    kind: "tcp",
    host: "127.0.0.1",
    port: 5432,
  });
  assert.deepEqual(actionOf("ready:\n  tcp: '5432'\n"), {
    kind: "tcp",
    host: "127.0.0.1",
    port: 5432,
  });
  assert.deepEqual(actionOf("ready:\n  tcp: localhost:80\n"), {
    kind: "tcp",
    host: "localhost",
    port: 80,
  });
  assert.deepEqual(actionOf("ready:\n  tcp: db-1.internal:65535\n"), {
    kind: "tcp",
    host: "db-1.internal",
    port: 65535,
  });
  assert.deepEqual(actionOf("ready:\n  tcp: '[::1]:5432'\n"), {
    kind: "tcp",
    host: "::1",
    port: 5432,
  });
  assert.deepEqual(actionOf("ready:\n  tcp: '[fe80::1%eth0]:22'\n"), {
    kind: "tcp",
    host: "fe80::1%eth0",
    port: 22,
  });
});

Deno.test("a tcp address without a valid port or host is rejected with the forms expected", () => {
  const expected = (found: string) =>
    "ready.tcp must be PORT, HOST:PORT or [IPV6]:PORT with a port from 1 to 65535, such as " +
    `5432, 127.0.0.1:5432 or [::1]:5432, found ${found}`;
  assertProblems("ready:\n  tcp: 0\n", [{ line: 2, col: 8, message: expected("0") }]);
  assertProblems("ready:\n  tcp: 127.0.0.1:65536\n", [
    { line: 2, col: 8, message: expected('"127.0.0.1:65536"') },
  ]);
  assertProblems("ready:\n  tcp: 'db:'\n", [{ line: 2, col: 8, message: expected('"db:"') }]);
  assertProblems("ready:\n  tcp: db\n", [{ line: 2, col: 8, message: expected('"db"') }]);
  assertProblems("ready:\n  tcp: 'my db:80'\n", [
    { line: 2, col: 8, message: expected('"my db:80"') },
  ]);
  assertProblems("ready:\n  tcp: '[db]:80'\n", [{
    line: 2,
    col: 8,
    message: expected('"[db]:80"'),
  }]);
  assertProblems("ready:\n  tcp: 80.5\n", [{ line: 2, col: 8, message: expected("80.5") }]);
  assertProblems("ready:\n  tcp: [127.0.0.1, 80]\n", [
    { line: 2, col: 8, message: expected('["127.0.0.1",80]') },
  ]);
});

Deno.test("an IPv6 tcp address without brackets is rejected with the bracketed form", () => {
  assertProblems("ready:\n  tcp: '::1:5432'\n", [{
    line: 2,
    col: 8,
    message: 'ready.tcp "::1:5432" has an IPv6 address without brackets: write it as ' +
      "[ADDRESS]:PORT, such as [::1]:5432",
  }]);
});

Deno.test("http takes an http or https URL, normalised", () => {
  assert.deepEqual(actionOf("health:\n  http: http://127.0.0.1:8080/healthz\n", "health"), {
    kind: "http",
    url: "http://127.0.0.1:8080/healthz",
  });
  assert.deepEqual(actionOf("ready:\n  http: HTTPS://Example.COM\n"), {
    kind: "http",
    url: "https://example.com/",
  });
});

Deno.test("http rejects other schemes, URLs without a scheme, and non-strings", () => {
  const expected = (found: string) =>
    "ready.http must be an http:// or https:// URL, such as http://127.0.0.1:8080/healthz, " +
    `found ${found}`;
  assertProblems("ready:\n  http: ftp://127.0.0.1/\n", [
    { line: 2, col: 9, message: expected('"ftp://127.0.0.1/"') },
  ]);
  assertProblems("ready:\n  http: 127.0.0.1:8080/healthz\n", [
    { line: 2, col: 9, message: expected('"127.0.0.1:8080/healthz"') },
  ]);
  assertProblems("ready:\n  http: 'http://'\n", [
    { line: 2, col: 9, message: expected('"http://"') },
  ]);
  assertProblems("ready:\n  http: 8080\n", [{ line: 2, col: 9, message: expected("8080") }]);
});

Deno.test("exec is split like a shell splits words, or taken word for word from a list", () => {
  assert.deepEqual(actionOf(`ready:\n  exec: sh -c 'test -S "/run/db.sock"'\n`), {
    kind: "exec",
    argv: ["sh", "-c", 'test -S "/run/db.sock"'],
  });
  assert.deepEqual(actionOf("ready:\n  exec: [redis-cli, -p, 6379, ping]\n"), {
    kind: "exec",
    argv: ["redis-cli", "-p", "6379", "ping"],
  });
});

Deno.test("an exec that cannot be split, names no program, or is not a command is rejected", () => {
  assertProblems('ready:\n  exec: "sh -c \'exit 0"\n', [{
    line: 2,
    col: 9,
    message: `ready.exec "sh -c 'exit 0" cannot be split: unterminated single quote`,
  }]);
  assertProblems("ready:\n  exec: '  '\n", [
    { line: 2, col: 9, message: 'ready.exec must name a program to run, found "  "' },
  ]);
  assertProblems("ready:\n  exec: []\n", [
    { line: 2, col: 9, message: "ready.exec must not be an empty list" },
  ]);
  assertProblems("ready:\n  exec: ['', x]\n", [
    { line: 2, col: 10, message: "the program to run must not be empty" },
  ]);
  assertProblems("ready:\n  exec: [ping, {a: 1}]\n", [{
    line: 2,
    col: 16,
    message: 'each entry of ready.exec must be a string, number or boolean, found {"a":1}',
  }]);
  assertProblems("ready:\n  exec: {program: x}\n", [{
    line: 2,
    col: 9,
    message: 'ready.exec must be a string or a list of strings, found {"program":"x"}',
  }]);
});

Deno.test("log is a JavaScript regular expression, kept as written", () => {
  const probe = probeOf('ready:\n  log: "ready to accept connections|listening on :\\\\d+"\n');
  assert.ok(probe?.kind === "log");
  assert.equal(probe.source, String.raw`ready to accept connections|listening on :\d+`);
  assert.ok(probe.pattern.test("2024-01-01 LOG: database system is ready to accept connections"));
  assert.ok(probe.pattern.test("listening on :8080"));
  assert.ok(!probe.pattern.test("listening on :http"));
  assert.equal(probe.pattern.flags, "");
  assert.equal(probe.timeoutTotalMs, 60_000);
  const ignoringCase = probeOf("ready:\n  log: '(?i:ready)'\n  timeout_total: 5\n");
  assert.ok(ignoringCase?.kind === "log");
  assert.ok(ignoringCase.pattern.test("Server READY"));
  assert.equal(ignoringCase.timeoutTotalMs, 5000);
});

Deno.test("a log pattern that is not a valid regular expression is rejected with the reason", () => {
  assertProblems("command: x\nready:\n  log: 'started (pid'\n", [{
    line: 3,
    col: 8,
    message: 'ready.log "started (pid" is not a valid regular expression: Unterminated group',
  }]);
  assertProblems("ready:\n  log: '*ready'\n", [{
    line: 2,
    col: 8,
    message: 'ready.log "*ready" is not a valid regular expression: Nothing to repeat',
  }]);
  assertProblems("ready:\n  log: ''\n", [{
    line: 2,
    col: 8,
    message: 'ready.log (a regular expression) must be a non-empty string, found ""',
  }]);
});

Deno.test("a log probe takes no timing key but timeout_total", () => {
  assertProblems("ready:\n  log: ready\n  period: 2\n  failure_threshold: 1\n", [
    {
      line: 3,
      col: 3,
      message:
        "ready.period does not apply to a log probe: the child is ready at the first matching line",
    },
    {
      line: 4,
      col: 3,
      message:
        "ready.failure_threshold does not apply to a log probe: the child is ready at the first " +
        "matching line",
    },
  ]);
});

Deno.test("health cannot be a log probe", () => {
  assertProblems("health:\n  log: ready\n", [{
    line: 2,
    col: 3,
    message: "health cannot be a log probe: a line marks a child ready once, but says nothing " +
      "of its health later; use tcp, http or exec",
  }], "health");
});

Deno.test("a probe must name exactly one of tcp, http, exec or log", () => {
  assertProblems("command: x\nready:\n  period: 2\n", [{
    line: 3,
    col: 3,
    message: "ready must have exactly one of tcp, http, exec or log, found none",
  }]);
  assertProblems("ready:\n  tcp: 5432\n  http: http://127.0.0.1/\n", [{
    line: 3,
    col: 3,
    message: "ready must have exactly one of tcp, http, exec or log, found tcp and http",
  }]);
});

Deno.test("a probe that is not a mapping is rejected", () => {
  assertProblems("ready: 5432\n", [{
    line: 1,
    col: 8,
    message: "ready must be a mapping of keys to values, found 5432",
  }]);
});

Deno.test("an unknown key is rejected with a suggestion and the keys expected", () => {
  assertProblems("ready:\n  tcp: 5432\n  perod: 2\n", [{
    line: 3,
    col: 3,
    message: 'unknown key "perod" in ready (did you mean "period"?); expected one of: tcp, ' +
      "http, exec, log, initial_delay, period, timeout, success_threshold, failure_threshold, " +
      "timeout_total",
  }]);
});

Deno.test("timing values out of bounds are rejected with their bounds", () => {
  assertProblems(
    [
      "ready:",
      "  tcp: 5432",
      "  initial_delay: -1",
      "  period: 0.01",
      "  timeout: 0",
      "  success_threshold: 1.5",
      "  failure_threshold: 0",
      "  timeout_total: 0",
      "",
    ].join("\n"),
    [
      {
        line: 3,
        col: 18,
        message: "ready.initial_delay (seconds) must be a number from 0 to 86400, found -1",
      },
      {
        line: 4,
        col: 11,
        message: "ready.period (seconds) must be a number from 0.05 to 86400, found 0.01",
      },
      {
        line: 5,
        col: 12,
        message: "ready.timeout (seconds) must be a number greater than 0 and at most 86400, " +
          "found 0",
      },
      {
        line: 6,
        col: 22,
        message: "ready.success_threshold must be a whole number from 1 to 1000000, found 1.5",
      },
      {
        line: 7,
        col: 22,
        message: "ready.failure_threshold must be a whole number from 1 to 1000000, found 0",
      },
      {
        line: 8,
        col: 18,
        message:
          "ready.timeout_total (seconds) must be a number greater than 0 and at most 86400, " +
          "found 0",
      },
    ],
  );
  assertProblems("health:\n  tcp: 5432\n  period: '1s'\n", [{
    line: 3,
    col: 11,
    message: 'health.period (seconds) must be a number from 0.05 to 86400, found "1s"',
  }], "health");
});

Deno.test("health has no timeout_total", () => {
  assertProblems("health:\n  tcp: 5432\n  timeout_total: 30\n", [{
    line: 3,
    col: 3,
    message: "health.timeout_total is not allowed: only ready has a total timeout (a health " +
      "probe watches the child for as long as it runs)",
  }], "health");
});

Deno.test("an initial delay as long as the total timeout is rejected", () => {
  assertProblems("ready:\n  tcp: 5432\n  initial_delay: 60\n", [{
    line: 3,
    col: 18,
    message: "ready.initial_delay (60 s) must be less than ready.timeout_total (60 s): the " +
      "child could never become ready",
  }]);
  assert.equal(
    probeOf("ready:\n  tcp: 5432\n  initial_delay: 60\n  timeout_total: 61\n")
      ?.initialDelayMs,
    60_000,
  );
});

Deno.test("every problem of a probe is reported at once", () => {
  assertProblems("health:\n  exec: ''\n  period: 0\n  timeout: x\n", [
    { line: 2, col: 9, message: 'health.exec must name a program to run, found ""' },
    {
      line: 3,
      col: 11,
      message: "health.period (seconds) must be a number from 0.05 to 86400, found 0",
    },
    {
      line: 4,
      col: 12,
      message: "health.timeout (seconds) must be a number greater than 0 and at most 86400, " +
        'found "x"',
    },
  ], "health");
});
