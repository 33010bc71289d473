import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import {
  COMPLETE_CHILDREN,
  DEFAULT_TIMEOUT_S,
  OPERATIONS,
  OPTIONS,
  parseClientArgs,
  requestArgs,
  WORDS,
} from "./args.ts";
import { OPS } from "../protocol/ops.ts";
import type { ClientCommand, OpCommand } from "./args.ts";

const DEFAULT_HOST = { label: "127.0.0.1:33889", hostname: "127.0.0.1", port: 33889 };

function op(argv: readonly string[]): OpCommand {
  const command = parseClientArgs(argv);
  assert.equal(command.kind, "op", `${JSON.stringify(argv)} gave ${JSON.stringify(command)}`);
  return command as OpCommand;
}

/** Asserts that `argv` is a usage error (exit code 2) with `message`. */
function assertUsage(argv: readonly string[], message: string | RegExp): void {
  assert.throws(() => parseClientArgs(argv), (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${error}`);
    assert.equal(error.name, "UsageError");
    assert.equal(error.exitCode, 2);
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

Deno.test("an operation alone goes to 127.0.0.1:33889 with the default timeout", () => {
  assert.deepEqual(parseClientArgs(["check"]), {
    kind: "op",
    op: "check",
    child: undefined,
    hosts: [DEFAULT_HOST],
    json: false,
    timeoutMs: DEFAULT_TIMEOUT_S * 1000,
    keyPath: undefined,
    parallel: 32,
    log: { stream: "stdout", lines: 20, follow: false },
    wait: true,
    signal: undefined,
    rolling: undefined,
  });
  assert.equal(DEFAULT_TIMEOUT_S, 30);
});

Deno.test("an operation takes its child as the next word", () => {
  const command = op(["restart", "web"]);
  assert.equal(command.op, "restart");
  assert.equal(command.child, "web");
  assert.equal(op(["stop", "all"]).child, "all");
  assert.equal(op(["check", "web"]).child, "web");
});

Deno.test("every v2 operation is accepted in lower case", () => {
  for (const word of ["start", "stop", "restart", "trystart"]) {
    assert.equal(op([word, "web"]).op, word);
  }
  for (const word of ["check", "info", "kill"]) assert.equal(op([word]).op, word);
});

Deno.test("the seed's spellings of operations are accepted", () => {
  assert.equal(op(["TryStart", "web"]).op, "trystart");
  assert.equal(op(["Trystart", "web"]).op, "trystart");
  assert.equal(op(["Start", "web"]).op, "start");
  assert.equal(op(["Stop", "web"]).op, "stop");
  assert.equal(op(["Restart", "web"]).op, "restart");
  assert.equal(op(["Check"]).op, "check");
  assert.equal(op(["INFO"]).op, "info");
  assert.equal(op(["Info"]).op, "info");
  assert.equal(op(["Kill"]).op, "kill");
});

Deno.test("an unknown operation is a usage error listing the operations", () => {
  assertUsage(
    ["reboot"],
    'Unknown operation "reboot"; expected one of: start, stop, restart, trystart, check, status, info, kill, log, signal, update, events, completions, help',
  );
});

Deno.test("no operation at all is a usage error", () => {
  assertUsage([], "No operation given");
  assertUsage(["--json"], "No operation given");
});

Deno.test('"on HOST" sets the host, and can be repeated', () => {
  const command = op(["check", "on", "10.0.0.1:4000", "on", "[::1]"]);
  assert.deepEqual(command.hosts, [
    { label: "10.0.0.1:4000", hostname: "10.0.0.1", port: 4000 },
    { label: "[::1]:33889", hostname: "::1", port: 33889 },
  ]);
});

Deno.test('"on" accepts a quoted list of hosts and keeps the order given', () => {
  const command = op(["stop", "web", "on", "h1, h2:5000", "on", "h3"]);
  assert.deepEqual(command.hosts.map((h) => h.label), ["h1:33889", "h2:5000", "h3:33889"]);
  assert.equal(command.child, "web");
});

Deno.test('"on" may come before the operation', () => {
  const command = op(["on", "h1", "start", "web"]);
  assert.equal(command.op, "start");
  assert.equal(command.child, "web");
  assert.deepEqual(command.hosts.map((h) => h.label), ["h1:33889"]);
});

Deno.test('"on" without a host, or with a bad one, is a usage error', () => {
  assertUsage(["check", "on"], '"on" needs a host, e.g. "on 127.0.0.1:33889"');
  assertUsage(
    ["check", "on", "h1:99999"],
    'Invalid port "99999" in host "h1:99999": expected 1 to 65535',
  );
  assertUsage(["check", "on", "h1,,h2"], 'Invalid host list "h1,,h2": empty entry');
  assertUsage(["check", "on", "ftp://web1"], /the ftp:\/\/ transport does not exist/);
});

Deno.test("--json asks for one JSON document", () => {
  assert.equal(op(["check", "--json"]).json, true);
  assert.equal(op(["--json", "info"]).json, true);
  assert.equal(op(["info"]).json, false);
});

Deno.test("--timeout takes seconds as the next word or after =", () => {
  assert.equal(op(["check", "--timeout", "5"]).timeoutMs, 5000);
  assert.equal(op(["check", "--timeout=5"]).timeoutMs, 5000);
  assert.equal(op(["--timeout", "0.25", "check"]).timeoutMs, 250);
});

Deno.test("--timeout without a positive number is a usage error", () => {
  const message = (found: string) =>
    `--timeout needs a number of seconds greater than 0 and at most 2073600, found ${
      JSON.stringify(found)
    }`;
  assertUsage(["check", "--timeout"], message(""));
  assertUsage(["check", "--timeout="], message(""));
  assertUsage(["check", "--timeout", "abc"], message("abc"));
  assertUsage(["check", "--timeout=0"], message("0"));
  assertUsage(["check", "--timeout", "-3"], message("-3"));
  assertUsage(["check", "--timeout", "Infinity"], message("Infinity"));
});

Deno.test("a --timeout too long for a timer is refused rather than expiring at once", () => {
  // Timers hold at most 2^31 - 1 ms (about 24.8 days); a longer one fires after 1 ms.
  let command: ClientCommand | undefined;
  try {
    command = parseClientArgs(["check", "--timeout", "3000000"]);
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${error}`);
    return;
  }
  assert.equal(command.kind, "op");
  assert.ok(
    command.kind === "op" && command.timeoutMs <= 2 ** 31 - 1,
    `timeoutMs ${command.kind === "op" ? command.timeoutMs : "?"} would overflow a timer`,
  );
});

Deno.test("help, --help and -h all ask for help", () => {
  assert.deepEqual(parseClientArgs(["help"]), { kind: "help" });
  assert.deepEqual(parseClientArgs(["--help"]), { kind: "help" });
  assert.deepEqual(parseClientArgs(["-h"]), { kind: "help" });
  assert.deepEqual(parseClientArgs(["Help"]), { kind: "help" });
  assert.deepEqual(parseClientArgs(["start", "--help"]), { kind: "help" });
  assert.deepEqual(parseClientArgs(["bogus-op", "-h"]), { kind: "help" });
});

Deno.test("--version and -V ask for the version", () => {
  assert.deepEqual(parseClientArgs(["--version"]), { kind: "version" });
  assert.deepEqual(parseClientArgs(["-V"]), { kind: "version" });
  assert.deepEqual(parseClientArgs(["check", "--version"]), { kind: "version" });
});

Deno.test("start, stop, restart and trystart without a child are usage errors", () => {
  assertUsage(["start"], '"start" needs a child name, e.g. "start web" or "start all"');
  assertUsage(["stop"], '"stop" needs a child name, e.g. "stop web" or "stop all"');
  assertUsage(["restart"], '"restart" needs a child name, e.g. "restart web" or "restart all"');
  assertUsage(["trystart", "--json"], '"trystart" needs a child name, e.g. "trystart web"');
});

Deno.test("info, kill and update with a child are usage errors", () => {
  assertUsage(["info", "web"], '"info" takes no child name, found "web"');
  assertUsage(["kill", "web"], '"kill" takes no child name, found "web"');
  assertUsage(["update", "web"], '"update" takes no child name, found "web"');
});

Deno.test("an extra word after the child is a usage error", () => {
  assertUsage(["start", "web", "api"], 'Unexpected argument "api"');
});

Deno.test("an unknown option is a usage error", () => {
  assertUsage(["check", "--bogus"], 'Unknown option "--bogus"');
  assertUsage(["check", "-x"], 'Unknown option "-x"');
});

Deno.test('"with KEY" names the key to sign with, once', () => {
  assert.equal(op(["stop", "web", "with", "keys/admin.pem"]).keyPath, "keys/admin.pem");
  assertUsage(
    ["stop", "web", "with"],
    '"with" needs a private key file, e.g. "with ~/.ssh/ops.pem"',
  );
  assertUsage(["stop", "web", "with", "a.pem", "with", "b.pem"], '"with" may be given only once');
});

Deno.test("--parallel bounds how many hosts are asked at once", () => {
  assert.equal(op(["check", "--parallel", "4"]).parallel, 4);
  assert.equal(op(["check", "--parallel=1"]).parallel, 1);
  assertUsage(
    ["check", "--parallel", "0"],
    '--parallel needs a whole number from 1 to 10000, found "0"',
  );
  assertUsage(
    ["check", "--parallel", "x"],
    '--parallel needs a whole number from 1 to 10000, found "x"',
  );
});

Deno.test("log takes --stderr, --lines N and --follow, and they go with log only", () => {
  const command = op(["log", "web", "--stderr", "--lines", "5", "-f"]);
  assert.deepEqual(command.log, { stream: "stderr", lines: 5, follow: true });
  assert.equal(op(["log", "web", "--lines=0"]).log.lines, 0);
  assertUsage(
    ["check", "--follow"],
    '"--follow" goes with the log and events operations, e.g. "log web --follow"',
  );
  assertUsage(
    ["log", "web", "--lines", "x"],
    '--lines needs a whole number from 0 to 10000, found "x"',
  );
  assertUsage(["log"], /"log" needs a child name/);
  assertUsage(
    ["log", "web", "--follow", "--json"],
    '"--follow" prints lines as they come and cannot be combined with --json',
  );
});

Deno.test("completions takes a shell and asks no server", () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    assert.deepEqual(parseClientArgs(["completions", shell]), { kind: "completions", shell });
  }
  assert.deepEqual(parseClientArgs(["completions", "--help"]), { kind: "help" });
});

Deno.test("completions without a shell, with an unknown one or with server options is a usage error", () => {
  assertUsage(
    ["completions"],
    '"completions" needs a shell, e.g. "completions bash"; expected one of: bash, zsh, fish',
  );
  assertUsage(["completions", "tcsh"], 'Unknown shell "tcsh"; expected one of: bash, zsh, fish');
  assertUsage(["completions", "bash", "zsh"], 'Unexpected argument "zsh"');
  assertUsage(
    ["completions", "bash", "on", "h1"],
    '"completions" prints a script and asks no server: "on" does not go with it',
  );
  assertUsage(
    ["completions", "bash", "--timeout", "3"],
    '"completions" prints a script and asks no server: "--timeout" does not go with it',
  );
});

Deno.test("a child named like a client-side operation is still a child of a server operation", () => {
  assert.equal(op(["start", "completions"]).child, "completions");
  assert.equal(op(["check", "help"]).child, "help");
});

Deno.test("the hidden child-name lister takes hosts and a key, with a short default timeout", () => {
  const command = parseClientArgs([COMPLETE_CHILDREN, "on", "h1:4000", "with", "k.pem"]);
  assert.deepEqual(command, {
    kind: "complete-children",
    hosts: [{ label: "h1:4000", hostname: "h1", port: 4000 }],
    timeoutMs: 2000,
    keyPath: "k.pem",
    parallel: 32,
  });
  const defaults = parseClientArgs([COMPLETE_CHILDREN]);
  assert.ok(defaults.kind === "complete-children");
  assert.deepEqual(defaults.hosts, [DEFAULT_HOST]);
  const longer = parseClientArgs([COMPLETE_CHILDREN, "--timeout", "5"]);
  assert.ok(longer.kind === "complete-children" && longer.timeoutMs === 5000);
  assertUsage([COMPLETE_CHILDREN, "web"], 'Unexpected argument "web"');
});

Deno.test("the hidden child-name lister is not listed among the operations", () => {
  assert.ok(!OPERATIONS.some((o) => o.name === COMPLETE_CHILDREN));
  assertUsage(["frob"], /expected one of: .*completions, help$/);
});

Deno.test("the parser's tables list every server operation once, then the client-side ones", () => {
  const withStatus = OPS.flatMap((o) => (o === "check" ? [o, "status"] : [o]));
  assert.deepEqual(OPERATIONS.map((o) => o.name), [...withStatus, "completions", "help"]);
  assert.deepEqual(OPERATIONS.filter((o) => o.server).map((o) => o.name), withStatus);
  assert.deepEqual(
    OPERATIONS.filter((o) => o.aliasOf !== undefined).map((o) => [o.name, o.aliasOf]),
    [["status", "check"]],
  );
  const operand = (name: string) => OPERATIONS.find((o) => o.name === name)!.operand;
  assert.deepEqual(operand("stop"), { kind: "child", required: true, keywords: ["all"] });
  assert.deepEqual(operand("check"), { kind: "child", required: false, keywords: [] });
  assert.deepEqual(operand("status"), operand("check"));
  assert.deepEqual(operand("info"), { kind: "none" });
  assert.deepEqual(operand("update"), { kind: "none" });
  const signal = operand("signal");
  assert.ok(signal.kind === "child" && signal.next !== undefined);
  assert.equal(signal.next.placeholder, "SIG");
  assert.ok(signal.next.values.includes("HUP") && signal.next.values.includes("USR1"));
  assert.equal(operand("completions").kind, "choice");
});

/** A command line for `name` that the parser accepts, before any option. */
function argvOf(name: string): string[] {
  if (name === "signal") return ["signal", "web", "HUP"];
  if (name === "update") return ["update"];
  return [name, "web"];
}

Deno.test("every option and word in the tables is accepted by the parser", () => {
  const values: Record<string, string> = {
    "--timeout": "5",
    "--parallel": "2",
    "--lines": "3",
    "--max-unavailable": "2",
  };
  for (const option of OPTIONS) {
    const base = "only" in option ? argvOf(option.only[0]) : ["log", "web"];
    const argv = [...base, option.name, ...("value" in option ? [values[option.name]!] : [])];
    const command = parseClientArgs(argv);
    if (option.name === "--help") assert.equal(command.kind, "help");
    else if (option.name === "--version") assert.equal(command.kind, "version");
    else assert.equal(command.kind, "op", option.name);
  }
  assert.deepEqual(WORDS.map((w) => w.name), ["on", "with"]);
  assert.equal(op(["log", "web", "-n", "7"]).log.lines, 7);
});

Deno.test("a mistyped operation gets a did-you-mean within two edits", () => {
  const expected = OPERATIONS.map((o) => o.name).join(", ");
  assertUsage(
    ["strat", "web"],
    `Unknown operation "strat" (did you mean "start"?); expected one of: ${expected}`,
  );
  assertUsage(["stauts"], /\(did you mean "status"\?\)/);
  assertUsage(["updat"], /\(did you mean "update"\?\)/);
  assertUsage(["sginal", "web", "HUP"], /\(did you mean "signal"\?\)/);
  assertUsage(["CHEK"], /\(did you mean "check"\?\)/);
  // Three edits away, or a word too short to tell: no guess.
  assertUsage(["reboot"], /^Unknown operation "reboot"; expected one of/);
  assertUsage(["ls"], /^Unknown operation "ls"; expected one of/);
});

Deno.test("status is check by the name supervisorctl users type", () => {
  assert.equal(op(["status"]).op, "check");
  const one = op(["status", "web"]);
  assert.equal(one.op, "check");
  assert.equal(one.child, "web");
});

Deno.test("start and restart take all; trystart's all goes to the server, which refuses it", () => {
  assert.equal(op(["start", "all"]).child, "all");
  assert.equal(op(["restart", "all"]).child, "all");
  assert.equal(op(["trystart", "all"]).child, "all");
});

Deno.test("signal takes a child or all, then the signal, and --main", () => {
  const web = op(["signal", "web", "HUP"]);
  assert.equal(web.op, "signal");
  assert.equal(web.child, "web");
  assert.deepEqual(web.signal, { name: "HUP", main: false });
  assert.deepEqual(requestArgs(web), { signal: "HUP", main: false });
  const all = op(["signal", "all", "SIGUSR1", "--main"]);
  assert.equal(all.child, "all");
  assert.deepEqual(requestArgs(all), { signal: "SIGUSR1", main: true });
  assert.deepEqual(op(["signal", "--main", "web", "term"]).signal, { name: "term", main: true });
});

Deno.test("signal leaves the signal's name to the server, which knows the signals", () => {
  assert.deepEqual(op(["signal", "web", "NOPE"]).signal, { name: "NOPE", main: false });
});

Deno.test("signal without a child or without a signal is a usage error", () => {
  assertUsage(
    ["signal"],
    '"signal" needs a child name and a signal, e.g. "signal web HUP" or "signal all HUP"',
  );
  assertUsage(
    ["signal", "web"],
    '"signal" needs a signal after the child name, e.g. "signal web HUP"',
  );
  assertUsage(["signal", "web", "HUP", "TERM"], 'Unexpected argument "TERM"');
});

Deno.test("--main goes with signal only", () => {
  assertUsage(
    ["stop", "web", "--main"],
    '"--main" goes with the signal operation, e.g. "signal web HUP --main"',
  );
});

Deno.test("--no-wait goes with the operations that start children, and asks for wait: false", () => {
  for (
    const argv of [["start", "web"], ["start", "all"], ["restart", "web"], ["trystart", "web"]]
  ) {
    const command = op([...argv, "--no-wait"]);
    assert.equal(command.wait, false, argv.join(" "));
    assert.deepEqual(requestArgs(command), { wait: false }, argv.join(" "));
  }
  assert.deepEqual(requestArgs(op(["update", "--no-wait"])), { wait: false });
  for (const argv of [["stop", "web"], ["signal", "web", "HUP"], ["check"]]) {
    assertUsage(
      [...argv, "--no-wait"],
      '"--no-wait" goes with the start, restart, trystart and update operations, e.g. "start web --no-wait"',
    );
  }
});

Deno.test("without options a request carries no args, and log's carry its own", () => {
  for (
    const argv of [["start", "web"], ["restart", "all"], ["update"], ["check"], ["stop", "web"]]
  ) {
    assert.equal(requestArgs(op(argv)), undefined, argv.join(" "));
  }
  assert.deepEqual(requestArgs(op(["log", "web", "-n", "3"])), {
    stream: "stdout",
    lines: 3,
    follow: false,
  });
});

Deno.test("--rolling asks one host at a time, --max-unavailable N hosts, for restarts only", () => {
  assert.equal(op(["restart", "web", "--rolling", "on", "h1", "on", "h2"]).rolling, 1);
  assert.equal(op(["restart", "web", "--max-unavailable", "2"]).rolling, 2);
  assert.equal(op(["restart", "web"]).rolling, undefined);
  assertUsage(["stop", "web", "--rolling"], /"--rolling" goes with the restart and trystart/);
  assertUsage(["restart", "web", "--max-unavailable", "0"], /--max-unavailable needs a whole/);
});

Deno.test("a rolling restart refuses --no-wait: it must wait for each host", () => {
  assertUsage(["restart", "web", "--rolling", "--no-wait"], /"--no-wait" does not go with it/);
});
