/**
 * One command to several servers at once: hosts asked in parallel (at most `parallel` at a
 * time), each within its own timeout, results kept in the order the hosts were given.
 *
 * Owns: {@link HostResult}, a host's answer with its data decoded into the declared types of
 * `lib/protocol/payloads.ts` (an answer whose data is not of that shape is a failure, like a
 * host that could not be asked; a failed answer of a bulk operation keeps its items), and the
 * narrowing of that data to one operation's shape ({@link checkDataOf}, …), and the decision to
 * fall back to the supervisor-rs 0.8 dialect for a host whose answer to the v2 request was a
 * supervisor-rs server's (`legacy_client.ts` then asks it). Does not own: the wire
 * (`transport.ts`) or the text (`render.ts`).
 *
 * @module
 */
import { errorMessage, TransportError } from "../errors.ts";
import type { SigningKey } from "../auth/signed_request.ts";
import type { ErrorCode } from "../errors.ts";
import { encodeRequest } from "../protocol/messages.ts";
import type { Op, Response } from "../protocol/messages.ts";
import { answersInBulk, decodeData } from "../protocol/payloads.ts";
import type {
  BulkData,
  CheckData,
  EventsData,
  InfoData,
  LogData,
  OpData,
} from "../protocol/payloads.ts";
import { unreachableHint, withHint } from "./hints.ts";
import type { HostTarget } from "./hosts.ts";
import { askLegacy, isSupervisorRsAnswer } from "./legacy_client.ts";
import { badAnswer, NotV2Error, openExchange, request } from "./transport.ts";
import type { Exchange } from "./transport.ts";

/** What one host answered, or why it could not. */
export interface HostResult {
  readonly host: string;
  /**
   * `legacy`: the host is a supervisor-rs 0.8 server, asked in its own dialect; `message` is its
   * reply text as it wrote it (or, with `reason`, the client's own words about that host).
   */
  readonly dialect?: "legacy";
  readonly ok: boolean;
  /** UNREACHABLE: the host could not be asked; SKIPPED: not asked (a rolling restart stopped). */
  readonly code?: ErrorCode | "UNREACHABLE" | "SKIPPED";
  readonly message: string;
  /** For unreachable hosts: a few words (`connection refused`). */
  readonly reason?: string;
  /**
   * The data of a successful answer. A failed one has none, except for the operations that
   * answer in bulk (`start all`, `update`, …): their failure (SOME_FAILED) carries every item.
   */
  readonly data?: OpData;
}

/**
 * Whether decoded data is that of `info`. A predicate rather than an inline `in` check: to the
 * compiler, KillData (`{ pid }`) absorbs InfoData in the OpData union, so `"version" in data`
 * alone does not narrow.
 */
function isInfoData(data: OpData): data is InfoData {
  return "version" in data;
}

/** The data of a successful answer when it is that of `check`: children and problems. */
export function checkDataOf(result: HostResult): CheckData | undefined {
  const data = result.ok ? result.data : undefined;
  return data !== undefined && "children" in data ? data : undefined;
}

/** The data of a successful answer when it is that of `events`. */
export function eventsDataOf(result: HostResult): EventsData | undefined {
  const data = result.ok ? result.data : undefined;
  return data !== undefined && "events" in data ? data : undefined;
}

/** The data of a successful answer when it is that of `info`. */
export function infoDataOf(result: HostResult): InfoData | undefined {
  const data = result.ok ? result.data : undefined;
  return data !== undefined && isInfoData(data) ? data : undefined;
}

/**
 * The items of an answer of a bulk operation (`start all`, `restart all`, `signal all`,
 * `update`), successful or not: a failed one carries them too.
 */
export function bulkDataOf(result: HostResult): BulkData | undefined {
  const data = result.data;
  return data !== undefined && "results" in data ? data : undefined;
}

/** The data of a successful answer when it is that of `log`. */
export function logDataOf(result: HostResult): LogData | undefined {
  const data = result.ok ? result.data : undefined;
  return data !== undefined && "lines" in data ? data : undefined;
}

/** How to ask. */
export interface FanOutOptions {
  readonly timeoutMs: number;
  /** Hosts asked at the same time, at most. */
  readonly parallel: number;
  /** Signs every request when set. */
  readonly signer?: SigningKey | undefined;
  /** Arguments of the operation (`log`). */
  readonly args?: Record<string, unknown> | undefined;
  /**
   * A rolling operation: hosts are asked in the order given, this many at a time, and after
   * the first failure no further host is asked (they are reported SKIPPED).
   */
  readonly rolling?: number | undefined;
}

/** Default bound on hosts asked at once. */
export const DEFAULT_PARALLEL = 32;

/** Sends the operation to every host, in parallel within the bound. */
export async function fanOut(
  hosts: readonly HostTarget[],
  op: Op,
  child: string | undefined,
  options: FanOutOptions,
): Promise<HostResult[]> {
  const results: HostResult[] = new Array(hosts.length);
  let next = 0;
  let failedAt: string | undefined;
  const worker = async () => {
    while (next < hosts.length && failedAt === undefined) {
      const index = next++;
      const result = await ask(hosts[index]!, op, child, options);
      results[index] = result;
      if (options.rolling !== undefined && !result.ok) failedAt ??= result.host;
    }
  };
  const width = options.rolling ?? options.parallel;
  const workers = Math.max(1, Math.min(width, hosts.length));
  await Promise.all(Array.from({ length: workers }, worker));
  for (let i = 0; i < hosts.length; i++) {
    results[i] ??= {
      host: hosts[i]!.label,
      ok: false,
      code: "SKIPPED",
      message: `not asked: the rolling ${op} stopped after the failure on ${failedAt}`,
      reason: "skipped",
    };
  }
  return results;
}

/** The request line for one host (signed when a key is given). */
async function requestLine(
  op: Op,
  child: string | undefined,
  options: FanOutOptions,
): Promise<string> {
  const body = { id: 1, op, child, args: options.args };
  // node:crypto is loaded only by commands that sign: it costs an unsigned command ~40 ms.
  return options.signer
    ? (await import("../auth/signed_request.ts")).signRequest(options.signer, body)
    : encodeRequest(body);
}

/**
 * A host whose `log --follow` or `events --follow` was answered: its result, and the stream of
 * events, if it worked.
 */
export interface Followed {
  readonly result: HostResult;
  readonly exchange: Exchange | undefined;
}

/**
 * Opens `log --follow` (or `events --follow`) on every host at once; each answer comes with its
 * stream of events.
 */
export function followAll(
  hosts: readonly HostTarget[],
  op: "log" | "events",
  child: string | undefined,
  options: FanOutOptions,
): Promise<Followed[]> {
  return Promise.all(hosts.map(async (host): Promise<Followed> => {
    try {
      let exchange: Exchange;
      try {
        exchange = await openExchange(
          host,
          await requestLine(op, child, options),
          options.timeoutMs,
        );
      } catch (error) {
        if (!isLegacyAnswer(error)) throw error;
        return { result: await askLegacy(host, op, child, options), exchange: undefined };
      }
      let result: HostResult;
      try {
        result = fromResponse(host.label, op, child, exchange.response);
      } catch (error) {
        exchange.close();
        throw error;
      }
      if (!result.ok) exchange.close();
      return { result, exchange: result.ok ? exchange : undefined };
    } catch (error) {
      return { result: unreachable(host, error), exchange: undefined };
    }
  }));
}

/** A host that could not be asked: what went wrong, and what to do about it. */
function unreachable(host: HostTarget, error: unknown): HostResult {
  const failure = error instanceof TransportError
    ? error
    : { code: "OTHER" as const, reason: "error" };
  return {
    host: host.label,
    ok: false,
    code: "UNREACHABLE",
    message: withHint(errorMessage(error), unreachableHint(failure, host)),
    reason: failure.reason,
  };
}

/**
 * Whether a request failed because the host answered as a supervisor-rs 0.8 server does. Only
 * then does the host get a request in that dialect: a v2 answer never costs a second round trip.
 */
function isLegacyAnswer(error: unknown): boolean {
  return error instanceof NotV2Error && isSupervisorRsAnswer(error.answer);
}

async function ask(
  host: HostTarget,
  op: Op,
  child: string | undefined,
  options: FanOutOptions,
): Promise<HostResult> {
  const line = await requestLine(op, child, options);
  try {
    return fromResponse(host.label, op, child, await request(host, line, options.timeoutMs));
  } catch (error) {
    if (isLegacyAnswer(error)) return await askLegacy(host, op, child, options);
    return unreachable(host, error);
  }
}

/**
 * A host's result from its response to `op` on `child`: a success with its data decoded, or a
 * failure as the server said it, with its items when the operation answers in bulk. Throws a
 * TransportError (BAD_ANSWER) when data the client reads is not of the declared shape.
 */
export function fromResponse(
  host: string,
  op: Op,
  child: string | undefined,
  response: Response,
): HostResult {
  const code = response.code === undefined ? {} : { code: response.code };
  const failed = { host, ok: false, ...code, message: response.message };
  // A refusal of the whole operation (BAD_SIGNAL, FORBIDDEN …) has no items.
  if (!response.ok && (!answersInBulk(op, child, response.data) || response.data === undefined)) {
    return failed;
  }
  let data: OpData;
  try {
    data = decodeData(op, child, response.data);
  } catch (error) {
    throw badAnswer(host, error);
  }
  return response.ok ? { host, ok: true, ...code, message: response.message, data } : {
    ...failed,
    data,
  };
}
