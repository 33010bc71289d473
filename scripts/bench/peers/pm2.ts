/**
 * pm2 (npm package `pm2`) behind the common {@link Peer} interface.
 *
 * Every run has a private `PM2_HOME` in its own directory, so the user's pm2 (~/.pm2, its
 * daemon, its dump file) is never touched; even `pm2 --version` is not run, because it starts
 * a daemon in the default home. The version is read from the package's package.json.
 *
 * pm2 is driven through its programmatic API by a Node helper kept connected
 * (`pm2_helper.cjs`): that is the fastest client pm2 offers, with no Node start per request.
 * Its status CLI is `pm2 jlist`; shutting down is `pm2 kill`, the documented way. Children are
 * apps with `interpreter: none`, so the process pm2 runs is the program itself; the measured
 * process is the God daemon (pid from PM2_HOME/pm2.pid).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchEnv, delay, findOnPath, isAlive, offCleanup, onCleanup } from "../procs.ts";
import { killHard, waitGone } from "./peer.ts";
import type { ChildSpec, Instance, Peer, StatusKind } from "./peer.ts";

const HELPER = fileURLToPath(new URL("./pm2_helper.cjs", import.meta.url));
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The root of the installed pm2 package (where package.json is), from the `pm2` on PATH. */
function packageRoot(): string | undefined {
  const bin = findOnPath("pm2");
  if (!bin) return undefined;
  try {
    let dir = dirname(Deno.realPathSync(bin));
    for (let i = 0; i < 3; i++) {
      try {
        const pkg = JSON.parse(Deno.readTextFileSync(join(dir, "package.json")));
        if (pkg.name === "pm2") return dir;
      } catch {
        // not here
      }
      dir = dirname(dir);
    }
  } catch {
    // a dangling link
  }
  return undefined;
}

/** The pm2 app description of `spec`. */
export function appConfig(spec: ChildSpec): Record<string, unknown> {
  return {
    name: spec.name,
    script: spec.argv[0],
    args: spec.argv.slice(1),
    interpreter: "none",
    cwd: spec.cwd,
    autorestart: spec.restart,
    restart_delay: 0,
    ...(spec.restart ? { min_uptime: 0, max_restarts: 1_000_000 } : {}),
    out_file: spec.stdoutPath ?? "/dev/null",
    error_file: "/dev/null",
  };
}

/** The Node helper: one request line out, one `@@ ` answer line back. */
class Helper {
  readonly #proc: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  /** Answers that came before anyone waited for them (the connect answer, id 0). */
  readonly #unclaimed = new Map<number, Record<string, unknown>>();
  #nextId = 1;
  #stderr = "";
  exited = false;

  constructor(env: Record<string, string>) {
    const proc = new Deno.Command("node", {
      args: [HELPER],
      env: { ...benchEnv(), ...env },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#proc = proc;
    this.#writer = proc.stdin.getWriter();
    void this.#proc.status.then(() => {
      this.exited = true;
      for (const resolve of this.#waiting.values()) {
        resolve({ ok: false, error: `the pm2 helper exited: ${this.#stderr.slice(-500)}` });
      }
      this.#waiting.clear();
    });
    void this.#read();
    void (async () => {
      for await (const chunk of proc.stderr) {
        this.#stderr = (this.#stderr + decoder.decode(chunk)).slice(-4000);
      }
    })();
  }

  get pid(): number {
    return this.#proc.pid;
  }

  async #read(): Promise<void> {
    let pending = "";
    for await (const chunk of this.#proc.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (!line.startsWith("@@ ")) continue;
        const answer = JSON.parse(line.slice(3)) as Record<string, unknown>;
        const id = Number(answer.id);
        const resolve = this.#waiting.get(id);
        if (resolve) resolve(answer);
        else this.#unclaimed.set(id, answer);
        this.#waiting.delete(id);
      }
    }
  }

  /** Waits for the answer with id 0: connected to (or having launched) the daemon. */
  async connected(ms: number): Promise<void> {
    await this.call("connect", {}, ms, 0);
  }

  /** Sends `op` and returns its result; throws on an error answer or after `ms`. */
  async call(
    op: string,
    args: Record<string, unknown> = {},
    ms = 300_000,
    fixedId?: number,
  ): Promise<unknown> {
    if (this.exited) throw new Error(`the pm2 helper has exited: ${this.#stderr.slice(-500)}`);
    const id = fixedId ?? this.#nextId++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = await new Promise<Record<string, unknown>>((resolve) => {
      const early = this.#unclaimed.get(id);
      if (early) {
        this.#unclaimed.delete(id);
        resolve(early);
        return;
      }
      this.#waiting.set(id, resolve);
      timer = setTimeout(
        () => resolve({ ok: false, error: `no answer to ${op} in ${ms / 1000} s` }),
        ms,
      );
      if (fixedId === undefined) {
        void this.#writer.write(encoder.encode(JSON.stringify({ id, op, ...args }) + "\n"))
          .catch((error) => resolve({ ok: false, error: String(error) }));
      }
    });
    clearTimeout(timer);
    this.#waiting.delete(id);
    if (answer.ok !== true) throw new Error(`pm2 ${op}: ${String(answer.error)}`);
    return answer.result;
  }

  /** Asks the helper to disconnect and exit; kills it if it does not. */
  async close(): Promise<void> {
    if (!this.exited) {
      await this.call("exit", {}, 5_000).catch(() => {});
      await this.#writer.close().catch(() => {});
    }
    const timeout = delay(5_000).then(() => false);
    if (!(await Promise.race([this.#proc.status.then(() => true), timeout]))) {
      killHard(this.#proc.pid);
      await this.#proc.status;
    }
  }

  kill(): void {
    killHard(this.#proc.pid);
  }
}

class Running implements Instance {
  readonly #helper: Helper;
  readonly #home: string;
  readonly #god: number;
  readonly #specs: ReadonlyMap<string, ChildSpec>;
  readonly #key: string;
  /** Apps pm2 knows of: the first start registers an app, later ones restart it. */
  readonly #registered = new Set<string>();

  constructor(
    helper: Helper,
    home: string,
    god: number,
    specs: readonly ChildSpec[],
    key: string,
  ) {
    this.#helper = helper;
    this.#home = home;
    this.#god = god;
    this.#specs = new Map(specs.map((s) => [s.name, s]));
    this.#key = key;
  }

  get pid(): number {
    return this.#god;
  }

  /** `pm2.start({apps})` with every app: what `pm2 start ecosystem.config.js` does. */
  async startAll(): Promise<void> {
    const apps = [...this.#specs.values()].map(appConfig);
    await this.#helper.call("start", { apps });
    for (const name of this.#specs.keys()) this.#registered.add(name);
  }

  async start(name: string): Promise<void> {
    if (this.#registered.has(name)) {
      await this.#helper.call("restart", { name });
      return;
    }
    const spec = this.#specs.get(name);
    if (!spec) throw new Error(`no app ${name}`);
    await this.#helper.call("start", { apps: [appConfig(spec)] });
    this.#registered.add(name);
  }

  async stop(name: string): Promise<void> {
    await this.#helper.call("stop", { name });
  }

  async runningPids(): Promise<number[]> {
    const list = await this.#helper.call("list") as { status?: string; pid?: number }[];
    return list.filter((p) => p.status === "online" && (p.pid ?? 0) > 0).map((p) => p.pid!);
  }

  async statusTimes(
    kind: StatusKind,
    n: number,
    warmup: number,
    budgetMs: number,
  ): Promise<number[] | string> {
    if (kind === "fresh") return "n/a: its fresh client is the CLI (row below)";
    return await this.#helper.call("timeList", { n, warmup, budgetMs }) as number[];
  }

  async statusBytes(): Promise<number> {
    return await this.#helper.call("bytes") as number;
  }

  statusCli(): { argv: string[]; env: Record<string, string> } {
    return { argv: ["pm2", "jlist"], env: { PM2_HOME: this.#home } };
  }

  concurrentStatus(): Promise<string> {
    return Promise.resolve(
      "skipped: pm2's clients are its Node CLI and library; 1,000 of them would measure Node start-up",
    );
  }

  /** `pm2 kill`: deletes every app (SIGINT, then SIGKILL after kill_timeout), then the daemon. */
  async shutdown(limitMs: number): Promise<boolean> {
    const deadline = performance.now() + limitMs;
    await this.#helper.close();
    const kill = new Deno.Command("pm2", {
      args: ["kill"],
      env: { ...benchEnv(), PM2_HOME: this.#home },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const gone = await waitGone(this.#god, Math.max(0, deadline - performance.now()));
    if (!gone) {
      killHard(kill.pid);
    }
    await kill.status;
    if (gone) offCleanup(this.#key);
    return gone;
  }

  async kill(): Promise<void> {
    killHard(this.#god);
    this.#helper.kill();
    await this.#helper.close();
    await waitGone(this.#god, 5_000);
    offCleanup(this.#key);
  }
}

/** pm2 from PATH, with a private PM2_HOME per run. */
export const pm2: Peer = {
  name: "pm2",
  found: () => findOnPath("node") && packageRoot() ? findOnPath("pm2") : undefined,
  version(): Promise<string> {
    const root = packageRoot();
    if (!root) return Promise.resolve("unknown");
    const pkg = JSON.parse(Deno.readTextFileSync(join(root, "package.json")));
    return Promise.resolve(`${pkg.version} (on Node ${nodeVersion()})`);
  },
  statusApi: "pm2 library `pm2.list()` from a connected Node client (RPC over PM2_HOME/rpc.sock)",
  statusCliIs: "`pm2 jlist`",
  noRotation: "pm2 rotates only with the pm2-logrotate module, which runs as a pm2 app",
  notes: [
    "pm2: a private PM2_HOME per run; apps with `interpreter: none` (pm2 runs the program " +
    "itself); starting all is `pm2.start({apps})` with the 500 apps, what " +
    "`pm2 start ecosystem.config.js` does, which pm2's client sends two apps at a time " +
    "(PM2_CONCURRENT_ACTIONS defaults to 2); `pm2 kill` likewise deletes apps two at a time. " +
    "The measured process is the God daemon.",
    "pm2's status (`pm2.list()`, `pm2 jlist`) carries each app's whole environment and " +
    "pidusage figures, which is why its answer is so large.",
  ],
  runtimeFloor: () => ({ argv: ["node", "-e", ""], is: "`node -e ''`" }),
  async start(dir: string, children: readonly ChildSpec[]): Promise<Instance> {
    const home = join(dir, "home");
    await Deno.mkdir(home, { recursive: true });
    const helper = new Helper({ PM2_HOME: home, PM2_MODULE: packageRoot() ?? "pm2" });
    const key = `pm2 ${home}`;
    // Killed first at cleanup, so the daemon cannot restart what the sweep kills.
    onCleanup(key, async () => {
      const god = godPid(home);
      if (god !== undefined) killHard(god);
      helper.kill();
      await helper.close();
    });
    await helper.connected(60_000);
    const deadline = performance.now() + 10_000;
    let god = godPid(home);
    while (god === undefined || !isAlive(god)) {
      if (performance.now() > deadline) throw new Error(`no pm2 daemon in ${home}`);
      await delay(20);
      god = godPid(home);
    }
    return new Running(helper, home, god, children, key);
  },
};

function godPid(home: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(join(home, "pm2.pid")).trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

let nodeVersionText: string | undefined;

function nodeVersion(): string {
  if (nodeVersionText !== undefined) return nodeVersionText;
  try {
    const out = new Deno.Command("node", { args: ["--version"], stderr: "null" }).outputSync();
    nodeVersionText = decoder.decode(out.stdout).trim() || "unknown";
  } catch {
    nodeVersionText = "unknown";
  }
  return nodeVersionText;
}
