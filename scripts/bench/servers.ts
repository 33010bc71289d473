/**
 * The processes measured and the floors they are compared with: a supervisor-ts server with N
 * `sleep 1000` children, and the trivial echo server.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LineConn } from "./lines.ts";
import { delay, startLogged } from "./procs.ts";
import type { LoggedProcess } from "./procs.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER_ENTRY = join(ROOT, "main_server.ts");
export const CLIENT_ENTRY = join(ROOT, "main_client.ts");
export const NOOP_ENTRY = join(ROOT, "scripts", "bench", "noop.ts");
export const ECHO_ENTRY = join(ROOT, "scripts", "bench", "echo_server.ts");

/** The child every benchmark server supervises. */
export const CHILD_YAML = "command: sleep 1000\nstart_seconds: 0\nstop_timeout: 5\n";

/** A child's name by index: c000, c001 … */
export function childName(index: number): string {
  return `c${String(index).padStart(3, "0")}`;
}

/** A listening process and its port. */
export interface Listening {
  readonly proc: LoggedProcess;
  readonly port: number;
}

/**
 * Writes `<tmp>/<name>/` with server.yml and `children` child configs, and starts the server
 * on an ephemeral loopback port.
 */
export async function startSupervisor(
  tmp: string,
  name: string,
  children: number,
  mode: "quiet" | "half" | "full",
): Promise<Listening> {
  const dir = join(tmp, name);
  await Deno.mkdir(join(dir, "children"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "server.yml"),
    [
      "loadpaths:",
      "  - children",
      `mode: ${mode}`,
      "listener_addr: 127.0.0.1",
      "listener_port: 0",
      "",
    ].join("\n"),
  );
  await Promise.all(
    Array.from(
      { length: children },
      (_, i) => Deno.writeTextFile(join(dir, "children", `${childName(i)}.yml`), CHILD_YAML),
    ),
  );
  const proc = startLogged(
    name,
    [Deno.execPath(), "run", "-A", "--quiet", SERVER_ENTRY, join(dir, "server.yml")],
    tmp,
    dir,
  );
  return { proc, port: await proc.listeningPort() };
}

/** Starts the echo floor; `bytes` pads its answer (0: as small as it gets). */
export async function startEcho(tmp: string, name: string, bytes: number): Promise<Listening> {
  const proc = startLogged(
    name,
    [Deno.execPath(), "run", "--allow-net", "--quiet", ECHO_ENTRY, String(bytes)],
    tmp,
    ROOT,
  );
  return { proc, port: await proc.listeningPort() };
}

/** A child as `check` reports it. */
export interface CheckedChild {
  readonly name: string;
  readonly state: string;
  readonly pid: number | null;
}

/** The children of a `check` response; throws when the response is not ok. */
export function checkedChildren(response: Record<string, unknown>): CheckedChild[] {
  if (response.ok !== true) throw new Error(`check failed: ${JSON.stringify(response)}`);
  const data = response.data as { children?: CheckedChild[] } | undefined;
  return data?.children ?? [];
}

/** Children that are live: STARTING or RUNNING with a pid. */
export function liveChildren(children: readonly CheckedChild[]): CheckedChild[] {
  return children.filter((c) => (c.state === "STARTING" || c.state === "RUNNING") && c.pid);
}

/** Polls `check` on `conn` until `count` children are live; returns them. */
export async function waitLive(
  conn: LineConn,
  count: number,
  ms: number,
): Promise<CheckedChild[]> {
  const deadline = performance.now() + ms;
  for (let id = 1;; id++) {
    const live = liveChildren(checkedChildren(await conn.ask({ id, op: "check" })));
    if (live.length >= count) return live;
    if (performance.now() > deadline) {
      throw new Error(`only ${live.length} of ${count} children became live within ${ms} ms`);
    }
    await delay(2);
  }
}
