/**
 * The configuration as the server sees it at each operation: server.yml and the child files,
 * re-read every time (unchanged files are not parsed again).
 *
 * Owns: turning config failures into {@link SupervisorError}s with code CONFIG_INVALID, so
 * every operation reports them the same way. Does not own: parsing (the config modules do).
 *
 * @module
 */
import { ConfigError, errorMessage, SupervisorError } from "../errors.ts";
import { parseChildConfig } from "./child_config.ts";
import type { ChildConfig } from "./child_config.ts";
import { ParsedFileCache } from "./file_cache.ts";
import { findChildFile, scanLoadpaths } from "./loadpaths.ts";
import type { Catalog } from "./loadpaths.ts";
import { assertChildName } from "./names.ts";
import { parseServerConfig, unreadable } from "./server_config.ts";
import type { ServerConfig } from "./server_config.ts";

/** How old a directory's last change must be before its listing is reused. */
const SETTLE_MS = 1000;

/** Reads server.yml and child configs on demand, with a stat-validated cache. */
export class ConfigStore {
  readonly serverPath: string;
  readonly #servers = new ParsedFileCache(parseServerConfig, 4);
  readonly #children = new ParsedFileCache(parseChildConfig);
  #catalog: { readonly key: string; readonly value: Catalog } | undefined;

  constructor(serverPath: string) {
    this.serverPath = serverPath;
  }

  /** server.yml as it is now; a ConfigError when it cannot be read or is invalid. */
  serverConfig(): ServerConfig {
    try {
      return this.#servers.read(this.serverPath);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw unreadable(this.serverPath, error);
    }
  }

  /**
   * Every child file in the loadpaths now. The listing is reused while no loadpath directory
   * has changed: each directory's modification time is compared, and a directory changed less
   * than {@link SETTLE_MS} ago is always listed again (timestamps are coarse).
   */
  catalog(): Catalog {
    const loadpaths = this.#server().loadpaths;
    const now = Date.now();
    const stamps = loadpaths.map((dir) => {
      try {
        const mtime = Deno.statSync(dir).mtime?.getTime() ?? now;
        return now - mtime < SETTLE_MS ? "unsettled" : `${dir}@${mtime}`;
      } catch {
        return `${dir}@missing`;
      }
    });
    const key = stamps.join("\n");
    if (this.#catalog && this.#catalog.key === key && !stamps.includes("unsettled")) {
      return this.#catalog.value;
    }
    const value = scanLoadpaths(loadpaths);
    this.#catalog = { key, value };
    return value;
  }

  /**
   * The config of child `name` as it is now. Throws SupervisorError: BAD_NAME or
   * RESERVED_NAME for a name no child can have, NOT_FOUND, or CONFIG_INVALID.
   */
  childConfig(name: string): ChildConfig {
    assertChildName(name);
    const path = findChildFile(this.#server().loadpaths, name);
    return this.childConfigAt(name, path);
  }

  /** The config in the file `path`, for child `name`. */
  childConfigAt(name: string, path: string): ChildConfig {
    try {
      return this.#children.read(path);
    } catch (error) {
      const config = error instanceof ConfigError ? error : unreadable(path, error);
      throw new SupervisorError(
        "CONFIG_INVALID",
        `Config of child "${name}" is invalid:\n${config.message}`,
        { child: name, cause: config },
      );
    }
  }

  #server(): ServerConfig {
    try {
      return this.serverConfig();
    } catch (error) {
      throw new SupervisorError(
        "CONFIG_INVALID",
        `Server config is invalid:\n${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
}
