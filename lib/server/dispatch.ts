/**
 * From a decoded v2 request to a response: which supervisor operation runs, and what the
 * server does after replying (`kill` shuts it down).
 *
 * @module
 */
import type { Request, Response } from "../protocol/messages.ts";
import { errorResponse } from "../protocol/messages.ts";
import { SupervisorError } from "../errors.ts";
import type { Follower } from "../process/log_bus.ts";
import type { LogOptions, OpResult, Supervisor } from "./supervisor.ts";

/** A response, and whether the server must shut down once it has been sent. */
export interface Outcome {
  readonly response: Response;
  readonly shutdown: boolean;
  /** Lines to stream after the response (`log --follow`), until the client goes away. */
  readonly follow?: Follower;
}

/** Most lines `log` returns at once. */
export const MAX_LOG_LINES = 10_000;

/** Runs `request` against `supervisor`; never throws. */
export async function dispatch(supervisor: Supervisor, request: Request): Promise<Outcome> {
  try {
    const result = await run(supervisor, request);
    const response: Response = result.data === undefined
      ? { id: request.id, ok: true, message: result.message }
      : { id: request.id, ok: true, message: result.message, data: result.data };
    return result.follow
      ? { response, shutdown: false, follow: result.follow }
      : { response, shutdown: request.op === "kill" };
  } catch (error) {
    return { response: errorResponse(request.id, error), shutdown: false };
  }
}

function run(supervisor: Supervisor, request: Request): Promise<OpResult> | OpResult {
  const child = request.child ?? "";
  switch (request.op) {
    case "start":
      return supervisor.start(child);
    case "stop":
      return supervisor.stop(child);
    case "restart":
      return supervisor.restart(child);
    case "trystart":
      return supervisor.trystart(child);
    case "check":
      return supervisor.check(request.child);
    case "info":
      return supervisor.info();
    case "log":
      return supervisor.log(child, logOptions(request.args));
    case "kill":
      return {
        message: "kill success: stopping every child, then the server",
        data: { pid: Deno.pid },
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
