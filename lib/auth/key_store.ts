/**
 * Public keys of the clients allowed to sign commands: `<name>.pem` in the pub_keys_path
 * directories, re-read at every request so keys can be added or removed while the server runs.
 * node:crypto is loaded at the first key looked up (`node_crypto.ts`).
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import { ParsedFileCache } from "../config/file_cache.ts";
import { loadNodeCrypto, nodeCrypto } from "./node_crypto.ts";
import { keyNameProblem } from "../config/names.ts";
import { errorMessage, SupervisorError } from "../errors.ts";

/** Finds and parses public keys by name. */
export class KeyStore {
  readonly #keys = new ParsedFileCache((_path, text) => nodeCrypto().createPublicKey(text));

  /**
   * The public key `name` from the first directory that has `<name>.pem`. Throws BAD_KEY_NAME
   * for a name with path characters, UNKNOWN_KEY when no directory has it or it is unreadable.
   * The messages go to unauthenticated clients, so they name no server path; the directories
   * and the file, for the server's own log, are in the error's `cause`.
   */
  async find(name: string, dirs: readonly string[]): Promise<KeyObject> {
    const problem = keyNameProblem(name);
    if (problem) throw new SupervisorError("BAD_KEY_NAME", `Refused: ${problem}`);
    await loadNodeCrypto();
    for (const dir of dirs) {
      const path = join(dir, `${name}.pem`);
      try {
        return await this.#keys.read(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) continue;
        // The client is not told where the server keeps its keys; the server's log may be.
        throw new SupervisorError("UNKNOWN_KEY", `Refused: public key "${name}" cannot be used`, {
          cause: new Error(`"${path}": ${errorMessage(error)}`, { cause: error }),
        });
      }
    }
    throw new SupervisorError(
      "UNKNOWN_KEY",
      `Refused: no public key "${name}.pem" is known to this server`,
      { cause: new Error(`not in pub_keys_path (${dirs.join(", ") || "none"})`) },
    );
  }
}
