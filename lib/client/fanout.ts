/**
 * One command to several servers at once: each host asked in parallel, results kept in the
 * order the hosts were given.
 *
 * @module
 */
import { encodeRequest } from "../protocol/messages.ts";
import type { Op, Response } from "../protocol/messages.ts";
import type { ErrorCode } from "../errors.ts";
import type { HostTarget } from "./hosts.ts";
import { request } from "./transport.ts";

/** What one host answered, or why it could not. */
export interface HostResult {
  readonly host: string;
  readonly ok: boolean;
  readonly code?: ErrorCode | "UNREACHABLE";
  readonly message: string;
  readonly data?: Record<string, unknown>;
}

/** Sends the operation to every host in parallel. */
export function fanOut(
  hosts: readonly HostTarget[],
  op: Op,
  child: string | undefined,
  timeoutMs: number,
): Promise<HostResult[]> {
  const line = encodeRequest({ id: 1, op, child });
  return Promise.all(hosts.map(async (host): Promise<HostResult> => {
    try {
      return fromResponse(host.label, await request(host, line, timeoutMs));
    } catch (error) {
      return {
        host: host.label,
        ok: false,
        code: "UNREACHABLE",
        message: error instanceof Error ? error.message : String(error),
      };
    }
  }));
}

function fromResponse(host: string, response: Response): HostResult {
  const result: {
    host: string;
    ok: boolean;
    message: string;
    code?: ErrorCode;
    data?: Record<string, unknown>;
  } = { host, ok: response.ok, message: response.message };
  if (response.code !== undefined) result.code = response.code;
  if (response.data !== undefined) result.data = response.data;
  return result;
}
