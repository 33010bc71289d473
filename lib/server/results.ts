/**
 * What the server's operations return: domain objects (numbers for times, records from the
 * process layer), one variant per kind of answer. They become wire payloads only at the edge
 * (`lib/protocol/payloads.ts`); the legacy dialect renders the same objects as the original's
 * text.
 *
 * Owns: the shapes of results. Does not own: how they are computed or encoded.
 *
 * @module
 */
import type { ErrorCode } from "../errors.ts";
import type { ChildStatus } from "../process/child.ts";
import type { ExitRecord } from "../process/exit_record.ts";
import type { Follower } from "../process/log_bus.ts";
import type { ChildState } from "../process/state.ts";
import type { Feed } from "../process/feed.ts";
import type { ResourceSample } from "../process/resource_sampler.ts";

/**
 * A child as `check` reports it, but for its uptime: its status, its pending repeat timer, its
 * drift and its resources. A status gives the same object again while nothing in it changes (a
 * check of an unchanged fleet makes none); the uptime is worked out from `startedAt` at the time
 * it is shown (`uptimeAt` of `uptime.ts`).
 */
export interface ChildSnapshot extends ChildStatus {
  /** When the child's repeat timer fires, if one is pending (ms since the epoch). */
  readonly repeatAt: number | null;
  /** How its config file now differs from its run's: `update` applies it (see `drift.ts`). */
  readonly drift: "changed" | "removed" | "invalid" | null;
  /** For `invalid`: why the file cannot be used. */
  readonly configError: string | null;
  /**
   * CPU and memory of its processes at the last sample; null when not sampled. A sample is
   * never changed once taken: a new one is a new object.
   */
  readonly resources: ResourceSample | null;
}

/** A child as an operation reports it: its snapshot, with its uptime then. */
export interface ChildReport extends ChildSnapshot {
  readonly uptimeMs: number | null;
}

/** A change of a child's state (`events`). */
export interface ChildChange {
  readonly child: string;
  readonly from: ChildState;
  readonly to: ChildState;
  readonly at: number;
  /** The run that ended, when the change is an exit. */
  readonly exit: ExitRecord | null;
  readonly reason: string | null;
}

/** What a hook did. */
export interface HookReport {
  /** The hook as written in YAML: `start web`. */
  readonly hook: string;
  readonly ok: boolean;
  readonly message: string;
  readonly code?: ErrorCode;
}

/** Facts about the running server (`info`). */
export interface ServerInfo {
  readonly version: string;
  readonly pid: number;
  readonly configPath: string;
  readonly listen: string;
  readonly encrypt: boolean;
  readonly mode: string;
  readonly loadpaths: readonly string[];
  readonly startedAt: number;
  readonly uptimeMs: number;
  readonly running: readonly string[];
  readonly counts: Readonly<Partial<Record<ChildState, number>>>;
  readonly repeatTimers: number;
  readonly problems: readonly string[];
}

/** The lines `log` answers with, and where they came from. */
export interface LogResult {
  readonly child: string;
  readonly stream: "stdout" | "stderr";
  readonly source: "file" | "memory";
  /** The output file read, for `file`. */
  readonly path: string | null;
  readonly lines: readonly string[];
}

/** A child was started (start, restart, trystart). */
export interface Started {
  readonly kind: "started";
  readonly message: string;
  readonly pid: number;
  /** For trystart: whether a running child was restarted. */
  readonly restarted?: boolean;
  readonly child: ChildReport;
  readonly prehooks: readonly HookReport[];
}

/** A child was stopped, or its pending restart cancelled (exit null). */
export interface Stopped {
  readonly kind: "stopped";
  readonly message: string;
  readonly exit: ExitRecord | null;
  readonly child: ChildReport;
  readonly posthooks: readonly HookReport[];
}

/** `stop all`: the children that were stopped. */
export interface StoppedAll {
  readonly kind: "stopped-all";
  readonly message: string;
  readonly stopped: readonly string[];
}

/** `check`: the children, and what is wrong with the configuration. */
export interface Checked {
  readonly kind: "checked";
  readonly message: string;
  /** When the children were looked at (ms since the epoch): their uptimes are as of then. */
  readonly at: number;
  /**
   * The children, in order: each the same object from one check to the next while it does not
   * change, and the same array while none does (what a response line is written from).
   */
  readonly snapshots: readonly ChildSnapshot[];
  /** The same children with their uptimes at `at` (made when first read). */
  readonly children: readonly ChildReport[];
  readonly problems: readonly string[];
}

/** `info`. */
export interface Informed {
  readonly kind: "info";
  readonly message: string;
  readonly info: ServerInfo;
}

/** `log`: lines, and with `follow` the lines to come. */
export interface Logged {
  readonly kind: "log";
  readonly message: string;
  readonly log: LogResult;
  readonly follow?: Follower;
}

/** `kill`: answered, then the server shuts down. */
export interface Killed {
  readonly kind: "kill";
  readonly message: string;
  readonly pid: number;
}

/** What one child's part of a bulk operation came to. */
export interface BulkItem {
  readonly child: string;
  readonly ok: boolean;
  readonly code?: ErrorCode;
  readonly message: string;
}

/**
 * start all, restart all, signal all, update: one item per child acted on. The response fails
 * (SOME_FAILED, with the items) when any item failed.
 */
export interface Bulk {
  readonly kind: "bulk";
  readonly message: string;
  readonly results: readonly BulkItem[];
}

/** A signal was sent to a child's process group, or to its main process only. */
export interface Signalled {
  readonly kind: "signalled";
  readonly message: string;
  readonly pid: number;
  readonly signal: Deno.Signal;
  /** Whether the whole group got it (false: the main process only). */
  readonly group: boolean;
}

/** The result of any successful operation. */
export type OpResult =
  | Started
  | Stopped
  | StoppedAll
  | Checked
  | Informed
  | Logged
  | Killed
  | Bulk
  | Signalled
  | Events;

/** The recent changes of state, and with `follow` the feed of those to come. */
export interface Events {
  readonly kind: "events";
  readonly message: string;
  readonly events: readonly ChildChange[];
  readonly follow?: Feed<ChildChange>;
}
