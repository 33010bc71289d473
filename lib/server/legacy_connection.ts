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
import type { KeyStore } from "../auth/key_store.ts";
import type { ServerConfig } from "../config/server_config.ts";
import {
  keyNameEnd,
  openLegacyBlock,
  parseLegacyCommand,
  rsaBlockBytes,
} from "../legacy/legacy_command.ts";
import { ENCRYPT_BANNER, LEGACY_HELP, legacyReply } from "../legacy/legacy_reply.ts";
import { encodeResponse } from "../protocol/messages.ts";
import type { Op, Request } from "../protocol/messages.ts";
import { PROTOCOL_VERSION } from "../version.ts";
import type { Outcome } from "./dispatch.ts";
import { within, writeWithin } from "./connection.ts";
import type { Socket } from "./connection.ts";

/** The largest request the original read in one go. */
export const LEGACY_MAX_BYTES = 4196;

/** What the legacy dialect needs from the server. */
export interface LegacyContext {
  readonly encrypt: boolean;
  readonly readTimeoutMs: number;
  readonly keys: KeyStore;
  settings(): ServerConfig | undefined;
  run(request: Request, key: string | null, peer: string): Promise<Outcome>;
  /** Audits a request refused before it became an operation. */
  refused(peer: string, key: string | null, code: string): Promise<void>;
  repeatOf(child: string): { action: string; seconds: number } | undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Serves one legacy request whose first bytes are `first`; closes the socket. */
export async function serveLegacy(
  first: Uint8Array,
  socket: Socket,
  peer: string,
  ctx: LegacyContext,
): Promise<{ shutdown: boolean }> {
  const settings = ctx.settings();
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
    await ctx.refused(peer, null, "LEGACY_DISABLED");
    return { shutdown: false };
  }
  const { reply, shutdown, refusal } = await answer(first, socket, peer, ctx, settings);
  if (refusal) await ctx.refused(peer, refusal.key, refusal.code);
  const text = ctx.encrypt ? `${ENCRYPT_BANNER}\n${reply}` : reply;
  await writeWithin(socket, text, ctx.readTimeoutMs).catch(() => {});
  return { shutdown };
}

async function answer(
  first: Uint8Array,
  socket: Socket,
  peer: string,
  ctx: LegacyContext,
  settings: ServerConfig,
): Promise<{ reply: string; shutdown: boolean; refusal?: { key: string | null; code: string } }> {
  let text: string | undefined;
  let key: string | null = null;
  if (ctx.encrypt) {
    const end = keyNameEnd(first);
    if (end <= 0) {
      return {
        reply: "Cannot parse encrypt data",
        shutdown: false,
        refusal: { key: null, code: "SIGNATURE_REQUIRED" },
      };
    }
    key = new TextDecoder().decode(first.subarray(0, end));
    let publicKey;
    try {
      publicKey = ctx.keys.find(key, settings.pubKeysPath);
    } catch {
      return {
        reply: `Cannot find '${key}' file in keys path`,
        shutdown: false,
        refusal: { key: key.slice(0, 128), code: "UNKNOWN_KEY" },
      };
    }
    const blockBytes = rsaBlockBytes(publicKey);
    if (blockBytes === undefined) {
      return {
        reply: "Cannot parse encrypt data",
        shutdown: false,
        refusal: { key, code: "BAD_SIGNATURE" },
      };
    }
    const bytes = await readAtLeast(socket, first, end + 1 + blockBytes, ctx.readTimeoutMs);
    text = openLegacyBlock(publicKey, bytes.subarray(end + 1, end + 1 + blockBytes));
    if (text === undefined) {
      return {
        reply: "Cannot parse encrypt data",
        shutdown: false,
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
    return { reply: command.reply, shutdown: false, refusal: { key, code: "UNKNOWN_OP" } };
  }
  if (command.kind === "help") return { reply: LEGACY_HELP, shutdown: false };
  const request: Request = {
    v: PROTOCOL_VERSION,
    id: null,
    op: command.op,
    child: command.op === "check" ? undefined : command.child,
    args: {},
  };
  const outcome = await ctx.run(request, key, peer);
  const repeat = command.op === "start" && command.child && outcome.response.ok
    ? ctx.repeatOf(command.child)
    : undefined;
  return {
    reply: legacyReply(command.op as Op, command.child, outcome.response, repeat),
    shutdown: outcome.shutdown,
  };
}

/** `first` plus what the socket sends next, until `length` bytes, EOF or the timeout. */
async function readAtLeast(
  socket: Socket,
  first: Uint8Array,
  length: number,
  ms: number,
): Promise<Uint8Array> {
  const target = Math.min(length, LEGACY_MAX_BYTES);
  const out = new Uint8Array(Math.max(target, first.length));
  out.set(first);
  let have = first.length;
  const deadline = Date.now() + ms;
  while (have < target) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let n: number | null;
    try {
      n = await within(socket.read(out.subarray(have)), left);
    } catch {
      break;
    }
    if (n === null) break;
    have += n;
  }
  return out.subarray(0, have);
}
