/**
 * The `data` of every v2 response and the events that follow `log --follow`, as declared types:
 * one encoder from the server's results (`lib/server/results.ts`) and one validating decoder
 * for the client, side by side so the two can never drift apart.
 *
 * Owns: the field names and types on the wire (snake_case, times as ISO 8601 strings, durations
 * in ms). Does not own: framing (`messages.ts`) or how a client shows the data.
 *
 * @module
 */
import type { ExitRecord } from "../process/exit_record.ts";
import { describeExit } from "../process/exit_record.ts";
import { uptimeAt } from "../process/uptime.ts";
import { CHILD_STATES } from "../process/state.ts";
import type { ChildState } from "../process/state.ts";
import type {
  BulkItem,
  Checked,
  ChildChange,
  ChildReport,
  ChildSnapshot,
  HookReport,
  OpResult,
  ServerInfo,
} from "../server/results.ts";
import type { ResourceSample } from "../process/resource_sampler.ts";
import { isErrorCode, WireFormatError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";
import { JsonReader } from "./json_reader.ts";
import { withJsonText } from "./messages.ts";
import type { Op, RequestId } from "./messages.ts";
import { numberLength, writeAscii, writeNumber } from "./json_bytes.ts";
import type { JsonText } from "./json_bytes.ts";
import { OPS_TAKING_ALL } from "./ops.ts";

// ---------------------------------------------------------------------------------------------
// The shapes.

/** One ended run of a child. */
export interface ExitData {
  readonly code: number | null;
  readonly signal: string | null;
  readonly at: string;
  readonly ran_ms: number;
  /** Whether the supervisor asked it to stop. */
  readonly requested: boolean;
  /** Whether it exited with one of the child's `exit_codes`. */
  readonly expected: boolean;
  /** Why the server ended it, when a probe did: `unhealthy`, `not ready within 60s`. */
  readonly reason: string | null;
  /** `exit code 3`, `signal SIGKILL`. */
  readonly description: string;
  /** The last lines of its stderr when it ended. */
  readonly stderr_tail: readonly string[];
}

/** A child as `check` (and every operation on one child) reports it. */
export interface ChildData {
  readonly name: string;
  readonly state: ChildState;
  readonly since: string;
  readonly pid: number | null;
  readonly started_at: string | null;
  readonly uptime_ms: number | null;
  readonly restarts: number;
  /**
   * Runs that ended on their own with an exit not in `exit_codes`, or that the server ended
   * (unhealthy, never ready, memory limit), since the server started; 0 from older servers.
   */
  readonly crashes: number;
  readonly last_exit: ExitData | null;
  readonly history: readonly ExitData[];
  readonly config_path: string | null;
  readonly command: readonly string[] | null;
  readonly error: string | null;
  readonly failures: number;
  readonly next_attempt_at: string | null;
  readonly repeat_at: string | null;
  /** Whether the run was taken over from a server that was killed (its output not captured). */
  readonly adopted: boolean;
  /** With a readiness probe: whether the run is ready (null without one), and since when. */
  readonly ready: boolean | null;
  readonly ready_since: string | null;
  /** How the config file now differs from the run's: `update` applies it. */
  readonly drift: "changed" | "removed" | "invalid" | null;
  /** For `invalid`: why the file cannot be used. */
  readonly config_error: string | null;
  /** CPU and memory of its process group at the last sample; null when not sampled. */
  readonly resources: ResourceData | null;
}

/**
 * CPU and memory of one child, summed over every process of its process group and session
 * (the child and what it started), as last sampled from /proc.
 */
export interface ResourceData {
  /** CPU time used (user + system), including that of descendants already reaped. */
  readonly cpu_seconds: number;
  /**
   * CPU over the last sampling period, 100 = one core; on a run's first sample, its average since
   * it began; null when neither can be told.
   */
  readonly cpu_percent: number | null;
  /** Resident memory. */
  readonly rss_bytes: number;
  /** Processes counted. */
  readonly processes: number;
  readonly sampled_at: string;
}

/** A change of a child's state, as `events` and its follow stream carry it. */
export interface ChildEventData {
  readonly child: string;
  readonly from: ChildState;
  readonly to: ChildState;
  readonly at: string;
  /** The run that ended, when the change is an exit. */
  readonly exit: ExitData | null;
  /** Why, when the server knows: `memory limit`, `unhealthy`, `stop requested`. */
  readonly reason: string | null;
}

/** events: the recent changes of state, oldest first. */
export interface EventsData {
  readonly events: readonly ChildEventData[];
}

/** What a prehook or posthook did. */
export interface HookData {
  readonly hook: string;
  readonly ok: boolean;
  readonly message: string;
  readonly code?: ErrorCode;
}

/** start, restart, trystart. */
export interface StartData {
  readonly pid: number;
  /** trystart only: whether a running child was restarted. */
  readonly restarted?: boolean;
  readonly child: ChildData;
  readonly prehooks?: readonly HookData[];
}

/** stop NAME. */
export interface StopData {
  /** Null when only a pending restart was cancelled. */
  readonly exit: ExitData | null;
  readonly child: ChildData;
  readonly posthooks?: readonly HookData[];
}

/** stop all. */
export interface StopAllData {
  readonly stopped: readonly string[];
}

/** check [NAME]. */
export interface CheckData {
  readonly children: readonly ChildData[];
  readonly problems: readonly string[];
}

/** info. */
export interface InfoData {
  readonly version: string;
  readonly pid: number;
  readonly config_path: string;
  readonly listen: string;
  readonly encrypt: "on" | "off";
  readonly mode: string;
  readonly loadpaths: readonly string[];
  readonly started_at: string;
  readonly uptime_ms: number;
  readonly running: readonly string[];
  readonly counts: Readonly<Record<string, number>>;
  readonly repeat_timers: number;
  readonly problems: readonly string[];
}

/** log NAME. */
export interface LogData {
  readonly child: string;
  readonly stream: "stdout" | "stderr";
  readonly source: "file" | "memory";
  readonly path: string | null;
  readonly lines: readonly string[];
}

/** kill. */
export interface KillData {
  readonly pid: number;
}

/** One child's part of a bulk operation. */
export interface BulkItemData {
  readonly child: string;
  readonly ok: boolean;
  readonly code?: ErrorCode;
  readonly message: string;
}

/**
 * start all, restart all, signal all, update: one item per child acted on. Carried by a failed
 * response too (code SOME_FAILED) when any item failed.
 */
export interface BulkData {
  readonly results: readonly BulkItemData[];
}

/** signal NAME. */
export interface SignalData {
  readonly pid: number;
  readonly signal: string;
  /** Whether the whole process group got it (false: the main process only). */
  readonly group: boolean;
}

/** The data of any successful response. */
export type OpData =
  | StartData
  | StopData
  | StopAllData
  | CheckData
  | InfoData
  | LogData
  | KillData
  | BulkData
  | SignalData
  | EventsData;

/** A line of `log --follow` or `events --follow` after its response. */
export type FollowEvent =
  | { readonly id: RequestId; readonly event: "change"; readonly data: ChildEventData }
  | { readonly id: RequestId; readonly event: "line"; readonly data: LogLineData }
  | { readonly id: RequestId; readonly event: "dropped"; readonly data: { readonly count: number } }
  | { readonly id: RequestId; readonly event: "end"; readonly data: Record<string, never> };

/** One line of a child's output, as a follow event carries it. */
export interface LogLineData {
  readonly stream: "stdout" | "stderr";
  readonly line: string;
}

// ---------------------------------------------------------------------------------------------
// Encoders (server side).

/** ISO strings of the times reported lately: a status repeats the same times every request. */
const isoTexts = new Map<number, string>();

function iso(ms: number): string {
  let text = isoTexts.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (isoTexts.size >= 8192) isoTexts.clear();
    isoTexts.set(ms, text);
  }
  return text;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

/** An exit as the wire carries it. */
export function encodeExit(exit: ExitRecord): ExitData {
  return {
    code: exit.code,
    signal: exit.signal,
    at: iso(exit.at),
    ran_ms: exit.ranMs,
    requested: exit.requested,
    expected: exit.expected,
    reason: exit.reason ?? null,
    description: describeExit(exit),
    stderr_tail: exit.stderrTail,
  };
}

/** A child report as the wire carries it. */
export function encodeChild(child: ChildReport): ChildData {
  return {
    name: child.name,
    state: child.state,
    since: iso(child.since),
    pid: child.pid,
    started_at: isoOrNull(child.startedAt),
    uptime_ms: child.uptimeMs,
    restarts: child.restarts,
    crashes: child.crashes,
    last_exit: child.lastExit ? encodeExit(child.lastExit) : null,
    history: child.history.map(encodeExit),
    config_path: child.configPath,
    command: child.command,
    error: child.error,
    failures: child.failures,
    next_attempt_at: isoOrNull(child.nextAttemptAt),
    repeat_at: isoOrNull(child.repeatAt),
    adopted: child.adopted,
    ready: child.ready,
    ready_since: isoOrNull(child.readySince),
    drift: child.drift,
    config_error: child.configError,
    resources: child.resources ? encodeResources(child.resources) : null,
  };
}

/** A resource sample as the wire carries it (CPU seconds to the ms, percent to 0.1). */
export function encodeResources(sample: ResourceSample): ResourceData {
  return {
    cpu_seconds: Math.round(sample.cpuSeconds * 1000) / 1000,
    cpu_percent: sample.cpuPercent === null ? null : Math.round(sample.cpuPercent * 10) / 10,
    rss_bytes: sample.rssBytes,
    processes: sample.processes,
    sampled_at: iso(sample.at),
  };
}

/** A change of state as the wire carries it. */
export function encodeChange(change: ChildChange): ChildEventData {
  return {
    child: change.child,
    from: change.from,
    to: change.to,
    at: iso(change.at),
    exit: change.exit ? encodeExit(change.exit) : null,
    reason: change.reason,
  };
}

function encodeHook(report: HookReport): HookData {
  return report.code === undefined
    ? { hook: report.hook, ok: report.ok, message: report.message }
    : { hook: report.hook, ok: report.ok, message: report.message, code: report.code };
}

function encodeInfo(info: ServerInfo): InfoData {
  return {
    version: info.version,
    pid: info.pid,
    config_path: info.configPath,
    listen: info.listen,
    encrypt: info.encrypt ? "on" : "off",
    mode: info.mode,
    loadpaths: info.loadpaths,
    started_at: iso(info.startedAt),
    uptime_ms: info.uptimeMs,
    running: info.running,
    counts: info.counts as Record<string, number>,
    repeat_timers: info.repeatTimers,
    problems: info.problems,
  };
}

/** The `data` of the response to a successful operation. */
export function encodeResult(result: OpResult): OpData {
  switch (result.kind) {
    case "started": {
      const base = result.restarted === undefined
        ? { pid: result.pid, child: encodeChild(result.child) }
        : { pid: result.pid, restarted: result.restarted, child: encodeChild(result.child) };
      return result.prehooks.length === 0
        ? base
        : { ...base, prehooks: result.prehooks.map(encodeHook) };
    }
    case "stopped": {
      const base = {
        exit: result.exit ? encodeExit(result.exit) : null,
        child: encodeChild(result.child),
      };
      return result.posthooks.length === 0
        ? base
        : { ...base, posthooks: result.posthooks.map(encodeHook) };
    }
    case "stopped-all":
      return { stopped: result.stopped };
    case "checked":
      return encodeChecked(result);
    case "info":
      return encodeInfo(result.info);
    case "log":
      return { ...result.log };
    case "kill":
      return { pid: result.pid };
    case "bulk":
      return { results: result.results.map(encodeBulkItem) };
    case "signalled":
      return { pid: result.pid, signal: result.signal, group: result.group };
    case "events":
      return { events: result.events.map(encodeChange) };
  }
}

/**
 * The data of `check`. Its children are turned into wire objects only when read (the status
 * page, the HTTP API); a response line is written from {@link checkJsonText} instead.
 */
function encodeChecked(result: Checked): CheckData {
  return withJsonText(new LazyCheckData(result), () => checkJsonText(result));
}

/**
 * A class, not an object literal with a getter: made by such a literal, every check's data
 * outlived the young generation's next collections (see `LazyChecked` in status_report.ts).
 */
class LazyCheckData implements CheckData {
  readonly #result: Checked;
  #children: ChildData[] | undefined;
  readonly problems: readonly string[];

  constructor(result: Checked) {
    this.#result = result;
    this.problems = result.problems;
  }

  get children(): ChildData[] {
    return this.#children ??= this.#result.children.map(encodeChild);
  }

  /** What `JSON.stringify` writes: the members of a plain object, in the same order. */
  toJSON(): CheckData {
    return { children: this.children, problems: this.problems };
  }
}

const encoder = new TextEncoder();

/** `{"children":[`, what a check's text begins with. */
const CHILDREN_OPEN = encoder.encode('{"children":[');

/**
 * The JSON text of the data of `check`, the same bytes as `JSON.stringify` of its wire object:
 * each child's text is kept from one check to the next, made again only when its snapshot
 * changes, and its uptime written between two parts of it. While no child changes and no
 * uptime gets longer, the children's text is a copy of the last one written with the uptimes
 * written over it.
 */
export function checkJsonText(result: Checked): JsonText {
  const { snapshots, at } = result;
  const children = childrenTextOf(snapshots);
  const { texts, written } = children;
  const problems = problemsJson(result.problems);
  let length = CHILDREN_OPEN.length + Math.max(0, texts.length - 1) + problems.length;
  let same = written !== undefined;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i]!;
    const width = uptimeLength(uptimeAt(snapshots[i]!, at));
    if (same && written!.widths[i] !== width) same = false;
    length += text.head.length + width + text.rest.length;
  }
  return new CheckJson(children, same ? written : undefined, snapshots, at, problems, length);
}

/** The texts of the children of a check, the bytes last written from them, and a copy. */
interface ChildrenText {
  readonly texts: readonly ChildText[];
  written: WrittenChildren | undefined;
  /** A copy of {@link written} in a line of its own, made ready for the next check only. */
  ready: ReadyLine | undefined;
  /**
   * A line handed out and written since ({@link CheckJson.written}): the next copy to make
   * ready, with no array to make (it holds the same children's text already).
   */
  spare: ReadyLine | undefined;
  /** Whether a copy is to be made ready once the current task is done. */
  readying: boolean;
}

/** The children's text as last written (`{"children":[` to the last `}`), and its uptimes. */
interface WrittenChildren {
  readonly bytes: Uint8Array;
  /** Where each child's uptime is in {@link bytes}. */
  readonly offsets: Int32Array;
  /** How long each child's uptime is. */
  readonly widths: Uint8Array;
}

/** A copy of the children's text with room around it for the rest of a response line. */
interface ReadyLine {
  /** The writing it is a copy of. */
  readonly of: WrittenChildren;
  /** {@link READY_ROOM} bytes, the copy, {@link READY_ROOM} bytes. */
  readonly bytes: Uint8Array;
}

/**
 * Room before the children's text of a line made ready, for the head of the response
 * (`{"id":…,"ok":true,"message":…,"data":`), and after it, for the problems and the end.
 */
const READY_ROOM = 4096;

/**
 * Makes a copy of the children's last text ready for the next check of the same children, once
 * the current task is done (the response is in the socket's hands): that check then writes only
 * its head, its uptimes and its end, and the copy was made while the client read. Each copy
 * serves one response only (the socket may still be writing the last).
 */
function makeReady(children: ChildrenText): void {
  if (children.readying || children.ready !== undefined) return;
  children.readying = true;
  queueMicrotask(() => {
    children.readying = false;
    const written = children.written;
    if (written === undefined || children.ready !== undefined) return;
    const spare = children.spare;
    children.spare = undefined;
    if (spare?.of === written) {
      children.ready = spare;
      return;
    }
    const bytes = new Uint8Array(READY_ROOM + written.bytes.length + READY_ROOM);
    bytes.set(written.bytes, READY_ROOM);
    children.ready = { of: written, bytes };
  });
}

/** The text of one check, measured. */
class CheckJson implements JsonText {
  readonly #children: ChildrenText;
  /** The last writing of the same children, when every uptime is as long now. */
  readonly #written: WrittenChildren | undefined;
  readonly #snapshots: readonly ChildSnapshot[];
  readonly #at: number;
  readonly #problems: Uint8Array;
  readonly byteLength: number;
  /** The copy made ready that {@link line} wrote this check's line into. */
  #lent: ReadyLine | undefined;

  constructor(
    children: ChildrenText,
    written: WrittenChildren | undefined,
    snapshots: readonly ChildSnapshot[],
    at: number,
    problems: Uint8Array,
    byteLength: number,
  ) {
    this.#children = children;
    this.#written = written;
    this.#snapshots = snapshots;
    this.#at = at;
    this.#problems = problems;
    this.byteLength = byteLength;
  }

  /**
   * The line in the copy made ready by the last check of the same children, when every uptime
   * is as long as in it; then the next copy is made ready. Only children checked again (the same
   * array of snapshots, the same lengths) are made ready: a check of one child is not.
   */
  line(head: Uint8Array, tail: Uint8Array): Uint8Array | undefined {
    const written = this.#written;
    if (written === undefined) return undefined;
    const children = this.#children;
    const ready = children.ready;
    children.ready = undefined;
    makeReady(children);
    if (
      ready?.of !== written || head.length > READY_ROOM ||
      this.#problems.length + tail.length > READY_ROOM
    ) {
      return undefined;
    }
    const bytes = ready.bytes;
    this.#lent = ready;
    const start = READY_ROOM - head.length;
    bytes.set(head, start);
    let end = this.#overwrite(bytes, READY_ROOM, written, false);
    bytes.set(this.#problems, end);
    end += this.#problems.length;
    bytes.set(tail, end);
    return bytes.subarray(start, end + tail.length);
  }

  /** The line {@link line} gave is written: kept as the next copy, if none changed since. */
  written(line: Uint8Array): void {
    const ready = this.#lent;
    if (ready === undefined || ready.bytes.buffer !== line.buffer) return;
    this.#lent = undefined;
    const children = this.#children;
    if (ready.of === children.written && children.spare === undefined) children.spare = ready;
  }

  writeTo(bytes: Uint8Array, at: number): number {
    const written = this.#written;
    const end = written === undefined
      ? this.#writeChildren(bytes, at)
      : this.#overwrite(bytes, at, written, true);
    bytes.set(this.#problems, end);
    return end + this.#problems.length;
  }

  /** The last writing (copied at `at` unless it is there), each uptime written over its own. */
  #overwrite(bytes: Uint8Array, at: number, written: WrittenChildren, copy: boolean): number {
    if (copy) bytes.set(written.bytes, at);
    const { offsets } = written;
    const snapshots = this.#snapshots;
    for (let i = 0; i < snapshots.length; i++) {
      writeUptime(bytes, at + offsets[i]!, uptimeAt(snapshots[i]!, this.#at));
    }
    return at + written.bytes.length;
  }

  /** Each child's text written part by part; kept to be copied by the next checks. */
  #writeChildren(bytes: Uint8Array, start: number): number {
    const texts = this.#children.texts;
    const offsets = new Int32Array(texts.length);
    const widths = new Uint8Array(texts.length);
    bytes.set(CHILDREN_OPEN, start);
    let at = start + CHILDREN_OPEN.length;
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]!;
      if (i > 0) bytes[at++] = 0x2c;
      bytes.set(text.head, at);
      at += text.head.length;
      offsets[i] = at - start;
      const end = writeUptime(bytes, at, uptimeAt(this.#snapshots[i]!, this.#at));
      widths[i] = end - at;
      at = end;
      bytes.set(text.rest, at);
      at += text.rest.length;
    }
    this.#children.written = { bytes: bytes.slice(start, at), offsets, widths };
    return at;
  }
}

/** The length of an uptime as JSON writes it. */
function uptimeLength(uptime: number | null): number {
  return uptime === null ? 4 : numberLength(uptime);
}

function writeUptime(bytes: Uint8Array, at: number, uptime: number | null): number {
  return uptime === null ? writeAscii(bytes, at, "null") : writeNumber(bytes, at, uptime);
}

/** `],"problems":[…]}` of the last problems seen (the same array while they do not change). */
let lastProblems: { readonly of: readonly string[]; readonly json: Uint8Array } | undefined;

function problemsJson(problems: readonly string[]): Uint8Array {
  if (lastProblems?.of !== problems) {
    lastProblems = {
      of: problems,
      json: encoder.encode(`],"problems":${JSON.stringify(problems)}}`),
    };
  }
  return lastProblems.json;
}

/** A child's JSON text in two parts around its uptime, and what they were made from. */
interface ChildText {
  /** The snapshot they show. */
  readonly of: ChildSnapshot;
  /** From `{` to `"uptime_ms":`. */
  readonly head: Uint8Array;
  /** From `,"restarts":` to `"resources":`; none for a text split whole ({@link splitText}). */
  readonly tail: string | undefined;
  /** From `,"restarts":` to the end, `}` included. */
  readonly rest: Uint8Array;
}

/** The texts of the children of a check, by its array of snapshots (the same between checks). */
const childrenTexts = new WeakMap<readonly ChildSnapshot[], ChildrenText>();

/** Each snapshot's text. */
const childTexts = new WeakMap<ChildSnapshot, ChildText>();

/** Each child's last text, by name, whose parts a new snapshot of it may share (bounded). */
const lastTexts = new Map<string, ChildText>();

/** The JSON text of an exit, by record: a record is never changed once made. */
const exitTexts = new WeakMap<ExitRecord, string>();

function childrenTextOf(snapshots: readonly ChildSnapshot[]): ChildrenText {
  let children = childrenTexts.get(snapshots);
  if (children === undefined) {
    children = {
      texts: snapshots.map(childText),
      written: undefined,
      ready: undefined,
      spare: undefined,
      readying: false,
    };
    childrenTexts.set(snapshots, children);
  }
  return children;
}

/** The text of `JSON.stringify(encodeChild(…))` of the snapshot, around its uptime. */
function childText(snapshot: ChildSnapshot): ChildText {
  let text = childTexts.get(snapshot);
  if (text !== undefined) return text;
  if (hasUndefined(snapshot)) {
    text = splitText(snapshot);
  } else {
    // The parts of its last text that show the same fields are kept: a new sample of its
    // resources changes only the end.
    const last = lastTexts.get(snapshot.name);
    const parts = last?.tail === undefined ? undefined : last;
    const head = parts && sameHead(parts.of, snapshot)
      ? parts.head
      : encoder.encode(headJson(snapshot));
    const tail = parts && sameTail(parts.of, snapshot) ? parts.tail! : tailJson(snapshot);
    const rest = parts && tail === parts.tail && sameSample(parts.of.resources, snapshot.resources)
      ? parts.rest
      : encoder.encode(
        `${tail}${JSON.stringify(snapshot.resources && encodeResources(snapshot.resources))}}`,
      );
    text = { of: snapshot, head, tail, rest };
  }
  if (!lastTexts.has(snapshot.name) && lastTexts.size >= 65_536) lastTexts.clear();
  lastTexts.set(snapshot.name, text);
  childTexts.set(snapshot, text);
  return text;
}

/**
 * The text of a snapshot with a field left undefined (JSON leaves it out): its wire object's
 * JSON, split where its uptime goes.
 */
function splitText(snapshot: ChildSnapshot): ChildText {
  const wire = encodeChild({ ...snapshot, uptimeMs: null }) as unknown as Record<string, unknown>;
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  let side = before;
  for (const [key, value] of Object.entries(wire)) {
    if (key === "uptime_ms") side = after;
    else side[key] = value;
  }
  const head = JSON.stringify(before);
  const rest = JSON.stringify(after);
  return {
    of: snapshot,
    head: encoder.encode(`${head.slice(0, -1)}${head === "{}" ? "" : ","}"uptime_ms":`),
    tail: undefined,
    rest: encoder.encode(rest === "{}" ? "}" : `,${rest.slice(1)}`),
  };
}

function sameSample(a: ResourceSample | null, b: ResourceSample | null): boolean {
  if (a === b) return true;
  return a !== null && b !== null && Object.is(a.cpuSeconds, b.cpuSeconds) &&
    Object.is(a.cpuPercent, b.cpuPercent) && Object.is(a.rssBytes, b.rssBytes) &&
    Object.is(a.processes, b.processes) && Object.is(a.at, b.at);
}

function headJson(child: ChildSnapshot): string {
  return `{"name":${JSON.stringify(child.name)},"state":${JSON.stringify(child.state)},` +
    `"since":${JSON.stringify(iso(child.since))},"pid":${JSON.stringify(child.pid)},` +
    `"started_at":${JSON.stringify(isoOrNull(child.startedAt))},"uptime_ms":`;
}

function tailJson(child: ChildSnapshot): string {
  return `,"restarts":${JSON.stringify(child.restarts)},` +
    `"crashes":${JSON.stringify(child.crashes)},` +
    `"last_exit":${child.lastExit ? exitJson(child.lastExit) : "null"},` +
    `"history":[${child.history.map(exitJson).join(",")}],` +
    `"config_path":${JSON.stringify(child.configPath)},` +
    `"command":${JSON.stringify(child.command)},"error":${JSON.stringify(child.error)},` +
    `"failures":${JSON.stringify(child.failures)},` +
    `"next_attempt_at":${JSON.stringify(isoOrNull(child.nextAttemptAt))},` +
    `"repeat_at":${JSON.stringify(isoOrNull(child.repeatAt))},` +
    `"adopted":${JSON.stringify(child.adopted)},"ready":${JSON.stringify(child.ready)},` +
    `"ready_since":${JSON.stringify(isoOrNull(child.readySince))},` +
    `"drift":${JSON.stringify(child.drift)},` +
    `"config_error":${JSON.stringify(child.configError)},"resources":`;
}

/** Whether a field is left undefined (JSON would leave it out). */
function hasUndefined(c: ChildSnapshot): boolean {
  const fields: unknown[] = [
    c.name,
    c.state,
    c.since,
    c.pid,
    c.startedAt,
    c.restarts,
    c.crashes,
    c.lastExit,
    c.history,
    c.configPath,
    c.command,
    c.error,
    c.failures,
    c.nextAttemptAt,
    c.repeatAt,
    c.adopted,
    c.ready,
    c.readySince,
    c.drift,
    c.configError,
    c.resources,
  ];
  return fields.includes(undefined);
}

function sameHead(a: ChildSnapshot, b: ChildSnapshot): boolean {
  return a.name === b.name && a.state === b.state && Object.is(a.since, b.since) &&
    Object.is(a.pid, b.pid) && Object.is(a.startedAt, b.startedAt);
}

function sameTail(a: ChildSnapshot, b: ChildSnapshot): boolean {
  return Object.is(a.restarts, b.restarts) && Object.is(a.crashes, b.crashes) &&
    a.lastExit === b.lastExit && a.configPath === b.configPath && a.error === b.error &&
    Object.is(a.failures, b.failures) && Object.is(a.nextAttemptAt, b.nextAttemptAt) &&
    Object.is(a.repeatAt, b.repeatAt) && a.adopted === b.adopted && a.ready === b.ready &&
    Object.is(a.readySince, b.readySince) && a.drift === b.drift &&
    a.configError === b.configError && sameItems(a.command, b.command) &&
    sameItems(a.history, b.history);
}

function exitJson(exit: ExitRecord): string {
  let text = exitTexts.get(exit);
  if (text === undefined) {
    text = JSON.stringify(encodeExit(exit));
    exitTexts.set(exit, text);
  }
  return text;
}

/** Whether two lists (or nulls) hold the same items (`Object.is`: NaN is itself, 0 not -0). */
function sameItems(a: readonly unknown[] | null, b: readonly unknown[] | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function encodeBulkItem(item: BulkItem): BulkItemData {
  return item.code === undefined
    ? { child: item.child, ok: item.ok, message: item.message }
    : { child: item.child, ok: item.ok, code: item.code, message: item.message };
}

/** Declared data as the generic JSON object a {@link Response} carries. */
export function wireData(data: OpData): Record<string, unknown> {
  return data as unknown as Record<string, unknown>;
}

/** One follow event line (without the newline). */
export function encodeFollowEvent(event: FollowEvent): string {
  return JSON.stringify(event);
}

// ---------------------------------------------------------------------------------------------
// Decoders (client side): each checks every field it declares and throws WireFormatError.

/** Reads an exit. */
export function decodeExit(value: unknown, path = "exit"): ExitData {
  const r = new JsonReader(value, path);
  return {
    code: r.numberOrNull("code"),
    signal: r.stringOrNull("signal"),
    at: r.string("at"),
    ran_ms: r.number("ran_ms"),
    requested: r.boolean("requested"),
    expected: r.has("expected") ? r.boolean("expected") : r.raw("code") === 0,
    reason: r.has("reason") ? r.stringOrNull("reason") : null,
    description: r.string("description"),
    stderr_tail: r.strings("stderr_tail"),
  };
}

/** Reads a child. */
export function decodeChild(value: unknown, path = "child"): ChildData {
  const r = new JsonReader(value, path);
  const lastExit = r.raw("last_exit");
  return {
    name: r.string("name"),
    state: r.oneOf("state", CHILD_STATES),
    since: r.string("since"),
    pid: r.numberOrNull("pid"),
    started_at: r.stringOrNull("started_at"),
    uptime_ms: r.numberOrNull("uptime_ms"),
    restarts: r.number("restarts"),
    // Older servers leave it out.
    crashes: r.has("crashes") ? r.number("crashes") : 0,
    last_exit: lastExit === null ? null : decodeExit(lastExit, `${path}.last_exit`),
    history: r.list("history", decodeExit),
    config_path: r.stringOrNull("config_path"),
    command: r.raw("command") === null ? null : r.strings("command"),
    error: r.stringOrNull("error"),
    failures: r.number("failures"),
    next_attempt_at: r.stringOrNull("next_attempt_at"),
    repeat_at: r.stringOrNull("repeat_at"),
    adopted: r.has("adopted") ? r.boolean("adopted") : false,
    ready: r.has("ready") && r.raw("ready") !== null ? r.boolean("ready") : null,
    ready_since: r.has("ready_since") ? r.stringOrNull("ready_since") : null,
    drift: r.has("drift") && r.raw("drift") !== null
      ? r.oneOf("drift", ["changed", "removed", "invalid"] as const)
      : null,
    config_error: r.has("config_error") ? r.stringOrNull("config_error") : null,
    resources: r.has("resources") && r.raw("resources") !== null
      ? decodeResources(r.raw("resources"), `${path}.resources`)
      : null,
  };
}

/** Reads a child's resources. */
export function decodeResources(value: unknown, path = "resources"): ResourceData {
  const r = new JsonReader(value, path);
  return {
    cpu_seconds: r.number("cpu_seconds"),
    cpu_percent: r.numberOrNull("cpu_percent"),
    rss_bytes: r.number("rss_bytes"),
    processes: r.number("processes"),
    sampled_at: r.string("sampled_at"),
  };
}

/** Reads a change of state. */
export function decodeChange(value: unknown, path = "event"): ChildEventData {
  const r = new JsonReader(value, path);
  const exit = r.raw("exit");
  return {
    child: r.string("child"),
    from: r.oneOf("from", CHILD_STATES),
    to: r.oneOf("to", CHILD_STATES),
    at: r.string("at"),
    exit: exit === null || exit === undefined ? null : decodeExit(exit, `${path}.exit`),
    reason: r.has("reason") ? r.stringOrNull("reason") : null,
  };
}

/** Reads the data of events. */
export function decodeEventsData(value: unknown): EventsData {
  return { events: new JsonReader(value).list("events", decodeChange) };
}

function decodeHook(value: unknown, path: string): HookData {
  const r = new JsonReader(value, path);
  const base = { hook: r.string("hook"), ok: r.boolean("ok"), message: r.string("message") };
  if (!r.has("code")) return base;
  const code = r.raw("code");
  if (!isErrorCode(code)) throw new WireFormatError(`${path}.code`, "an error code", code);
  return { ...base, code };
}

/** Reads the data of start, restart and trystart. */
export function decodeStartData(value: unknown): StartData {
  const r = new JsonReader(value);
  return {
    pid: r.number("pid"),
    ...(r.has("restarted") ? { restarted: r.boolean("restarted") } : {}),
    child: decodeChild(r.raw("child"), "data.child"),
    ...(r.has("prehooks") ? { prehooks: r.list("prehooks", decodeHook) } : {}),
  };
}

/** Reads the data of stop NAME. */
export function decodeStopData(value: unknown): StopData {
  const r = new JsonReader(value);
  const exit = r.raw("exit");
  return {
    exit: exit === null ? null : decodeExit(exit, "data.exit"),
    child: decodeChild(r.raw("child"), "data.child"),
    ...(r.has("posthooks") ? { posthooks: r.list("posthooks", decodeHook) } : {}),
  };
}

/** Reads the data of stop all. */
export function decodeStopAllData(value: unknown): StopAllData {
  return { stopped: new JsonReader(value).strings("stopped") };
}

/** Reads the data of check. */
export function decodeCheckData(value: unknown): CheckData {
  const r = new JsonReader(value);
  return { children: r.list("children", decodeChild), problems: r.strings("problems") };
}

/** Reads the data of info. */
export function decodeInfoData(value: unknown): InfoData {
  const r = new JsonReader(value);
  return {
    version: r.string("version"),
    pid: r.number("pid"),
    config_path: r.string("config_path"),
    listen: r.string("listen"),
    encrypt: r.oneOf("encrypt", ["on", "off"]),
    mode: r.string("mode"),
    loadpaths: r.strings("loadpaths"),
    started_at: r.string("started_at"),
    uptime_ms: r.number("uptime_ms"),
    running: r.strings("running"),
    counts: r.numbers("counts"),
    repeat_timers: r.number("repeat_timers"),
    problems: r.strings("problems"),
  };
}

/** Reads the data of log. */
export function decodeLogData(value: unknown): LogData {
  const r = new JsonReader(value);
  return {
    child: r.string("child"),
    stream: r.oneOf("stream", ["stdout", "stderr"]),
    source: r.oneOf("source", ["file", "memory"]),
    path: r.stringOrNull("path"),
    lines: r.strings("lines"),
  };
}

/** Reads the data of kill. */
export function decodeKillData(value: unknown): KillData {
  return { pid: new JsonReader(value).number("pid") };
}

/** Reads the data of start all, restart all, signal all and update. */
export function decodeBulkData(value: unknown): BulkData {
  const r = new JsonReader(value);
  return {
    results: r.list("results", (item, path) => {
      const i = new JsonReader(item, path);
      const base = { child: i.string("child"), ok: i.boolean("ok"), message: i.string("message") };
      if (!i.has("code")) return base;
      const code = i.raw("code");
      if (!isErrorCode(code)) throw new WireFormatError(`${path}.code`, "an error code", code);
      return { ...base, code };
    }),
  };
}

/** Reads the data of signal NAME. */
export function decodeSignalData(value: unknown): SignalData {
  const r = new JsonReader(value);
  return { pid: r.number("pid"), signal: r.string("signal"), group: r.boolean("group") };
}

/**
 * Whether `op` on `child` answers with {@link BulkData}: `update`, the `all` forms, and any
 * operation on a child with `instances` (its copies), told apart by the data's own shape.
 */
export function answersInBulk(op: Op, child: string | undefined, value?: unknown): boolean {
  if (op === "update" || (child === "all" && op !== "stop" && OPS_TAKING_ALL.includes(op))) {
    return true;
  }
  return value !== null && typeof value === "object" &&
    Array.isArray((value as Record<string, unknown>).results);
}

/** Reads the data of a response to `op` on `child` (a failed bulk response carries data too). */
export function decodeData(op: Op, child: string | undefined, value: unknown): OpData {
  if (answersInBulk(op, child, value)) return decodeBulkData(value);
  switch (op) {
    case "update":
      return decodeBulkData(value);
    case "signal":
      return decodeSignalData(value);
    case "start":
    case "restart":
    case "trystart":
      return decodeStartData(value);
    case "stop":
      return child === "all" ? decodeStopAllData(value) : decodeStopData(value);
    case "check":
      return decodeCheckData(value);
    case "info":
      return decodeInfoData(value);
    case "log":
      return decodeLogData(value);
    case "kill":
      return decodeKillData(value);
    case "events":
      return decodeEventsData(value);
  }
}

/** Reads one event line after a `log --follow` response. */
export function decodeFollowEvent(value: unknown): FollowEvent {
  const r = new JsonReader(value, "event");
  const id = r.raw("id");
  const requestId = typeof id === "string" || typeof id === "number" ? id : null;
  const kind = r.oneOf("event", ["line", "dropped", "end", "change"]);
  if (kind === "change") {
    return { id: requestId, event: "change", data: decodeChange(r.raw("data"), "event.data") };
  }
  const data = r.object("data");
  switch (kind) {
    case "line":
      return {
        id: requestId,
        event: "line",
        data: { stream: data.oneOf("stream", ["stdout", "stderr"]), line: data.string("line") },
      };
    case "dropped":
      return { id: requestId, event: "dropped", data: { count: data.number("count") } };
    case "end":
      return { id: requestId, event: "end", data: {} };
  }
}
