/**
 * supervisord (Debian package `supervisor`) behind the common {@link Peer} interface.
 *
 * Each run has a private configuration in its own directory: `supervisord -n -c CONF` in the
 * foreground (so its pid is the one measured), its own pidfile and logfile, an
 * `inet_http_server` on 127.0.0.1 and a free port (XML-RPC and supervisorctl both use it), and
 * one `[program:x]` file per child in an include directory, `autostart=false`. Nothing under
 * /etc/supervisor is read: `-c` names the file.
 *
 * Status over the API is `supervisor.getAllProcessInfo` over XML-RPC on HTTP/1.1 (keep-alive
 * for the one-connection samples), sent as raw bytes so the client costs as little as ours.
 *
 * @module
 */
import { join } from "node:path";
import { benchEnv, delay, findOnPath, offCleanup, onCleanup, startLogged } from "../procs.ts";
import type { LoggedProcess } from "../procs.ts";
import { freePort, killHard } from "./peer.ts";
import type { ChildSpec, Instance, Peer, StatusKind } from "./peer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An XML-RPC parameter: the few types the benchmark sends. */
type Param = string | number | boolean;

function xmlEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function encodeParam(p: Param): string {
  if (typeof p === "boolean") return `<boolean>${p ? 1 : 0}</boolean>`;
  if (typeof p === "number") return `<int>${p}</int>`;
  return `<string>${xmlEscape(p)}</string>`;
}

/** The bytes of one HTTP POST carrying the XML-RPC call `method(params)`. */
export function xmlRpcRequest(method: string, params: readonly Param[] = []): Uint8Array {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${
    params.map((p) => `<param><value>${encodeParam(p)}</value></param>`).join("")
  }</params></methodCall>`;
  const bytes = encoder.encode(body);
  const head = "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n" +
    `Content-Length: ${bytes.length}\r\n\r\n`;
  const out = new Uint8Array(head.length + bytes.length);
  out.set(encoder.encode(head));
  out.set(bytes, head.length);
  return out;
}

const GET_ALL = xmlRpcRequest("supervisor.getAllProcessInfo");
const CRLFCRLF = encoder.encode("\r\n\r\n");

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  for (
    let i = haystack.indexOf(needle[0]!, from);
    i >= 0;
    i = haystack.indexOf(needle[0]!, i + 1)
  ) {
    if (i + needle.length > haystack.length) return -1;
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** An HTTP/1.1 connection to 127.0.0.1 that sends a request and reads one whole response. */
export class HttpConn {
  readonly #conn: Deno.TcpConn;
  #buffer = new Uint8Array(256 * 1024);
  #end = 0;
  /** Set once the server said `Connection: close` or closed: no more requests on it. */
  closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async open(port: number): Promise<HttpConn> {
    return new HttpConn(await Deno.connect({ hostname: "127.0.0.1", port, transport: "tcp" }));
  }

  /** Sends `request` and returns the body of the response; throws unless the status is 200. */
  async request(request: Uint8Array): Promise<Uint8Array> {
    let offset = 0;
    while (offset < request.length) offset += await this.#conn.write(request.subarray(offset));
    let headEnd = -1;
    while ((headEnd = indexOf(this.#buffer.subarray(0, this.#end), CRLFCRLF, 0)) < 0) {
      await this.#fill();
    }
    const head = decoder.decode(this.#buffer.subarray(0, headEnd));
    const status = head.slice(0, head.indexOf("\r\n"));
    if (!/^HTTP\/1\.[01] 200 /.test(status)) throw new Error(`supervisord answered ${status}`);
    const length = head.match(/\r\ncontent-length:\s*(\d+)/i);
    if (!length) throw new Error("supervisord answered without Content-Length");
    if (/\r\nconnection:\s*close/i.test(head) || status.startsWith("HTTP/1.0")) this.closed = true;
    const total = headEnd + 4 + Number(length[1]);
    while (this.#end < total) await this.#fill();
    const body = this.#buffer.slice(headEnd + 4, total);
    this.#buffer.copyWithin(0, total, this.#end);
    this.#end -= total;
    return body;
  }

  async #fill(): Promise<void> {
    if (this.#end === this.#buffer.length) {
      const next = new Uint8Array(this.#buffer.length * 2);
      next.set(this.#buffer);
      this.#buffer = next;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#end));
    if (n === null) {
      this.closed = true;
      throw new Error("supervisord closed the connection before a whole response");
    }
    this.#end += n;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}

/** One XML-RPC call on a fresh connection; returns the response text, throws on a fault. */
export async function xmlRpc(port: number, method: string, params: Param[] = []): Promise<string> {
  const conn = await HttpConn.open(port);
  try {
    const text = decoder.decode(await conn.request(xmlRpcRequest(method, params)));
    if (text.includes("<fault>")) {
      const message = text.match(/<name>faultString<\/name>\s*<value>\s*<string>([^<]*)/);
      throw new Error(`${method}: ${message?.[1] ?? text.slice(0, 300)}`);
    }
    return text;
  } finally {
    conn.close();
  }
}

/** A process as `getAllProcessInfo` reports it. */
export interface ProcessInfo {
  readonly name: string;
  readonly statename: string;
  readonly pid: number;
}

/** The processes of a `getAllProcessInfo` response. */
export function parseProcessInfo(xml: string): ProcessInfo[] {
  const field = (struct: string, key: string) =>
    struct.match(
      new RegExp(`<name>${key}</name>\\s*<value>\\s*<(?:string|int|i4)>([^<]*)<`),
    )?.[1];
  return xml.split("<struct>").slice(1).map((struct) => ({
    name: field(struct, "name") ?? "",
    statename: field(struct, "statename") ?? "",
    pid: Number(field(struct, "pid") ?? 0),
  }));
}

/** `arg` quoted for supervisord's `command=` (shlex rules, and `%` doubled for its expansion). */
export function quoteArg(arg: string): string {
  if (/\s[;#]/.test(arg)) throw new Error(`supervisord would read a comment in ${arg}`);
  const quoted = /^[A-Za-z0-9_./:=@+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'"'"'`)}'`;
  return quoted.replaceAll("%", "%%");
}

/** The `[program:x]` section of `spec`. */
export function programSection(spec: ChildSpec): string {
  return [
    `[program:${spec.name}]`,
    `command=${spec.argv.map(quoteArg).join(" ")}`,
    `directory=${spec.cwd}`,
    "autostart=false",
    `autorestart=${spec.restart ? "true" : "false"}`,
    "startsecs=0",
    ...(spec.restart ? ["startretries=1000000"] : []),
    "stopwaitsecs=5",
    `stdout_logfile=${spec.stdoutPath ?? "NONE"}`,
    ...(spec.rotate
      ? [
        `stdout_logfile_maxbytes=${spec.rotate.maxBytes}`,
        `stdout_logfile_backups=${spec.rotate.backups}`,
      ]
      : ["stdout_logfile_maxbytes=0"]),
    "stderr_logfile=NONE",
    "",
  ].join("\n");
}

/** The main configuration file: private pidfile, logfile and HTTP port. */
export function mainConfig(dir: string, port: number, children: number): string {
  return [
    "[supervisord]",
    "nodaemon=true",
    `logfile=${join(dir, "supervisord.log")}`,
    "logfile_maxbytes=0",
    `pidfile=${join(dir, "supervisord.pid")}`,
    `childlogdir=${dir}`,
    `directory=${dir}`,
    // Three pipes per child stay open in supervisord: raise its fd floor to fit them.
    `minfds=${Math.max(1024, 4 * children + 256)}`,
    "",
    "[inet_http_server]",
    `port=127.0.0.1:${port}`,
    "",
    "[rpcinterface:supervisor]",
    "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
    "",
    "[supervisorctl]",
    `serverurl=http://127.0.0.1:${port}`,
    "",
    "[include]",
    `files = ${join(dir, "programs")}/*.conf`,
    "",
  ].join("\n");
}

class Running implements Instance {
  readonly #proc: LoggedProcess;
  readonly #port: number;
  readonly #conf: string;
  readonly #key: string;

  constructor(proc: LoggedProcess, port: number, conf: string, key: string) {
    this.#proc = proc;
    this.#port = port;
    this.#conf = conf;
    this.#key = key;
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** `supervisor.startAllProcesses(wait=false)`: it spawns them all before answering. */
  async startAll(): Promise<void> {
    const xml = await xmlRpc(this.#port, "supervisor.startAllProcesses", [false]);
    const statuses = [...xml.matchAll(/<name>status<\/name>\s*<value>\s*<int>(\d+)</g)];
    const failed = statuses.filter((m) => m[1] !== "80"); // 80: SUCCESS
    if (failed.length > 0) throw new Error(`${failed.length} starts failed: ${xml.slice(0, 500)}`);
  }

  async start(name: string): Promise<void> {
    await xmlRpc(this.#port, "supervisor.startProcess", [name, false]);
  }

  async stop(name: string): Promise<void> {
    await xmlRpc(this.#port, "supervisor.stopProcess", [name, true]);
  }

  async runningPids(): Promise<number[]> {
    const infos = parseProcessInfo(await xmlRpc(this.#port, "supervisor.getAllProcessInfo"));
    return infos
      .filter((p) => (p.statename === "RUNNING" || p.statename === "STARTING") && p.pid > 0)
      .map((p) => p.pid);
  }

  async statusTimes(
    kind: StatusKind,
    n: number,
    warmup: number,
    budgetMs: number,
  ): Promise<number[] | string> {
    const times: number[] = [];
    let deadline = Infinity;
    let conn = kind === "persistent" ? await HttpConn.open(this.#port) : undefined;
    try {
      for (let i = 0; i < warmup + n && performance.now() < deadline; i++) {
        if (i === warmup) deadline = performance.now() + budgetMs;
        const t0 = performance.now();
        const c = conn ?? await HttpConn.open(this.#port);
        try {
          await c.request(GET_ALL);
        } finally {
          if (!conn) c.close();
        }
        const t1 = performance.now();
        if (i >= warmup) times.push(t1 - t0);
        if (conn?.closed) {
          // No keep-alive after all: one-connection samples do not apply.
          conn.close();
          conn = undefined;
          return "n/a: the server closed the connection";
        }
      }
      return times;
    } finally {
      conn?.close();
    }
  }

  async statusBytes(): Promise<number> {
    return encoder.encode(await xmlRpc(this.#port, "supervisor.getAllProcessInfo")).length;
  }

  statusCli(): { argv: string[]; env: Record<string, string> } {
    return { argv: ["supervisorctl", "-c", this.#conf, "status"], env: {} };
  }

  async concurrentStatus(n: number): Promise<number> {
    const t0 = performance.now();
    const results = await Promise.allSettled(Array.from({ length: n }, async () => {
      const conn = await HttpConn.open(this.#port);
      try {
        await conn.request(GET_ALL);
      } finally {
        conn.close();
      }
    }));
    const elapsed = performance.now() - t0;
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length > 0) {
      const first = (failed[0] as PromiseRejectedResult).reason;
      throw new Error(`${failed.length} of ${n} XML-RPC clients failed, first: ${String(first)}`);
    }
    return elapsed;
  }

  /** SIGTERM: supervisord stops every process (stopwaitsecs each), then exits. */
  async shutdown(limitMs: number): Promise<boolean> {
    this.#proc.signal("SIGTERM");
    const exited = await this.#proc.exitWithin(limitMs);
    if (exited) offCleanup(this.#key);
    return exited;
  }

  async kill(): Promise<void> {
    killHard(this.#proc.pid);
    await this.#proc.status;
    offCleanup(this.#key);
  }
}

function interpreterOf(script: string | undefined): string[] | undefined {
  if (!script) return undefined;
  try {
    const first = Deno.readTextFileSync(script).split("\n", 1)[0] ?? "";
    return first.startsWith("#!") ? first.slice(2).trim().split(/\s+/) : undefined;
  } catch {
    return undefined;
  }
}

/** supervisord and supervisorctl from PATH. */
export const supervisord: Peer = {
  name: "supervisord",
  found: () => findOnPath("supervisorctl") ? findOnPath("supervisord") : undefined,
  async version(): Promise<string> {
    const out = await new Deno.Command("supervisord", {
      args: ["--version"],
      env: benchEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return decoder.decode(out.stdout).trim() || "unknown";
  },
  statusApi: "XML-RPC `supervisor.getAllProcessInfo` over HTTP/1.1 (inet_http_server)",
  statusCliIs: "`supervisorctl -c CONF status`",
  notes: [
    "supervisord: `supervisord -n -c CONF` with a private config (inet_http_server on " +
    "127.0.0.1, own pidfile and logfile, one `[program:x]` file per child in an include " +
    "directory, autostart=false, startsecs=0); starting all is `supervisor.startAllProcesses`, " +
    "which spawns every process before it answers.",
    "supervisord's one-connection status samples stall about 40 ms whenever the answer is " +
    "larger than a few KiB: medusa sends it in 4 KiB pieces without TCP_NODELAY, so Nagle " +
    "waits for the client's delayed ACK. A small answer (`getState`) is under 1 ms on the " +
    "same connection; the fresh-connection samples escape it (quick ACKs at connection start).",
    "supervisord reaps exited children in its main loop, after a poll with a 1 s timeout " +
    "that SIGCHLD does not cut short: its crash → respawn gap is about one second.",
  ],
  runtimeFloor() {
    const interpreter = interpreterOf(findOnPath("supervisorctl")) ?? ["python3"];
    return { argv: [...interpreter, "-c", "pass"], is: `\`${interpreter.join(" ")} -c pass\`` };
  },
  async start(dir: string, children: readonly ChildSpec[]): Promise<Instance> {
    await Deno.mkdir(join(dir, "programs"), { recursive: true });
    const port = freePort();
    const conf = join(dir, "supervisord.conf");
    await Deno.writeTextFile(conf, mainConfig(dir, port, children.length));
    await Promise.all(
      children.map((c) =>
        Deno.writeTextFile(join(dir, "programs", `${c.name}.conf`), programSection(c))
      ),
    );
    const name = `supervisord-${dir.split("/").pop()}`;
    const proc = startLogged(name, ["supervisord", "-n", "-c", conf], dir, dir);
    const key = `supervisord ${proc.pid}`;
    // Killed first at cleanup, so it cannot restart what the sweep kills.
    onCleanup(key, async () => {
      killHard(proc.pid);
      await proc.status;
    });
    const deadline = performance.now() + 30_000;
    for (;;) {
      try {
        await xmlRpc(port, "supervisor.getState");
        break;
      } catch (error) {
        if (proc.exited) {
          throw new Error(`supervisord exited before answering:\n${proc.stderrTail()}`);
        }
        if (performance.now() > deadline) {
          throw new Error(`supervisord did not answer on 127.0.0.1:${port} in 30 s: ${error}`);
        }
        await delay(20);
      }
    }
    return new Running(proc, port, conf, key);
  },
};
