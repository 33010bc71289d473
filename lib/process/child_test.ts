import assert from "node:assert/strict";
import { join } from "node:path";
import { parseChildConfig } from "../config/child_config.ts";
import type { ChildConfig } from "../config/child_config.ts";
import { SupervisorError } from "../errors.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { FakeProcessTable } from "../testing/fake_process_table.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { Child, HISTORY_LENGTH } from "./child.ts";
import { uptimeAt } from "./uptime.ts";
import { describeExit } from "./exit_record.ts";
import { GroupReaper } from "./group_reaper.ts";
import { AUTO_RESTART_TRUST_MS } from "./restart_policy.ts";
import type { ChildDeps } from "./child.ts";
import type { Terminal } from "./child_outputs.ts";
import type { ByteSink } from "./sinks.ts";
import type { ExitStatus, SpawnedProcess, Spawner, SpawnSpec } from "./spawner.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A process that exits when the test says so, or when sent one of `exitOn`. */
class FakeProcess implements SpawnedProcess {
  readonly pid: number;
  readonly status: Promise<ExitStatus>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** Every signal sent to the group, in order. */
  readonly signals: Deno.Signal[] = [];
  /** Signals that end the process; others are only recorded. */
  readonly exitOn: Set<Deno.Signal>;
  exited = false;
  #resolve!: (status: ExitStatus) => void;
  #out!: ReadableStreamDefaultController<Uint8Array>;
  #err!: ReadableStreamDefaultController<Uint8Array>;
  #pipesOpen = true;

  constructor(pid: number, exitOn: Iterable<Deno.Signal>) {
    this.pid = pid;
    this.exitOn = new Set(exitOn);
    this.status = new Promise((resolve) => (this.#resolve = resolve));
    this.stdout = new ReadableStream({ start: (c) => void (this.#out = c) });
    this.stderr = new ReadableStream({ start: (c) => void (this.#err = c) });
  }

  signalGroup(signal: Deno.Signal): boolean {
    this.signals.push(signal);
    if (this.exited) return false;
    if (this.exitOn.has(signal)) this.exit({ code: null, signal });
    return true;
  }

  /** Ends the process; with `closePipes: false` its pipes stay open (a grandchild holds them). */
  exit(status: ExitStatus, options: { closePipes?: boolean } = {}): void {
    if (this.exited) return;
    this.exited = true;
    if (options.closePipes ?? true) this.closePipes();
    this.#resolve(status);
  }

  closePipes(): void {
    if (!this.#pipesOpen) return;
    this.#pipesOpen = false;
    this.#out.close();
    this.#err.close();
  }

  writeStdout(text: string): void {
    this.#out.enqueue(encoder.encode(text));
  }

  writeStderr(text: string): void {
    this.#err.enqueue(encoder.encode(text));
  }
}

/** A spawner that hands out FakeProcesses, or throws `failWith`. */
class FakeSpawner implements Spawner {
  readonly specs: SpawnSpec[] = [];
  readonly procs: FakeProcess[] = [];
  failWith: unknown = undefined;
  exitOn: Deno.Signal[] = ["SIGTERM", "SIGINT", "SIGKILL"];
  #nextPid = 4000;

  spawn(spec: SpawnSpec): SpawnedProcess {
    this.specs.push(spec);
    if (this.failWith !== undefined) throw this.failWith;
    const proc = new FakeProcess(this.#nextPid++, this.exitOn);
    this.procs.push(proc);
    return proc;
  }

  get last(): FakeProcess {
    const proc = this.procs[this.procs.length - 1];
    assert.ok(proc, "nothing was spawned");
    return proc;
  }
}

/** A sink that keeps what it is given. */
class RecordingSink implements ByteSink {
  readonly #bytes: number[] = [];

  write(bytes: Uint8Array): Promise<void> {
    this.#bytes.push(...bytes);
    return Promise.resolve();
  }

  get text(): string {
    return decoder.decode(Uint8Array.from(this.#bytes));
  }
}

interface World {
  readonly dir: string;
  readonly spawner: FakeSpawner;
  readonly clock: FakeClock;
  readonly logger: MemoryLogger;
  readonly stdout: RecordingSink;
  readonly stderr: RecordingSink;
  /** Live members of any process group, as the probe reports them. */
  groupMembers: number;
  readonly deps: ChildDeps;
  config(yaml: string, name?: string): ChildConfig;
}

/** Runs `body` with fakes for every dependency of a Child and a temp dir for configs. */
async function withWorld(body: (world: World) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "child_test_" });
  try {
    const stdout = new RecordingSink();
    const stderr = new RecordingSink();
    const terminal: Terminal = { stdout, stderr };
    const world: World = {
      dir,
      spawner: new FakeSpawner(),
      clock: new FakeClock(1_000_000),
      logger: new MemoryLogger(),
      stdout,
      stderr,
      groupMembers: 0,
      deps: undefined as unknown as ChildDeps,
      config: (yaml, name = "web") => parseChildConfig(join(dir, `${name}.yml`), yaml),
    };
    (world as { deps: ChildDeps }).deps = {
      spawner: world.spawner,
      clock: world.clock,
      terminal,
      logger: world.logger,
      groupProbe: () => world.groupMembers,
    };
    await body(world);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Lets pending promise callbacks (exit handling, pumping) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * The world's deps with a reaper over `table` instead of the probe, and the group signals of
 * every process spawned from now on delivered to the table's members of that group too.
 */
function withTable(w: World, table: FakeProcessTable): ChildDeps {
  const spawn = w.spawner.spawn.bind(w.spawner);
  w.spawner.spawn = (spec) => {
    const proc = spawn(spec);
    const signalGroup = proc.signalGroup.bind(proc);
    proc.signalGroup = (signal) => {
      const members = table.signalGroup(proc.pid, signal);
      return signalGroup(signal) || members;
    };
    return proc;
  };
  const { spawner, clock, logger } = w;
  const terminal = { stdout: w.stdout, stderr: w.stderr };
  return { spawner, clock, terminal, logger, reaper: new GroupReaper(table, clock) };
}

/** Moves the fake clock `ms` forward in steps, letting the reaper act between them. */
async function advanceInSteps(w: World, ms: number, step = 5): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await w.clock.advance(Math.min(step, ms - done));
    await settle();
  }
}

Deno.test("spawn starts the process in STARTING and it becomes RUNNING after start_seconds", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    const config = w.config("command: server --port 80\nenv:\n  MODE: prod\nstart_seconds: 2\n");
    const pid = await child.spawn(config);
    assert.equal(pid, w.spawner.last.pid);
    assert.deepEqual(w.spawner.specs, [{
      argv: ["server", "--port", "80"],
      cwd: w.dir,
      env: { MODE: "prod" },
    }]);
    assert.equal(child.state, "STARTING");
    assert.equal(child.isLive, true);
    await w.clock.advance(1999);
    assert.equal(child.state, "STARTING");
    await w.clock.advance(1);
    assert.equal(child.state, "RUNNING");
    assert.equal(child.status().since, 1_002_000);
    w.spawner.last.exit({ code: 0, signal: null });
    await settle();
  });
});

Deno.test("with start_seconds 0 the child is RUNNING as soon as it is spawned", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\nstart_seconds: 0\n"));
    assert.equal(child.state, "RUNNING");
    assert.equal(w.clock.pending, 0);
    w.spawner.last.exit({ code: 0, signal: null });
    await settle();
  });
});

Deno.test("the status of a running child has its pid, start time, uptime and command", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    const config = w.config("command: server -v\n");
    await child.spawn(config);
    await w.clock.advance(5000);
    const status = child.status();
    assert.equal(status.name, "web");
    assert.equal(status.state, "RUNNING");
    assert.equal(status.pid, w.spawner.last.pid);
    assert.equal(child.pid, w.spawner.last.pid);
    assert.equal(status.startedAt, 1_000_000);
    assert.equal(uptimeAt(status, w.clock.now()), 5000);
    assert.equal(status.restarts, 0);
    assert.equal(status.lastExit, null);
    assert.equal(status.configPath, config.path);
    assert.deepEqual(status.command, ["server", "-v"]);
    assert.equal(status.error, null);
    w.spawner.last.exit({ code: 0, signal: null });
    await settle();
  });
});

Deno.test("a child's status is the same object while nothing in it changes", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    const never = child.status();
    assert.equal(child.status(), never);
    await child.spawn(w.config("command: server\n"));
    const starting = child.status();
    assert.notEqual(starting, never);
    assert.equal(starting.state, "STARTING");
    assert.equal(starting.pid, w.spawner.last.pid);
    await w.clock.advance(2000);
    const running = child.status();
    assert.notEqual(running, starting);
    assert.equal(running.state, "RUNNING");
    await w.clock.advance(3000);
    // Time passing changes nothing in it: the uptime is worked out when it is shown.
    assert.equal(child.status(), running);
    assert.equal(uptimeAt(running, w.clock.now()), 5000);
    w.spawner.last.writeStderr("last words\n");
    w.spawner.last.exit({ code: 3, signal: null }, { closePipes: false });
    await settle();
    const exited = child.status();
    assert.notEqual(exited, running);
    assert.equal(exited.state, "EXITED");
    assert.equal(exited.pid, null);
    assert.equal(exited.history.length, 1);
    assert.equal(child.status(), exited);
    // Its exit is replaced once the rest of its stderr is in: a new status shows the new one.
    w.spawner.last.closePipes();
    for (let i = 0; i < 50 && child.status() === exited; i++) await settle();
    const complete = child.status();
    assert.notEqual(complete, exited);
    assert.deepEqual(complete.lastExit?.stderrTail, ["last words"]);
    assert.equal(complete.lastExit, complete.history[0]);
    assert.equal(child.status(), complete);
    // Nothing it shows is changed afterwards: an earlier status is still what it was.
    assert.equal(exited.state, "EXITED");
    assert.equal(starting.state, "STARTING");
  });
});

Deno.test("a child that exits by itself is EXITED with its code, not requested", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\n"));
    const pid = w.spawner.last.pid;
    await w.clock.advance(7000);
    w.spawner.last.exit({ code: 3, signal: null });
    await settle();
    assert.equal(child.state, "EXITED");
    assert.equal(child.isLive, false);
    const status = child.status();
    assert.deepEqual(status.lastExit, {
      code: 3,
      signal: null,
      at: 1_007_000,
      ranMs: 7000,
      requested: false,
      expected: false,
      stderrTail: [],
    });
    assert.deepEqual(status.history, [status.lastExit]);
    assert.equal(status.pid, null);
    assert.equal(uptimeAt(status, w.clock.now()), null);
    assert.ok(
      w.logger.lines.includes(`info: child "web" (pid ${pid}) exited: exit code 3`),
      w.logger.lines.join("\n"),
    );
  });
});

Deno.test("a child killed by a signal records the signal and no code", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\n"));
    w.spawner.last.exit({ code: null, signal: "SIGSEGV" });
    await settle();
    const exit = child.status().lastExit!;
    assert.equal(exit.code, null);
    assert.equal(exit.signal, "SIGSEGV");
    assert.equal(describeExit(exit), "signal SIGSEGV");
    assert.equal(describeExit({ code: 3, signal: null }), "exit code 3");
  });
});

Deno.test("a child that dies within start_seconds is EXITED and never becomes RUNNING", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\nstart_seconds: 5\n"));
    await w.clock.advance(1000);
    w.spawner.last.exit({ code: 1, signal: null });
    await settle();
    assert.equal(child.state, "EXITED");
    assert.equal(w.clock.pending, 0);
    await w.clock.advance(10_000);
    assert.equal(child.state, "EXITED");
  });
});

Deno.test("terminate sends the stop signal and the child ends STOPPED with requested set", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\nstart_seconds: 0\n"));
    const proc = w.spawner.last;
    await w.clock.advance(2000);
    const exit = await child.terminate();
    assert.deepEqual(proc.signals, ["SIGTERM"]);
    assert.equal(child.state, "STOPPED");
    assert.deepEqual(exit, {
      code: null,
      signal: "SIGTERM",
      at: 1_002_000,
      ranMs: 2000,
      requested: true,
      expected: false,
      stderrTail: [],
    });
    assert.deepEqual(child.status().lastExit, exit);
    assert.equal(child.status().pid, null);
    assert.equal(child.pid, null);
    assert.equal(w.clock.pending, 0);
  });
});

Deno.test("terminate while still STARTING stops the child and cancels its start timer", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\nstart_seconds: 3\n"));
    await child.terminate();
    assert.equal(child.state, "STOPPED");
    assert.equal(w.clock.pending, 0);
    await w.clock.advance(5000);
    assert.equal(child.state, "STOPPED");
  });
});

Deno.test("stop escalates to SIGKILL after stop_timeout and logs a warning", async () => {
  await withWorld(async (w) => {
    w.spawner.exitOn = ["SIGKILL"];
    const child = new Child("web", w.deps);
    const config = w.config(
      "command: server\nstop_signal: INT\nstop_timeout: 3\nstart_seconds: 0\n",
    );
    await child.spawn(config);
    const proc = w.spawner.last;
    const stopping = child.terminate();
    await settle();
    assert.equal(child.state, "STOPPING");
    assert.deepEqual(proc.signals, ["SIGINT"]);
    await w.clock.advance(2999);
    assert.equal(child.state, "STOPPING");
    assert.deepEqual(proc.signals, ["SIGINT"]);
    await w.clock.advance(1);
    const exit = await stopping;
    assert.deepEqual(proc.signals, ["SIGINT", "SIGKILL"]);
    assert.equal(child.state, "STOPPED");
    assert.equal(exit.signal, "SIGKILL");
    assert.equal(exit.requested, true);
    assert.equal(exit.ranMs, 3000);
    assert.ok(
      w.logger.lines.includes(
        `warn: child "web" (pid ${proc.pid}) did not stop within 3s of SIGINT; ` +
          "sending SIGKILL to its process group",
      ),
      w.logger.lines.join("\n"),
    );
  });
});

Deno.test("a child that stops in time gets no SIGKILL and no warning", async () => {
  await withWorld(async (w) => {
    w.spawner.exitOn = [];
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\nstop_timeout: 10\n"));
    const proc = w.spawner.last;
    const stopping = child.terminate();
    await w.clock.advance(9000);
    proc.exit({ code: 0, signal: null });
    const exit = await stopping;
    assert.deepEqual(proc.signals, ["SIGTERM"]);
    assert.deepEqual({ code: exit.code, requested: exit.requested }, { code: 0, requested: true });
    assert.deepEqual(w.logger.lines.filter((l) => l.startsWith("warn")), []);
    assert.equal(w.clock.pending, 0);
  });
});

Deno.test("terminate without a run is refused", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await assert.rejects(child.terminate(w.config("command: x\n")), {
      message: 'Child "web" has no run to stop',
    });
    assert.equal(child.state, "STOPPED");
  });
});

Deno.test("group members left after the leader exits are stopped, then killed at the timeout", async () => {
  await withWorld(async (w) => {
    const table = new FakeProcessTable();
    const child = new Child("web", withTable(w, table));
    await child.spawn(w.config("command: server\nstop_timeout: 1\n"));
    const proc = w.spawner.last;
    proc.exitOn.clear();
    table.add(proc.pid + 1, { pgid: proc.pid, sid: proc.pid, diesOn: [] });
    proc.exit({ code: 0, signal: null });
    await settle();
    assert.equal(child.state, "EXITED");
    assert.deepEqual(proc.signals, ["SIGTERM"]);
    await advanceInSteps(w, 995);
    assert.deepEqual(proc.signals, ["SIGTERM"]);
    await advanceInSteps(w, 10);
    assert.deepEqual(proc.signals, ["SIGTERM", "SIGKILL"]);
    assert.deepEqual(table.live(proc.pid), []);
    assert.ok(
      w.logger.lines.includes(
        `warn: child "web": processes left in its group or session ${proc.pid}; sending SIGKILL`,
      ),
      w.logger.lines.join("\n"),
    );
  });
});

Deno.test("a group of zombies left by the leader is not waited for until the timeout", async () => {
  await withWorld(async (w) => {
    const table = new FakeProcessTable();
    const child = new Child("web", withTable(w, table));
    await child.spawn(w.config("command: server\nstop_timeout: 30\n"));
    const proc = w.spawner.last;
    table.add(proc.pid + 1, { pgid: proc.pid, sid: proc.pid });
    table.processes.get(proc.pid + 1)!.zombie = true;
    const stopping = child.terminate();
    await advanceInSteps(w, 2000, 50);
    await stopping;
    assert.equal(child.state, "STOPPED");
    assert.deepEqual(proc.signals, ["SIGTERM"]);
  });
});

Deno.test("stop signals the session's processes in groups of their own, and kills them at stop_timeout", async () => {
  await withWorld(async (w) => {
    const table = new FakeProcessTable();
    const child = new Child("web", withTable(w, table));
    await child.spawn(w.config("command: server\nstop_timeout: 2\n"));
    const proc = w.spawner.last;
    // Jobs of a shell with job control (`set -m`): same session, groups of their own.
    table.add(proc.pid + 1, { pgid: proc.pid + 1, sid: proc.pid, diesOn: [] });
    table.add(proc.pid + 2, { pgid: proc.pid + 2, sid: proc.pid });
    const stopping = child.terminate();
    await advanceInSteps(w, 20);
    assert.deepEqual(table.signals, [
      { pid: proc.pid + 1, signal: "SIGTERM" },
      { pid: proc.pid + 2, signal: "SIGTERM" },
    ]);
    assert.deepEqual(table.live(proc.pid), [proc.pid + 1], "the job that ignores SIGTERM");
    assert.equal(child.state, "STOPPING");
    await advanceInSteps(w, 2000);
    await stopping;
    assert.equal(child.state, "STOPPED");
    assert.deepEqual(table.signals.slice(2), [{ pid: proc.pid + 1, signal: "SIGKILL" }]);
    assert.deepEqual(table.live(proc.pid), []);
    assert.deepEqual(proc.signals, ["SIGTERM"], "the empty group itself gets no SIGKILL");
    assert.ok(
      w.logger.lines.includes(
        `warn: child "web": processes left in its group or session ${proc.pid}; sending SIGKILL`,
      ),
      w.logger.lines.join("\n"),
    );
  });
});

Deno.test(`history keeps the last ${HISTORY_LENGTH} exits, oldest first`, async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    const config = w.config("command: server\nstart_seconds: 0\n");
    for (let run = 0; run < HISTORY_LENGTH + 2; run++) {
      await child.spawn(config);
      w.spawner.last.exit({ code: run, signal: null });
      await settle();
      assert.equal(child.state, "EXITED");
    }
    const status = child.status();
    assert.equal(HISTORY_LENGTH, 10);
    assert.deepEqual(status.history.map((e) => e.code), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.equal(status.lastExit?.code, 11);
    assert.equal(status.restarts, 11);
  });
});

Deno.test("a status snapshot is a copy that later exits do not change", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    const config = w.config("command: server\n");
    await child.spawn(config);
    w.spawner.last.exit({ code: 1, signal: null });
    await settle();
    const before = child.status();
    await child.spawn(config);
    w.spawner.last.exit({ code: 2, signal: null });
    await settle();
    assert.equal(before.history.length, 1);
    assert.equal(child.status().history.length, 2);
  });
});

Deno.test("a program that is not found makes the child FATAL with SPAWN_FAILED", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    const cause = new Deno.errors.NotFound("No such file or directory (os error 2)");
    w.spawner.failWith = cause;
    await assert.rejects(child.spawn(w.config("command: no-such-program --flag\n")), (error) => {
      assert.ok(error instanceof SupervisorError, `expected SupervisorError, got ${error}`);
      assert.equal(error.code, "SPAWN_FAILED");
      assert.equal(error.child, "web");
      assert.equal(
        error.message,
        'Cannot start child "web": command "no-such-program" was not found',
      );
      assert.equal(error.cause, cause);
      return true;
    });
    assert.equal(child.state, "FATAL");
    const status = child.status();
    assert.equal(status.pid, null);
    assert.equal(status.error, 'command "no-such-program" was not found');
    assert.equal(status.restarts, 0);
    assert.ok(
      w.logger.lines.includes(
        'error: child "web" is FATAL: command "no-such-program" was not found',
      ),
      w.logger.lines.join("\n"),
    );
  });
});

Deno.test("a program that cannot be executed is reported as permission denied", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    w.spawner.failWith = new Deno.errors.PermissionDenied("Permission denied");
    await assert.rejects(child.spawn(w.config("command: ./run.sh\n")), {
      message: 'Cannot start child "web": command "./run.sh" cannot be run: permission denied',
    });
    assert.equal(child.state, "FATAL");
  });
});

Deno.test("a missing working directory fails the spawn before anything is run", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    const missing = join(w.dir, "gone");
    await assert.rejects(child.spawn(w.config(`command: server\ncwd: ${missing}\n`)), {
      name: "SupervisorError",
      message: `Cannot start child "web": working directory "${missing}" does not exist`,
    });
    assert.equal(w.spawner.specs.length, 0);
    assert.equal(child.state, "FATAL");
  });
});

Deno.test("an automatic restart takes the working directory and program found good within its trust; a failure then names the directory", async () => {
  await withWorld(async (w) => {
    const cwd = join(w.dir, "work");
    await Deno.mkdir(cwd);
    const config = w.config(
      `command: server\ncwd: ${cwd}\nrestart: always\nbackoff: { initial: 0, max: 0 }\nstart_seconds: 0\n`,
    );
    const child = new Child("web", w.deps);
    await child.enqueue(() => child.spawn(config));
    assert.equal(w.spawner.specs[0]!.trustMs, undefined, "an operator's start looks at everything");
    // Gone after the last look: the restart, within the trust, goes ahead and the spawn fails
    // (as chdir would); the directory is then looked at, and named.
    await Deno.remove(cwd);
    w.spawner.failWith = new Error("spawn failed");
    w.spawner.last.exit({ code: 1, signal: null });
    await settle();
    await w.clock.advance(0);
    for (let i = 0; i < 5; i++) await settle();
    assert.equal(w.spawner.specs.length, 2, "spawned without a look at the directory first");
    assert.equal(w.spawner.specs[1]!.trustMs, AUTO_RESTART_TRUST_MS);
    assert.ok(
      w.logger.lines.some((line) =>
        line.includes(`Cannot start child "web": working directory "${cwd}" does not exist`)
      ),
      w.logger.lines.join("\n"),
    );
    await child.enqueue(() => child.halt());
  });
});

Deno.test("a FATAL child can be spawned again and the error is cleared", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    const config = w.config("command: server\nstart_seconds: 0\n");
    w.spawner.failWith = new Deno.errors.NotFound("gone");
    await assert.rejects(child.spawn(config), SupervisorError);
    w.spawner.failWith = undefined;
    await child.spawn(config);
    assert.equal(child.state, "RUNNING");
    assert.equal(child.status().error, null);
    w.spawner.last.exit({ code: 0, signal: null });
    await settle();
  });
});

Deno.test("status has no pid before the first spawn", async () => {
  await withWorld((w) => {
    const child = new Child("web", w.deps);
    const status = child.status();
    assert.deepEqual({
      name: status.name,
      state: status.state,
      since: status.since,
      pid: status.pid,
      startedAt: status.startedAt,
      uptimeMs: uptimeAt(status, w.clock.now()),
      restarts: status.restarts,
      lastExit: status.lastExit,
      history: status.history,
      configPath: status.configPath,
      command: status.command,
      error: status.error,
    }, {
      name: "web",
      state: "STOPPED",
      since: 1_000_000,
      pid: null,
      startedAt: null,
      uptimeMs: null,
      restarts: 0,
      lastExit: null,
      history: [],
      configPath: null,
      command: null,
      error: null,
    });
    assert.equal(child.isLive, false);
    assert.equal(child.config, undefined);
    return Promise.resolve();
  });
});

Deno.test("output without a file goes to the terminal, each line prefixed by the name", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\n"));
    const proc = w.spawner.last;
    proc.writeStdout("hello\nwor");
    proc.writeStdout("ld\n");
    proc.writeStderr("oops");
    proc.exit({ code: 0, signal: null });
    await settle();
    assert.equal(w.stdout.text, "web | hello\nweb | world\n");
    assert.equal(w.stderr.text, "web | oops\n");
  });
});

Deno.test("output with a file goes to that file and not to the terminal", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\noutput:\n  - stdout: out.log\n"));
    const proc = w.spawner.last;
    proc.writeStdout("to the file\n");
    proc.exit({ code: 0, signal: null });
    await child.drained(1000);
    for (let i = 0; i < 20 && Deno.readTextFileSync(join(w.dir, "out.log")) === ""; i++) {
      await settle();
    }
    await settle(); // the file is closed once both pipes are drained
    assert.equal(Deno.readTextFileSync(join(w.dir, "out.log")), "to the file\n");
    assert.equal(w.stdout.text, "");
  });
});

Deno.test("drained waits for the last run's pipes even after the process has exited", async () => {
  await withWorld(async (w) => {
    const child = new Child("web", w.deps);
    await child.spawn(w.config("command: server\n"));
    const proc = w.spawner.last;
    // The leader exits, but a grandchild still holds its stdout open.
    proc.exit({ code: 0, signal: null }, { closePipes: false });
    await settle();
    assert.equal(child.state, "EXITED");
    let drained = false;
    const waiting = child.drained(2000).then(() => (drained = true));
    await settle();
    assert.equal(drained, false, "drained() returned while a pipe was still open");
    proc.writeStdout("last words\n");
    proc.closePipes();
    await waiting;
    assert.equal(w.stdout.text, "web | last words\n");
  });
});
