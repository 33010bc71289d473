/**
 * Black-box tests of log capture, rotation, reopen, remote tail and follow, and crash context:
 * real server, real client, real children.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cleanEnv,
  CLIENT_ENTRY,
  delay,
  exchange,
  isAlive,
  openFds,
  startServer,
  waitUntil,
} from "./harness.ts";
import type { TestServer } from "./harness.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A child config running `script` with `sh -c`, plus extra YAML lines. */
function shChild(script: string, extra = ""): string {
  return `command: ${JSON.stringify(["sh", "-c", script])}\nstart_seconds: 0\n${extra}`;
}

/** The YAML of an `output:` list. */
function outputs(...entries: Record<string, string | number>[]): string {
  const lines = ["output:"];
  for (const entry of entries) {
    const [first, ...rest] = Object.entries(entry);
    lines.push(`  - ${first![0]}: ${first![1]}`);
    for (const [k, v] of rest) lines.push(`    ${k}: ${v}`);
  }
  return lines.join("\n") + "\n";
}

/** The child's status over the wire (faster than running the client for each poll). */
async function status(server: TestServer, name: string): Promise<Record<string, unknown>> {
  const reply = await server.request({ op: "check", child: name });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  const data = reply.data as { children: Record<string, unknown>[] };
  return data.children[0]!;
}

async function waitState(
  server: TestServer,
  name: string,
  state: string,
  ms = 20_000,
): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  await waitUntil(
    async () => {
      last = await status(server, name);
      return last.state === state;
    },
    ms,
    `${name} to be ${state} (last: ${JSON.stringify(last)})`,
  );
  return last;
}

async function start(server: TestServer, name: string): Promise<void> {
  const reply = await server.request({ op: "start", child: name });
  assert.equal(reply.ok, true, JSON.stringify(reply));
}

async function stop(server: TestServer, name: string): Promise<void> {
  const reply = await server.request({ op: "stop", child: name });
  assert.equal(reply.ok, true, JSON.stringify(reply));
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `path.N` … `path.1`, `path`: every file of a rotated log, oldest first. */
function rotatedOldestFirst(path: string): { name: string; text: string }[] {
  const files: { name: string; text: string }[] = [];
  if (exists(path)) files.push({ name: path, text: readText(path) });
  for (let i = 1; exists(`${path}.${i}`); i++) {
    files.push({ name: `${path}.${i}`, text: readText(`${path}.${i}`) });
  }
  return files.reverse();
}

/** The server's resident memory in bytes. */
function rss(pid: number): number {
  const match = Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmRSS:\s+(\d+) kB/);
  assert.ok(match, "VmRSS in /proc/PID/status");
  return Number(match[1]) * 1024;
}

/** A running client whose stdout is collected as it arrives. */
class ClientProcess {
  readonly process: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly done: Promise<Deno.CommandStatus>;

  constructor(args: readonly string[]) {
    this.process = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", CLIENT_ENTRY, ...args],
      env: cleanEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const collect = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
      const text = new TextDecoderStream();
      for await (const chunk of stream.pipeThrough(text)) this[key] += chunk;
    };
    const out = collect(this.process.stdout, "stdout");
    const err = collect(this.process.stderr, "stderr");
    this.done = Promise.all([this.process.status, out, err]).then(([s]) => s);
  }

  get pid(): number {
    return this.process.pid;
  }

  lines(): string[] {
    return this.stdout.split("\n").filter((l, i, all) => i < all.length - 1 || l !== "");
  }

  async waitFor(pattern: RegExp, ms = 10_000): Promise<void> {
    await waitUntil(
      () => pattern.test(this.stdout),
      ms,
      `client output ${pattern}; have:\n${this.stdout}\nstderr:\n${this.stderr}`,
    );
  }

  /** Kills the client if it is still running (cleanup). */
  async kill(): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // exited already
    }
    await this.done;
  }
}

/** Waits up to `ms` for `promise`; undefined when it did not settle in time. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The numbers in lines like `PREFIX 123`, in the order they appear. */
function numbers(lines: readonly string[], prefix: string): number[] {
  const out: number[] = [];
  for (const line of lines) {
    const match = line.match(new RegExp(`^${prefix} (\\d+)$`));
    if (match) out.push(Number(match[1]));
  }
  return out;
}

function assertContiguous(values: readonly number[], what: string): void {
  for (let i = 1; i < values.length; i++) {
    if (values[i] !== values[i - 1]! + 1) {
      assert.fail(`${what}: ${values[i - 1]} is followed by ${values[i]}`);
    }
  }
}

// 1. Rotation under a fast writer

Deno.test("no line is lost or split across 20+ rotations under a fast writer", async () => {
  const count = 26_000;
  // Lines of 15 … 111 bytes: "line 00000001 " then (i % 97 + 1) letters; ~1.6 MB in all.
  const awk = `BEGIN { pad = "y"; while (length(pad) < 100) pad = pad pad;
    for (i = 1; i <= ${count}; i++) printf "line %08d %s\\n", i, substr(pad, 1, i % 97 + 1) }`;
  await using server = await startServer({
    children: {
      fast: `command: ${JSON.stringify(["awk", awk])}\nstart_seconds: 0\n` +
        outputs({ stdout: "fast.log", max_bytes: 65536, backups: 30 }),
    },
  });
  await start(server, "fast");
  await waitState(server, "fast", "EXITED");
  const path = join(server.childDir, "fast.log");
  const last = `line ${String(count).padStart(8, "0")} `;
  await waitUntil(() => readText(path).includes(last), 10_000, "the last line in fast.log");

  const files = rotatedOldestFirst(path);
  assert.ok(files.length >= 21, `only ${files.length - 1} rotations`);
  assert.ok(files.length <= 31, "backups: 30 keeps at most 31 files");
  assert.equal(exists(`${path}.31`), false);
  let expected = 1;
  for (const { name, text } of files) {
    assert.ok(encoder.encode(text).length <= 65536, `${name} is larger than max_bytes`);
    assert.ok(text.endsWith("\n"), `${name} ends in the middle of a line`);
    for (const line of text.slice(0, -1).split("\n")) {
      const match = line.match(/^line (\d{8}) (y+)$/);
      assert.ok(match, `${name}: malformed line ${JSON.stringify(line.slice(0, 80))}`);
      const n = Number(match[1]);
      assert.equal(n, expected, `${name}: line ${n} where ${expected} was due`);
      assert.equal(match[2]!.length, n % 97 + 1, `${name}: line ${n} is incomplete`);
      expected++;
    }
  }
  assert.equal(expected - 1, count, "every line is there exactly once");
});

// 2. create vs append is in tests/process_test.ts; here: append across runs with rotation.

Deno.test("append with rotation continues the same file across runs and keeps every line", async () => {
  const script = "n=$(cat run 2>/dev/null || echo 0); n=$((n+1)); echo $n > run; " +
    'i=1; while [ $i -le 120 ]; do printf "run %s line %04d %s\\n" $n $i ' +
    '"................................................"; i=$((i+1)); done';
  await using server = await startServer({
    children: {
      again: shChild(
        script,
        outputs({ stdout: "again.log", mode: "append", max_bytes: 2048, backups: 20 }),
      ),
    },
  });
  const path = join(server.childDir, "again.log");
  const expected: string[] = [];
  for (const run of [1, 2]) {
    await start(server, "again");
    await waitState(server, "again", "EXITED");
    for (let i = 1; i <= 120; i++) {
      expected.push(
        `run ${run} line ${
          String(i).padStart(4, "0")
        } ................................................`,
      );
    }
    await waitUntil(
      () => readText(path).includes(`run ${run} line 0120`),
      10_000,
      `run ${run} written`,
    );
  }
  const files = rotatedOldestFirst(path);
  assert.ok(files.length >= 6, `${files.length} files`);
  for (const { name, text } of files) {
    assert.ok(text.length <= 2048 && text.endsWith("\n"), `${name}: ${text.length} bytes`);
  }
  // Run 2 appended to what run 1 left (no truncation), and the rotation never split a line.
  assert.deepEqual(files.map((f) => f.text).join("").split("\n").slice(0, -1), expected);
  // The file run 1 was writing when it ended was continued, not replaced.
  const continued = files.some((f) =>
    f.text.includes("run 1 line") && f.text.includes("run 2 line")
  );
  assert.ok(continued || readText(path).startsWith("run 2 line 0001"), "append continued");
});

// 3. SIGHUP reopen after an external move

Deno.test("SIGHUP reopens the output file after logrotate moved it, losing no line", async () => {
  const script = 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.05; done';
  await using server = await startServer({
    children: { ticker: shChild(script, outputs({ stdout: "out.log" })) },
  });
  const path = join(server.childDir, "out.log");
  const moved = `${path}.moved`;
  await start(server, "ticker");
  await waitUntil(() => numbers(readText(path).split("\n"), "tick").length >= 5, 10_000, "ticks");
  await Deno.rename(path, moved);
  const atMove = numbers(readText(moved).split("\n"), "tick").length;
  // Until the reopen, lines keep going to the moved file through the open handle.
  await waitUntil(
    () => numbers(readText(moved).split("\n"), "tick").length >= atMove + 3,
    10_000,
    "lines in the moved file",
  );
  assert.equal(exists(path), false, "nothing recreated out.log before SIGHUP");
  Deno.kill(server.pid, "SIGHUP");
  await server.stderr.waitFor("SIGHUP: log files reopened");
  await waitUntil(
    () => numbers(readText(path).split("\n"), "tick").length >= 5,
    10_000,
    "new file",
  );
  await stop(server, "ticker");

  const before = numbers(readText(moved).split("\n"), "tick");
  const after = numbers(readText(path).split("\n"), "tick");
  assert.ok(before.length >= 8 && after.length >= 5);
  assert.equal(before[0], 1);
  assertContiguous(before, "moved file");
  assertContiguous(after, "new file");
  assert.equal(after[0], before[before.length - 1]! + 1, "the new file starts where the old ended");
  for (const text of [readText(moved), readText(path)]) assert.ok(text.endsWith("\n"));
});

// 4. log --lines, through the client and over the wire

Deno.test("log --lines shows the last lines of a file or of the in-memory tail, stdout or stderr", async () => {
  const script = 'i=1; while [ $i -le 50 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done';
  await using server = await startServer({
    children: {
      filed: shChild(script, outputs({ stdout: "filed.out" }, { stderr: "filed.err" })),
      mem: shChild(script),
    },
  });
  for (const name of ["filed", "mem"]) {
    await start(server, name);
    await waitState(server, name, "EXITED");
  }
  await waitUntil(() => readText(join(server.childDir, "filed.err")).includes("err 50\n"));
  await server.stderr.waitFor("mem | err 50\n");

  const range = (what: string, from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => `${what} ${from + i}\n`).join("");
  for (const name of ["filed", "mem"]) {
    const out = await server.client("log", name, "--lines", "5");
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, range("out", 46, 50), `${name} stdout`);
    const err = await server.client("log", name, "--stderr", "--lines", "3");
    assert.equal(err.code, 0, err.stderr);
    assert.equal(err.stdout, range("err", 48, 50), `${name} stderr`);
    const byDefault = await server.client("log", name);
    assert.equal(byDefault.stdout, range("out", 31, 50), `${name}: 20 lines by default`);
    const all = await server.client("log", name, "-n", "1000");
    assert.equal(all.stdout, range("out", 1, 50), `${name}: fewer lines than asked`);
  }
  const json = await server.json("log", "filed", "--stderr", "--lines", "2");
  assert.equal(json.ok, true);
  assert.equal(json.data!.source, "file");
  assert.equal(json.data!.path, join(server.childDir, "filed.err"));
  assert.deepEqual(json.data!.lines, ["err 49", "err 50"]);
  const memJson = await server.json("log", "mem", "--lines", "2");
  assert.equal(memJson.data!.source, "memory");
  assert.deepEqual(memJson.data!.lines, ["out 49", "out 50"]);

  // The same over the v2 wire.
  const wire = await server.request({
    op: "log",
    child: "mem",
    args: { lines: 3, stream: "stderr" },
  });
  assert.equal(wire.ok, true, JSON.stringify(wire));
  const data = wire.data as Record<string, unknown>;
  assert.deepEqual(data.lines, ["err 48", "err 49", "err 50"]);
  assert.equal(data.stream, "stderr");
  assert.equal(data.source, "memory");
  const fromFile = await server.request({ op: "log", child: "filed", args: { lines: 2 } });
  assert.deepEqual((fromFile.data as Record<string, unknown>).lines, ["out 49", "out 50"]);
  const zero = await server.request({ op: "log", child: "filed", args: { lines: 0 } });
  assert.deepEqual((zero.data as Record<string, unknown>).lines, []);

  for (
    const args of [
      { lines: -1 },
      { lines: 2.5 },
      { lines: "3" },
      { lines: 10_001 },
      { stream: "both" },
      { follow: "yes" },
      { tail: 3 },
    ]
  ) {
    const bad = await server.request({ op: "log", child: "mem", args });
    assert.equal(bad.ok, false, JSON.stringify(args));
    assert.equal(bad.code, "BAD_REQUEST", `${JSON.stringify(args)}: ${JSON.stringify(bad)}`);
  }
  const notObject = await server.request({ op: "log", child: "mem", args: [3] });
  assert.equal(notObject.code, "BAD_REQUEST");

  const usage = await server.client("log", "mem", "--lines", "many");
  assert.equal(usage.code, 2);
  const unknown = await server.client("log", "nosuchchild");
  assert.equal(unknown.code, 1, unknown.stdout);
});

// 5. log --follow

const TRIGGER_SCRIPT = 'i=0; while true; do i=$((i+1)); echo "tick $i"; ' +
  'if [ -e trigger ]; then echo "TRIGGERED $i"; rm -f trigger; fi; sleep 0.05; done';

Deno.test("log --follow prints lines written after it started and Ctrl-C ends it with 0", async () => {
  await using server = await startServer({ children: { ticker: shChild(TRIGGER_SCRIPT) } });
  await start(server, "ticker");
  await server.stdout.waitFor("ticker | tick 3\n");
  const fdsBefore = openFds(server.pid);
  const client = new ClientProcess(["log", "ticker", "--follow", "on", server.address]);
  try {
    // The first line printed means the server answered: the follow is in place.
    await client.waitFor(/tick \d+\n/);
    Deno.writeTextFileSync(join(server.childDir, "trigger"), "");
    await client.waitFor(/TRIGGERED \d+\n/);
    await client.waitFor(/TRIGGERED \d+\ntick \d+\n/);
    client.process.kill("SIGINT");
    const exit = await within(client.done, 10_000);
    assert.ok(exit, "the client exits after SIGINT");
    assert.equal(exit.code, 0, client.stderr);
    assert.equal(exit.signal, null);
    assert.equal(isAlive(client.pid), false);
    assert.equal(client.stderr, "");
    // Just the lines, no host prefix with a single host; and none lost on the way.
    const lines = client.lines();
    const ticks = numbers(lines, "tick");
    assert.equal(ticks.length, lines.length - 1, `unexpected lines: ${lines.join("|")}`);
    assertContiguous(ticks, "followed ticks");
  } finally {
    await client.kill();
  }
  // The server let go of the follow: its connection is closed.
  await waitUntil(() => openFds(server.pid) <= fdsBefore, 5000, "server fds back to before");
  assert.ok((await server.request({ op: "info" })).ok);
});

Deno.test("log --follow across two servers prefixes each line with its host", async () => {
  await using one = await startServer({ children: { ticker: shChild(TRIGGER_SCRIPT) } });
  await using two = await startServer({ children: { ticker: shChild(TRIGGER_SCRIPT) } });
  for (const server of [one, two]) {
    await start(server, "ticker");
    await server.stdout.waitFor("ticker | tick 2\n");
  }
  const client = new ClientProcess([
    "log",
    "ticker",
    "-f",
    "--lines",
    "2",
    "on",
    one.address,
    "on",
    two.address,
  ]);
  try {
    const esc = (s: string) => s.replace(/\./g, "\\.");
    for (const server of [one, two]) {
      await client.waitFor(new RegExp(`^${esc(server.address)} \\| tick \\d+$`, "m"));
    }
    for (const server of [one, two]) {
      Deno.writeTextFileSync(join(server.childDir, "trigger"), "");
    }
    for (const server of [one, two]) {
      await client.waitFor(new RegExp(`^${esc(server.address)} \\| TRIGGERED \\d+$`, "m"));
    }
    client.process.kill("SIGINT");
    const exit = await within(client.done, 10_000);
    assert.ok(exit, "the client exits after SIGINT");
    assert.equal(exit.code, 0, client.stderr);
    for (const line of client.lines()) {
      assert.match(line, new RegExp(`^(${esc(one.address)}|${esc(two.address)}) \\| \\S`));
    }
    for (const server of [one, two]) {
      const own = client.lines()
        .filter((l) => l.startsWith(`${server.address} | `))
        .map((l) => l.slice(server.address.length + 3));
      assertContiguous(numbers(own, "tick"), `ticks of ${server.address}`);
    }
  } finally {
    await client.kill();
  }
});

Deno.test("a follow ends by itself when the server shuts down", async () => {
  const server = await startServer({ children: { ticker: shChild(TRIGGER_SCRIPT) } });
  const client = new ClientProcess(["log", "ticker", "--follow", "on", server.address]);
  try {
    await start(server, "ticker");
    await client.waitFor(/tick 2\n/);
    const reply = await server.request({ op: "kill" });
    assert.equal(reply.ok, true);
    const exit = await within(client.done, 15_000);
    assert.ok(exit, "the client ends when the server ends the stream");
    assert.equal(exit.code, 0, client.stderr);
    assert.equal((await server.exited).code, 0);
  } finally {
    await client.kill();
    await server.stop();
    await Deno.remove(server.dir, { recursive: true }).catch(() => {});
  }
});

/** Reads newline-separated JSON values from a connection. */
class JsonLines {
  readonly #conn: Deno.Conn;
  #buffer = "";
  readonly #chunk = new Uint8Array(64 * 1024);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async next(): Promise<Record<string, unknown> | null> {
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return JSON.parse(line) as Record<string, unknown>;
      }
      const n = await this.#conn.read(this.#chunk);
      if (n === null) return null;
      this.#buffer += decoder.decode(this.#chunk.subarray(0, n), { stream: true });
    }
  }
}

/** One `log --follow` over the wire: the lines answered, then up to `most` line events. */
async function followOnce(
  server: TestServer,
  child: string,
  most: number,
): Promise<{ answered: string[]; events: string[] }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    const request = { v: 2, id: 7, op: "log", child, args: { lines: 10_000, follow: true } };
    await conn.write(encoder.encode(JSON.stringify(request) + "\n"));
    const reader = new JsonLines(conn);
    const response = (await reader.next())!;
    assert.equal(response.ok, true, JSON.stringify(response));
    const answered = (response.data as { lines: string[] }).lines;
    const events: string[] = [];
    while (events.length < most) {
      const event = await reader.next();
      assert.ok(event, "the stream goes on while the child runs");
      assert.equal(event.id, 7);
      // Lines dropped for a slow reader are allowed: what comes before them is what matters.
      if (event.event === "dropped") break;
      assert.equal(event.event, "line", JSON.stringify(event));
      const data = event.data as { stream: string; line: string };
      assert.equal(data.stream, "stdout");
      events.push(data.line);
    }
    return { answered, events };
  } finally {
    conn.close();
  }
}

Deno.test("follow continues exactly where the lines it answered end, for a file and in memory", async () => {
  // A writer as fast as sh goes: lines are always on their way while the request is served,
  // and the answer (up to 10,000 lines of ~210 bytes) takes many reads of the file.
  const pad = "p".repeat(200);
  const script = `i=0; while true; do i=$((i+1)); echo "n $i ${pad}"; done`;
  await using server = await startServer({
    children: {
      filed: shChild(script, outputs({ stdout: "filed.log" })),
      mem: shChild(script),
      direct: shChild(script, outputs({ stdout: "direct.log", direct: "true" })),
    },
  });
  const problems: string[] = [];
  for (const name of ["mem", "filed", "direct"]) {
    await start(server, name);
    await delay(200);
    for (let attempt = 1; attempt <= 4; attempt++) {
      const { answered, events } = await followOnce(server, name, 300);
      const where = `${name}, attempt ${attempt}`;
      const all = [...answered, ...events];
      const broken = all.flatMap((l, i) =>
        /^n \d+ p+$/.test(l) && l.endsWith(` ${pad}`) ? [] : [
          `${
            i < answered.length
              ? `answer line ${i + 1}/${answered.length}`
              : `event ${i - answered.length + 1}`
          }: ${JSON.stringify(l.length > 24 ? l.slice(0, 24) + "…" : l)}`,
        ]
      );
      if (broken.length > 0) {
        problems.push(`${where}: partial lines: ${broken.join(", ")}`);
        continue;
      }
      const got = all.map((l) => Number(l.split(" ")[1]));
      for (let i = 1; i < got.length; i++) {
        if (got[i] === got[i - 1]! + 1) continue;
        const at = i < answered.length
          ? "in the answer"
          : i === answered.length
          ? "where the answer ends and the events begin"
          : "in the events";
        problems.push(`${where}: "n ${got[i - 1]}" is followed by "n ${got[i]}" (${at})`);
        break;
      }
    }
    await stop(server, name);
  }
  assert.deepEqual(problems, []);
});

// 6. Crash context

Deno.test("check keeps the last 20 stderr lines of each exit, in JSON and in text", async () => {
  // Each run counts itself in a file of its own, so the runs can be told apart.
  const script = (counter: string) =>
    `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; ` +
    'i=1; while [ $i -le 30 ]; do echo "run $n err $i" >&2; echo "out $i"; i=$((i+1)); done; exit 1';
  await using server = await startServer({
    children: {
      crasher: shChild(script("crasher.runs")),
      filed: shChild(
        script("filed.runs"),
        outputs({ stderr: "filed.err" }, { stdout: "filed.out" }),
      ),
      // Written by the child itself, appended across runs: the context is this run's only.
      direct: shChild(
        script("direct.runs"),
        outputs({ stderr: "direct.err", mode: "append", direct: "true" }, {
          stdout: "direct.out",
          direct: "true",
        }),
      ),
    },
  });
  const tail = (run: number) => Array.from({ length: 20 }, (_, i) => `run ${run} err ${i + 11}`);
  for (const name of ["crasher", "filed", "direct"]) {
    for (const run of [1, 2]) {
      await start(server, name);
      await waitState(server, name, "EXITED");
      // The exit is recorded at once; its context is completed once stderr is drained.
      await waitUntil(
        async () => {
          const exit = (await status(server, name)).last_exit as { stderr_tail: string[] };
          return exit.stderr_tail.at(-1) === `run ${run} err 30`;
        },
        5000,
        `stderr tail of run ${run}`,
      );
    }
    const child = await server.child(name);
    const last = child.last_exit as { code: number | null; stderr_tail: string[] } | null;
    assert.equal(last?.code, 1);
    assert.deepEqual(last?.stderr_tail, tail(2), name);
    const history = child.history as { stderr_tail: string[] }[];
    assert.equal(history.length, 2);
    assert.deepEqual(history[0]!.stderr_tail, tail(1), `${name}: the first exit keeps its own`);
    assert.deepEqual(history[1]!.stderr_tail, tail(2));

    const text = await server.client("check", name);
    assert.equal(text.code, 0, text.stderr);
    const expected = "last stderr lines before the last exit:\n" +
      tail(2).map((l) => `  ${l}`).join("\n");
    assert.ok(text.stdout.includes(expected), text.stdout);
    assert.ok(!text.stdout.includes("run 2 err 10\n"), "only the last 20 lines");
  }
});

// 7. Memory stays bounded under a 200 MB writer

/** Samples the server's RSS every 25 ms until `done` settles; returns the peak. */
async function peakRss(pid: number, done: Promise<unknown>): Promise<number> {
  let peak = rss(pid);
  let finished = false;
  void done.finally(() => (finished = true));
  while (!finished) {
    peak = Math.max(peak, rss(pid));
    await delay(25);
  }
  return Math.max(peak, rss(pid));
}

const MIB = 1024 * 1024;

Deno.test("a child writing 200 MB to a file does not grow the server's memory beyond a bound", async () => {
  const lines = 2_000_000; // of 100 bytes: 200,000,000 bytes
  const awk =
    `BEGIN { s = sprintf("%99s", ""); gsub(/ /, "x", s); for (i = 0; i < ${lines}; i++) print s }`;
  await using server = await startServer({
    children: {
      big: `command: ${JSON.stringify(["awk", awk])}\nstart_seconds: 0\n` +
        outputs({ stdout: "big.log" }),
    },
  });
  const path = join(server.childDir, "big.log");
  // Warm up: one request so the baseline includes what serving a request costs.
  await status(server, "big");
  const baseline = rss(server.pid);
  const began = performance.now();
  await start(server, "big");
  const written = (async () => {
    await waitState(server, "big", "EXITED", 60_000);
    await waitUntil(() => Deno.statSync(path).size >= lines * 100, 30_000, "200 MB in big.log");
  })();
  const peak = await peakRss(server.pid, written);
  await written;
  const seconds = (performance.now() - began) / 1000;
  const size = Deno.statSync(path).size;
  await Deno.remove(path);
  console.log(
    `200 MB to a file: ${seconds.toFixed(2)} s, server RSS ${(baseline / MIB).toFixed(1)} MiB ` +
      `-> peak ${(peak / MIB).toFixed(1)} MiB (+${((peak - baseline) / MIB).toFixed(1)} MiB)`,
  );
  assert.equal(size, 200_000_000);
  assert.ok(peak - baseline < 64 * MIB, `RSS grew by ${((peak - baseline) / MIB).toFixed(1)} MiB`);
});

Deno.test("a child writing 20 MB without an output file does not grow the server's memory either", async () => {
  // 20 MB, not 200: everything the server prints is collected by this test process as text.
  const lines = 200_000;
  const awk =
    `BEGIN { s = sprintf("%99s", ""); gsub(/ /, "x", s); for (i = 0; i < ${lines}; i++) print s }`;
  await using server = await startServer({
    children: { big: `command: ${JSON.stringify(["awk", awk])}\nstart_seconds: 0\n` },
  });
  await status(server, "big");
  const baseline = rss(server.pid);
  const prefixLine = "big | " + "x".repeat(99) + "\n";
  const before = server.stdout.text.length;
  await start(server, "big");
  const written = (async () => {
    await waitState(server, "big", "EXITED", 60_000);
    await waitUntil(
      () => server.stdout.text.length >= before + lines * prefixLine.length,
      30_000,
      "20 MB on the server's stdout",
    );
  })();
  const peak = await peakRss(server.pid, written);
  await written;
  console.log(
    `20 MB to the server's stdout: server RSS ${(baseline / MIB).toFixed(1)} MiB -> peak ${
      (peak / MIB).toFixed(1)
    } MiB (+${((peak - baseline) / MIB).toFixed(1)} MiB)`,
  );
  const text = server.stdout.text;
  let count = 0;
  for (let at = text.indexOf(prefixLine); at >= 0; at = text.indexOf(prefixLine, at + 1)) count++;
  assert.equal(count, lines, "every line reached the server's stdout, prefixed");
  assert.ok(peak - baseline < 64 * MIB, `RSS grew by ${((peak - baseline) / MIB).toFixed(1)} MiB`);
});

// 8. Both streams naming the same file

Deno.test("stdout and stderr sharing a file never interleave inside a line", async () => {
  const writer = (tag: string, letter: string) =>
    `awk 'BEGIN { pad = "${letter}"; while (length(pad) < 20000) pad = pad pad; ` +
    `for (i = 1; i <= 800; i++) printf "${tag}%05d %s\\n", i, substr(pad, 1, (i * 7919) % 20000 + 1) }'`;
  const script = `${writer("O", "o")} & ${writer("E", "e")} >&2; wait`;
  await using server = await startServer({
    children: {
      both: shChild(script, outputs({ stdout: "both.log" }, { stderr: "both.log" })),
    },
  });
  await start(server, "both");
  await waitState(server, "both", "EXITED");
  const path = join(server.childDir, "both.log");
  await waitUntil(
    () => {
      const text = readText(path);
      return text.includes("O00800 ") && text.includes("E00800 ") && text.endsWith("\n");
    },
    10_000,
    "both streams written",
  );
  await delay(100);
  const lines = readText(path).slice(0, -1).split("\n");
  const seen = { O: 0, E: 0 };
  for (const line of lines) {
    const match = line.match(/^([OE])(\d{5}) (o+|e+)$/);
    assert.ok(match, `mixed or broken line: ${JSON.stringify(line.slice(0, 60))}…`);
    const tag = match[1] as "O" | "E";
    const n = Number(match[2]);
    assert.equal(match[3]![0], tag === "O" ? "o" : "e", `line ${tag}${n} holds the other stream`);
    assert.equal(match[3]!.length, (n * 7919) % 20000 + 1, `line ${tag}${n} is incomplete`);
    assert.equal(n, seen[tag] + 1, `${tag} lines out of order`);
    seen[tag] = n;
  }
  assert.deepEqual(seen, { O: 800, E: 800 });
  // The lines of the two streams did meet in the file (the test means something).
  assert.ok(
    lines.findIndex((l) => l.startsWith("E")) < lines.findLastIndex((l) => l.startsWith("O")),
  );
});

// 9. log --lines reaching back into rotated files

/** A shell loop printing `PREFIX NNNNN` plus padding to 50 bytes a line, from 1 to `count`. */
function paddedLines(prefix: string, count: number | "forever", pause = ""): string {
  const pad = "p".repeat(50 - prefix.length - 8);
  const test = count === "forever" ? "true" : `[ $i -le ${count} ]`;
  return `i=1; while ${test}; do printf '${prefix} %05d ${pad}\\n' $i; i=$((i+1)); ${pause} done`;
}

Deno.test("log --lines N reads back through the rotated files when the current one has fewer", async () => {
  // 110 lines of 50 bytes, 20 to a file of max_bytes 1024: 10 left in the current file, the
  // 100 before them in the backups web.log.1 (newest) … web.log.5.
  await using server = await startServer({
    children: {
      web: shChild(
        `${paddedLines("line", 110)}; exec sleep 1000`,
        outputs({ stdout: "web.log", max_bytes: 1024, backups: 5 }),
      ),
    },
  });
  await start(server, "web");
  const path = join(server.childDir, "web.log");
  await waitUntil(() => readText(path).includes("line 00110 "), 10_000, "all 110 lines written");
  assert.equal(readText(path).split("\n").length - 1, 10, "the current file holds 10 lines");
  const all = rotatedOldestFirst(path).flatMap((f) => f.text.split("\n").slice(0, -1));
  assert.equal(all.length, 110);

  const hundred = await server.request({ op: "log", child: "web", args: { lines: 100 } });
  assert.equal(hundred.ok, true, JSON.stringify(hundred));
  const lines = (hundred.data as { lines: string[] }).lines;
  assert.deepEqual(lines, all.slice(-100), `got ${lines.length} lines`);
  assert.equal(hundred.message, "100 lines of web stdout");

  // Through the client, and asking for more than there are: every line kept, oldest first.
  const more = await server.client("log", "web", "--lines", "500");
  assert.equal(more.code, 0, more.stderr);
  assert.equal(more.stdout, all.join("\n") + "\n");
});

Deno.test("log --lines N --follow through rotated files: the answer ends exactly where events begin", async () => {
  await using server = await startServer({
    children: {
      ticker: shChild(
        paddedLines("tick", "forever", "sleep 0.01;"),
        outputs({ stdout: "ticker.log", max_bytes: 1024, backups: 10 }),
      ),
    },
  });
  await start(server, "ticker");
  const path = join(server.childDir, "ticker.log");
  await waitUntil(() => exists(`${path}.6`), 20_000, "six rotations");
  const request = JSON.stringify({
    v: 2,
    id: 9,
    op: "log",
    child: "ticker",
    args: { lines: 100, follow: true },
  });
  const reply = await exchange(server.port, request + "\n", { ms: 1500, halfClose: false });
  const [first, ...rest] = reply.split("\n").filter((l) => l !== "");
  const response = JSON.parse(first!) as { ok: boolean; data: { lines: string[] } };
  assert.equal(response.ok, true, first);
  const answered = numbers(
    response.data.lines.map((l) => l.split(" ").slice(0, 2).join(" ")),
    "tick",
  );
  assert.equal(answered.length, 100, `answer: ${response.data.lines.length} lines`);
  assertContiguous(answered, "answered ticks");
  const events = rest.map((l) => JSON.parse(l) as { event: string; data: { line?: string } });
  const followed = numbers(
    events.filter((e) => e.event === "line").map((e) =>
      e.data.line!.split(" ").slice(0, 2).join(" ")
    ),
    "tick",
  );
  assert.ok(followed.length > 0, "events came");
  assertContiguous([...answered, ...followed], "answer then events");
});

// 10. Output files the child writes itself (direct)

/** Where fd `fd` of process `pid` points. */
function fdTarget(pid: number, fd: number): string {
  return Deno.readLinkSync(`/proc/${pid}/fd/${fd}`);
}

Deno.test("direct: the output file is the child's own stdout and stderr, and outlives a SIGKILLed server", async () => {
  const script = 'echo "started $$"; i=0; while true; do i=$((i+1)); echo "tick $i"; ' +
    'echo "warn $i" >&2; sleep 0.05; done';
  await using server = await startServer({
    children: {
      own: shChild(
        script,
        outputs({ stdout: "own.out", direct: "true" }, { stderr: "own.err", direct: "true" }),
      ),
      both: shChild(
        'echo "one"; echo "two" >&2; exec sleep 1000',
        outputs({ stdout: "both.log", direct: "true" }, { stderr: "both.log", direct: "true" }),
      ),
    },
  });
  const out = join(server.childDir, "own.out");
  const err = join(server.childDir, "own.err");
  const shared = join(server.childDir, "both.log");
  const pids: number[] = [];
  try {
    // A file left from before is truncated at the start (mode create).
    Deno.writeTextFileSync(out, "old line\n");
    await start(server, "own");
    await start(server, "both");
    const pid = (await status(server, "own")).pid as number;
    const both = (await status(server, "both")).pid as number;
    pids.push(pid, both);
    // No pipe: the files are the children's stdout and stderr.
    assert.equal(fdTarget(pid, 1), out);
    assert.equal(fdTarget(pid, 2), err);
    await waitUntil(() => readText(shared) === "one\ntwo\n", 5000, "both lines in the shared file");
    assert.equal(fdTarget(both, 1), shared);
    assert.equal(fdTarget(both, 2), shared);
    await waitUntil(() => readText(out).includes("tick 3\n"), 5000, "ticks");
    assert.ok(readText(out).startsWith(`started ${pid}\ntick 1\n`), "the old file was truncated");
    assert.ok(readText(err).startsWith("warn 1\nwarn 2\n"));
    // The server dies; the child goes on writing its file.
    server.process.kill("SIGKILL");
    await server.exited;
    const before = readText(out).length;
    await delay(300);
    assert.ok(isAlive(pid), "the child outlives the server");
    assert.ok(readText(out).length > before, "and its output still reaches the file");
  } finally {
    for (const pid of pids) {
      try {
        Deno.kill(-pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
});

Deno.test("direct: log --follow and a log probe read the file back as it grows; append keeps the old lines", async () => {
  await using server = await startServer({
    children: {
      app: [
        shChild(
          'echo "booting"; sleep 0.3; echo "listening now"; i=0; while [ $i -lt 50 ]; do ' +
            'i=$((i+1)); echo "line $i"; sleep 0.02; done; exec sleep 1000',
          outputs({ stdout: "app.log", mode: "append", direct: "true" }),
        ),
        `ready: { log: "listening now" }`,
      ].join("\n"),
    },
  });
  const path = join(server.childDir, "app.log");
  Deno.writeTextFileSync(path, "kept from before\n");
  const began = Date.now();
  const reply = await server.request({ op: "start", child: "app" });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.ok(Date.now() - began >= 250, "start waited for the ready line, read back from the file");
  const { answered, events } = await followOnce(server, "app", 20);
  const all = [...answered, ...events];
  const first = all.findIndex((l) => /^line \d+$/.test(l));
  assert.ok(first >= 0, JSON.stringify(all));
  const numbers = all.slice(first).map((l) => Number(l.split(" ")[1]));
  numbers.forEach((n, i) => assert.equal(n, numbers[0]! + i, `consecutive: ${numbers.join(",")}`));
  assert.ok(readText(path).startsWith("kept from before\nbooting\n"), "append kept the old line");
});
