/**
 * Serving a connection in the supervisor-rs 0.8 text dialect: one request, one plain-text
 * reply, then the connection is closed — as the original server did.
 *
 * With `encrypt: on` the request must be `keyname;` followed by the RSA PKCS#1 type-1 block of
 * the command, and every reply starts with the original's banner line. Such requests can be
 * replayed by design (no nonce, no time), so the dialect is off by default with encrypt on.
 *
 * @module
 */
import { SupervisorError } from "../errors.ts";
import type { KeyStore } from "../auth/key_store.ts";
import type { ServerConfig } from "../config/server_config.ts";
import type { ConfigSnapshot } from "../config/store.ts";
import { within } from "../deadline.ts";
import {
  keyNameEnd,
  openLegacyBlock,
  parseLegacyCommand,
  rsaBlockBytes,
} from "../legacy/legacy_command.ts";
import { ENCRYPT_BANNER, LEGACY_HELP, legacyReply } from "../legacy/legacy_reply.ts";
import { encodeResponse, errorResponse } from "../protocol/messages.ts";
import type { Op, Request } from "../protocol/messages.ts";
import { PROTOCOL_VERSION } from "../version.ts";
import { writeWithin } from "./connection.ts";
import type { Socket } from "./connection.ts";
import type { Outcome } from "./outcome.ts";
import type { Origin } from "./request_pipeline.ts";

/** The largest request the original read in one go. */
export const LEGACY_MAX_BYTES = 4196;

/** What the legacy dialect needs from the server. */
export interface LegacyContext {
  readonly encrypt: boolean;
  readonly readTimeoutMs: number;
  readonly keys: KeyStore;
  /** The configuration for this request, taken at its entry. */
  snapshot(): ConfigSnapshot;
  run(request: Request, origin: Origin, snap: ConfigSnapshot): Promise<Outcome>;
  /** Audits a request refused before it became an operation. */
  refused(origin: Origin, code: string, snap: ConfigSnapshot): Promise<void>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Serves one legacy request whose first bytes are `first`; returns its outcome once the reply
 * was written (undefined when it was refused before becoming an operation).
 */
export async function serveLegacy(
  socket: Socket,
  request: { readonly first: Uint8Array; readonly peer: string; readonly ctx: LegacyContext },
): Promise<Outcome | undefined> {
  const { first, peer, ctx } = request;
  const snap = ctx.snapshot();
  const origin = (key: string | null): Origin => ({ peer, dialect: "legacy", key });
  let settings: ServerConfig | undefined;
  try {
    settings = await snap.settings();
  } catch {
    settings = undefined;
  }
  // Without an explicit `legacy`, it follows the encrypt mode the server started with (a
  // changed encrypt line in the file takes effect only at restart, and so does its default).
  const enabled = settings?.legacySetting ?? !ctx.encrypt;
  if (!settings || !enabled) {
    const refusal = encodeResponse({
      id: null,
      ok: false,
      code: "LEGACY_DISABLED",
      message:
        "This server does not accept the supervisor-rs text protocol (legacy: off in server.yml); use supervisor-ts-client, which speaks protocol v2",
    });
    await writeWithin(socket, refusal, ctx.readTimeoutMs).catch(() => {});
    await ctx.refused(origin(null), "LEGACY_DISABLED", snap);
    return undefined;
  }
  const answered = await answer(first, socket, { peer, ctx, settings, snap });
  if (answered.refusal) {
    await ctx.refused(origin(answered.refusal.key), answered.refusal.code, snap);
  }
  const text = ctx.encrypt ? `${ENCRYPT_BANNER}\n${answered.reply}` : answered.reply;
  await writeWithin(socket, text, ctx.readTimeoutMs).catch(() => {});
  return answered.outcome;
}

/** The reply to one legacy request, and its outcome or why it was refused. */
interface Answer {
  readonly reply: string;
  readonly outcome?: Outcome;
  readonly refusal?: { readonly key: string | null; readonly code: string };
}

async function answer(
  first: Uint8Array,
  socket: Socket,
  request: {
    readonly peer: string;
    readonly ctx: LegacyContext;
    readonly settings: ServerConfig;
    readonly snap: ConfigSnapshot;
  },
): Promise<Answer> {
  const { peer, ctx, settings, snap } = request;
  let text: string | undefined;
  let key: string | null = null;
  if (ctx.encrypt) {
    const end = keyNameEnd(first);
    if (end <= 0) {
      return {
        reply: "Cannot parse encrypt data",
        refusal: { key: null, code: "SIGNATURE_REQUIRED" },
      };
    }
    key = new TextDecoder().decode(first.subarray(0, end));
    let publicKey;
    try {
      publicKey = await ctx.keys.find(key, settings.pubKeysPath);
    } catch {
      return {
        reply: `Cannot find '${key}' file in keys path`,
        refusal: { key: key.slice(0, 128), code: "UNKNOWN_KEY" },
      };
    }
    const blockBytes = rsaBlockBytes(publicKey);
    if (blockBytes === undefined) {
      return {
        reply: "Cannot parse encrypt data",
        refusal: { key, code: "BAD_SIGNATURE" },
      };
    }
    const bytes = await readAtLeast(socket, first, {
      length: end + 1 + blockBytes,
      ms: ctx.readTimeoutMs,
    });
    text = openLegacyBlock(publicKey, bytes.subarray(end + 1, end + 1 + blockBytes));
    if (text === undefined) {
      return {
        reply: "Cannot parse encrypt data",
        refusal: { key, code: "BAD_SIGNATURE" },
      };
    }
  } else {
    try {
      text = utf8.decode(first);
    } catch {
      text = "";
    }
  }
  const command = parseLegacyCommand(text);
  if (command.kind === "invalid") {
    return { reply: command.reply, refusal: { key, code: "UNKNOWN_OP" } };
  }
  if (command.kind === "help") return { reply: LEGACY_HELP };
  // The original had no `start all`: it refused the word as a child's name, and so does its
  // dialect here (`stop all` it had).
  if (command.child === "all" && command.op !== "stop") {
    const reserved = new SupervisorError("RESERVED_NAME", `"all" is a reserved word`);
    return {
      reply: legacyReply(command.op as Op, command.child, errorResponse(null, reserved)),
      refusal: { key, code: "RESERVED_NAME" },
    };
  }
  const v2: Request = {
    v: PROTOCOL_VERSION,
    id: null,
    op: command.op,
    child: command.op === "check" ? undefined : command.child,
    // The original answered a start at once: its users and scripts expect that.
    args: ["start", "restart", "trystart"].includes(command.op) ? { wait: false } : {},
  };
  const outcome = await ctx.run(v2, { peer, dialect: "legacy", key }, snap);
  const repeat = command.op === "start" && command.child && outcome.response.ok
    ? (await snap.childOr(command.child, undefined))?.repeat
    : undefined;
  return {
    reply: legacyReply(command.op as Op, command.child, outcome.response, repeat),
    outcome,
  };
}

/** `first` plus what the socket sends next, until `length` bytes, EOF or `ms` have passed. */
async function readAtLeast(
  socket: Socket,
  first: Uint8Array,
  limits: { readonly length: number; readonly ms: number },
): Promise<Uint8Array> {
  const target = Math.min(limits.length, LEGACY_MAX_BYTES);
  const out = new Uint8Array(Math.max(target, first.length));
  out.set(first);
  let have = first.length;
  const reading = (async () => {
    while (have < target) {
      const n = await socket.read(out.subarray(have));
      if (n === null) return;
      have += n;
    }
  })();
  await within(reading, limits.ms).catch(() => {});
  return out.slice(0, have);
}
