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
import type { ChildConfig } from "../config/child_config.ts";
import type { Catalog } from "../config/loadpaths.ts";
import { instanceNames, splitInstance } from "../config/instances.ts";
import type { ConfigSnapshot } from "../config/store.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import type { Child } from "../process/child.ts";
import type { ChildState } from "../process/state.ts";
import { VERSION } from "../version.ts";
import type { Supervisor } from "./supervisor.ts";
import { driftOf } from "./drift.ts";
import type { Drift } from "./drift.ts";
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
  let files: Catalog["files"] = new Map();
  const problems: string[] = [];
  try {
    const catalog = await snap.catalog();
    files = catalog.files;
    for (const problem of catalog.problems) problems.push(problem.message);
  } catch (error) {
    problems.push(errorMessage(error));
  }
  if (name !== undefined) assertChildName(name);
  // A child with instances is listed as its copies, each defined by the same file; for one
  // child asked about, only its own file is read (and the catalogue is not copied).
  const defined = new Map<string, string>();
  let names: readonly string[];
  const known = (n: string) => supervisor.known(n);
  let readings: ReadonlyMap<string, ChildConfig>;
  if (name === undefined) {
    const running = supervisor.children().map((c) => c.name);
    // Every config at once: a file checked by a status within the last second is not awaited.
    readings = await snap.children([...files.keys(), ...running]);
    for (const [n, file] of files) {
      for (const copy of copiesOf(n, readings.get(n))) defined.set(copy, file.path);
    }
    const all = new Set(defined.keys());
    for (const n of running) all.add(n);
    names = [...all].sort();
  } else {
    await Promise.all(
      filesOf(files, name).map(async (n) => {
        const path = files.get(n)!.path;
        for (const copy of await supervisor.expand(n, snap)) defined.set(copy, path);
      }),
    );
    names = await supervisor.expand(name, snap);
    readings = await snap.children(names.filter((n) => known(n) !== undefined));
  }
  const reports: (ChildReport | undefined)[] = [];
  const later: Promise<void>[] = [];
  names.forEach((n, i) => {
    const child = known(n);
    if (child === undefined) {
      const path = defined.get(n);
      reports[i] = path === undefined ? undefined : neverStarted(n, path, now);
      return;
    }
    const drift = memoDrift(child, readings.get(n));
    if (drift !== undefined) {
      reports[i] = childReport(supervisor, child, drift);
    } else {
      const before = { running: child.config, live: child.isLive };
      later.push(
        driftOf(child, snap).then((drift) => {
          // Kept only when the child did not move meanwhile (the reading is the snapshot's).
          if (child.config === before.running && child.isLive === before.live) {
            rememberDrift(child, readings.get(n), drift);
          }
          reports[i] = childReport(supervisor, child, drift);
        }),
      );
    }
  });
  await Promise.all(later);
  const children: ChildReport[] = [];
  for (const report of reports) if (report !== undefined) children.push(report);
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

/**
 * The catalogue's names that define `name`: itself, or the child it is a copy of (`web` for
 * `web:1`), looked up instead of scanning every file.
 */
function filesOf(files: Catalog["files"], name: string): string[] {
  const found: string[] = [];
  if (files.has(name)) found.push(name);
  for (let i = name.indexOf(":"); i >= 0; i = name.indexOf(":", i + 1)) {
    const base = name.slice(0, i);
    if (files.has(base)) found.push(base);
  }
  return found;
}

/** A known child's report with its drift; undefined for a child no longer to be shown. */
function childReport(supervisor: Supervisor, child: Child, drift: Drift): ChildReport | undefined {
  // A child whose file was removed is shown until it is stopped, then dropped.
  if (drift.kind === "removed" && !child.isLive && child.state !== "BACKOFF") return undefined;
  return supervisor.report(child, DRIFT_FIELDS[drift.kind] ?? driftFields(drift));
}

/** The report's fields of a drift. */
function driftFields(drift: Drift): Pick<ChildReport, "drift" | "configError"> {
  return {
    drift: drift.kind === "none" ? null : drift.kind,
    configError: drift.kind === "invalid" ? drift.error : null,
  };
}

/** The same fields for the drifts that carry nothing else, made once. */
const DRIFT_FIELDS: Partial<Record<Drift["kind"], Pick<ChildReport, "drift" | "configError">>> = {
  none: driftFields({ kind: "none" }),
  changed: driftFields({ kind: "changed" }),
  removed: driftFields({ kind: "removed" }),
};

/** The copies child `name` is listed as, from its reading (what `Supervisor.expand` says). */
function copiesOf(name: string, config: ChildConfig | undefined): string[] {
  return splitInstance(name) || config === undefined ? [name] : instanceNames(config);
}

/** The drift last worked out for a run's config, against which reading and liveness. */
interface DriftMemo {
  readonly now: ChildConfig;
  readonly live: boolean;
  readonly drift: Drift;
}

/**
 * Drift, by run config: comparing two configs serialises both, so a status of many children
 * compares again only a child whose run or file reading changed since the last status (an
 * unchanged file gives the same parsed config object).
 */
const driftMemos = new WeakMap<ChildConfig, DriftMemo>();

/** The drift of `child` against the config read now, when the same was worked out before. */
function memoDrift(child: Child, now: ChildConfig | undefined): Drift | undefined {
  const running = child.config;
  if (running === undefined || now === undefined) return undefined;
  const memo = driftMemos.get(running);
  if (memo === undefined || memo.now !== now || memo.live !== child.isLive) return undefined;
  return memo.drift;
}

function rememberDrift(child: Child, now: ChildConfig | undefined, drift: Drift): void {
  const running = child.config;
  if (running !== undefined && now !== undefined) {
    driftMemos.set(running, { now, live: child.isLive, drift });
  }
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
