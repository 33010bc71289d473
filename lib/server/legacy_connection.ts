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
import type { ConfigSnapshot } from "../config/store.ts";
import { within } from "../deadline.ts";
import { openLegacyBlock, rsaBlockBytes } from "../legacy/legacy_block.ts";
import { keyNameEnd, parseLegacyCommand } from "../legacy/legacy_command.ts";
import { ENCRYPT_BANNER, LEGACY_HELP, legacyReply } from "../legacy/legacy_reply.ts";
import type { LegacyChild } from "../legacy/legacy_reply.ts";
import type { ChildConfig, Hook } from "../config/child_config.ts";
import { dirname } from "node:path";
import type { Request } from "../protocol/messages.ts";
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
  /** The config of child `name`'s current or last run, for the texts that show it. */
  runConfig(name: string): ChildConfig | undefined;
  /** Says once per server run, in its log, that old clients are being refused. */
  warnDisabled(reason: string): void;
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
    const reason = disabledReason(settings, ctx.encrypt, snap.serverPath);
    ctx.warnDisabled(reason);
    const text = ctx.encrypt ? `${ENCRYPT_BANNER}\n${reason}` : reason;
    await writeWithin(socket, text, ctx.readTimeoutMs).catch(() => {});
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
        reply: `Cannot found '${key}' file in keys path`,
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
    return {
      reply: legacyReply({
        op: command.op,
        child: command.child,
        ok: false,
        code: "RESERVED_NAME",
        message: `"all" is a reserved word`,
      }),
      refusal: { key, code: "RESERVED_NAME" },
    };
  }
  // What trystart will run after stopping a running child: its posthooks, as the original said.
  const before = command.child === undefined ? undefined : ctx.runConfig(command.child);
  const v2: Request = {
    v: PROTOCOL_VERSION,
    id: null,
    op: command.op,
    child: command.op === "check" || command.op === "info" ? undefined : command.child,
    // The original answered a start at once: its users and scripts expect that.
    args: ["start", "restart", "trystart"].includes(command.op) ? { wait: false } : {},
  };
  const outcome = await ctx.run(v2, { peer, dialect: "legacy", key }, snap);
  const { response } = outcome;
  const started = command.child === undefined ? undefined : ctx.runConfig(command.child);
  const result = outcome.result;
  const running = result?.kind === "checked"
    ? result.children
      .filter((c) => c.pid !== null && (command.child === undefined || c.name === command.child))
      .flatMap((report): LegacyChild[] => {
        const config = ctx.runConfig(report.name);
        return config ? [legacyChild(report, config)] : [];
      })
    : undefined;
  return {
    reply: legacyReply({
      op: command.op,
      child: command.child,
      ok: response.ok,
      ...(response.code === undefined ? {} : { code: response.code }),
      message: response.message,
      ...(result === undefined ? {} : { result }),
      ...(started?.repeat === undefined ? {} : { repeat: started.repeat }),
      posthooks: (before?.posthooks ?? []).map(hookText),
      ...(running === undefined ? {} : { running }),
      infoOfChild: command.op === "info" && command.child !== undefined,
    }),
    outcome,
  };
}

/** A hook as the original showed it: `start dep`. */
function hookText(hook: Hook): string {
  return `${hook.action} ${hook.target}`;
}

/** A running child as `check` shows it, with the config of its run. */
function legacyChild(report: LegacyChild["report"], config: ChildConfig): LegacyChild {
  return {
    report,
    configDir: dirname(config.path),
    command: config.argv.join(" "),
    stdout: config.stdout?.path,
    stderr: config.stderr?.path,
    repeat: config.repeat,
    hooks: [
      ...config.prehooks.map((h) => `prehook: ${hookText(h)}`),
      ...config.posthooks.map((h) => `posthook: ${hookText(h)}`),
    ],
  };
}

/**
 * Why an old client is refused, and what to do: with `encrypt: on` the dialect is off unless
 * server.yml says `legacy: on`, because the original's signed commands can be replayed.
 */
export function disabledReason(
  settings: ServerConfig | undefined,
  encrypt: boolean,
  serverPath: string,
): string {
  if (!settings) {
    return `supervisor-ts cannot read its server config ${serverPath} now, so it refuses supervisor-rs commands until the file is fixed`;
  }
  if (settings.legacySetting === false) {
    return `This server does not accept supervisor-rs commands: ${serverPath} says "legacy: off". Use supervisor-ts-client, or change it to "legacy: on" (read at each connection, no restart needed)`;
  }
  return encrypt
    ? `This server does not accept supervisor-rs signed commands by default: they carry no time and no nonce, so anyone who records one can replay it, forever. To accept them while old clients remain, add the line "legacy: on" to ${serverPath} (read at each connection, no restart needed); better, move the clients to supervisor-ts-client, whose signed requests cannot be replayed`
    : `This server does not accept supervisor-rs commands (legacy is off in ${serverPath}); add "legacy: on" to accept them, or use supervisor-ts-client`;
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
