/**
 * supervisor-ts itself behind the common {@link Peer} interface: a server started from this
 * checkout with `deno run -A main_server.ts`, one YAML file per child, spoken to over raw v2
 * lines on 127.0.0.1.
 *
 * @module
 */
import { basename, join } from "node:path";
import { VERSION } from "../../../lib/version.ts";
import {
  concurrentRoundTrips,
  freshRoundTrips,
  LineConn,
  persistentRoundTrips,
  requestLine,
} from "../lines.ts";
import { startLogged } from "../procs.ts";
import {
  checkedChildren,
  CLIENT_ENTRY,
  liveChildren,
  NOOP_ENTRY,
  SERVER_ENTRY,
  serverV8Flags,
} from "../servers.ts";
import { OURS } from "../stats.ts";
import type { ChildSpec, Instance, Peer, StatusKind } from "./peer.ts";

/** Connections the start requests of {@link Instance.startAll} are spread over. */
export const START_CONNECTIONS = 20;

const encoder = new TextEncoder();

/** The child file of `spec`: every field explicit, nothing left to defaults that matter. */
export function childYaml(spec: ChildSpec): string {
  const lines = [
    `command: ${JSON.stringify(spec.argv)}`,
    `cwd: ${JSON.stringify(spec.cwd)}`,
    "start_seconds: 0",
    "stop_timeout: 5",
    `restart: ${spec.restart ? "always" : "never"}`,
  ];
  if (spec.restart) lines.push("backoff: { initial: 0, max: 0 }");
  if (spec.stdoutPath) {
    const path = JSON.stringify(spec.stdoutPath);
    const rotation = spec.rotate
      ? [`    max_bytes: ${spec.rotate.maxBytes}`, `    backups: ${spec.rotate.backups}`]
      : spec.direct
      ? ["    direct: true"]
      : [];
    lines.push("output:", `  - stdout: ${path}`, ...rotation);
    if (spec.stderrToo) lines.push(`  - stderr: ${path}`, ...rotation);
  }
  return lines.join("\n") + "\n";
}

/** One request on a fresh connection; throws unless the answer is ok. */
async function ask(port: number, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const conn = await LineConn.open(port);
  try {
    const reply = await conn.ask(body);
    if (reply.ok !== true) throw new Error(`${String(body.op)} failed: ${JSON.stringify(reply)}`);
    return reply;
  } finally {
    conn.close();
  }
}

class Running implements Instance {
  readonly #proc: ReturnType<typeof startLogged>;
  readonly #port: number;
  readonly #names: readonly string[];

  constructor(proc: ReturnType<typeof startLogged>, port: number, names: readonly string[]) {
    this.#proc = proc;
    this.#port = port;
    this.#names = names;
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** `start` for every child, pipelined over {@link START_CONNECTIONS} connections. */
  async startAll(): Promise<void> {
    const n = this.#names.length;
    const connections = Math.min(START_CONNECTIONS, n);
    const perConn = Math.ceil(n / connections);
    const conns = await Promise.all(
      Array.from({ length: connections }, () => LineConn.open(this.#port)),
    );
    try {
      const answers = await Promise.all(conns.map(async (conn, c) => {
        const names = this.#names.slice(c * perConn, (c + 1) * perConn);
        if (names.length === 0) return [];
        const lines = names.map((child, i) =>
          JSON.stringify({ v: 2, id: c * perConn + i, op: "start", child })
        );
        await conn.write(encoder.encode(lines.join("\n") + "\n"));
        const replies: Record<string, unknown>[] = [];
        for (let i = 0; i < names.length; i++) replies.push(await conn.readJson());
        return replies;
      }));
      const failed = answers.flat().filter((r) => r.ok !== true);
      if (failed.length > 0) {
        throw new Error(`${failed.length} starts failed, first: ${JSON.stringify(failed[0])}`);
      }
    } finally {
      for (const conn of conns) conn.close();
    }
  }

  async start(name: string): Promise<void> {
    await ask(this.#port, { id: 1, op: "start", child: name });
  }

  async stop(name: string): Promise<void> {
    await ask(this.#port, { id: 1, op: "stop", child: name });
  }

  async runningPids(): Promise<number[]> {
    const reply = await ask(this.#port, { id: 1, op: "check" });
    return liveChildren(checkedChildren(reply)).map((c) => c.pid!);
  }

  statusTimes(kind: StatusKind, n: number, warmup: number, budgetMs: number): Promise<number[]> {
    return kind === "persistent"
      ? persistentRoundTrips(this.#port, n, warmup, budgetMs)
      : freshRoundTrips(this.#port, n, warmup, budgetMs);
  }

  async statusBytes(): Promise<number> {
    const conn = await LineConn.open(this.#port);
    try {
      await conn.write(requestLine({ id: 1, op: "check" }));
      return (await conn.readLine()).length + 1;
    } finally {
      conn.close();
    }
  }

  statusCli(): { argv: string[]; env: Record<string, string> } {
    return {
      argv: [Deno.execPath(), "run", "-A", CLIENT_ENTRY, "check", "on", `127.0.0.1:${this.#port}`],
      env: {},
    };
  }

  concurrentStatus(n: number): Promise<number> {
    return concurrentRoundTrips(this.#port, n);
  }

  /** SIGTERM, as systemd and Ctrl-C send it: the server stops every child, then exits. */
  async shutdown(limitMs: number): Promise<boolean> {
    this.#proc.signal("SIGTERM");
    return await this.#proc.exitWithin(limitMs);
  }

  async kill(): Promise<void> {
    this.#proc.signal("SIGKILL");
    await this.#proc.status;
  }
}

/** supervisor-ts from this checkout. */
export const supervisorTs: Peer = {
  name: OURS,
  found: () => SERVER_ENTRY,
  version: () => Promise.resolve(`${VERSION} (this checkout, on deno ${Deno.version.deno})`),
  statusApi: "v2 `check` request line over TCP, JSON answer line",
  statusCliIs: "`deno run -A main_client.ts check on 127.0.0.1:PORT`",
  get notes(): readonly string[] {
    const flags = serverV8Flags();
    return [
      `supervisor-ts: started with \`deno run -A ${
        flags.length > 0 ? `${flags.join(" ")} ` : ""
      }main_server.ts\` (the V8 flags of \`deno task start\`, if any; mode quiet, one YAML file per ` +
      "child; the fleet with files has stdout and stderr in one file per child, the log " +
      "writer only stdout in its file); starting all " +
      "children is one `start` request per child, pipelined over " +
      `${START_CONNECTIONS} connections; the measured process is the server.`,
    ];
  },
  runtimeFloor: () => ({
    argv: [Deno.execPath(), "run", "-A", NOOP_ENTRY],
    is: "`deno run -A` of an empty file",
  }),
  async start(dir: string, children: readonly ChildSpec[]): Promise<Instance> {
    await Deno.mkdir(join(dir, "children"), { recursive: true });
    await Deno.writeTextFile(
      join(dir, "server.yml"),
      "loadpaths:\n  - children\nmode: quiet\nlistener_addr: 127.0.0.1\nlistener_port: 0\n",
    );
    await Promise.all(
      children.map((c) => Deno.writeTextFile(join(dir, "children", `${c.name}.yml`), childYaml(c))),
    );
    const proc = startLogged(
      `supervisor-ts-${basename(dir)}`,
      [
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        ...serverV8Flags(),
        SERVER_ENTRY,
        join(dir, "server.yml"),
      ],
      dir,
      dir,
    );
    const port = await proc.listeningPort();
    return new Running(proc, port, children.map((c) => c.name));
  },
};
