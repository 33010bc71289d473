/**
 * Public keys of the clients allowed to sign commands: `<name>.pem` in the pub_keys_path
 * directories, re-read at every request so keys can be added or removed while the server runs.
 *
 * @module
 */
import { createPublicKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import { ParsedFileCache } from "../config/file_cache.ts";
import { keyNameProblem } from "../config/names.ts";
import { errorMessage, SupervisorError } from "../errors.ts";

/** Finds and parses public keys by name. */
export class KeyStore {
  readonly #keys = new ParsedFileCache((_path, text) => createPublicKey(text));

  /**
   * The public key `name` from the first directory that has `<name>.pem`. Throws BAD_KEY_NAME
   * for a name with path characters, UNKNOWN_KEY when no directory has it or it is unreadable.
   */
  find(name: string, dirs: readonly string[]): KeyObject {
    const problem = keyNameProblem(name);
    if (problem) throw new SupervisorError("BAD_KEY_NAME", `Refused: ${problem}`);
    for (const dir of dirs) {
      const path = join(dir, `${name}.pem`);
      try {
        return this.#keys.read(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) continue;
        throw new SupervisorError(
          "UNKNOWN_KEY",
          `Refused: public key "${path}" cannot be used: ${errorMessage(error)}`,
          { cause: error },
        );
      }
    }
    throw new SupervisorError(
      "UNKNOWN_KEY",
      `Refused: no public key "${name}.pem" in pub_keys_path (${dirs.join(", ") || "none"})`,
    );
  }
}
