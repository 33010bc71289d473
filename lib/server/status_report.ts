/**
 * What `check` and `info` answer: every known child with its state (children defined in the
 * loadpaths but never started included), and facts about the server.
 *
 * Reads only: never waits behind an operation, never changes a child. Owns: which children a
 * report lists and the summary line. Does not own: the wire shape (`lib/protocol/payloads.ts`).
 *
 * @module
 */
import { assertChildName } from "../config/names.ts";
import type { ConfigSnapshot } from "../config/store.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import type { ChildState } from "../process/state.ts";
import { VERSION } from "../version.ts";
import type { Supervisor } from "./supervisor.ts";
import { driftOf } from "./drift.ts";
import type { Checked, ChildReport, Informed } from "./results.ts";

/** Facts about the running server that `info` reports. */
export interface ServerFacts {
  readonly pid: number;
  readonly startedAt: number;
  readonly listen: () => string;
  readonly encrypt: boolean;
}

/** Every known child, or the one named; NOT_FOUND when a named child is neither. */
export async function checkReport(
  supervisor: Supervisor,
  snap: ConfigSnapshot,
  options: { readonly name: string | undefined; readonly now: number },
): Promise<Checked> {
  const { name, now } = options;
  // A status: child files checked within the last second by any request are not checked again.
  snap = snap.forStatus();
  let defined = new Map<string, string>();
  const problems: string[] = [];
  try {
    const catalog = await snap.catalog();
    defined = new Map([...catalog.files].map(([n, f]) => [n, f.path]));
    problems.push(...catalog.problems.map((p) => p.message));
  } catch (error) {
    problems.push(errorMessage(error));
  }
  if (name !== undefined) assertChildName(name);
  const known = new Map(supervisor.children().map((c) => [c.name, c]));
  // A child with instances is listed as its copies, each defined by the same file; for one
  // child asked about, only its own file is read.
  const expanded = new Map<string, string>();
  const wanted = name === undefined
    ? [...defined]
    : [...defined].filter(([n]) => n === name || name.startsWith(`${n}:`));
  await Promise.all(wanted.map(async ([n, path]) => {
    for (const copy of await supervisor.expand(n, snap)) expanded.set(copy, path);
  }));
  defined = expanded;
  const names = name === undefined
    ? [...new Set([...defined.keys(), ...known.keys()])].sort()
    : await supervisor.expand(name, snap);
  const reports = await Promise.all(names.map(async (n): Promise<ChildReport[]> => {
    const child = known.get(n);
    if (child) {
      const drift = await driftOf(child, snap);
      // A child whose file was removed is shown until it is stopped, then dropped.
      if (drift.kind === "removed" && !child.isLive && child.state !== "BACKOFF") return [];
      return [{
        ...supervisor.report(child),
        drift: drift.kind === "none" ? null : drift.kind,
        configError: drift.kind === "invalid" ? drift.error : null,
      }];
    }
    const path = defined.get(n);
    return path === undefined ? [] : [neverStarted(n, path, now)];
  }));
  const children = reports.flat();
  if (name !== undefined && children.length === 0) {
    throw new SupervisorError(
      "NOT_FOUND",
      `Cannot check child "${name}": no such child is defined or was started`,
      { child: name },
    );
  }
  const counts = countStates(children.map((c) => c.state));
  const summary = Object.entries(counts).map(([state, n]) => `${n} ${state.toLowerCase()}`)
    .join(", ");
  const noun = children.length === 1 ? "child" : "children";
  return {
    kind: "checked",
    message: `${children.length} ${noun}${summary ? `: ${summary}` : ""}`,
    children,
    problems,
  };
}

/** Facts about the server. */
export async function infoReport(
  supervisor: Supervisor,
  snap: ConfigSnapshot,
  options: { readonly facts: ServerFacts; readonly now: number },
): Promise<Informed> {
  const { facts, now } = options;
  let loadpaths: readonly string[] = [];
  let mode = "unknown";
  const problems: string[] = [];
  try {
    const config = await snap.server();
    loadpaths = config.loadpaths;
    mode = config.mode;
  } catch (error) {
    problems.push(errorMessage(error));
  }
  const children = supervisor.children();
  const listen = facts.listen();
  return {
    kind: "info",
    message: `supervisor-ts ${VERSION}, pid ${facts.pid}, listening on ${listen}`,
    info: {
      version: VERSION,
      pid: facts.pid,
      configPath: snap.serverPath,
      listen,
      encrypt: facts.encrypt,
      mode,
      loadpaths,
      startedAt: facts.startedAt,
      uptimeMs: now - facts.startedAt,
      running: children.filter((c) => c.isLive).map((c) => c.name).sort(),
      counts: countStates(children.map((c) => c.state)),
      repeatTimers: supervisor.repeatTimers,
      problems,
    },
  };
}

function countStates(states: readonly ChildState[]): Partial<Record<ChildState, number>> {
  const counts: Partial<Record<ChildState, number>> = {};
  for (const state of states) counts[state] = (counts[state] ?? 0) + 1;
  return counts;
}

/** A child defined in a loadpath that this server never started. */
function neverStarted(name: string, path: string, now: number): ChildReport {
  return {
    name,
    state: "STOPPED",
    since: now,
    pid: null,
    startedAt: null,
    uptimeMs: null,
    restarts: 0,
    crashes: 0,
    lastExit: null,
    history: [],
    configPath: path,
    command: null,
    error: null,
    failures: 0,
    nextAttemptAt: null,
    repeatAt: null,
    adopted: false,
    ready: null,
    readySince: null,
    drift: null,
    configError: null,
    resources: null,
  };
}
