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
import { CHILD_STATES } from "../process/state.ts";
import type { ChildState } from "../process/state.ts";
import type {
  BulkItem,
  Checked,
  ChildChange,
  ChildReport,
  HookReport,
  OpResult,
  ServerInfo,
} from "../server/results.ts";
import type { ResourceSample } from "../process/resource_sampler.ts";
import { isErrorCode, WireFormatError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";
import { JsonReader } from "./json_reader.ts";
import { withJsonParts } from "./messages.ts";
import type { JsonParts, Op, RequestId } from "./messages.ts";
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
 * page, the HTTP API); a response line is written from {@link checkJsonParts} instead.
 */
function encodeChecked(result: Checked): CheckData {
  let children: ChildData[] | undefined;
  const data: CheckData = {
    get children(): ChildData[] {
      return children ??= result.children.map(encodeChild);
    },
    problems: result.problems,
  };
  return withJsonParts(data, () => checkJsonParts(result));
}

const encoder = new TextEncoder();

/**
 * The JSON text of the data of `check` in parts, the same bytes as `JSON.stringify` of its
 * wire object: each child's text is kept between statuses and made again only from what
 * changed (its uptime every time, its resources at each sample).
 */
export function checkJsonParts(result: Checked): JsonParts {
  const parts: (Uint8Array | string | number)[] = ['{"children":['];
  result.children.forEach((child, i) => {
    if (i > 0) parts.push(",");
    childJsonParts(child, parts);
  });
  parts.push("],");
  parts.push(encoder.encode(`"problems":${JSON.stringify(result.problems)}}`));
  return parts;
}

/** A child's JSON text in three parts around its uptime, and what they were made from. */
interface ChildText {
  /** From `{` to `"uptime_ms":`. */
  readonly head: Uint8Array;
  /** From `,"restarts":` to `"resources":`. */
  readonly tail: string;
  /**
   * The report they were made from (a report is never changed once made); kept until its
   * texts change, so that a status does not keep every report it encodes.
   */
  readonly of: ChildReport;
  /** From `,"restarts":` to the end, `}` included, with the resources of `sample`. */
  rest: Uint8Array;
  /** A copy of the sample `rest` shows (a new sample may have the same figures). */
  sample: ResourceSample | null;
}

/** Each child's last text, by name (bounded: a fleet never comes near it). */
const childTexts = new Map<string, ChildText>();

/** The JSON text of an exit, by record: a record is never changed once made. */
const exitTexts = new WeakMap<ExitRecord, string>();

/** Appends the parts of `JSON.stringify(encodeChild(child))` to `parts`. */
export function childJsonParts(child: ChildReport, parts: (Uint8Array | string | number)[]): void {
  const uptime = child.uptimeMs;
  const sample = child.resources;
  let text = childTexts.get(child.name);
  if (
    text === undefined || uptime === undefined || sample === undefined ||
    !sameHead(text.of, child) || !sameTail(text.of, child)
  ) {
    if (uptime === undefined || sample === undefined || hasUndefined(child)) {
      // A field left undefined is left out of the object's JSON: such a child is encoded whole.
      childTexts.delete(child.name);
      parts.push(encoder.encode(JSON.stringify(encodeChild(child))));
      return;
    }
    if (text === undefined && childTexts.size >= 65_536) childTexts.clear();
    const tail = tailJson(child);
    const head = encoder.encode(headJson(child));
    text = { head, tail, of: child, rest: restOf(tail, sample), sample: sample && { ...sample } };
    childTexts.set(child.name, text);
  } else if (!sameSample(text.sample, sample)) {
    text.rest = restOf(text.tail, sample);
    text.sample = sample && { ...sample };
  }
  parts.push(text.head, uptime ?? "null", text.rest);
}

function restOf(tail: string, sample: ResourceSample | null): Uint8Array {
  return encoder.encode(`${tail}${JSON.stringify(sample && encodeResources(sample))}}`);
}

function sameSample(a: ResourceSample | null, b: ResourceSample | null): boolean {
  if (a === b) return true;
  return a !== null && b !== null && Object.is(a.cpuSeconds, b.cpuSeconds) &&
    Object.is(a.cpuPercent, b.cpuPercent) && Object.is(a.rssBytes, b.rssBytes) &&
    Object.is(a.processes, b.processes) && Object.is(a.at, b.at);
}

function headJson(child: ChildReport): string {
  return `{"name":${JSON.stringify(child.name)},"state":${JSON.stringify(child.state)},` +
    `"since":${JSON.stringify(iso(child.since))},"pid":${JSON.stringify(child.pid)},` +
    `"started_at":${JSON.stringify(isoOrNull(child.startedAt))},"uptime_ms":`;
}

function tailJson(child: ChildReport): string {
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

/** Whether the head and tail encode a field left undefined (JSON would leave it out). */
function hasUndefined(c: ChildReport): boolean {
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
  ];
  return fields.includes(undefined);
}

function sameHead(a: ChildReport, b: ChildReport): boolean {
  return a.name === b.name && a.state === b.state && Object.is(a.since, b.since) &&
    Object.is(a.pid, b.pid) && Object.is(a.startedAt, b.startedAt);
}

function sameTail(a: ChildReport, b: ChildReport): boolean {
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
