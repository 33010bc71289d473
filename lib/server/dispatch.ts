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
import type { LogOptions } from "./log_reader.ts";
import type { Outcome } from "./outcome.ts";
import type { OpResult } from "./results.ts";
import { checkReport, infoReport } from "./status_report.ts";
import type { ServerFacts } from "./status_report.ts";
import type { Supervisor } from "./supervisor.ts";

/** What operations run against. */
export interface Operations {
  readonly supervisor: Supervisor;
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
    result = await run(ops, request, snap);
  } catch (error) {
    return { kind: "reply", response: errorResponse(request.id, error) };
  }
  const response: Response = {
    id: request.id,
    ok: true,
    message: result.message,
    data: wireData(encodeResult(result)),
  };
  if (result.kind === "log" && result.follow) {
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
    case "start":
      return await supervisor.start(child, ctx);
    case "stop":
      return await supervisor.stop(child, ctx);
    case "restart":
      return await supervisor.restart(child, ctx);
    case "trystart":
      return await supervisor.trystart(child, ctx);
    case "check":
      return await checkReport(supervisor, snap, { name: request.child, now: ops.clock.now() });
    case "info":
      return await infoReport(supervisor, snap, { facts: ops.facts, now: ops.clock.now() });
    case "log": {
      const options = logOptions(request.args);
      const target = await supervisor.childFor(child, ctx);
      return await readLog(target, await snap.childOr(child, target.config), options);
    }
    case "kill":
      return {
        kind: "kill",
        message: "kill success: stopping every child, then the server",
        pid: ops.facts.pid,
      };
  }
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
