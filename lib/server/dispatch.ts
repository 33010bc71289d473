/**
 * From an admitted v2 request to its outcome: which operation runs, with the request's config
 * snapshot, and how its result is encoded for the wire.
 *
 * @module
 */
import type { ConfigSnapshot } from "../config/store.ts";
import { SupervisorError } from "../errors.ts";
import type { Clock } from "../process/clock.ts";
import { encodeResult, wireData } from "../protocol/payloads.ts";
import { errorResponse } from "../protocol/messages.ts";
import type { Request, Response } from "../protocol/messages.ts";
import { readLog } from "./log_reader.ts";
import { restartAll, signalAll, signalChild, startAll, update } from "./fleet.ts";
import { SENDABLE_SIGNALS, signalNamed } from "../process/signals.ts";
import type { LogOptions } from "./log_reader.ts";
import type { Outcome } from "./outcome.ts";
import type { OpResult } from "./results.ts";
import { checkReport, infoReport } from "./status_report.ts";
import type { ServerFacts } from "./status_report.ts";
import type { Supervisor } from "./supervisor.ts";
import type { ChildEvents } from "./child_events.ts";

/** What operations run against. */
export interface Operations {
  readonly supervisor: Supervisor;
  /** The changes of state (`events`). */
  readonly events: ChildEvents;
  /** CPU and memory: `check` asks for a sample no older than the sampling period. */
  readonly resources?: { demand(): Promise<void> | undefined };
  readonly facts: ServerFacts;
  readonly clock: Clock;
}

/** Most lines `log` returns at once. */
export const MAX_LOG_LINES = 10_000;

/** Runs `request` with the configuration of `snap`; never throws. */
export async function dispatch(
  ops: Operations,
  request: Request,
  snap: ConfigSnapshot,
): Promise<Outcome> {
  let result: OpResult;
  try {
    // `check`, the operation asked most often, without the frame of every other operation.
    result = request.op === "check"
      ? await check(ops, request, snap)
      : await run(ops, request, snap);
  } catch (error) {
    return { kind: "reply", response: errorResponse(request.id, error) };
  }
  const data = wireData(encodeResult(result));
  // A bulk operation fails as a whole when any of its children failed, and says which.
  const someFailed = result.kind === "bulk" && result.results.some((r) => !r.ok);
  const response: Response = someFailed
    ? { id: request.id, ok: false, code: "SOME_FAILED", message: result.message, data }
    : { id: request.id, ok: true, message: result.message, data };
  if ((result.kind === "log" || result.kind === "events") && result.follow) {
    return { kind: "stream", response, follow: result.follow, result };
  }
  if (result.kind === "kill") return { kind: "shutdown", response, result };
  return { kind: "reply", response, result };
}

async function run(ops: Operations, request: Request, snap: ConfigSnapshot): Promise<OpResult> {
  const { supervisor } = ops;
  const child = request.child ?? "";
  const ctx = { snap };
  switch (request.op) {
    case "start": {
      const wait = startWait(request.args);
      if (child === "all") return await startAll(supervisor, { snap, wait });
      return await supervisor.each("start", child, { snap, wait });
    }
    case "stop":
      return await supervisor.each("stop", child, ctx);
    case "restart": {
      const wait = startWait(request.args);
      if (child === "all") return await restartAll(supervisor, { snap, wait });
      return await supervisor.each("restart", child, { snap, wait });
    }
    case "signal": {
      const how = signalOptions(request.args);
      return child === "all" ? signalAll(supervisor, how) : signalChild(supervisor, child, how);
    }
    case "update":
      if (request.child !== undefined) {
        throw new SupervisorError("BAD_REQUEST", `Operation "update" takes no child`);
      }
      return await update(supervisor, { snap, wait: startWait(request.args) });
    case "trystart":
      return await supervisor.each("trystart", child, { snap, wait: startWait(request.args) });
    case "check":
      return await check(ops, request, snap);
    case "info":
      return await infoReport(supervisor, snap, { facts: ops.facts, now: ops.clock.now() });
    case "log": {
      const options = logOptions(request.args);
      const target = await supervisor.childFor(child, ctx);
      return await readLog(target, await snap.childOr(child, target.config), options);
    }
    case "events": {
      if (request.child !== undefined) {
        throw new SupervisorError("BAD_REQUEST", `Operation "events" takes no child`);
      }
      const follow = eventsFollow(request.args) ? ops.events.follow() : undefined;
      const events = ops.events.recent();
      const noun = events.length === 1 ? "change" : "changes";
      const message = `${events.length} recent ${noun} of state${follow ? ", following" : ""}`;
      return follow
        ? { kind: "events", message, events, follow }
        : { kind: "events", message, events };
    }
    case "kill":
      return {
        kind: "kill",
        message: "kill success: stopping every child, then the server",
        pid: ops.facts.pid,
      };
  }
}

/** `check`: every child's status, or the named child's. */
function check(ops: Operations, request: Request, snap: ConfigSnapshot): Promise<OpResult> {
  // Nothing to wait for while sampling is on (the latest sample is recent enough). Not an async
  // function: one promise less for the operation asked most often.
  const sampling = ops.resources?.demand();
  const report = () =>
    checkReport(ops.supervisor, snap, { name: request.child, now: ops.clock.now() });
  return sampling === undefined ? report() : sampling.then(report);
}

/**
 * Validates the args of start, restart and trystart: `wait` (default true) — answer once the
 * child counts as started, or at once with `false`.
 */
export function startWait(args: Readonly<Record<string, unknown>>): boolean {
  const extra = Object.keys(args).filter((k) => k !== "wait");
  if (extra.length > 0) {
    throw new SupervisorError(
      "BAD_REQUEST",
      `Unknown argument ${JSON.stringify(extra[0])}; expected: wait`,
    );
  }
  const wait = args.wait ?? true;
  if (typeof wait !== "boolean") {
    throw new SupervisorError("BAD_REQUEST", `"wait" must be true or false`);
  }
  return wait;
}

/** Validates the args of `signal`: `signal` (a name: HUP, SIGHUP) and `main` (default false). */
export function signalOptions(
  args: Readonly<Record<string, unknown>>,
): { signal: Deno.Signal; main: boolean } {
  const extra = Object.keys(args).filter((k) => k !== "signal" && k !== "main");
  if (extra.length > 0) {
    throw new SupervisorError(
      "BAD_REQUEST",
      `Unknown signal argument ${JSON.stringify(extra[0])}; expected: signal, main`,
    );
  }
  const named = typeof args.signal === "string" ? signalNamed(args.signal) : undefined;
  if (named === undefined) {
    throw new SupervisorError(
      "BAD_SIGNAL",
      `Unknown signal ${JSON.stringify(args.signal ?? null)}; expected one of: ${
        SENDABLE_SIGNALS.map((s) => s.slice(3)).join(", ")
      } (with or without "SIG")`,
    );
  }
  const main = args.main ?? false;
  if (typeof main !== "boolean") {
    throw new SupervisorError("BAD_REQUEST", `"main" must be true or false`);
  }
  return { signal: named, main };
}

/** Validates the args of `events`: `follow` (default false). */
export function eventsFollow(args: Readonly<Record<string, unknown>>): boolean {
  const extra = Object.keys(args).filter((k) => k !== "follow");
  if (extra.length > 0) {
    throw new SupervisorError(
      "BAD_REQUEST",
      `Unknown events argument ${JSON.stringify(extra[0])}; expected: follow`,
    );
  }
  const follow = args.follow ?? false;
  if (typeof follow !== "boolean") {
    throw new SupervisorError("BAD_REQUEST", `"follow" must be true or false`);
  }
  return follow;
}

/** Validates the args of `log`: `stream`, `lines`, `follow`. */
export function logOptions(args: Readonly<Record<string, unknown>>): LogOptions {
  const extra = Object.keys(args).filter((k) => !["stream", "lines", "follow"].includes(k));
  if (extra.length > 0) {
    throw new SupervisorError(
      "BAD_REQUEST",
      `Unknown log argument ${JSON.stringify(extra[0])}; expected: stream, lines, follow`,
    );
  }
  const stream = args.stream ?? "stdout";
  if (stream !== "stdout" && stream !== "stderr") {
    throw new SupervisorError("BAD_REQUEST", `"stream" must be "stdout" or "stderr"`);
  }
  const lines = args.lines ?? 20;
  if (typeof lines !== "number" || !Number.isInteger(lines) || lines < 0 || lines > MAX_LOG_LINES) {
    throw new SupervisorError(
      "BAD_REQUEST",
      `"lines" must be a whole number from 0 to ${MAX_LOG_LINES}`,
    );
  }
  const follow = args.follow ?? false;
  if (typeof follow !== "boolean") {
    throw new SupervisorError("BAD_REQUEST", `"follow" must be true or false`);
  }
  return { stream, lines, follow };
}
