/**
 * `supervisor-ts-server --check [--from-supervisor-rs] [CONFIG]`, run as an operator runs it:
 * the real entry point on files in a temporary directory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cleanEnv, SERVER_ENTRY } from "./harness.ts";

const decoder = new TextDecoder();

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the server entry point with `args`, in `cwd`. */
async function runServer(args: readonly string[], cwd: string): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", SERVER_ENTRY, ...args],
    cwd,
    env: cleanEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Writes `files` (relative path → text) under a new temporary directory, removed after `body`. */
async function withFiles(
  files: Record<string, string>,
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "config_check_test_" }));
  try {
    for (const [path, text] of Object.entries(files)) {
      const full = join(dir, path);
      await Deno.mkdir(join(full, ".."), { recursive: true });
      await Deno.writeTextFile(full, text);
    }
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The report's lines before its summary (the summary starts with valid:, invalid: or supervisor-rs). */
function findings(stdout: string): string[] {
  return stdout.split("\n").filter((l) =>
    l !== "" && !/^(valid|invalid|supervisor-rs 0\.8\.5):/.test(l)
  );
}

Deno.test("--check on valid files: exit 0, the children named, nothing bound or written", async () => {
  // The control port is held by this test all along: a check that bound it would fail.
  using held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = held.addr.port;
  await withFiles({
    "server.yml": [
      "loadpaths: [children]",
      "mode: full",
      `listener_port: ${port}`,
      "state_file: run/state.json",
      "control_socket: run/control.sock",
      "",
    ].join("\n"),
    "children/db.yml": "command: sleep 60\n",
    "children/web.yml": "command: sleep 60\ndepends_on: [db]\ninstances: 2\n",
  }, async (dir) => {
    const config = join(dir, "server.yml");
    const runs = await Promise.all([
      runServer(["--check", config], dir),
      runServer([config, "--check"], "/"),
    ]);
    for (const run of runs) {
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(
        run.stdout,
        `valid: ${config} and 2 child files; 2 children checked: db, web (2 instances)\n`,
      );
      assert.doesNotMatch(run.stdout + run.stderr, /listening on/);
      assert.equal(run.stderr, "");
    }
    // No state file, no control socket: nothing was started.
    await assert.rejects(Deno.stat(join(dir, "run")), Deno.errors.NotFound);
  });
});

Deno.test("--check on invalid files: exit 1, every problem as file:line:col: message", async () => {
  await withFiles({
    "server.yml": [
      "loadpaths:",
      "  - children",
      "mode: full",
      "listenr_port: 4000",
      "http_listen: 0.0.0.0:9310",
      "",
    ].join("\n"),
    "children/web.yml": [
      "command: web",
      "depends_on: [dbb]",
      "hooks:",
      "  - prehook: start cache",
      "",
    ].join("\n"),
    "children/db.yml": "command: db\nrestart: sometimes\n",
    "children/a.yml": "command: a\ndepends_on: [b]\n",
    "children/b.yml": "command: b\ndepends_on: [a]\n",
    "children/broken.yml": "command: [unclosed\n",
    "children/all.yml": "command: all\n",
  }, async (dir) => {
    const run = await runServer(["--check", join(dir, "server.yml")], dir);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const lines = findings(run.stdout);
    for (const line of lines) assert.match(line, /^\/\S+:\d+:\d+: \S/, line);
    const server = join(dir, "server.yml");
    const child = (name: string) => join(dir, "children", `${name}.yml`);
    const expected = [
      `${server}:2:5: "${
        child("all")
      }" is ignored: "all" is a reserved word and cannot name a child`,
      `${server}:4:1: unknown key "listenr_port" in server config (did you mean "listener_port"?)`,
      `${server}:5:14: http_listen 0.0.0.0:9310 is reachable beyond this machine`,
      `${child("a")}:2:1: Cannot start child "a": its dependencies form a cycle: a -> b -> a`,
      `${child("b")}:2:1: Cannot start child "b": its dependencies form a cycle: b -> a -> b`,
      `${child("broken")}:2:1: invalid YAML`,
      `${child("db")}:2:10: restart must be one of never, on-failure, always, found "sometimes"`,
      `${
        child("web")
      }:2:14: depends_on names "dbb", which is not defined in any loadpath (did you mean "db"?)`,
      `${
        child("web")
      }:4:14: prehook "start cache" names the child "cache", which is not defined in any loadpath`,
    ];
    for (const start of expected) {
      assert.ok(
        lines.some((l) => l.startsWith(start)),
        `no line starting ${start}:\n${run.stdout}`,
      );
    }
    assert.equal(lines.length, expected.length, run.stdout);
    assert.match(
      run.stdout,
      /^invalid: 9 problems in 6 files \(6 files read\); 5 children checked: a, b, broken, db, web$/m,
    );
  });
});

Deno.test("usage errors exit 2", async () => {
  for (
    const args of [
      ["--from-supervisor-rs"],
      ["--check", "--frobnicate"],
      ["--check", "a.yml", "b.yml"],
    ]
  ) {
    const run = await runServer(args, "/");
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, /^error: /);
    assert.match(run.stderr, /--check \[--from-supervisor-rs\] \[CONFIG\]/);
  }
  const help = await runServer(["--help"], "/");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--from-supervisor-rs {2}with --check/);
});

// The seed README's example configs (supervisor-rs 0.8.5), as an operator would have them: the
// loadpaths written relative to where supervisor-rs was started, the hooks example saved as a
// dotted file name, and an unknown key and a repeat of 0 seconds that supervisor-rs ignored.
const SEED_SERVER = `# server side config
loadpaths:
- client/
- second/path
mode: "half"
startup:
- child1
- child2
encrypt: on
pub_keys_path:
- vault1
- vault2
#ipv6: true
listener_addr: 127.0.0.1
`;

const SEED_CHILD = `#each child config in loadpath of server config
command: /tmp/test
output:
- stdout: aaaaaa
  mode: create
- stderr: nnnnn
  mode: append
repeat:
  action: restart
  seconds: 5
hooks:
- prehook: start child
- posthook: start child
`;

const SEED_DEMO = `#file name (child name) is demo.yml
command: /tmp/test
output:
- stdout: aaaaaa
  mode: create
- stderr: nnnnn
  mode: append
repeat:
  action: restart
  seconds: 0 #only support seconds now
autorestart: true
`;

const SEED_HOOKS = `command: sleep 10
hooks:
- prehook: start child
- posthook: start child
`;

Deno.test("--check --from-supervisor-rs on the seed README's examples: each difference with its fix", async () => {
  await withFiles({
    "etc/server.yml": SEED_SERVER,
    "etc/client/child1.yml": SEED_CHILD,
    "etc/client/child.yml": "command: sh -c 'echo out'\n",
    "etc/second/path/demo.yml": SEED_DEMO,
    "etc/second/path/child2.prod.yml": SEED_HOOKS,
    "etc/vault1/ops.pem": "",
    "etc/vault2/.keep": "",
    "ops/.keep": "",
  }, async (dir) => {
    const etc = join(dir, "etc");
    const ops = join(dir, "ops");
    // Started where supervisor-rs was started: another directory than server.yml's.
    const run = await runServer(["--check", "--from-supervisor-rs", join(etc, "server.yml")], ops);
    // demo.yml is refused (an unknown key, repeat.seconds 0): exit 1.
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const out = run.stdout;
    const block = (start: string, ...next: RegExp[]) => {
      const lines = out.split("\n");
      const at = lines.findIndex((l) => l.startsWith(start));
      assert.ok(at >= 0, `no line starting ${start}:\n${out}`);
      next.forEach((pattern, i) => assert.match(lines[at + 1 + i] ?? "", pattern, start));
    };
    const server = join(etc, "server.yml");
    block(
      `${server}:3:3: differs from supervisor-rs: loadpath "client/" is relative: supervisor-ts reads it as ${etc}/client (relative to the directory of server.yml); supervisor-rs 0.8.5 read it relative to its working directory (${ops}/client when started in ${ops})`,
      /^ {4}fix: write an absolute path: /,
    );
    block(`${server}:4:3: differs from supervisor-rs: loadpath "second/path" is relative`, /fix:/);
    block(
      `${server}:9:10: differs from supervisor-rs: encrypt: on: supervisor-rs-client's signed commands are refused now`,
      /fix: add legacy: on/,
    );
    block(
      `${server}:11:3: differs from supervisor-rs: pub_keys_path entry "vault1" is relative: supervisor-ts reads it as ${etc}/vault1`,
      /fix:/,
    );
    block(
      `${server}:12:3: differs from supervisor-rs: pub_keys_path entry "vault2" is relative`,
      /fix:/,
    );
    const child1 = join(etc, "client", "child1.yml");
    block(
      `${child1}:4:11: differs from supervisor-rs: output stdout "aaaaaa" is relative: supervisor-ts reads it as ${etc}/client/aaaaaa (relative to the child file's directory); supervisor-rs 0.8.5 read it relative to its working directory (${ops}/aaaaaa when started in ${ops})`,
      /fix: write an absolute path/,
    );
    block(`${child1}:6:11: differs from supervisor-rs: output stderr "nnnnn" is relative`, /fix:/);
    block(
      `${child1}:8:1: differs from supervisor-rs: repeat: supervisor-rs 0.8.5 set no repeat timer for children it started with the server`,
      /fix:/,
    );
    block(
      `${child1}:11:1: differs from supervisor-rs: prehooks: supervisor-rs 0.8.5 ran no hooks for children it started with the server`,
      /fix:/,
    );
    block(
      `${
        join(etc, "client", "child.yml")
      }:1:10: differs from supervisor-rs: command "sh -c 'echo out'": supervisor-rs 0.8.5 split it on single spaces into ["sh","-c","'echo","out'"]; supervisor-ts splits it like sh does, into ["sh","-c","echo out"]`,
      /^ {4}fix: nothing, if these are the words you meant .*command: \["sh", "-c", "'echo", "out'"\]$/,
    );
    block(
      `${
        join(etc, "second", "path", "child2.prod.yml")
      }:1:1: differs from supervisor-rs: file name "child2.prod.yml": supervisor-rs 0.8.5 named its child "child2" (the file name up to its first dot); supervisor-ts names it "child2.prod"`,
      /^ {4}fix: rename the file to child2\.yml to keep the name "child2" \(startup names "child2"\)/,
    );
    const demo = join(etc, "second", "path", "demo.yml");
    block(
      `${demo}:10:12: refused, unlike supervisor-rs: repeat.seconds 0: supervisor-rs 0.8.5 ignored this repeat`,
      /^ {4}supervisor-ts: repeat\.seconds must be a number greater than 0/,
      /^ {4}fix: remove repeat .*seconds: 1 or more/,
    );
    block(
      `${demo}:11:1: refused, unlike supervisor-rs: key "autorestart" in a child file: supervisor-rs 0.8.5 ignored it; supervisor-ts refuses it`,
      /^ {4}supervisor-ts: unknown key "autorestart" in child config/,
      /^ {4}fix: remove "autorestart"/,
    );
    // Refused lines are not printed twice; the rest of the check is as without the flag.
    assert.equal(out.match(/unknown key "autorestart"/g)?.length, 1);
    block(`${server}:8:3: warning: startup child "child2" is not defined in any loadpath`);
    assert.match(
      out,
      /^invalid: 2 problems in 1 file, 1 warning \(5 files read\); 4 children checked: child, child1, child2\.prod, demo\nsupervisor-rs 0.8.5: 15 differences, 2 of them refused by supervisor-ts; each with its fix above\n$/m,
    );
  });
});

Deno.test("--check --from-supervisor-rs: differences alone exit 0, printed with their fixes", async () => {
  // The seed's half-mode demo server.yml, with its children.
  await withFiles({
    "server.yml":
      '#server side config\nloadpaths:\n- client/\nmode: "half"\nstartup:\n- child1\n- child2\n- child3\n',
    "client/child1.yml": "command: sleep 10\n",
    "client/child2.yml": "command: sleep 10\n",
    "client/child3.yml": "command: sleep 10\n",
  }, async (dir) => {
    const run = await runServer(["--check", "--from-supervisor-rs", "server.yml"], dir);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /server\.yml:2:1: differs from supervisor-rs: no listener_addr: supervisor-rs 0\.8\.5 listened on 0\.0\.0\.0 \(every interface\); supervisor-ts listens on 127\.0\.0\.1 \(this machine only\)\n {4}fix: listener_addr: 0\.0\.0\.0/,
    );
    assert.match(run.stdout, /loadpath "client\/" is relative/);
    assert.match(
      run.stdout,
      /^valid: \S+server\.yml and 3 child files; 3 children checked: child1, child2, child3\nsupervisor-rs 0\.8\.5: 2 differences; each with its fix above\n$/m,
    );
  });
});
