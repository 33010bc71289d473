/**
 * From a decoded v2 request to a response: which supervisor operation runs, and what the
 * server does after replying (`kill` shuts it down).
 *
 * @module
 */
import type { Request, Response } from "../protocol/messages.ts";
import { errorResponse } from "../protocol/messages.ts";
import type { OpResult, Supervisor } from "./supervisor.ts";

/** A response, and whether the server must shut down once it has been sent. */
export interface Outcome {
  readonly response: Response;
  readonly shutdown: boolean;
}

/** Runs `request` against `supervisor`; never throws. */
export async function dispatch(supervisor: Supervisor, request: Request): Promise<Outcome> {
  try {
    const result = await run(supervisor, request);
    const response: Response = result.data === undefined
      ? { id: request.id, ok: true, message: result.message }
      : { id: request.id, ok: true, message: result.message, data: result.data };
    return { response, shutdown: request.op === "kill" };
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
    case "kill":
      return {
        message: "kill success: stopping every child, then the server",
        data: { pid: Deno.pid },
      };
  }
}
