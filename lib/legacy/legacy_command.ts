/**
 * The supervisor-rs 0.8 text dialect: parsing its plain command text (`start web`,
 * `check on host with key`), and finding the key name of its signed form (`keyname;` followed
 * by an RSA block, which `legacy_block.ts` opens).
 *
 * @module
 */
import type { Op } from "../protocol/messages.ts";

/** A parsed legacy command. */
export type LegacyCommand =
  | { readonly kind: "op"; readonly op: Op; readonly child: string | undefined }
  | { readonly kind: "help" }
  | { readonly kind: "invalid"; readonly reply: string };

/** Operation words the original accepted. */
const WORDS: Readonly<Record<string, Op | "help">> = {
  restart: "restart",
  Restart: "restart",
  start: "start",
  Start: "start",
  stop: "stop",
  Stop: "stop",
  check: "check",
  Check: "check",
  kill: "kill",
  Kill: "kill",
  trystart: "trystart",
  TryStart: "trystart",
  Trystart: "trystart",
  info: "info",
  Info: "info",
  INFO: "info",
  InFo: "info",
  help: "help",
  Help: "help",
  "-h": "help",
};

const NEEDS_CHILD: readonly Op[] = ["start", "stop", "restart", "trystart"];

/** The original's answer to anything it did not understand. */
export const NO_LEGAL_OPERATION = "no legal operations input";

/**
 * Parses the plain text of a legacy command: words split on single spaces; word 0 the
 * operation, word 1 the child where one is needed (optional for check/kill/info); later words
 * come in `on X` / `with X` pairs and are ignored. A trailing newline and NUL padding are
 * ignored too.
 */
export function parseLegacyCommand(text: string): LegacyCommand {
  const trimmed = text.replace(/\0+$/, "").replace(/\r?\n$/, "");
  const words = trimmed.split(" ");
  const word = words[0] ?? "";
  const op = Object.hasOwn(WORDS, word) ? WORDS[word] : undefined;
  if (op === undefined) return { kind: "invalid", reply: NO_LEGAL_OPERATION };
  if (op === "help") return { kind: "help" };
  let rest = words.slice(1);
  let child: string | undefined;
  if (NEEDS_CHILD.includes(op)) {
    child = rest[0];
    if (child === undefined || child === "") return { kind: "invalid", reply: NO_LEGAL_OPERATION };
    rest = rest.slice(1);
  } else if (rest.length % 2 === 1) {
    child = rest[0];
    rest = rest.slice(1);
  }
  for (let i = 0; i < rest.length; i += 2) {
    if ((rest[i] !== "on" && rest[i] !== "with") || rest[i + 1] === undefined) {
      return { kind: "invalid", reply: NO_LEGAL_OPERATION };
    }
  }
  return { kind: "op", op, child };
}

/** Index of the `;` ending the key name of a signed legacy request, or -1 when unsigned. */
export function keyNameEnd(bytes: Uint8Array): number {
  const limit = Math.min(bytes.length, 256);
  for (let i = 0; i < limit; i++) {
    const b = bytes[i]!;
    if (b === 0x3b) return i;
    if (b === 0x20 || b === 0x0a) return -1;
  }
  return -1;
}
