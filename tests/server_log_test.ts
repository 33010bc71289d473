/**
 * Black-box tests of what an operator sees of the server itself: its own log lines (time and
 * level, or the journal's priorities), how fast it exits on SIGTERM, that children's last lines
 * still reach their files then, and a quiet startup when prehooks start planned children.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cleanEnv, SERVER_ENTRY, startServer, TestServer, waitUntil } from "./harness.ts";

/** `2026-12-01T07:17:07.123Z`: ISO 8601, UTC, milliseconds. */
const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

/**
 * Starts a server on `serverYaml` (plus `children`) with `env` added to a clean environment
 * from which JOURNAL_STREAM is removed (the test runner may itself run under the journal).
 */
async function launch(options: {
  readonly serverYaml?: string;
  readonly children?: Record<string, string>;
  readonly env?: Record<string, string>;
}): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-server-log-" });
  await Deno.mkdir(join(dir, "children"));
  const yaml = [
    "loadpaths: [children]",
    "listener_addr: 127.0.0.1",
    "listener_port: 0",
    "state_file: server.state",
    options.serverYaml ?? "",
  ].join("\n");
  await Deno.writeTextFile(join(dir, "server.yml"), yaml);
  for (const [name, text] of Object.entries(options.children ?? {})) {
    await Deno.writeTextFile(join(dir, "children", `${name}.yml`), text);
  }
  const env = cleanEnv(options.env ?? {});
  if (options.env?.JOURNAL_STREAM === undefined) delete env.JOURNAL_STREAM;
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", SERVER_ENTRY, join(dir, "server.yml")],
    cwd: dir,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const server = new TestServer(dir, process);
  try {
    const match = await server.stdout.waitFor(/listening on 127\.0\.0\.1:(\d+)/, 20_000);
    server.port = Number(match[1]);
  } catch (error) {
    await server[Symbol.asyncDispose]();
    throw new Error(`server did not listen:\n${server.stderr.text}`, { cause: error });
  }
  return server;
}

/** The server's stderr lines (without the children's `name | …` lines). */
function ownLines(server: TestServer): string[] {
  return server.stderr.text.split("\n").filter((l) => l !== "" && !/^\w+ \| /.test(l));
}

// 1. The server's own log: time and level, or the journal's priorities

Deno.test("the server's own log lines start with a UTC time to the millisecond and a level word", async () => {
  const before = Date.now();
  const server = await launch({ serverYaml: "mode: half\nstartup: [ghost]\n" });
  const status = await server.stop();
  await Deno.remove(server.dir, { recursive: true });
  assert.equal(status.code, 0, server.stderr.text);
  const lines = ownLines(server);
  assert.match(
    lines.join("\n"),
    new RegExp(
      `^${TIME} warn  startup child "ghost" is not defined in any loadpath; skipped$`,
      "m",
    ),
  );
  assert.match(lines.at(-1)!, new RegExp(`^${TIME} info  all children stopped; bye$`));
  for (const line of lines) {
    assert.match(line, new RegExp(`^${TIME} (info |warn |error) \\S`), "every line");
    const at = Date.parse(line.slice(0, 24));
    assert.ok(at >= before - 1000 && at <= Date.now() + 1000, `a time of now: ${line}`);
  }
  assert.doesNotMatch(server.stderr.text, /supervisor-ts: /);
});

Deno.test("under the journal (JOURNAL_STREAM set) lines carry syslog priorities and no time", async () => {
  const server = await launch({
    serverYaml: "mode: half\nstartup: [ghost]\n",
    env: { JOURNAL_STREAM: "8:123456" },
  });
  const status = await server.stop();
  await Deno.remove(server.dir, { recursive: true });
  assert.equal(status.code, 0, server.stderr.text);
  const lines = ownLines(server);
  assert.ok(
    lines.includes(`<4>warn  startup child "ghost" is not defined in any loadpath; skipped`),
    lines.join("\n"),
  );
  assert.ok(lines.includes("<6>info  shutting down (received SIGTERM): stopping every child"));
  assert.equal(lines.at(-1), "<6>info  all children stopped; bye");
  for (const line of lines) assert.match(line, /^<[346]>(info |warn |error) \S/, "every line");
});

Deno.test("a failed boot still says `error: cannot start the server: …`, whatever the log format", async () => {
  const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-server-log-" });
  try {
    for (const journal of [undefined, "8:1"]) {
      const env = cleanEnv(journal ? { JOURNAL_STREAM: journal } : {});
      if (!journal) delete env.JOURNAL_STREAM;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", SERVER_ENTRY, join(dir, "missing.yml")],
        env,
        stdin: "null",
      }).output();
      assert.equal(out.code, 1);
      assert.match(
        new TextDecoder().decode(out.stderr),
        /^error: cannot start the server: .*missing\.yml: cannot read config file/,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// 3. SIGTERM: at once when there is nothing to stop, and no output lost when there is

Deno.test("SIGTERM to a server with no children: it exits 0 within 500 ms", async () => {
  for (let i = 0; i < 3; i++) {
    await using server = await startServer();
    const began = performance.now();
    server.process.kill("SIGTERM");
    const status = await server.exited;
    const took = performance.now() - began;
    assert.equal(status.code, 0, server.stderr.text);
    assert.ok(took < 500, `exited ${Math.round(took)} ms after SIGTERM`);
  }
});

Deno.test("SIGTERM: the lines children write as they stop are all in their files and on the server's output", async () => {
  // On SIGTERM each writes 2000 lines, then exits; the server must drain them before it exits.
  const script =
    "trap 'i=1; while [ $i -le 2000 ]; do echo \"last $i\"; i=$((i+1)); done; exit 0' TERM; " +
    "echo ready; while true; do sleep 0.05; done";
  const command = `command: ${JSON.stringify(["sh", "-c", script])}\nstart_seconds: 0\n`;
  const server = await startServer({
    serverYaml: "mode: full\n",
    children: {
      filed: command + "output:\n  - stdout: filed.log\n",
      plain: command,
    },
  });
  try {
    const path = join(server.childDir, "filed.log");
    await waitUntil(() => readText(path).includes("ready\n"), 10_000, "filed is ready");
    await server.stdout.waitFor("plain | ready\n");
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr.text);
    const filed = readText(path).split("\n");
    assert.equal(filed.at(-2), "last 2000", "the file ends with the last line written");
    assert.equal(filed.filter((l) => l.startsWith("last ")).length, 2000);
    const plain = server.stdout.text.split("\n").filter((l) => l.startsWith("plain | last "));
    assert.equal(plain.length, 2000);
    assert.equal(plain.at(-1), "plain | last 2000");
  } finally {
    await server[Symbol.asyncDispose]();
  }
});

// 4. mode: full and prehooks

Deno.test("mode full: a child a prehook of another child started is no startup error, and runs once", async () => {
  // Each run appends a line to runs.txt next to the child files.
  const run = (name: string) => `sh -c 'echo ${name} >> runs.txt; exec sleep 1000'`;
  await using server = await startServer({
    serverYaml: "mode: full\n",
    children: {
      a: `command: ${run("a")}\nhooks:\n  - prehook: start b\n`,
      b: `command: ${run("b")}\n`,
    },
  });
  for (const name of ["a", "b"]) {
    const child = await server.child(name);
    assert.equal(child.state === "RUNNING" || child.state === "STARTING", true, name);
    assert.equal(child.restarts, 0, name);
    assert.deepEqual(child.history, [], `${name} never exited`);
  }
  const runs = readText(join(server.childDir, "runs.txt")).split("\n").filter((l) => l !== "");
  assert.deepEqual(runs.sort(), ["a", "b"], "each child ran once");
  assert.doesNotMatch(server.stderr.text, / error /, server.stderr.text);
  assert.match(server.stderr.text, new RegExp(`^${TIME} info  startup: started "a"$`, "m"));
  assert.match(
    server.stderr.text,
    new RegExp(`^${TIME} info  startup: (started "b"|"b" already started by a prehook)$`, "m"),
  );
});

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  }
}
