import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";
import { CHILD_DEFAULTS, childNameOf, parseChildConfig } from "./child_config.ts";

const DIR = "/srv/children";
const FILE = `${DIR}/web.yml`;

/** The problems of the ConfigError that parsing `text` throws. */
function problemsOf(text: string, path = FILE): readonly ConfigProblem[] {
  try {
    parseChildConfig(path, text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

/** Asserts that parsing `text` fails with exactly one problem. */
function assertOneProblem(
  text: string,
  expected: { line: number | undefined; col: number | undefined; message: string },
  path = FILE,
): void {
  assert.deepEqual(problemsOf(text, path), [{ file: path, ...expected }]);
}

Deno.test("a child config with only a command gets every default", () => {
  const config = parseChildConfig(FILE, "command: sleep 30\n");
  assert.deepEqual(config, {
    name: "web",
    path: FILE,
    dir: DIR,
    argv: ["sleep", "30"],
    cwd: DIR,
    env: {},
    envFiles: [],
    user: undefined,
    group: undefined,
    umask: undefined,
    stdout: undefined,
    stderr: undefined,
    stopSignal: "SIGTERM",
    stopTimeoutMs: 10_000,
    startSeconds: 1,
    restart: "never",
    backoff: { initialMs: 1000, maxMs: 60_000, multiplier: 2 },
    maxRestarts: undefined,
    repeat: undefined,
    prehooks: [],
    posthooks: [],
    adopt: true,
    exitCodes: [0],
    instances: 1,
    dependsOn: [],
    ready: undefined,
    health: undefined,
    maxMemory: undefined,
  });
  assert.equal(CHILD_DEFAULTS.stopTimeoutMs, 10_000);
});

Deno.test("the child's name is the file stem, for .yml and .yaml alike", () => {
  assert.equal(parseChildConfig(`${DIR}/api-2.yaml`, "command: x\n").name, "api-2");
  assert.equal(childNameOf("/a/b/web.v2.yml"), "web.v2");
});

Deno.test("a relative config path is resolved, and cwd defaults to the file's directory", () => {
  const config = parseChildConfig("some/dir/web.yml", "command: x\n");
  assert.equal(config.path, `${Deno.cwd()}/some/dir/web.yml`);
  assert.equal(config.cwd, `${Deno.cwd()}/some/dir`);
});

Deno.test("a relative cwd resolves against the config's directory and an absolute one is kept", () => {
  assert.equal(parseChildConfig(FILE, "command: x\ncwd: ../app\n").cwd, "/srv/app");
  assert.equal(parseChildConfig(FILE, "command: x\ncwd: /opt/web\n").cwd, "/opt/web");
});

Deno.test("a string command is split like a shell splits words", () => {
  const config = parseChildConfig(FILE, `command: sh -c 'echo "$HOME"; sleep 1'\n`);
  assert.deepEqual(config.argv, ["sh", "-c", 'echo "$HOME"; sleep 1']);
});

Deno.test("a list command is taken word for word, without splitting", () => {
  const config = parseChildConfig(FILE, 'command: ["/opt/my app/run", "a b", "$X"]\n');
  assert.deepEqual(config.argv, ["/opt/my app/run", "a b", "$X"]);
});

Deno.test("args are appended to the command, numbers and booleans as text", () => {
  const config = parseChildConfig(FILE, "command: server --verbose\nargs: [--port, 8080, true]\n");
  assert.deepEqual(config.argv, ["server", "--verbose", "--port", "8080", "true"]);
  const listed = parseChildConfig(FILE, "command: [server]\nargs:\n  - 'a b'\n");
  assert.deepEqual(listed.argv, ["server", "a b"]);
});

Deno.test("env values that YAML reads as numbers or booleans become strings", () => {
  const config = parseChildConfig(
    FILE,
    "command: x\nenv:\n  PORT: 8080\n  DEBUG: true\n  NAME: web\n  RATIO: 0.5\n",
  );
  assert.deepEqual(config.env, { PORT: "8080", DEBUG: "true", NAME: "web", RATIO: "0.5" });
});

Deno.test("an env variable with an invalid name or a list value is rejected", () => {
  assert.deepEqual(problemsOf("command: x\nenv:\n  1BAD: x\n  GOOD: [1]\n"), [
    {
      file: FILE,
      line: 3,
      col: 3,
      message: 'environment variable name "1BAD" is not valid',
    },
    {
      file: FILE,
      line: 4,
      col: 9,
      message: "env.GOOD must be a string, number or boolean, found [1]",
    },
  ]);
});

Deno.test("relative output paths resolve against the config's directory", () => {
  const config = parseChildConfig(
    FILE,
    "command: x\noutput:\n  - stdout: logs/out.log\n  - stderr: /var/log/web.err\n",
  );
  assert.deepEqual(config.stdout, {
    path: `${DIR}/logs/out.log`,
    mode: "create",
    maxBytes: undefined,
    backups: 5,
    direct: false,
  });
  assert.deepEqual(config.stderr, {
    path: "/var/log/web.err",
    mode: "create",
    maxBytes: undefined,
    backups: 5,
    direct: false,
  });
});

Deno.test("output direct is off by default, and on or true makes the child write the file", () => {
  const config = parseChildConfig(
    FILE,
    "command: x\noutput:\n  - stdout: out.log\n    direct: on\n  - stderr: err.log\n    direct: true\n",
  );
  assert.equal(config.stdout?.direct, true);
  assert.equal(config.stderr?.direct, true);
});

Deno.test("output direct refuses rotation, a non-flag value and a shared file half direct", () => {
  const bad = (text: string) => {
    try {
      parseChildConfig(FILE, `command: x\noutput:\n${text}`);
    } catch (error) {
      return String((error as Error).message);
    }
    throw new Error("accepted");
  };
  assert.match(
    bad("  - stdout: out.log\n    direct: true\n    max_bytes: 4096\n"),
    /output direct cannot rotate: with direct the child writes the file itself, and only the server can rotate it; drop max_bytes \(rotate with logrotate's copytruncate\) or drop direct/,
  );
  assert.match(bad("  - stdout: out.log\n    direct: maybe\n"), /output direct/);
  assert.match(
    bad("  - stdout: both.log\n    direct: true\n  - stderr: both.log\n"),
    /stdout and stderr both go to ".*both\.log" but only one of them is direct; give both entries the same direct/,
  );
});

Deno.test("output mode is create by default and may be append", () => {
  const config = parseChildConfig(
    FILE,
    "command: x\noutput:\n  - stdout: out.log\n    mode: create\n  - stderr: err.log\n    mode: append\n",
  );
  assert.equal(config.stdout?.mode, "create");
  assert.equal(config.stderr?.mode, "append");
});

Deno.test("a misspelt output mode is rejected with a suggestion", () => {
  assertOneProblem("command: x\noutput:\n  - stdout: out.log\n    mode: apend\n", {
    line: 4,
    col: 11,
    message: 'output mode must be one of create, append, found "apend" (did you mean "append"?)',
  });
});

Deno.test("an output entry naming both streams, or one stream twice, is rejected", () => {
  assert.deepEqual(problemsOf("command: x\noutput:\n  - stdout: a\n    stderr: b\n"), [{
    file: FILE,
    line: 3,
    col: 5,
    message: 'an output entry must name exactly one of "stdout" or "stderr", found 2',
  }]);
  assert.deepEqual(problemsOf("command: x\noutput:\n  - stdout: a\n  - stdout: b\n"), [{
    file: FILE,
    line: 4,
    col: 5,
    message: "output for stdout is given twice",
  }]);
});

Deno.test("an unknown key names file, line and column and suggests the close key", () => {
  const problems = problemsOf("comand: sleep 1\n");
  assert.deepEqual(problems[0], {
    file: FILE,
    line: 1,
    col: 1,
    message: 'unknown key "comand" in child config (did you mean "command"?); expected one of: ' +
      "command, args, cwd, env, env_file, user, group, umask, output, stop_signal, stop_timeout, " +
      "start_seconds, restart, backoff, max_restarts, repeat, hooks, adopt, exit_codes, instances, " +
      "depends_on, ready, health, max_memory",
  });
  // Without "command" the file also lacks the one field it needs.
  assert.equal(
    problems[1]?.message,
    '"command" is missing: expected the program to run, as a string or a list',
  );
});

Deno.test("an unknown key far from any known key gets no suggestion", () => {
  const problems = problemsOf("command: x\nwhatever: 1\n");
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.line, 2);
  assert.match(problems[0]!.message, /^unknown key "whatever" in child config; expected one of: /);
});

Deno.test("the error message renders every problem as file:line:col", () => {
  try {
    parseChildConfig(FILE, "command: x\nrestart: sometimes\n");
    assert.fail("expected a ConfigError");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.name, "ConfigError");
    assert.equal(error.file, FILE);
    assert.equal(
      error.message,
      `${FILE}:2:10: restart must be one of never, on-failure, always, found "sometimes"`,
    );
  }
});

Deno.test("values of the wrong type are reported with the quoted value, each at its place", () => {
  assert.deepEqual(
    problemsOf("command: x\nstop_timeout: soon\nstart_seconds: [1]\nrestart: sometimes\n"),
    [
      {
        file: FILE,
        line: 2,
        col: 15,
        message: 'stop_timeout (seconds) must be a number from 0 to 86400, found "soon"',
      },
      {
        file: FILE,
        line: 3,
        col: 16,
        message: "start_seconds must be a number from 0 to 86400, found [1]",
      },
      {
        file: FILE,
        line: 4,
        col: 10,
        message: 'restart must be one of never, on-failure, always, found "sometimes"',
      },
    ],
  );
});

Deno.test("a command that is neither a string nor a list is rejected", () => {
  assertOneProblem("command: 42\n", {
    line: 1,
    col: 10,
    message: "command must be a string or a list of strings, found 42",
  });
  assertOneProblem("command: []\n", {
    line: 1,
    col: 10,
    message: "command must not be an empty list",
  });
  assertOneProblem('command: ""\n', {
    line: 1,
    col: 10,
    message: "command must name a program to run, found an empty string",
  });
});

Deno.test("a command that cannot be split is reported with the splitter's reason", () => {
  assertOneProblem(`command: "echo 'unterminated"\n`, {
    line: 1,
    col: 10,
    message: `command "echo 'unterminated" cannot be split: unterminated single quote`,
  });
});

Deno.test("stop_signal is accepted with or without the SIG prefix, in any case", () => {
  assert.equal(parseChildConfig(FILE, "command: x\nstop_signal: SIGINT\n").stopSignal, "SIGINT");
  assert.equal(parseChildConfig(FILE, "command: x\nstop_signal: INT\n").stopSignal, "SIGINT");
  assert.equal(parseChildConfig(FILE, "command: x\nstop_signal: quit\n").stopSignal, "SIGQUIT");
  assert.equal(parseChildConfig(FILE, "command: x\nstop_signal: SigHup\n").stopSignal, "SIGHUP");
});

Deno.test("an unknown stop_signal is rejected with the list of signals", () => {
  assertOneProblem("command: x\nstop_signal: SIGFOO\n", {
    line: 2,
    col: 14,
    message: "stop_signal must be one of SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGKILL, SIGUSR1, " +
      'SIGUSR2, SIGWINCH, SIGABRT, SIGALRM (with or without "SIG"), found "SIGFOO"',
  });
  assert.match(problemsOf("command: x\nstop_signal: 15\n")[0]!.message, /found 15$/);
});

Deno.test("stop_timeout and start_seconds are seconds and may be fractions or zero", () => {
  const config = parseChildConfig(FILE, "command: x\nstop_timeout: 2.5\nstart_seconds: 0\n");
  assert.equal(config.stopTimeoutMs, 2500);
  assert.equal(config.startSeconds, 0);
  assert.equal(parseChildConfig(FILE, "command: x\nstop_timeout: 0\n").stopTimeoutMs, 0);
});

Deno.test("restart accepts never, on-failure and always and suggests a near miss", () => {
  for (const policy of ["never", "on-failure", "always"]) {
    assert.equal(parseChildConfig(FILE, `command: x\nrestart: ${policy}\n`).restart, policy);
  }
  assertOneProblem("command: x\nrestart: on_failure\n", {
    line: 2,
    col: 10,
    message:
      'restart must be one of never, on-failure, always, found "on_failure" (did you mean "on-failure"?)',
  });
});

Deno.test("backoff is given in seconds and stored in milliseconds", () => {
  const config = parseChildConfig(
    FILE,
    "command: x\nbackoff:\n  initial: 0.5\n  max: 30\n  multiplier: 3\n",
  );
  assert.deepEqual(config.backoff, { initialMs: 500, maxMs: 30_000, multiplier: 3 });
});

Deno.test("a backoff max below its initial delay is rejected", () => {
  assertOneProblem("command: x\nbackoff:\n  initial: 10\n  max: 5\n", {
    line: 4,
    col: 8,
    message: "backoff.max must not be less than backoff.initial",
  });
});

Deno.test("max_restarts must be a whole number", () => {
  assert.equal(parseChildConfig(FILE, "command: x\nmax_restarts: 3\n").maxRestarts, 3);
  assertOneProblem("command: x\nmax_restarts: 1.5\n", {
    line: 2,
    col: 15,
    message: "max_restarts must be a whole number from 0 to 1000000, found 1.5",
  });
});

Deno.test("repeat action defaults to restart", () => {
  const config = parseChildConfig(FILE, "command: x\nrepeat:\n  seconds: 5\n");
  assert.deepEqual(config.repeat, { action: "restart", seconds: 5 });
  const stop = parseChildConfig(FILE, "command: x\nrepeat:\n  action: stop\n  seconds: 0.5\n");
  assert.deepEqual(stop.repeat, { action: "stop", seconds: 0.5 });
});

Deno.test("repeat without seconds is rejected", () => {
  assertOneProblem("command: x\nrepeat:\n  action: start\n", {
    line: 3,
    col: 3,
    message: "repeat.seconds is missing: expected a number of seconds greater than 0",
  });
});

Deno.test("repeat seconds of 0 is rejected with a message that says it must be greater than 0", () => {
  const problems = problemsOf("command: x\nrepeat:\n  seconds: 0\n");
  assert.equal(problems.length, 1);
  const [problem] = problems;
  assert.equal(problem?.file, FILE);
  assert.equal(problem?.line, 3);
  assert.equal(problem?.col, 12);
  // The message must not claim that 0 is within the accepted range.
  assert.match(problem!.message, /^repeat\.seconds must be a number greater than 0\b.*found 0$/);
});

Deno.test("a negative repeat seconds is rejected", () => {
  const problems = problemsOf("command: x\nrepeat:\n  seconds: -1\n");
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /^repeat\.seconds must be a number .*found -1$/);
});

Deno.test("an unknown repeat action is rejected", () => {
  assertOneProblem("command: x\nrepeat:\n  action: reboot\n  seconds: 1\n", {
    line: 3,
    col: 11,
    message: 'repeat.action must be one of start, restart, stop, trystart, found "reboot"',
  });
});

Deno.test('hooks like "start other" are parsed into prehooks and posthooks in order', () => {
  const config = parseChildConfig(
    FILE,
    "command: x\nhooks:\n  - prehook: start db\n  - prehook: restart cache\n" +
      "  - posthook: stop  worker \n",
  );
  assert.deepEqual(config.prehooks, [
    { action: "start", target: "db" },
    { action: "restart", target: "cache" },
  ]);
  assert.deepEqual(config.posthooks, [{ action: "stop", target: "worker" }]);
});

Deno.test("malformed hooks are each reported at their value", () => {
  assert.deepEqual(
    problemsOf(
      "command: x\nhooks:\n  - prehook: jump x\n  - posthook: start\n  - prehook: start a b\n" +
        "  - prehook: start all\n",
    ),
    [
      {
        file: FILE,
        line: 3,
        col: 14,
        message: 'prehook "jump x" must start with start, restart or stop',
      },
      {
        file: FILE,
        line: 4,
        col: 15,
        message: 'posthook "start" must be "start CHILD": one child name',
      },
      {
        file: FILE,
        line: 5,
        col: 14,
        message: 'prehook "start a b" must be "start CHILD": one child name',
      },
      {
        file: FILE,
        line: 6,
        col: 14,
        message: 'prehook "start all": "all" is a reserved word and cannot name a child',
      },
    ],
  );
});

Deno.test("a hook entry that is neither prehook nor posthook is rejected", () => {
  const problems = problemsOf("command: x\nhooks:\n  - prehok: start db\n");
  assert.equal(problems.length, 2);
  assert.match(
    problems[0]!.message,
    /^unknown key "prehok" in a hook entry \(did you mean "prehook"\?\)/,
  );
  assert.equal(
    problems[1]!.message,
    'a hook entry must be exactly one of "prehook" or "posthook", found 0',
  );
});

Deno.test("a reserved file stem such as all.yml cannot name a child", () => {
  const path = `${DIR}/all.yml`;
  assertOneProblem("command: x\n", {
    line: 1,
    col: 1,
    message:
      'the file name gives the child its name, and "all" is a reserved word and cannot name a child',
  }, path);
});

Deno.test("a file stem that is not a valid name cannot name a child", () => {
  const path = `${DIR}/bad name.yml`;
  const problems = problemsOf("command: x\n", path);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.file, path);
  assert.match(
    problems[0]!.message,
    /^the file name gives the child its name, and "bad name" is not a valid child name/,
  );
});

Deno.test("a child config that is not a mapping is rejected", () => {
  const problems = problemsOf("- command: x\n");
  assert.equal(
    problems[0]?.message,
    'child config must be a mapping of keys to values, found [{"command":"x"}]',
  );
});

Deno.test("invalid YAML syntax is reported with its line and column", () => {
  assertOneProblem("command: a\ncommand: b\n", {
    line: 2,
    col: 1,
    message: "invalid YAML: Map keys must be unique",
  });
});

Deno.test("an unclosed flow sequence is reported as invalid YAML with a position", () => {
  const problems = problemsOf("command: [a, b\nrestart: never\n");
  assert.ok(problems.length >= 1);
  for (const problem of problems) {
    assert.equal(problem.file, FILE);
    assert.match(problem.message, /^invalid YAML: /);
    assert.equal(typeof problem.line, "number", `no line in ${JSON.stringify(problem)}`);
    assert.equal(typeof problem.col, "number", `no col in ${JSON.stringify(problem)}`);
  }
});

Deno.test("umask is octal in every form an operator writes", () => {
  const umask = (value: string) => parseChildConfig(FILE, `command: x\numask: ${value}\n`).umask;
  for (
    const written of ['"027"', "'0027'", "027", "27", "0o027", "0o27", '"0o27"', "027 # g-w, o=-"]
  ) {
    assert.equal(umask(written), 0o027, `umask: ${written}`);
  }
  assert.equal(umask("0"), 0);
  assert.equal(umask("777"), 0o777);
  assert.equal(umask("0022"), 0o022);
  assert.equal(
    parseChildConfig(FILE, "{command: x, umask: 077}\n").umask,
    0o077,
    "in a flow mapping too",
  );
  assert.equal(parseChildConfig(FILE, "command: x\n").umask, undefined);
});

Deno.test("a umask that is not an octal mask up to 777 names what was written", () => {
  for (
    const [written, shown] of [
      ["8", "8"],
      ["0x1f", "0x1f"],
      ["1000", "1000"],
      ["0o1000", "0o1000"],
      ['"u=rwx"', '"u=rwx"'],
      ["-1", "-1"],
      ["2.5", "2.5"],
    ]
  ) {
    assertOneProblem(`command: x\numask: ${written}\n`, {
      line: 2,
      col: 8,
      message: `umask must be an octal mask from 000 to 777, such as "027", 027 or 0o027, found ${
        shown!.startsWith('"') ? shown : JSON.stringify(shown)
      }`,
    });
  }
});

Deno.test("user and group take a name or a number, kept as text", () => {
  const config = parseChildConfig(FILE, "command: x\nuser: www-data\ngroup: 33\n");
  assert.equal(config.user, "www-data");
  assert.equal(config.group, "33");
  assert.equal(parseChildConfig(FILE, 'command: x\nuser: "65534"\n').user, "65534");
  assert.equal(parseChildConfig(FILE, "command: x\nuser: 0\n").user, "0");
  assert.equal(parseChildConfig(FILE, "command: x\nuser: ~\n").user, undefined);
});

Deno.test("a user or group that is neither a name nor an id is refused at its value", () => {
  assertOneProblem("command: x\nuser: web server\n", {
    line: 2,
    col: 7,
    message: 'user must be a user name or a numeric uid from 0 to 4294967294, found "web server"',
  });
  assertOneProblem("command: x\ngroup: -1\n", {
    line: 2,
    col: 8,
    message: "group must be a group name or a numeric gid from 0 to 4294967294, found -1",
  });
  assertOneProblem("command: x\nuser: [a]\n", {
    line: 2,
    col: 7,
    message: 'user must be a user name or a numeric uid from 0 to 4294967294, found ["a"]',
  });
});

Deno.test("a server that is not root refuses another user or group at the key, with its uid", () => {
  const server = { uid: 1000, gid: 1000, user: "alice", group: "staff" };
  const text = "command: x\nuser: nobody\ngroup: nogroup\n";
  try {
    parseChildConfig(FILE, text, { server });
    assert.fail("expected a refusal");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, [
      {
        file: FILE,
        line: 2,
        col: 1,
        message:
          'user "nobody": the server runs as uid 1000, not root: it cannot start children as another user',
      },
      {
        file: FILE,
        line: 3,
        col: 1,
        message:
          'group "nogroup": the server runs as uid 1000, not root: it cannot start children in another group',
      },
    ]);
  }
  // Its own user and group, by name or number, are fine; so is anything for root.
  for (const own of ["user: alice\ngroup: staff\n", "user: 1000\ngroup: 1000\n"]) {
    assert.equal(parseChildConfig(FILE, `command: x\n${own}`, { server }).umask, undefined);
  }
  const root = { uid: 0, gid: 0 };
  assert.equal(parseChildConfig(FILE, text, { server: root }).user, "nobody");
  // Without the server's identity only the form is checked.
  assert.equal(parseChildConfig(FILE, text).group, "nogroup");
});

Deno.test("env_file is one path or a list, relative to the file's directory", () => {
  assert.deepEqual(parseChildConfig(FILE, "command: x\nenv_file: web.env\n").envFiles, [
    `${DIR}/web.env`,
  ]);
  assert.deepEqual(
    parseChildConfig(FILE, "command: x\nenv_file: [../common.env, /etc/web.env]\n").envFiles,
    ["/srv/common.env", "/etc/web.env"],
  );
  assertOneProblem("command: x\nenv_file: 3\n", {
    line: 2,
    col: 11,
    message: "env_file must be a file path or a list of paths, found 3",
  });
  assertOneProblem('command: x\nenv_file: [a.env, ""]\n', {
    line: 2,
    col: 19,
    message: 'each entry of env_file must be a non-empty string, found ""',
  });
});
