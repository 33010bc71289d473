/**
 * What `check` and `info` answer: every known child with its state (children defined in the
 * loadpaths but never started included), and facts about the server.
 *
 * Reads only: never waits behind an operation, never changes a child. Owns: which children a
 * report lists and the summary line. A status of every child keeps what it listed for the next
 * one: the names (made again only when the listing, the known children or a file's reading
 * changed), and the array of snapshots, given again while no child changed, so a check of an
 * unchanged fleet makes next to nothing. Does not own: the wire shape
 * (`lib/protocol/payloads.ts`).
 *
 * @module
 */
import { assertChildName } from "../config/names.ts";
import type { ChildConfig } from "../config/child_config.ts";
import type { Catalog } from "../config/loadpaths.ts";
import { instanceNames, splitInstance } from "../config/instances.ts";
import type { ConfigSnapshot } from "../config/store.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import { uptimeAt } from "../process/uptime.ts";
import type { Child } from "../process/child.ts";
import type { ChildState } from "../process/state.ts";
import { VERSION } from "../version.ts";
import type { DriftFields, Supervisor } from "./supervisor.ts";
import { driftOf } from "./drift.ts";
import type { Drift } from "./drift.ts";
import type { Checked, ChildReport, ChildSnapshot, Informed } from "./results.ts";

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
  let files: Catalog["files"] = NO_FILES;
  let problems: readonly string[];
  try {
    const catalog = await snap.catalog();
    files = catalog.files;
    problems = problemsOf(catalog);
  } catch (error) {
    problems = [errorMessage(error)];
  }
  if (name !== undefined) assertChildName(name);
  const children = name === undefined
    ? await everyChild(supervisor, snap, files, now)
    : await oneChild(supervisor, snap, files, name, now);
  if (name !== undefined && children.length === 0) {
    throw new SupervisorError(
      "NOT_FOUND",
      `Cannot check child "${name}": no such child is defined or was started`,
      { child: name },
    );
  }
  // After every report was taken: no uptime is of a run that started after it.
  return checked(summaryOf(children), supervisor.now(), children, problems);
}

/** A {@link Checked} whose reports with their uptimes are made when first read. */
function checked(
  message: string,
  at: number,
  snapshots: readonly ChildSnapshot[],
  problems: readonly string[],
): Checked {
  return new LazyChecked(message, at, snapshots, problems);
}

/**
 * A class, not an object literal with a getter: made by such a literal (V8 12, Deno 2.9), every
 * check's result outlived the young generation's next collections, promoting about 700 bytes a
 * request to the old generation for a status asked in a loop (measured with V8's sampling heap
 * profiler); made by this class, they die young.
 */
class LazyChecked implements Checked {
  readonly kind = "checked";
  readonly message: string;
  readonly at: number;
  readonly snapshots: readonly ChildSnapshot[];
  readonly problems: readonly string[];
  #children: ChildReport[] | undefined;

  constructor(
    message: string,
    at: number,
    snapshots: readonly ChildSnapshot[],
    problems: readonly string[],
  ) {
    this.message = message;
    this.at = at;
    this.snapshots = snapshots;
    this.problems = problems;
  }

  get children(): ChildReport[] {
    const at = this.at;
    return this.#children ??= this.snapshots.map((s) => ({ ...s, uptimeMs: uptimeAt(s, at) }));
  }
}

/** The listing when the loadpaths cannot be read. */
const NO_FILES: Catalog["files"] = new Map();

/** The problems of the last catalogue seen, the same array while it is the same catalogue. */
let lastProblems: { readonly of: Catalog; readonly problems: readonly string[] } | undefined;

function problemsOf(catalog: Catalog): readonly string[] {
  if (lastProblems?.of !== catalog) {
    lastProblems = { of: catalog, problems: catalog.problems.map((p) => p.message) };
  }
  return lastProblems.problems;
}

/**
 * Which children a status of all of them lists, and from what: made again only when the
 * listing, the known children or the reading of a child file changed.
 */
interface Roster {
  /** The catalogue's files it was made from. */
  readonly files: Catalog["files"];
  /** The known children it was made from ({@link Supervisor.children}, the same array). */
  readonly known: readonly Child[];
  /** The names whose configs are read: every file's, then every known child's. */
  readonly read: readonly string[];
  /** The reading of each file, in the catalogue's order, that its copies were listed from. */
  readonly readings: readonly (ChildConfig | undefined)[];
  /** The map of readings it was made from or last compared with (the store gives it again). */
  from: ReadonlyMap<string, ChildConfig>;
  /** Every name listed, in order. */
  readonly names: readonly string[];
  /** The file that defines each name listed that it defines (copies included). */
  readonly paths: ReadonlyMap<string, string>;
  /** The children the last status listed: the same array again when none changed. */
  last: readonly ChildSnapshot[];
  /** The known child of each name listed (the known children are the same while it is used). */
  readonly kids: readonly (Child | undefined)[];
  /** The reading of each name listed, in the map {@link readingsOf} (made again for another). */
  byName: readonly (ChildConfig | undefined)[];
  readingsOf: ReadonlyMap<string, ChildConfig> | undefined;
  /** The drift last listed for each name, and what it was worked out for. */
  readonly drifts: (DriftMemo | undefined)[];
}

/** The roster of the last status of every child. */
let lastRoster: Roster | undefined;

/** Every known child and every child defined in the loadpaths, by name. */
async function everyChild(
  supervisor: Supervisor,
  snap: ConfigSnapshot,
  files: Catalog["files"],
  now: number,
): Promise<readonly ChildSnapshot[]> {
  const known = supervisor.children();
  let roster = lastRoster;
  const read = roster !== undefined && roster.files === files && roster.known === known
    ? roster.read
    : [...files.keys(), ...known.map((c) => c.name)];
  // Every config at once: a file checked by a status within the last second is not awaited.
  const readings = await snap.children(read);
  if (roster === undefined || roster.read !== read || !sameReadings(roster, readings)) {
    roster = rosterOf(files, known, read, readings);
  }
  lastRoster = roster;
  return listed(supervisor, roster, readings, now) ??
    await gathered(supervisor, snap, roster.names, roster.paths, readings, now);
}

function rosterOf(
  files: Catalog["files"],
  known: readonly Child[],
  read: readonly string[],
  readings: ReadonlyMap<string, ChildConfig>,
): Roster {
  // A child with instances is listed as its copies, each defined by the same file.
  const paths = new Map<string, string>();
  const fileReadings: (ChildConfig | undefined)[] = [];
  for (const [n, file] of files) {
    const config = readings.get(n);
    fileReadings.push(config);
    for (const copy of copiesOf(n, config)) paths.set(copy, file.path);
  }
  const all = new Set(paths.keys());
  for (const child of known) all.add(child.name);
  const names = [...all].sort();
  const byName = new Map(known.map((child) => [child.name, child]));
  return {
    files,
    known,
    read,
    readings: fileReadings,
    from: readings,
    names,
    paths,
    last: [],
    kids: names.map((n) => byName.get(n)),
    byName: [],
    readingsOf: undefined,
    drifts: [],
  };
}

/** Whether each file of `roster` reads as it did when the roster was made. */
function sameReadings(roster: Roster, readings: ReadonlyMap<string, ChildConfig>): boolean {
  if (roster.from === readings) return true;
  let i = 0;
  for (const n of roster.files.keys()) if (readings.get(n) !== roster.readings[i++]) return false;
  roster.from = readings;
  return true;
}

/**
 * The snapshots of `roster`'s children without waiting: the last array when none changed;
 * undefined when the drift of one must be worked out (then {@link gathered} does it all).
 */
function listed(
  supervisor: Supervisor,
  roster: Roster,
  readings: ReadonlyMap<string, ChildConfig>,
  now: number,
): readonly ChildSnapshot[] | undefined {
  const { names, paths, last, kids, drifts } = roster;
  if (roster.readingsOf !== readings) {
    roster.byName = names.map((n) => readings.get(n));
    roster.readingsOf = readings;
  }
  const byName = roster.byName;
  let fresh: ChildSnapshot[] | undefined;
  let count = 0;
  for (let i = 0; i < names.length; i++) {
    const child = kids[i];
    let snapshot: ChildSnapshot | undefined;
    if (child === undefined) {
      const n = names[i]!;
      const path = paths.get(n);
      snapshot = path === undefined ? undefined : neverStarted(n, path, now);
    } else {
      // The drift listed last time for this name, while its run, reading and liveness are the
      // same; else the one remembered for its run (see memoDrift).
      const reading = byName[i];
      let memo = drifts[i];
      if (
        memo === undefined || memo.running !== child.config || memo.now !== reading ||
        memo.live !== child.isLive
      ) {
        const drift = memoDrift(child, reading);
        if (drift === undefined) return undefined;
        memo = drifts[i] = { running: child.config!, now: reading!, live: child.isLive, drift };
      }
      snapshot = childSnapshot(supervisor, child, memo.drift);
    }
    if (snapshot === undefined) continue;
    if (fresh === undefined) {
      if (last[count] === snapshot) {
        count++;
        continue;
      }
      fresh = last.slice(0, count);
    }
    fresh.push(snapshot);
    count++;
  }
  const snapshots = fresh ?? (count === last.length ? last : last.slice(0, count));
  roster.last = snapshots;
  return snapshots;
}

/** Child `name` (a child with instances: its copies); only its own file is read. */
async function oneChild(
  supervisor: Supervisor,
  snap: ConfigSnapshot,
  files: Catalog["files"],
  name: string,
  now: number,
): Promise<readonly ChildSnapshot[]> {
  const paths = new Map<string, string>();
  await Promise.all(
    filesOf(files, name).map(async (n) => {
      const path = files.get(n)!.path;
      for (const copy of await supervisor.expand(n, snap)) paths.set(copy, path);
    }),
  );
  const names = await supervisor.expand(name, snap);
  const readings = await snap.children(names.filter((n) => supervisor.known(n) !== undefined));
  return await gathered(supervisor, snap, names, paths, readings, now);
}

/** The snapshots of the children `names`, working out each drift not known yet. */
async function gathered(
  supervisor: Supervisor,
  snap: ConfigSnapshot,
  names: readonly string[],
  paths: ReadonlyMap<string, string>,
  readings: ReadonlyMap<string, ChildConfig>,
  now: number,
): Promise<ChildSnapshot[]> {
  const reports: (ChildSnapshot | undefined)[] = [];
  const later: Promise<void>[] = [];
  names.forEach((n, i) => {
    const child = supervisor.known(n);
    if (child === undefined) {
      const path = paths.get(n);
      reports[i] = path === undefined ? undefined : neverStarted(n, path, now);
      return;
    }
    const drift = memoDrift(child, readings.get(n));
    if (drift !== undefined) {
      reports[i] = childSnapshot(supervisor, child, drift);
    } else {
      const before = { running: child.config, live: child.isLive };
      later.push(
        driftOf(child, snap).then((drift) => {
          // Kept only when the child did not move meanwhile (the reading is the snapshot's).
          if (child.config === before.running && child.isLive === before.live) {
            rememberDrift(child, readings.get(n), drift);
          }
          reports[i] = childSnapshot(supervisor, child, drift);
        }),
      );
    }
  });
  await Promise.all(later);
  const children: ChildSnapshot[] = [];
  for (const report of reports) if (report !== undefined) children.push(report);
  return children;
}

/** The last summary line made, and of which children. */
let lastSummary: { readonly of: readonly ChildSnapshot[]; readonly text: string } | undefined;

/** `3 children: 2 running, 1 stopped` (made again only when a child changed). */
function summaryOf(children: readonly ChildSnapshot[]): string {
  if (lastSummary?.of === children) return lastSummary.text;
  const counts = countStates(children.map((c) => c.state));
  const summary = Object.entries(counts).map(([state, n]) => `${n} ${state.toLowerCase()}`)
    .join(", ");
  const noun = children.length === 1 ? "child" : "children";
  const text = `${children.length} ${noun}${summary ? `: ${summary}` : ""}`;
  lastSummary = { of: children, text };
  return text;
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

/** A known child's snapshot with its drift; undefined for a child no longer to be shown. */
function childSnapshot(
  supervisor: Supervisor,
  child: Child,
  drift: Drift,
): ChildSnapshot | undefined {
  // A child whose file was removed is shown until it is stopped, then dropped.
  if (drift.kind === "removed" && !child.isLive && child.state !== "BACKOFF") return undefined;
  return supervisor.snapshot(child, DRIFT_FIELDS[drift.kind] ?? driftFields(drift));
}

/** The report's fields of a drift. */
function driftFields(drift: Drift): DriftFields {
  return {
    drift: drift.kind === "none" ? null : drift.kind,
    configError: drift.kind === "invalid" ? drift.error : null,
  };
}

/** The same fields for the drifts that carry nothing else, made once. */
const DRIFT_FIELDS: Partial<Record<Drift["kind"], DriftFields>> = {
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
  /** The run's config (kept with a roster's memos only: the weak map is keyed by it). */
  readonly running?: ChildConfig;
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

/** A child defined in a loadpath that this server never started: STOPPED since now. */
function neverStarted(name: string, path: string, now: number): ChildSnapshot {
  return {
    name,
    state: "STOPPED",
    since: now,
    pid: null,
    startedAt: null,
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
