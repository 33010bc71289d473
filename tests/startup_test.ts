/**
 * Black-box tests of server boot: startup modes, bad configs, listening.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cleanEnv, delay, isAlive, SERVER_ENTRY, startServer } from "./harness.ts";

/** A child that records each start in a file next to its config. */
const MARKER_CHILD =
  `command: ["sh", "-c", "echo started >> started.txt; exec sleep 1000"]\nstart_seconds: 0\n`;

Deno.test("quiet mode starts nothing", async () => {
  await using server = await startServer({ children: { a: MARKER_CHILD } });
  const check = await server.json("check");
  assert.equal((check.data!.children as { state: string }[])[0]!.state, "STOPPED");
});

Deno.test("half mode starts the startup names that exist and warns about the missing ones", async () => {
  await using server = await startServer({
    serverYaml: "mode: half\nstartup:\n  - a\n  - ghost\n",
    children: { a: MARKER_CHILD, b: MARKER_CHILD },
  });
  const a = await server.child("a");
  const b = await server.child("b");
  assert.ok(a.pid && isAlive(a.pid));
  assert.equal(b.state, "STOPPED");
  assert.match(
    server.stderr.text,
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn {2}startup child "ghost" is not defined in any loadpath; skipped/m,
  );
});

Deno.test("full mode starts every child", async () => {
  await using server = await startServer({
    serverYaml: "mode: full\n",
    children: { a: "command: sleep 1000\n", b: "command: sleep 1000\n" },
  });
  for (const name of ["a", "b"]) {
    const child = await server.child(name);
    assert.ok(child.pid && isAlive(child.pid), `${name} runs`);
  }
});

Deno.test("full mode with one invalid child exits 1 having started nothing", async () => {
  const server = await startServer({
    serverYaml: "mode: full\n",
    children: { good: MARKER_CHILD, broken: "command: sleep 1\nstop_signal: SIGNOPE\n" },
    expectFailure: true,
  });
  try {
    const status = await server.exited;
    assert.equal(status.code, 1);
    await server.stderr.done;
    const file = join(server.childDir, "broken.yml");
    assert.ok(
      server.stderr.text.includes(`${file}:2:14: stop_signal must be one of SIGTERM`),
      server.stderr.text,
    );
    await delay(200);
    assert.throws(() => Deno.statSync(join(server.childDir, "started.txt")), Deno.errors.NotFound);
    assert.doesNotMatch(server.stdout.text, /listening on/);
  } finally {
    await server[Symbol.asyncDispose]();
  }
});

async function bootFailure(
  configPath: string,
  cwd?: string,
): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", SERVER_ENTRY, configPath],
    env: cleanEnv(),
    stdin: "null",
    ...(cwd ? { cwd } : {}),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("a missing server config is a clear error and exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await bootFailure(join(dir, "nope.yml"));
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr.trim(),
      `error: cannot start the server: ${
        join(dir, "nope.yml")
      }: cannot read config file: no such file`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an invalid server config names file, line and column and exits 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "server.yml");
    await Deno.writeTextFile(path, "loadpaths: [a]\nmode: halff\nlistener_port: 99999\n");
    const result = await bootFailure(path);
    assert.equal(result.code, 1);
    assert.ok(
      result.stderr.includes(
        `${path}:2:7: mode must be one of quiet, half, full, found "halff" (did you mean "half"?)`,
      ),
      result.stderr,
    );
    assert.ok(
      result.stderr.includes(
        `${path}:3:16: listener_port must be a whole number from 0 to 65535, found 99999`,
      ),
      result.stderr,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a port already in use is a clear error and exit 1", async () => {
  await using first = await startServer();
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "server.yml");
    await Deno.writeTextFile(path, `listener_addr: 127.0.0.1\nlistener_port: ${first.port}\n`);
    const result = await bootFailure(path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: cannot start the server: .*(in use|AddrInUse)/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the same child name in two loadpaths is an error naming both files", async () => {
  await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
  // server.yml is re-read at every operation: a loadpath added while running counts.
  await Deno.writeTextFile(
    server.configPath,
    `loadpaths:\n  - children\n  - more\nlistener_addr: 127.0.0.1\nlistener_port: ${server.port}\n`,
  );
  await Deno.mkdir(join(server.dir, "more"));
  await Deno.writeTextFile(join(server.dir, "more", "web.yaml"), "command: sleep 1000\n");
  const result = await server.json("start", "web");
  assert.equal(result.code, "CONFIG_INVALID");
  assert.ok(result.message.includes(join(server.childDir, "web.yml")), result.message);
  assert.ok(result.message.includes(join(server.dir, "more", "web.yaml")), result.message);
  const check = await server.json("check");
  assert.match(
    String((check.data!.problems as string[])[0]),
    /child "web" is defined more than once/,
  );
});

Deno.test("reserved words cannot name a child", async () => {
  await using server = await startServer({ children: { all: "command: sleep 1000\n" } });
  // `start all` means every child; an operation on one child cannot name "all".
  const result = await server.json("trystart", "all");
  assert.equal(result.code, "RESERVED_NAME");
  assert.match(result.message, /"all" is a reserved word/);
  const check = await server.json("check");
  assert.match(String((check.data!.problems as string[])[0]), /all\.yml" is ignored/);
});

Deno.test("the server prints the address it listens on and info reports it", async () => {
  await using server = await startServer();
  const info = await server.json("info");
  assert.equal(info.ok, true);
  const data = info.data!;
  assert.equal(data.listen, server.address);
  assert.equal(data.config_path, server.configPath);
  assert.equal(data.pid, server.pid);
  assert.equal(data.encrypt, "off");
  assert.deepEqual(data.loadpaths, [server.childDir]);
  assert.equal(typeof data.version, "string");
});
