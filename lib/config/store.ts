/**
 * The configuration as the server sees it: server.yml and the child files, re-read at every
 * request (unchanged files are not parsed again), and read at most once within one request
 * through a {@link ConfigSnapshot}.
 *
 * Owns: turning config failures into {@link SupervisorError}s with code CONFIG_INVALID, so
 * every operation reports them the same way; the last good reading of server.yml, so keys and
 * permissions do not vanish on a typo. Does not own: parsing (the config modules do).
 *
 * @module
 */
import { ConfigError, errorMessage, SupervisorError } from "../errors.ts";
import type { Clock } from "../process/clock.ts";
import { realClock } from "../process/clock.ts";
import { parseChildConfig } from "./child_config.ts";
import type { ChildConfig, ChildParseContext } from "./child_config.ts";
import { fileSource } from "./config_source.ts";
import type { ConfigSource } from "./config_source.ts";
import { ParsedFileCache } from "./file_cache.ts";
import type { CachedReading } from "./file_cache.ts";
import { findChildFile, scanLoadpaths } from "./loadpaths.ts";
import type { Catalog } from "./loadpaths.ts";
import { assertChildName, nameProblem } from "./names.ts";
import { suggest } from "../suggest.ts";
import { instantiate, splitInstance } from "./instances.ts";
import { parseServerConfig, unreadable } from "./server_config.ts";
import type { ServerConfig } from "./server_config.ts";

/** How old a directory's last change must be before its listing is reused. */
const SETTLE_MS = 1000;

/**
 * How long a status may take server.yml, the loadpath listing and a child file as they were
 * checked by an earlier request.
 */
export const STATUS_TRUST_MS = 1000;

/** What a store reads from. */
export interface ConfigStoreOptions {
  readonly source?: ConfigSource;
  readonly clock?: Clock;
  /** What child files are checked against (the server's user, for `user` and `group`). */
  readonly childContext?: ChildParseContext;
}

/** The listing of the loadpaths, and what it was last compared with. */
interface CachedCatalog {
  /** Each directory's modification time when it was listed. */
  readonly key: string;
  readonly value: Catalog;
  /** The loadpaths of the server.yml reading it was compared for (the same array object). */
  readonly loadpaths: readonly string[];
  /** Whether every directory had been unchanged for {@link SETTLE_MS} when it was compared. */
  readonly settled: boolean;
  /** When the directories were last compared (clock ms). */
  readonly checkedAt: number;
}

/** Where a child's file is, by name, from one catalogue (see `ConfigSnapshot.#locator`). */
type Locate = (name: string) => string | undefined;

/**
 * What a status of many children was last given ({@link ConfigSnapshot.children}): given again,
 * the same map, while each of its files is still taken as checked and reads the same. A status
 * of an unchanged fleet then makes no map at all, however many children it lists.
 */
interface ChildrenReading {
  /** The names asked for (the same array, kept by the caller from one status to the next). */
  readonly names: readonly string[];
  /** The locator they were located with (one per catalogue). */
  readonly locate: Locate;
  /** The names without repeats (a known child defined in a file is asked for twice). */
  readonly distinct: readonly string[];
  /** Each distinct name's file, when the catalogue lists it and the name can have one. */
  readonly paths: readonly (string | undefined)[];
  /** The cache's reading of each file, when it had one (looked up again once replaced). */
  readonly readings: (CachedReading | undefined)[];
  /** Each distinct name's config; undefined when it could not be read. */
  readonly values: readonly (ChildConfig | undefined)[];
  /** The configs by name, the names without one left out. */
  readonly configs: ReadonlyMap<string, ChildConfig>;
}

/** A value, and a promise settled with it given for it every time. */
interface Settled<T> {
  readonly value: T;
  readonly promise: Promise<T>;
}

function settled<T>(value: T): Settled<T> {
  return { value, promise: Promise.resolve(value) };
}

/** No name: nothing to ask again. */
const NONE: readonly string[] = [];

/** Reads server.yml and child configs on demand, with a text-validated cache. */
export class ConfigStore {
  readonly serverPath: string;
  readonly #source: ConfigSource;
  readonly #clock: Clock;
  readonly #servers: ParsedFileCache<ServerConfig>;
  readonly #children: ParsedFileCache<ChildConfig>;
  #catalog: CachedCatalog | undefined;
  #lastGood: ServerConfig | undefined;
  #lastChildren: ChildrenReading | undefined;
  /** The last server.yml reading taken as checked, settled, given to every status. */
  #trustedServer: Settled<ServerConfig> | undefined;
  /** The same for the listing of the loadpaths. */
  #trustedCatalog: Settled<Catalog> | undefined;

  constructor(serverPath: string, options: ConfigStoreOptions = {}) {
    this.serverPath = serverPath;
    this.#source = options.source ?? fileSource;
    this.#clock = options.clock ?? realClock;
    this.#servers = new ParsedFileCache(parseServerConfig, { limit: 4, source: this.#source });
    const context = options.childContext ?? {};
    this.#children = new ParsedFileCache(
      (path, text) => parseChildConfig(path, text, context),
      { source: this.#source },
    );
  }

  /**
   * A view of the configuration for one request: each file is read at most once in it. With
   * `trustMs` (an automatic restart), server.yml, the loadpath listing and child files checked
   * by any request within it are taken as checked.
   */
  snapshot(trustMs = 0): ConfigSnapshot {
    return new ConfigSnapshot(this, { trustMs });
  }

  /**
   * A view for a status that reads only (an unsigned `check`, `info`, `events`): server.yml,
   * the loadpath listing and child files checked by any request within {@link STATUS_TRUST_MS}
   * are taken as checked, so a status of a quiet fleet costs no file system call.
   */
  statusSnapshot(): ConfigSnapshot {
    return this.snapshot(STATUS_TRUST_MS);
  }

  /**
   * server.yml as it is now; a ConfigError when it cannot be read or is invalid. With `trustMs`
   * (a status), a reading checked by any request within it is taken as it is.
   */
  async serverConfig(trustMs = 0): Promise<ServerConfig> {
    let config: ServerConfig;
    try {
      config = this.#servers.trusted(this.serverPath, trustMs) ??
        await this.#servers.read(this.serverPath);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw unreadable(this.serverPath, error);
    }
    this.#lastGood = config;
    return config;
  }

  /**
   * What {@link serverConfig} with `trustMs` would give without reading, as a promise already
   * settled (the same one while the reading is the same); undefined when it must be read.
   */
  trustedServerConfig(trustMs: number): Settled<ServerConfig> | undefined {
    if (trustMs <= 0) return undefined;
    const config = this.#servers.trusted(this.serverPath, trustMs);
    if (config === undefined) return undefined;
    this.#lastGood = config;
    if (this.#trustedServer?.value !== config) this.#trustedServer = settled(config);
    return this.#trustedServer;
  }

  /**
   * What {@link catalog} with `trustMs` would give for `server` without listing or comparing,
   * as a promise already settled (the same one while the listing is the same); undefined when
   * it must be compared.
   */
  trustedCatalog(server: ServerConfig, trustMs: number): Settled<Catalog> | undefined {
    const cached = this.#catalog;
    if (
      trustMs <= 0 || cached === undefined || !cached.settled ||
      cached.loadpaths !== server.loadpaths || this.#clock.now() - cached.checkedAt >= trustMs
    ) {
      return undefined;
    }
    if (this.#trustedCatalog?.value !== cached.value) this.#trustedCatalog = settled(cached.value);
    return this.#trustedCatalog;
  }

  /** server.yml as it is now, or the last good reading when it is broken now. */
  async settings(trustMs = 0): Promise<ServerConfig | undefined> {
    try {
      return await this.serverConfig(trustMs);
    } catch {
      return this.#lastGood;
    }
  }

  /**
   * Every child file in the loadpaths of `server`. The listing is reused while no loadpath
   * directory has changed: each directory's modification time is compared, and a directory
   * changed less than {@link SETTLE_MS} ago is always listed again (timestamps are coarse).
   * With `trustMs` (a status), a settled listing whose directories were compared within it is
   * taken as it is.
   */
  async catalog(server?: ServerConfig, trustMs = 0): Promise<Catalog> {
    const loadpaths = (server ?? await this.serverOrInvalid()).loadpaths;
    const now = this.#clock.now();
    const cached = this.#catalog;
    if (
      cached !== undefined && cached.settled && cached.loadpaths === loadpaths &&
      now - cached.checkedAt < trustMs
    ) {
      return cached.value;
    }
    const stamps = await Promise.all(loadpaths.map(async (dir) => {
      const mtime = await this.#source.modifiedAt(dir);
      if (mtime === undefined) return `${dir}@missing`;
      return now - mtime < SETTLE_MS ? "unsettled" : `${dir}@${mtime}`;
    }));
    const key = stamps.join("\n");
    const settled = !stamps.includes("unsettled");
    if (cached && cached.key === key && settled) {
      this.#catalog = { ...cached, loadpaths, checkedAt: now };
      return cached.value;
    }
    const value = await scanLoadpaths(loadpaths, this.#source);
    this.#catalog = { key, value, loadpaths, settled, checkedAt: now };
    return value;
  }

  /**
   * The config of child `name` as it is now. Throws SupervisorError: BAD_NAME or
   * RESERVED_NAME for a name no child can have, NOT_FOUND, or CONFIG_INVALID.
   */
  async childConfig(
    name: string,
    server?: ServerConfig,
    locate?: (name: string) => string | undefined,
    trustMs = 0,
  ): Promise<ChildConfig> {
    assertChildName(name);
    const copy = splitInstance(name);
    if (copy) {
      const base = await this.childConfig(copy.base, server, locate, trustMs);
      if (copy.index >= base.instances) {
        throw new SupervisorError(
          "NOT_FOUND",
          `Cannot find child "${name}": "${copy.base}" has ${
            base.instances === 1
              ? "no instances"
              : `instances ${copy.base}:0 to ${copy.base}:${base.instances - 1}`
          }`,
          { child: name },
        );
      }
      return copyOf(base, copy.index);
    }
    const known = locate?.(name);
    if (known !== undefined) {
      try {
        return await this.childConfigAt(name, known, trustMs);
      } catch (error) {
        // Gone since the loadpaths were listed: looked for as if never listed (NOT_FOUND).
        if (await this.#source.isFile(known)) throw error;
      }
    }
    const loadpaths = (server ?? await this.serverOrInvalid()).loadpaths;
    const path = await findChildFile(loadpaths, name, this.#source);
    return await this.childConfigAt(name, path, trustMs);
  }

  /**
   * The config of child `name` without waiting, when {@link childConfig} with `locate` and
   * `trustMs` would give it from a file checked within the trust (a status); undefined when it
   * must be read, or is a copy, an error or not locatable (childConfig says then).
   */
  trustedChildConfig(
    name: string,
    locate: ((name: string) => string | undefined) | undefined,
    trustMs: number,
  ): ChildConfig | undefined {
    if (trustMs <= 0 || locate === undefined || name.includes(":")) return undefined;
    if (nameProblem(name) !== undefined) return undefined;
    const path = locate(name);
    return path === undefined ? undefined : this.#children.trusted(path, trustMs);
  }

  /**
   * The last reading of `names` remembered by {@link rememberChildren}, when it was located
   * with `locate`, and the names that must be asked again before it may be given (a file not
   * checked within the trust, a name without a config); undefined when there is none for them.
   */
  lastChildren(
    names: readonly string[],
    locate: Locate,
    trustMs: number,
  ): { readonly reading: ChildrenReading; readonly due: readonly string[] } | undefined {
    const last = this.#lastChildren;
    if (trustMs <= 0 || last === undefined || last.names !== names || last.locate !== locate) {
      return undefined;
    }
    const now = Date.now();
    const cache = this.#children;
    const { distinct, paths, readings, values } = last;
    let due: string[] | undefined;
    for (let i = 0; i < distinct.length; i++) {
      const value = values[i];
      const path = paths[i];
      let reading = readings[i];
      let trusted = reading === undefined ? undefined : cache.trustedReading(reading, trustMs, now);
      if (trusted === undefined && path !== undefined && reading?.superseded !== false) {
        // Read again since (the same text keeps the same config): the cache's reading now.
        reading = readings[i] = cache.current(path);
        trusted = reading === undefined ? undefined : cache.trustedReading(reading, trustMs, now);
      }
      if (value === undefined || trusted !== value) (due ??= []).push(distinct[i]!);
    }
    return { reading: last, due: due ?? NONE };
  }

  /** Remembers what a status of `names` was given (see {@link lastChildren}). */
  rememberChildren(
    names: readonly string[],
    locate: Locate,
    configs: ReadonlyMap<string, ChildConfig>,
  ): void {
    const distinct = [...new Set(names)];
    const paths = distinct.map((name) =>
      nameProblem(name) === undefined && !name.includes(":") ? locate(name) : undefined
    );
    const readings = paths.map((path) =>
      path === undefined ? undefined : this.#children.current(path)
    );
    const values = distinct.map((name) => configs.get(name));
    this.#lastChildren = { names, locate, distinct, paths, readings, values, configs };
  }

  /** The config of child `name` as it is now, or `fallback` when it cannot be read now. */
  async childConfigOr(
    name: string,
    fallback: ChildConfig | undefined,
  ): Promise<ChildConfig | undefined> {
    try {
      return await this.childConfig(name);
    } catch {
      return fallback;
    }
  }

  /** The config in the file `path`, for child `name`. */
  async childConfigAt(name: string, path: string, trustMs = 0): Promise<ChildConfig> {
    try {
      return await this.#children.read(path, { trustMs });
    } catch (error) {
      const config = error instanceof ConfigError ? error : unreadable(path, error);
      throw new SupervisorError(
        "CONFIG_INVALID",
        `Config of child "${name}" is invalid:\n${config.message}`,
        { child: name, cause: config },
      );
    }
  }

  /** server.yml, or CONFIG_INVALID; `trustMs` as for {@link serverConfig}. */
  async serverOrInvalid(trustMs = 0): Promise<ServerConfig> {
    try {
      return await this.serverConfig(trustMs);
    } catch (error) {
      throw new SupervisorError(
        "CONFIG_INVALID",
        `Server config is invalid:\n${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}

/**
 * The configuration for one request, taken at its entry: server.yml, the catalog and each child
 * file are read at most once, when first asked for, and the same answer (or error) is given
 * every time after.
 */
export class ConfigSnapshot {
  readonly #store: ConfigStore;
  #server: Promise<ServerConfig> | undefined;
  #settings: Promise<ServerConfig> | undefined;
  #catalog: Promise<Catalog> | undefined;
  /** What {@link #server} and {@link #catalog} hold when they were settled already (a status). */
  #serverNow: ServerConfig | undefined;
  #catalogNow: Catalog | undefined;
  /** Each child's config as this snapshot answered it (made at the first). */
  #children: Map<string, Promise<ChildConfig>> | undefined;
  /** Configs taken without a read by {@link children}: the same answers for child(name). */
  #taken: ReadonlyMap<string, ChildConfig> | undefined;
  /** Whether {@link #taken} is a map given to other snapshots too (copied before any change). */
  #takenShared = false;
  /** How long a child file checked by an earlier request may be taken as checked (status). */
  readonly #trustMs: number;

  constructor(store: ConfigStore, options: { readonly trustMs?: number } = {}) {
    this.#store = store;
    this.#trustMs = options.trustMs ?? 0;
  }

  /**
   * The same configuration for a status (`check`, `/metrics`, the page): a child file settled
   * and checked within {@link STATUS_TRUST_MS} by any request is not checked again. What acts
   * (start, restart, update) never uses it: an edit is seen by the next such request.
   */
  forStatus(): ConfigSnapshot {
    if (this.#trustMs >= STATUS_TRUST_MS) return this;
    const status = new ConfigSnapshot(this.#store, { trustMs: STATUS_TRUST_MS });
    status.#server = this.#server;
    status.#settings = this.#settings;
    status.#catalog = this.#catalog;
    status.#serverNow = this.#serverNow;
    status.#catalogNow = this.#catalogNow;
    return status;
  }

  /** The path of server.yml. */
  get serverPath(): string {
    return this.#store.serverPath;
  }

  /** server.yml; CONFIG_INVALID when it is broken. */
  server(): Promise<ServerConfig> {
    if (this.#server === undefined) {
      // A status may take a reading checked within the trust, with no read and no new promise.
      const trusted = this.#store.trustedServerConfig(this.#trustMs);
      if (trusted !== undefined) {
        this.#server = trusted.promise;
        this.#serverNow = trusted.value;
      } else {
        this.#server = quiet(this.#store.serverOrInvalid(this.#trustMs));
      }
    }
    return this.#server;
  }

  /**
   * server.yml, or its last good reading when it is broken now (keys, permissions, audit);
   * CONFIG_INVALID only when it was never read well.
   */
  settings(): Promise<ServerConfig> {
    if (this.#settings === undefined) {
      const server = this.server();
      // A reading taken as checked is a good one: the same promise.
      this.#settings = this.#serverNow !== undefined ? server : quiet(
        server.catch(async (error) =>
          (await this.#store.settings(this.#trustMs)) ?? Promise.reject(error)
        ),
      );
    }
    return this.#settings;
  }

  /**
   * What {@link settings} holds without waiting: the reading of server.yml a status took as
   * checked; undefined when it was read (await {@link settings} then).
   */
  settingsNow(): ServerConfig | undefined {
    this.settings();
    return this.#serverNow;
  }

  /** Every child file in the loadpaths. */
  catalog(): Promise<Catalog> {
    if (this.#catalog === undefined) {
      const server = this.server();
      const trusted = this.#serverNow === undefined
        ? undefined
        : this.#store.trustedCatalog(this.#serverNow, this.#trustMs);
      if (trusted !== undefined) {
        this.#catalog = trusted.promise;
        this.#catalogNow = trusted.value;
      } else {
        this.#catalog = quiet(server.then((s) => this.#store.catalog(s, this.#trustMs)));
      }
    }
    return this.#catalog;
  }

  /** The config of child `name`; throws as {@link ConfigStore.childConfig} does. */
  child(name: string): Promise<ChildConfig> {
    const children = this.#children ??= new Map();
    let config = children.get(name);
    const taken = config === undefined ? this.#taken?.get(name) : undefined;
    if (taken !== undefined) {
      config = Promise.resolve(taken);
      children.set(name, config);
    }
    if (config === undefined) {
      config = quiet((async () => {
        try {
          // A status's server.yml and listing are there already: nothing to wait for.
          const server = this.#serverNow ?? await this.server();
          const locate = this.#catalogNow !== undefined
            ? locatorOf(this.#catalogNow)
            : await this.#locator();
          return await this.#store.childConfig(name, server, locate, this.#trustMs);
        } catch (error) {
          throw await this.#withSuggestion(name, error);
        }
      })());
      children.set(name, config);
    }
    return config;
  }

  /**
   * What {@link child} would give for `name` without waiting: when server.yml, the loadpath
   * listing and the child's file were all checked within the trust (an automatic restart in a
   * crash loop); undefined when any must be read, or the answer is an error or a copy (ask
   * child(name) then).
   */
  childNow(name: string): ChildConfig | undefined {
    if (this.#children?.has(name)) return undefined;
    this.catalog();
    if (this.#catalogNow === undefined) return undefined;
    return this.#taken?.get(name) ??
      this.#store.trustedChildConfig(name, locatorOf(this.#catalogNow), this.#trustMs);
  }

  /**
   * The configs of `names` at once, each the config {@link child} gives; a name whose config
   * cannot be read is left out (child(name) says why). For a status of many children: files
   * checked within the trust are taken without an await each, and when every file reads as it
   * did for the last status of the same `names`, its map is given again.
   */
  async children(names: readonly string[]): Promise<ReadonlyMap<string, ChildConfig>> {
    this.catalog();
    let locate: Locate | undefined;
    if (this.#catalogNow !== undefined) {
      locate = locatorOf(this.#catalogNow);
    } else {
      try {
        await this.server();
        locate = await this.#locator();
      } catch {
        // Each child says why, as child(name) does.
      }
    }
    const fresh = this.#children === undefined && this.#taken === undefined;
    if (fresh && locate !== undefined && this.#trustMs > 0) {
      const last = this.#store.lastChildren(names, locate, this.#trustMs);
      if (
        last !== undefined &&
        (last.due.length === 0 || await this.#readsAsBefore(last.reading, last.due))
      ) {
        this.#taken = last.reading.configs;
        this.#takenShared = true;
        return last.reading.configs;
      }
    }
    const configs = new Map<string, ChildConfig>();
    const pending: Promise<unknown>[] = [];
    for (const name of names) {
      if (configs.has(name)) continue;
      const trusted = this.#children?.has(name)
        ? undefined
        : this.#taken?.get(name) ?? this.#store.trustedChildConfig(name, locate, this.#trustMs);
      if (trusted !== undefined) {
        configs.set(name, trusted);
      } else {
        pending.push(this.child(name).then((config) => configs.set(name, config), () => {}));
      }
    }
    // What was taken without a read: the same answers for child(name) (one map when it is the
    // first; a shared one is copied before it is added to).
    if (this.#taken === undefined) this.#taken = configs;
    else if (this.#taken !== configs) {
      const taken = this.#takenShared
        ? new Map(this.#taken)
        : this.#taken as Map<string, ChildConfig>;
      for (const [name, config] of configs) taken.set(name, config);
      this.#taken = taken;
      this.#takenShared = false;
    }
    if (pending.length > 0) await Promise.all(pending);
    if (fresh && locate !== undefined && this.#trustMs > 0) {
      // Given to later statuses: never added to from here on.
      this.#store.rememberChildren(names, locate, configs);
      if (this.#taken === configs) this.#takenShared = true;
    }
    return configs;
  }

  /** Whether each name `due` gives the config it gave to the status `reading` was made for. */
  async #readsAsBefore(reading: ChildrenReading, due: readonly string[]): Promise<boolean> {
    const answers = await Promise.all(due.map((name) => this.child(name).catch(() => undefined)));
    return answers.every((config, k) => config === reading.configs.get(due[k]!));
  }

  /**
   * Where each child's file is, from this snapshot's catalog (a few directory stats when it is
   * cached) instead of two stats per child; none when the catalog cannot say for sure (it could
   * not be read, or a name is in two files: the lookup then reports it as it always did). The
   * same function for the same catalog.
   */
  async #locator(): Promise<Locate | undefined> {
    const catalog = await this.catalog().catch(() => undefined);
    return catalog === undefined ? undefined : locatorOf(catalog);
  }

  /** A NOT_FOUND for a mistyped name, with the closest defined name ("did you mean"). */
  async #withSuggestion(name: string, error: unknown): Promise<unknown> {
    if (!(error instanceof SupervisorError) || error.code !== "NOT_FOUND") return error;
    if (name.includes(":")) return error;
    let names: string[];
    try {
      names = [...(await this.catalog()).files.keys()];
    } catch {
      return error;
    }
    // A swap of two letters is two edits: allowed for names of three letters and more.
    const close = suggest(name, names, name.length >= 3 ? Math.max(2, name.length / 3) : 1);
    if (close === undefined) return error;
    return new SupervisorError("NOT_FOUND", `${error.message} (did you mean "${close}"?)`, {
      child: name,
      cause: error.cause,
    });
  }

  /** The config of child `name`, or `fallback` when it cannot be read now. */
  async childOr(
    name: string,
    fallback: ChildConfig | undefined,
  ): Promise<ChildConfig | undefined> {
    try {
      return await this.child(name);
    } catch {
      return fallback;
    }
  }
}

/** The copies of each reading of a file with instances, made once each. */
const copies = new WeakMap<ChildConfig, ChildConfig[]>();

/**
 * Copy `index` of `base`: the same object while `base` is (an unchanged file), as an unchanged
 * file gives the same config, so a status compares it by identity.
 */
function copyOf(base: ChildConfig, index: number): ChildConfig {
  let made = copies.get(base);
  if (made === undefined) copies.set(base, made = []);
  return made[index] ??= instantiate(base, index);
}

/** The locator of each catalogue; null when it cannot say for sure. */
const locators = new WeakMap<Catalog, Locate | null>();

/** Where each child's file is by `catalog` (see `ConfigSnapshot.#locator`), made once. */
function locatorOf(catalog: Catalog): Locate | undefined {
  let locate = locators.get(catalog);
  if (locate === undefined) {
    locate = catalog.problems.some((p) => p.kind !== "ignored")
      ? null
      : (name) => catalog.files.get(name)?.path;
    locators.set(catalog, locate);
  }
  return locate ?? undefined;
}

/** `promise`, marked as handled: a memo that nobody awaits must not be an unhandled rejection. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
