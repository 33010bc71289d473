/**
 * Paths of the programs the benchmark runs, the echo floor, and reading supervisor-ts's `check`
 * answers.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLogged } from "./procs.ts";
import type { LoggedProcess } from "./procs.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER_ENTRY = join(ROOT, "main_server.ts");
export const CLIENT_ENTRY = join(ROOT, "main_client.ts");
export const NOOP_ENTRY = join(ROOT, "scripts", "bench", "noop.ts");
export const ECHO_ENTRY = join(ROOT, "scripts", "bench", "echo_server.ts");

/**
 * The V8 flags `deno task start` gives the server in this checkout's deno.json (issue 15: the
 * server is measured as it is run), e.g. `--v8-flags=--max-semi-space-size=2`; none when the
 * task has none or deno.json cannot be read.
 */
export function serverV8Flags(): string[] {
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
    const task: unknown = config?.tasks?.start;
    const command = typeof task === "string"
      ? task
      : typeof (task as { command?: unknown })?.command === "string"
      ? (task as { command: string }).command
      : "";
    return command.split(/\s+/).filter((word) => word.startsWith("--v8-flags="));
  } catch {
    return [];
  }
}

/** A child's name by index: c000, c001 … */
export function childName(index: number): string {
  return `c${String(index).padStart(3, "0")}`;
}

/** A listening process and its port. */
export interface Listening {
  readonly proc: LoggedProcess;
  readonly port: number;
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
