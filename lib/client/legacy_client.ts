/**
 * Driving a supervisor-rs 0.8 server: the client's fallback for a host that answered its v2
 * request the way the original does (`no legal operations input`, or the encrypt-mode banner).
 *
 * Owns: telling such an answer apart ({@link isSupervisorRsAnswer}), the original's request text
 * for an operation ({@link legacyRequestText}) and its signed form (`NAME;` and an RSA PKCS#1
 * type-1 block, {@link legacyRequestBytes}), what its reply texts mean ({@link readLegacyReply}),
 * and the host result of one such request ({@link askLegacy}), marked `dialect: "legacy"`.
 * Does not own: the wire (`transport.ts`: one connection, the request, the reply until the
 * server closes) or deciding when to fall back (`fanout.ts`).
 *
 * The reply text goes into the result as the server wrote it, banner and all: that is what
 * `supervisor-rs-client` printed and what scripts matched. Only the known refusal texts (the
 * original's spellings and the corrected ones supervisor-ts's own legacy dialect uses) make the
 * result a failure, with the v2 code that means the same.
 *
 * @module
 */
import { errorMessage, TransportError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";
import type { SigningKey } from "../auth/signed_request.ts";
import type { Op } from "../protocol/messages.ts";
import type { HostResult } from "./fanout.ts";
import type { HostTarget } from "./hosts.ts";
import { legacyExchange } from "./transport.ts";

/** The first line of every reply of a supervisor-rs server with `encrypt: on`, spelling included. */
export const LEGACY_BANNER = "Running on encrypt mode, need to dencrypt your command.";

/** What supervisor-rs answers to a request it cannot read, such as a v2 JSON line. */
const NO_LEGAL_OPERATION = "no legal operations input";

/** What the result of a supervisor-rs host says in text output, after its address. */
export const LEGACY_MARKER = "supervisor-rs";

/** The operations supervisor-rs 0.8 has, as the client names them. */
const LEGACY_OPS: readonly Op[] = ["start", "stop", "restart", "trystart", "check", "info", "kill"];

/** What a supervisor-rs host can be asked, for the message of an operation it does not have. */
const LEGACY_OPS_TEXT = "start, stop, restart, trystart, check, info, kill and stop all";

/**
 * Whether the first line of a host's non-JSON answer to a v2 request is a supervisor-rs 0.8
 * server's: `no legal operations input`, or with `encrypt: on` its banner. Anything else (an
 * HTTP server, some other service) is not, and gets no supervisor-rs request.
 */
export function isSupervisorRsAnswer(firstLine: string): boolean {
  const line = firstLine.replace(/[\0\s]+$/, "");
  return line === NO_LEGAL_OPERATION || line === LEGACY_BANNER;
}

/**
 * The supervisor-rs request text for `op` on `child` (`start web`, `check`, `stop all`), or
 * `undefined` when supervisor-rs 0.8 has no such operation (`log`, `signal`, `update`,
 * `events`, `start all`, `restart all`).
 */
export function legacyRequestText(op: Op, child: string | undefined): string | undefined {
  if (!LEGACY_OPS.includes(op)) return undefined;
  if (child === "all" && (op === "start" || op === "restart")) return undefined;
  if (op === "info" || op === "kill") return op;
  return child === undefined ? op : `${op} ${child}`;
}

/** A refusal text of supervisor-rs (or of supervisor-ts's legacy dialect) and its v2 code. */
const REFUSALS: readonly (readonly [RegExp, ErrorCode])[] = [
  [/^Cannot start this child \S+, it already (?:exsits|exists)$/, "ALREADY_RUNNING"],
  [/^\S+ not (?:exsit|exist), cannot stop$/, "NOT_RUNNING"],
  [/^Cannot (?:found|find) '[^']*' file in load path$/, "NOT_FOUND"],
  [/^"[^"]*" is reserved keywords, cannot run child named "[^"]*"$/, "RESERVED_NAME"],
  [/^no legal operations input$/, "UNKNOWN_OP"],
  [/^Cannot parse encrypt data$/, "BAD_SIGNATURE"],
  [/^Cannot (?:found|find) '[^']*' file in keys path$/, "UNKNOWN_KEY"],
];

/**
 * What a supervisor-rs reply means: a success, or the code of a known refusal. The banner and
 * the line ends around the text are not part of it.
 */
export function readLegacyReply(text: string): { ok: true } | { ok: false; code: ErrorCode } {
  let body = text;
  if (body.startsWith(LEGACY_BANNER)) body = body.slice(LEGACY_BANNER.length);
  body = body.replace(/^[\r\n]+|[\s\0]+$/g, "");
  const refusal = REFUSALS.find(([pattern]) => pattern.test(body));
  return refusal === undefined ? { ok: true } : { ok: false, code: refusal[1] };
}

/**
 * The bytes of a supervisor-rs request: the text as is, or, with a key, `NAME;` followed by the
 * RSA PKCS#1 type-1 block of the text ("private encrypt", what `openssl pkeyutl -sign -pkeyopt
 * rsa_padding_mode:pkcs1` makes). node:crypto is loaded only here, when there is a key.
 */
export async function legacyRequestBytes(
  text: string,
  signer: SigningKey | undefined,
): Promise<Uint8Array> {
  const plain = new TextEncoder().encode(text);
  if (signer === undefined) return plain;
  const { constants, privateEncrypt } = await import("node:crypto");
  const block = privateEncrypt({ key: signer.key, padding: constants.RSA_PKCS1_PADDING }, plain);
  const name = new TextEncoder().encode(`${signer.name};`);
  const bytes = new Uint8Array(name.length + block.length);
  bytes.set(name);
  bytes.set(block, name.length);
  return bytes;
}

/** A failure the client reports itself for a supervisor-rs host, before asking it anything. */
function refused(host: string, code: ErrorCode, reason: string, message: string): HostResult {
  return { host, dialect: "legacy", ok: false, code, message, reason };
}

/** The result of a supervisor-rs reply: its text as is, ok unless it is a known refusal. */
export function legacyResult(host: string, reply: string): HostResult {
  const meaning = readLegacyReply(reply);
  return meaning.ok
    ? { host, dialect: "legacy", ok: true, message: reply }
    : { host, dialect: "legacy", ok: false, code: meaning.code, message: reply };
}

/** How to ask a supervisor-rs host. */
export interface LegacyOptions {
  readonly timeoutMs: number;
  /** Signs the request in the original's way when set (an RSA key). */
  readonly signer?: SigningKey | undefined;
}

/**
 * Asks `host`, known to be a supervisor-rs 0.8 server, for `op` on `child` on a new connection
 * in its own dialect. An operation it does not have, a name it cannot carry and a key it cannot
 * check are refused here, without a request.
 */
export async function askLegacy(
  host: HostTarget,
  op: Op,
  child: string | undefined,
  options: LegacyOptions,
): Promise<HostResult> {
  const label = host.label;
  const text = legacyRequestText(op, child);
  const what = child === "all" ? `${op} all` : op;
  if (text === undefined) {
    return refused(
      label,
      "UNKNOWN_OP",
      `supervisor-rs 0.8 has no ${what}`,
      `${label} is a supervisor-rs 0.8 server, which does not have "${what}" (it has ${LEGACY_OPS_TEXT}); upgrade it to supervisor-ts to use "${what}"`,
    );
  }
  if (child !== undefined && (child === "" || /[\s;]/.test(child))) {
    return refused(
      label,
      "BAD_NAME",
      "name supervisor-rs cannot take",
      `${label} is a supervisor-rs 0.8 server, whose requests cannot carry the name ${
        JSON.stringify(child)
      } (words are split on spaces)`,
    );
  }
  if (options.signer !== undefined && options.signer.alg === "ed25519") {
    return refused(
      label,
      "BAD_SIGNATURE",
      "supervisor-rs takes RSA keys only",
      `${label} is a supervisor-rs 0.8 server, which checks RSA keys only, and "${options.signer.name}" is an Ed25519 key: sign with an RSA key ("openssl genrsa") for this host`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await legacyRequestBytes(text, options.signer);
  } catch (error) {
    return refused(
      label,
      "BAD_SIGNATURE",
      "cannot sign for supervisor-rs",
      `cannot sign "${text}" for ${label} in the supervisor-rs way: ${errorMessage(error)}`,
    );
  }
  try {
    const reply = await legacyExchange(host, bytes, options.timeoutMs);
    return legacyResult(label, new TextDecoder().decode(reply));
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    return {
      host: label,
      dialect: "legacy",
      ok: false,
      code: "UNREACHABLE",
      message: `${errorMessage(error)} (asked as a supervisor-rs 0.8 server)`,
      reason: error.reason,
    };
  }
}
