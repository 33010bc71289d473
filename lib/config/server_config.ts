/**
 * server.yml: where children are defined, what starts at boot, where to listen.
 *
 * Owns: the server config type, its defaults and its validation. Relative paths resolve against
 * the directory of server.yml. Does not own: reading children (see `child_config.ts`).
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError, errorMessage } from "../errors.ts";
import { DEFAULT_PORT } from "../version.ts";
import { Checker } from "./checker.ts";
import { keyNameProblem } from "./names.ts";
import { OPS } from "../protocol/ops.ts";
import { YamlSource } from "./yaml_source.ts";
import { HTTP_KEYS, parseHttpSettings } from "./http_config.ts";
import type { HttpConfig } from "./http_config.ts";

/** Where the server looks for its config when none is given (as supervisor-rs did). */
export const DEFAULT_SERVER_CONFIG_PATH = "/tmp/server.yml";

export { DEFAULT_PORT };

/** Which children start with the server. */
export type StartupMode = "quiet" | "half" | "full";

/** Limits that protect the server from its clients. */
export interface ServerLimits {
  /** Longest request line accepted, in bytes. */
  readonly maxRequestBytes: number;
  /** How long a connection may take to send a whole request line, and may sit idle. */
  readonly readTimeoutMs: number;
  /** Connections served at once; more are told BUSY and closed. */
  readonly maxConnections: number;
  /** Nonces of signed requests remembered at once (replay protection); more are told BUSY. */
  readonly maxNonces: number;
  /** `log --follow` streams served at once per listener, beside the connections. */
  readonly maxFollows: number;
}

/** A validated server.yml. */
export interface ServerConfig {
  readonly path: string;
  readonly dir: string;
  readonly loadpaths: readonly string[];
  readonly mode: StartupMode;
  readonly startup: readonly string[];
  readonly encrypt: boolean;
  readonly pubKeysPath: readonly string[];
  readonly listenerAddr: string;
  readonly ipv6: boolean;
  readonly listenerPort: number;
  readonly limits: ServerLimits;
  /** Whether the supervisor-rs 0.8 text dialect is accepted (default: on unless encrypt). */
  readonly legacy: boolean;
  /** `legacy` as written in the file (undefined: not given, so it follows encrypt). */
  readonly legacySetting: boolean | undefined;
  /** How far a signed request's `ts` may be from the server's clock, in ms. */
  readonly signWindowMs: number;
  /** Per-key allow-lists of operations; a key not listed may do everything. */
  readonly permissions: ReadonlyMap<string, readonly string[]>;
  /** Append-only JSON lines of every request, when set. */
  readonly auditLog: string | undefined;
  /** The local control socket (a Unix socket, mode 0600), when set. */
  readonly controlSocket: string | undefined;
  /**
   * Where the server records its children, so that a server started after it was killed adopts
   * them: a path, `undefined` for the default place, or `false` (`state_file: off`) for none.
   */
  readonly stateFile: string | false | undefined;
  /** The status page, /metrics and the JSON API over HTTP, when `http_listen` is given. */
  readonly http: HttpConfig | undefined;
  /** Milliseconds between samples of CPU and memory (taken only while anyone looks). */
  readonly sampleIntervalMs: number;
  /**
   * Whether output files may be written synchronously when that cannot block (see
   * `lib/process/sync_writes.ts`); `sync_log_writes: off` keeps every write on worker threads.
   */
  readonly syncLogWrites: boolean;
}

const KEYS = [
  "loadpaths",
  "mode",
  "startup",
  "encrypt",
  "pub_keys_path",
  "listener_addr",
  "ipv6",
  "listener_port",
  "limits",
  "legacy",
  "sign_window",
  "permissions",
  "audit_log",
  "control_socket",
  "state_file",
  "sync_log_writes",
  ...HTTP_KEYS,
] as const;

/** Operations a permission list may name. */
export const PERMISSION_OPS = OPS;

const LIMIT_KEYS = [
  "max_request_bytes",
  "read_timeout",
  "max_connections",
  "max_nonces",
  "max_follows",
] as const;

/** Defaults of {@link ServerLimits}. */
export const DEFAULT_LIMITS: ServerLimits = {
  maxRequestBytes: 64 * 1024,
  readTimeoutMs: 30_000,
  maxConnections: 1024,
  maxNonces: 100_000,
  maxFollows: 256,
};

/** Default of sign_window, in seconds. */
export const DEFAULT_SIGN_WINDOW_S = 30;

/** Validates the text of a server.yml read from `path`. */
export function parseServerConfig(path: string, text: string): ServerConfig {
  const file = resolve(path);
  const dir = dirname(file);
  const source = YamlSource.parse(file, text);
  const check = new Checker(source);
  const raw = source.value ?? {};
  const map = check.map(raw, [], "server config", KEYS) ?? {};
  const within = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));

  const loadpaths = map.loadpaths === undefined || map.loadpaths === null
    ? []
    : (check.strings(map.loadpaths, ["loadpaths"], "loadpaths") ?? []).map(within);
  const mode = map.mode === undefined
    ? "quiet"
    : check.oneOf(map.mode, ["mode"], "mode", ["quiet", "half", "full"] as const) ?? "quiet";
  const startup = map.startup === undefined || map.startup === null
    ? []
    : check.strings(map.startup, ["startup"], "startup") ?? [];
  const encrypt = map.encrypt === undefined
    ? false
    : check.flag(map.encrypt, ["encrypt"], "encrypt") ?? false;
  const pubKeysPath = map.pub_keys_path === undefined || map.pub_keys_path === null
    ? []
    : (check.strings(map.pub_keys_path, ["pub_keys_path"], "pub_keys_path") ?? []).map(within);
  const ipv6 = map.ipv6 === undefined ? false : check.flag(map.ipv6, ["ipv6"], "ipv6") ?? false;
  const listenerAddr = map.listener_addr === undefined
    ? (ipv6 ? "::" : "127.0.0.1")
    : check.string(map.listener_addr, ["listener_addr"], "listener_addr") ?? "127.0.0.1";
  const listenerPort = map.listener_port === undefined
    ? DEFAULT_PORT
    : check.number(map.listener_port, ["listener_port"], "listener_port", {
      min: 0,
      max: 65535,
      integer: true,
    }) ?? DEFAULT_PORT;
  const limits = parseLimits(check, map.limits);
  const legacySetting = map.legacy === undefined
    ? undefined
    : check.flag(map.legacy, ["legacy"], "legacy");
  const legacy = legacySetting ?? !encrypt;
  const signWindow = map.sign_window === undefined
    ? DEFAULT_SIGN_WINDOW_S
    : check.number(map.sign_window, ["sign_window"], "sign_window (seconds)", {
      min: 1,
      max: 3600,
    }) ?? DEFAULT_SIGN_WINDOW_S;
  const permissions = parsePermissions(check, map.permissions);
  const auditLog = map.audit_log === undefined || map.audit_log === null ? undefined : (() => {
    const path = check.string(map.audit_log, ["audit_log"], "audit_log");
    return path === undefined ? undefined : within(path);
  })();
  const optionalPath = (key: "control_socket" | "state_file"): string | undefined => {
    const value = map[key];
    if (value === undefined || value === null) return undefined;
    const path = check.string(value, [key], key);
    return path === undefined ? undefined : within(path);
  };
  const controlSocket = optionalPath("control_socket");
  const stateOff = map.state_file === false ||
    (typeof map.state_file === "string" && /^(off|no|false)$/i.test(map.state_file));
  const stateFile = stateOff ? false : optionalPath("state_file");
  const { http, sampleIntervalMs } = parseHttpSettings(check, map, dir);
  const syncLogWrites = map.sync_log_writes === undefined
    ? true
    : check.flag(map.sync_log_writes, ["sync_log_writes"], "sync_log_writes") ?? true;
  if (encrypt && pubKeysPath.length === 0) {
    check.fail(["encrypt"], "encrypt is on but pub_keys_path lists no directory of public keys");
  }
  check.throwIfProblems();
  return {
    path: file,
    dir,
    loadpaths,
    mode,
    startup,
    encrypt,
    pubKeysPath,
    listenerAddr,
    ipv6,
    listenerPort,
    limits,
    legacy,
    legacySetting,
    signWindowMs: signWindow * 1000,
    permissions,
    auditLog,
    controlSocket,
    stateFile,
    http,
    sampleIntervalMs,
    syncLogWrites,
  };
}

function parsePermissions(check: Checker, value: unknown): ReadonlyMap<string, readonly string[]> {
  const permissions = new Map<string, readonly string[]>();
  if (value === undefined || value === null) return permissions;
  const map = check.record(value, ["permissions"], "permissions");
  for (const [key, ops] of Object.entries(map ?? {})) {
    const problem = keyNameProblem(key);
    if (problem) {
      check.fail(["permissions", key], `permissions: ${problem}`, true);
      continue;
    }
    const list = check.strings(ops, ["permissions", key], `permissions.${key}`);
    if (!list) continue;
    list.forEach((op, index) => {
      if (!(PERMISSION_OPS as readonly string[]).includes(op)) {
        check.oneOf(
          op,
          ["permissions", key, index],
          `an operation in permissions.${key}`,
          PERMISSION_OPS,
        );
      }
    });
    permissions.set(key, list);
  }
  return permissions;
}

function parseLimits(check: Checker, value: unknown): ServerLimits {
  if (value === undefined || value === null) return DEFAULT_LIMITS;
  const map = check.map(value, ["limits"], "limits", LIMIT_KEYS);
  if (!map) return DEFAULT_LIMITS;
  const bytes = map.max_request_bytes === undefined ? undefined : check.number(
    map.max_request_bytes,
    ["limits", "max_request_bytes"],
    "limits.max_request_bytes",
    { min: 256, max: 16 * 1024 * 1024, integer: true },
  );
  const timeout = map.read_timeout === undefined ? undefined : check.number(
    map.read_timeout,
    ["limits", "read_timeout"],
    "limits.read_timeout (seconds)",
    { min: 0, max: 3600, minExclusive: true },
  );
  const nonces = map.max_nonces === undefined ? undefined : check.number(
    map.max_nonces,
    ["limits", "max_nonces"],
    "limits.max_nonces",
    { min: 100, max: 10_000_000, integer: true },
  );
  const connections = map.max_connections === undefined ? undefined : check.number(
    map.max_connections,
    ["limits", "max_connections"],
    "limits.max_connections",
    { min: 1, max: 1_000_000, integer: true },
  );
  const follows = map.max_follows === undefined ? undefined : check.number(
    map.max_follows,
    ["limits", "max_follows"],
    "limits.max_follows",
    { min: 1, max: 100_000, integer: true },
  );
  return {
    maxRequestBytes: bytes ?? DEFAULT_LIMITS.maxRequestBytes,
    readTimeoutMs: timeout === undefined ? DEFAULT_LIMITS.readTimeoutMs : timeout * 1000,
    maxConnections: connections ?? DEFAULT_LIMITS.maxConnections,
    maxNonces: nonces ?? DEFAULT_LIMITS.maxNonces,
    maxFollows: follows ?? DEFAULT_LIMITS.maxFollows,
  };
}

/** A ConfigError for a file that could not be read at all. */
export function unreadable(path: string, error: unknown): ConfigError {
  const reason = error instanceof Deno.errors.NotFound
    ? "no such file"
    : error instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : error instanceof Deno.errors.IsADirectory
    ? "is a directory, expected a YAML file"
    : errorMessage(error);
  return new ConfigError([{
    file: resolve(path),
    line: undefined,
    col: undefined,
    message: `cannot read config file: ${reason}`,
  }], { cause: error });
}
