import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";
import { DEFAULT_LIMITS, DEFAULT_PORT, parseServerConfig } from "./server_config.ts";

const DIR = "/etc/supervisor-ts";
const FILE = `${DIR}/server.yml`;

/** The problems of the ConfigError that parsing `text` throws. */
function problemsOf(text: string): readonly ConfigProblem[] {
  try {
    parseServerConfig(FILE, text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

Deno.test("an empty server.yml gives every default", () => {
  assert.deepEqual(parseServerConfig(FILE, ""), {
    path: FILE,
    dir: DIR,
    loadpaths: [],
    mode: "quiet",
    startup: [],
    encrypt: false,
    pubKeysPath: [],
    listenerAddr: "127.0.0.1",
    ipv6: false,
    listenerPort: 33889,
    limits: {
      maxRequestBytes: 65536,
      readTimeoutMs: 30_000,
      maxConnections: 1024,
      maxNonces: 100_000,
      maxFollows: 256,
    },
    legacy: true,
    legacySetting: undefined,
    signWindowMs: 30_000,
    permissions: new Map(),
    auditLog: undefined,
    controlSocket: undefined,
    stateFile: undefined,
    http: undefined,
    sampleIntervalMs: 5000,
    syncLogWrites: true,
  });
  assert.equal(DEFAULT_PORT, 33889);
});

Deno.test("the default listener is loopback, not every interface", () => {
  const config = parseServerConfig(FILE, "mode: quiet\n");
  assert.equal(config.listenerAddr, "127.0.0.1");
  assert.equal(config.listenerPort, 33889);
});

Deno.test("ipv6 without listener_addr listens on ::", () => {
  const config = parseServerConfig(FILE, "ipv6: true\n");
  assert.equal(config.ipv6, true);
  assert.equal(config.listenerAddr, "::");
});

Deno.test("an explicit listener_addr wins over ipv6", () => {
  const config = parseServerConfig(FILE, "ipv6: true\nlistener_addr: ::1\n");
  assert.equal(config.listenerAddr, "::1");
});

Deno.test("encrypt accepts YAML booleans", () => {
  const on = parseServerConfig(FILE, "encrypt: true\npub_keys_path: [keys]\n");
  assert.equal(on.encrypt, true);
  assert.equal(parseServerConfig(FILE, "encrypt: false\n").encrypt, false);
});

Deno.test('encrypt accepts the strings "on" and "off" that YAML 1.2 reads from on and off', () => {
  const on = parseServerConfig(FILE, "encrypt: on\npub_keys_path: [keys]\n");
  assert.equal(on.encrypt, true);
  assert.equal(parseServerConfig(FILE, "encrypt: off\n").encrypt, false);
  assert.equal(parseServerConfig(FILE, 'encrypt: "OFF"\n').encrypt, false);
  assert.equal(parseServerConfig(FILE, "encrypt: 'On'\npub_keys_path: [k]\n").encrypt, true);
});

Deno.test("encrypt rejects any other word with the quoted value", () => {
  assert.deepEqual(problemsOf("encrypt: maybe\n"), [{
    file: FILE,
    line: 1,
    col: 10,
    message: 'encrypt must be on or off (or true/false), found "maybe"',
  }]);
});

Deno.test("encrypt on without any pub_keys_path is rejected", () => {
  assert.deepEqual(problemsOf("encrypt: on\n"), [{
    file: FILE,
    line: 1,
    col: 10,
    message: "encrypt is on but pub_keys_path lists no directory of public keys",
  }]);
});

Deno.test("relative loadpaths and pub_keys_path resolve against the server.yml directory", () => {
  const config = parseServerConfig(
    FILE,
    "loadpaths:\n  - children\n  - ../shared/children\n  - /opt/children\npub_keys_path: [keys]\n",
  );
  assert.deepEqual(config.loadpaths, [
    `${DIR}/children`,
    "/etc/shared/children",
    "/opt/children",
  ]);
  assert.deepEqual(config.pubKeysPath, [`${DIR}/keys`]);
});

Deno.test("a relative server.yml path is resolved against the working directory", () => {
  const config = parseServerConfig("conf/server.yml", "loadpaths: [children]\n");
  assert.equal(config.path, `${Deno.cwd()}/conf/server.yml`);
  assert.deepEqual(config.loadpaths, [`${Deno.cwd()}/conf/children`]);
});

Deno.test("loadpaths must be a list of strings", () => {
  assert.deepEqual(problemsOf("loadpaths: children\n"), [{
    file: FILE,
    line: 1,
    col: 12,
    message: 'loadpaths must be a list, found "children"',
  }]);
});

Deno.test("mode and startup are read as given", () => {
  const config = parseServerConfig(FILE, "mode: half\nstartup: [web, worker]\n");
  assert.equal(config.mode, "half");
  assert.deepEqual(config.startup, ["web", "worker"]);
});

Deno.test("a misspelt mode is rejected with a suggestion", () => {
  assert.deepEqual(problemsOf("mode: fulll\n"), [{
    file: FILE,
    line: 1,
    col: 7,
    message: 'mode must be one of quiet, half, full, found "fulll" (did you mean "full"?)',
  }]);
});

Deno.test("listener_port 0 is allowed and means an ephemeral port", () => {
  assert.equal(parseServerConfig(FILE, "listener_port: 0\n").listenerPort, 0);
  assert.equal(parseServerConfig(FILE, "listener_port: 65535\n").listenerPort, 65535);
});

Deno.test("listener_port above 65535, fractional or quoted is rejected", () => {
  assert.deepEqual(problemsOf("listener_port: 70000\n"), [{
    file: FILE,
    line: 1,
    col: 16,
    message: "listener_port must be a whole number from 0 to 65535, found 70000",
  }]);
  assert.equal(
    problemsOf("listener_port: 80.5\n")[0]?.message,
    "listener_port must be a whole number from 0 to 65535, found 80.5",
  );
  assert.equal(
    problemsOf('listener_port: "80"\n')[0]?.message,
    'listener_port must be a whole number from 0 to 65535, found "80"',
  );
});

Deno.test("an unknown key is rejected with its position and a suggestion", () => {
  assert.deepEqual(problemsOf("mode: quiet\nloadpath: [a]\n"), [{
    file: FILE,
    line: 2,
    col: 1,
    message: 'unknown key "loadpath" in server config (did you mean "loadpaths"?); expected one ' +
      "of: loadpaths, mode, startup, encrypt, pub_keys_path, listener_addr, ipv6, " +
      "listener_port, limits, legacy, sign_window, permissions, audit_log, control_socket, state_file, sync_log_writes, http_listen, http_token_file, http_actions, sample_interval",
  }]);
});

Deno.test("a server.yml that is not a mapping is rejected", () => {
  assert.equal(
    problemsOf("- loadpaths\n")[0]?.message,
    'server config must be a mapping of keys to values, found ["loadpaths"]',
  );
});

Deno.test("the limits block gives read_timeout in seconds and keeps it in milliseconds", () => {
  const config = parseServerConfig(
    FILE,
    "limits:\n  read_timeout: 2.5\n  max_request_bytes: 1024\n  max_connections: 10\n",
  );
  assert.deepEqual(config.limits, {
    maxRequestBytes: 1024,
    readTimeoutMs: 2500,
    maxConnections: 10,
    maxNonces: 100_000,
    maxFollows: 256,
  });
});

Deno.test("limits left out keep their defaults", () => {
  const config = parseServerConfig(FILE, "limits:\n  max_connections: 5\n");
  assert.deepEqual(config.limits, { ...DEFAULT_LIMITS, maxConnections: 5 });
});

Deno.test("a limits key typo is rejected with a suggestion", () => {
  assert.deepEqual(problemsOf("limits:\n  read_timout: 1\n"), [{
    file: FILE,
    line: 2,
    col: 3,
    message: 'unknown key "read_timout" in limits (did you mean "read_timeout"?); expected one ' +
      "of: max_request_bytes, read_timeout, max_connections, max_nonces, max_follows",
  }]);
});

Deno.test("limits below their minimum are rejected", () => {
  assert.equal(
    problemsOf("limits:\n  max_request_bytes: 10\n")[0]?.message,
    "limits.max_request_bytes must be a whole number from 256 to 16777216, found 10",
  );
  assert.equal(
    problemsOf("limits:\n  max_connections: 0\n")[0]?.message,
    "limits.max_connections must be a whole number from 1 to 1000000, found 0",
  );
});

Deno.test("a read_timeout of 0 is rejected with a message that says it must be greater than 0", () => {
  const problems = problemsOf("limits:\n  read_timeout: 0\n");
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.line, 2);
  assert.equal(problems[0]?.col, 17);
  // The message must not claim that 0 is within the accepted range.
  assert.match(
    problems[0]!.message,
    /^limits\.read_timeout \(seconds\) must be a number greater than 0\b.*found 0$/,
  );
});

Deno.test("every problem of a server.yml is reported at once", () => {
  const problems = problemsOf("mode: loud\nlistener_port: -1\nipv6: perhaps\n");
  assert.deepEqual(problems.map((p) => p.line), [1, 3, 2]);
});

Deno.test("legacy defaults to on with encrypt off and off with encrypt on, unless given", () => {
  assert.equal(parseServerConfig(FILE, "").legacy, true);
  assert.equal(parseServerConfig(FILE, "encrypt: on\npub_keys_path: [keys]\n").legacy, false);
  assert.equal(
    parseServerConfig(FILE, "encrypt: on\npub_keys_path: [keys]\nlegacy: on\n").legacy,
    true,
  );
  assert.equal(parseServerConfig(FILE, "legacy: off\n").legacy, false);
});

Deno.test("permissions map key names to the operations they may run", () => {
  const config = parseServerConfig(FILE, "permissions:\n  ci: [trystart, check]\n");
  assert.deepEqual([...config.permissions], [["ci", ["trystart", "check"]]]);
  assert.deepEqual(problemsOf("permissions:\n  ci: [trystart, kil]\n"), [{
    file: FILE,
    line: 2,
    col: 18,
    message:
      'an operation in permissions.ci must be one of start, stop, restart, trystart, check, info, kill, log, signal, update, events, found "kil" (did you mean "kill"?)',
  }]);
  assert.match(
    problemsOf("permissions:\n  ../x: [check]\n")[0]!.message,
    /key name "\.\.\/x" is not valid/,
  );
});

Deno.test("audit_log resolves against the config's directory and sign_window is in seconds", () => {
  const config = parseServerConfig(FILE, "audit_log: audit.jsonl\nsign_window: 5\n");
  assert.equal(config.auditLog, `${DIR}/audit.jsonl`);
  assert.equal(config.signWindowMs, 5000);
  assert.match(
    problemsOf("sign_window: 0\n")[0]!.message,
    /sign_window \(seconds\) must be a number from 1 to 3600/,
  );
});

Deno.test("http_listen: HOST:PORT, a token file relative to server.yml, actions off by default", () => {
  const config = parseServerConfig(
    FILE,
    "http_listen: '[::1]:9310'\nhttp_token_file: http.token\nsample_interval: 0.5\n",
  );
  assert.deepEqual(config.http, {
    hostname: "::1",
    port: 9310,
    tokenFile: `${DIR}/http.token`,
    actions: false,
  });
  assert.equal(config.sampleIntervalMs, 500);
  assert.deepEqual(parseServerConfig(FILE, "http_listen: localhost:0\n").http, {
    hostname: "localhost",
    port: 0,
    tokenFile: undefined,
    actions: false,
  });
});

Deno.test("an HTTP endpoint that would be unsafe is refused, each problem at its key", () => {
  const messages = (text: string) => problemsOf(text).map((p) => p.message);
  assert.match(messages("http_listen: 0.0.0.0:9310\n")[0]!, /beyond this machine.*http_token_file/);
  assert.match(
    messages("http_listen: 127.0.0.1:9310\nhttp_actions: on\n")[0]!,
    /http_actions: on .* needs a token/,
  );
  assert.match(messages("http_listen: 127.0.0.1:99999\n")[0]!, /http_listen must be HOST:PORT/);
  assert.match(messages("http_listen: [1, 2]\n")[0]!, /http_listen must be HOST:PORT/);
  assert.match(
    messages("http_actions: on\n")[0]!,
    /http_actions has no effect without http_listen/,
  );
  assert.match(
    messages("sample_interval: 0\n")[0]!,
    /sample_interval \(seconds\) must be a number from 0.1 to 3600/,
  );
  assert.equal(problemsOf("http_listen: 0.0.0.0:9310\n")[0]!.line, 1);
});

Deno.test("sync_log_writes is on unless turned off; a value that is not a flag is refused", () => {
  assert.equal(parseServerConfig(FILE, "loadpaths: []\n").syncLogWrites, true);
  assert.equal(parseServerConfig(FILE, "sync_log_writes: off\n").syncLogWrites, false);
  assert.equal(parseServerConfig(FILE, "sync_log_writes: false\n").syncLogWrites, false);
  assert.equal(parseServerConfig(FILE, "sync_log_writes: on\n").syncLogWrites, true);
  assert.equal(
    problemsOf("sync_log_writes: sometimes\n")[0]?.message,
    'sync_log_writes must be on or off (or true/false), found "sometimes"',
  );
});
