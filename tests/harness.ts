/**
 * Black-box test harness: a real server process on an ephemeral loopback port, with child
 * configs in a temporary directory, and the real client.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type {
  BulkData,
  CheckData,
  ChildData,
  InfoData,
  LogData,
  SignalData,
  StartData,
  StopAllData,
  StopData,
} from "../lib/protocol/payloads.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const SERVER_ENTRY = join(ROOT, "main_server.ts");
export const CLIENT_ENTRY = join(ROOT, "main_client.ts");

/** Environment for spawned deno processes: no colour, no Rust backtraces in stderr. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete env.RUST_BACKTRACE;
  // A runner under systemd would make every test server log in the journal's format.
  delete env.JOURNAL_STREAM;
  return { ...env, ...extra };
}

const decoder = new TextDecoder();

/** Collects a stream's text as it arrives. */
class TextCollector {
  text = "";
  readonly done: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      for await (const chunk of stream) {
        this.text += decoder.decode(chunk, { stream: true });
        for (const w of this.#waiters.splice(0)) w();
      }
      for (const w of this.#waiters.splice(0)) w();
    })();
  }

  /** Resolves when `pattern` appears, rejects after `ms`. */
  async waitFor(pattern: RegExp | string, ms = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = typeof pattern === "string"
        ? (this.text.includes(pattern) ? [pattern] as RegExpMatchArray : null)
        : this.text.match(pattern);
      if (match) return match;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}; have:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Extra server.yml lines (YAML text), e.g. `mode: full`. */
  readonly serverYaml?: string;
  /** Child configs by file name stem (YAML text). */
  readonly children?: Record<string, string>;
  /** Expect the server to fail at boot instead of listening. */
  readonly expectFailure?: boolean;
}

/** A running test server. */
export class TestServer {
  readonly dir: string;
  readonly configPath: string;
  readonly childDir: string;
  readonly process: Deno.ChildProcess;
  readonly stdout: TextCollector;
  readonly stderr: TextCollector;
  port = 0;
  #exited: Promise<Deno.CommandStatus>;

  constructor(dir: string, process: Deno.ChildProcess) {
    this.dir = dir;
    this.configPath = join(dir, "server.yml");
    this.childDir = join(dir, "children");
    this.process = process;
    this.stdout = new TextCollector(process.stdout);
    this.stderr = new TextCollector(process.stderr);
    this.#exited = process.status;
  }

  get pid(): number {
    return this.process.pid;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Resolves with the server's exit status. */
  get exited(): Promise<Deno.CommandStatus> {
    return this.#exited;
  }

  /** The HTTP endpoint's base URL (`http://127.0.0.1:PORT`), once the server says it serves it. */
  async httpUrl(): Promise<string> {
    const match = await this.stdout.waitFor(/serving http on (http:\/\/127\.0\.0\.1:\d+)\//);
    return match[1]!;
  }

  /** Writes (or replaces) a child config. */
  writeChild(name: string, yaml: string): string {
    const path = join(this.childDir, `${name}.yml`);
    Deno.writeTextFileSync(path, yaml);
    return path;
  }

  /** Runs the real client against this server. */
  client(...args: string[]): Promise<ClientRun> {
    return runClient([...args, "on", this.address]);
  }

  /** Runs the client with `--json` and returns the one host's result. */
  async json(...args: string[]): Promise<HostJson> {
    const run = await this.client(...args, "--json");
    const parsed = JSON.parse(run.stdout) as HostJson[];
    if (parsed.length !== 1) throw new Error(`expected one host result, got ${run.stdout}`);
    return parsed[0]!;
  }

  /** One v2 request over a fresh connection; returns the parsed response. */
  async request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await exchange(this.port, JSON.stringify({ v: 2, id: 1, ...body }) + "\n");
    return JSON.parse(reply.split("\n")[0]!) as Record<string, unknown>;
  }

  /** The child's status through `check --json`. */
  async child(name: string): Promise<ChildJson> {
    const result = await this.json("check", name);
    if (!result.ok) throw new Error(`check ${name} failed: ${result.message}`);
    return result.data!.children![0]!;
  }

  /** Polls the child's status until `predicate` holds. */
  async waitChild(
    name: string,
    predicate: (c: ChildJson) => boolean,
    ms = 10_000,
  ): Promise<ChildJson> {
    const deadline = Date.now() + ms;
    for (;;) {
      const child = await this.child(name);
      if (predicate(child)) return child;
      if (Date.now() > deadline) {
        throw new Error(`child ${name} never matched; last: ${JSON.stringify(child)}`);
      }
      await delay(50);
    }
  }

  /** SIGTERM, wait for exit (SIGKILL after `ms`), then remove the directory. */
  async stop(ms = 15_000): Promise<Deno.CommandStatus> {
    try {
      this.process.kill("SIGTERM");
    } catch {
      // exited already
    }
    const timer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch {
        // exited already
      }
    }, ms);
    const status = await this.#exited;
    clearTimeout(timer);
    await Promise.all([this.stdout.done, this.stderr.done]);
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * `T` as `JSON.parse` gives it: the declared fields and types, with lists and objects mutable,
 * so a test may narrow a list to the few fields it reads (`as { state: string }[]`).
 */
export type Parsed<T> = T extends readonly (infer E)[] ? Parsed<E>[]
  : T extends object ? { -readonly [K in keyof T]: Parsed<T[K]> }
  : T;

/**
 * The data of any operation, every field optional with its declared type: a test knows which
 * operation it ran and reads the fields of that one. Only `child` differs between operations
 * (a child for start and stop, its name for log).
 */
export type AnyOpData = Parsed<
  & Partial<
    Omit<
      & StartData
      & StopData
      & StopAllData
      & CheckData
      & InfoData
      & LogData
      & BulkData
      & SignalData,
      "child"
    >
  >
  & { readonly child?: ChildData | string }
>;

/** Parsed `--json` output of one host. */
export interface HostJson {
  host: string;
  ok: boolean;
  code?: string;
  message: string;
  reason?: string;
  data?: AnyOpData;
}

/** A child in `check --json`: the declared {@link ChildData}. */
export type ChildJson = Parsed<ChildData>;

/** Writes a server directory and starts a server on an ephemeral port. */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-test-" });
  await Deno.mkdir(join(dir, "children"));
  const extra = options.serverYaml ?? "";
  const yaml = [
    "loadpaths:",
    "  - children",
    "listener_addr: 127.0.0.1",
    "listener_port: 0",
    // Inside the test's directory, so that it goes with it (the default is under /run or /tmp).
    ...(/^state_file:/m.test(extra) ? [] : ["state_file: server.state"]),
    extra,
  ].join("\n");
  await Deno.writeTextFile(join(dir, "server.yml"), yaml);
  for (const [name, text] of Object.entries(options.children ?? {})) {
    await Deno.writeTextFile(join(dir, "children", `${name}.yml`), text);
  }
  return await launchServer(dir, options);
}

/**
 * Starts a server on the server.yml already in `dir` (a second server on the same files, e.g.
 * after the first was killed). Unless `expectFailure`, waits until it listens.
 */
export async function launchServer(
  dir: string,
  options: Pick<ServerOptions, "expectFailure"> = {},
): Promise<TestServer> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", SERVER_ENTRY, join(dir, "server.yml")],
    cwd: dir,
    env: cleanEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const server = new TestServer(dir, process);
  if (options.expectFailure) return server;
  const ready = server.stdout.waitFor(/listening on 127\.0\.0\.1:(\d+)/, 20_000);
  const died = server.exited.then((s) => {
    throw new Error(`server exited with ${s.code} before listening:\n${server.stderr.text}`);
  });
  died.catch(() => {});
  try {
    const match = await Promise.race([ready, died]);
    server.port = Number(match[1]);
  } catch (error) {
    // Nothing is left behind when a server fails to start: no process, no directory.
    await server[Symbol.asyncDispose]();
    throw error;
  }
  return server;
}

/** Result of one client run. */
export interface ClientRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real client with `args`. */
export async function runClient(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ClientRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLIENT_ENTRY, ...args],
    env: cleanEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Sends raw bytes and reads until the server closes (or `ms` passes); returns what came back. */
export async function exchange(
  port: number,
  data: string | Uint8Array,
  options: { ms?: number; halfClose?: boolean } = {},
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let offset = 0;
  try {
    while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
    if (options.halfClose !== false) await conn.closeWrite();
  } catch {
    // the server may close first (oversized input)
  }
  return await readAll(conn, options.ms ?? 10_000);
}

/** Reads from `conn` until EOF or `ms`; closes it. */
export async function readAll(conn: Deno.Conn, ms: number): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(64 * 1024);
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  } catch {
    // closed by the timer or reset by the server
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
  return text;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` until it holds or `ms` passes. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** State letter of a process from /proc (R, S, Z …), or undefined when it is gone. */
export function procState(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0]!, ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and not a zombie. */
export function isAlive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s.state !== "Z" && s.state !== "X";
}

/** Pids of live (non-zombie) processes in process group `pgid`. */
export function liveGroupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const s = procState(Number(entry.name));
    if (s && s.pgrp === pgid && s.state !== "Z" && s.state !== "X") pids.push(Number(entry.name));
  }
  return pids;
}

/** Pids of zombie processes whose parent is `ppid`. */
export function zombieChildren(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const s = procState(Number(entry.name));
    if (s && s.ppid === ppid && s.state === "Z") pids.push(Number(entry.name));
  }
  return pids;
}

/** Open file descriptors of a process. */
export function openFds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

/** Pids of live (non-zombie) processes whose command line contains `text`. */
export function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      if (cmdline.includes(text) && isAlive(Number(entry.name))) pids.push(Number(entry.name));
    } catch {
      // gone
    }
  }
  return pids;
}

/** A loopback port nothing listens on (bound to 0, then closed). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
