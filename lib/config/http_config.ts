/**
 * The HTTP endpoint of server.yml: the status page, `/metrics` and the JSON API — and the
 * sampling of CPU and memory they show.
 *
 * ```yaml
 * http_listen: 127.0.0.1:9310      # off unless given
 * http_token_file: /etc/supervisor-ts/http.token
 * http_actions: off                # start, stop, restart from the page
 * sample_interval: 5               # seconds between samples of CPU and memory
 * ```
 *
 * Owns: validating these keys, and the rules that keep the endpoint safe: an address beyond
 * loopback needs a token, and so do actions. Does not own: serving (`lib/web/`) or reading the
 * token file (read when the server starts, so that it can be replaced without editing YAML).
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { isLoopback, parseHostPort } from "./addresses.ts";
import type { Checker } from "./checker.ts";

/** The keys of server.yml this file reads. */
export const HTTP_KEYS = [
  "http_listen",
  "http_token_file",
  "http_actions",
  "sample_interval",
] as const;

/** Default seconds between two samples of CPU and memory (while anyone looks). */
export const DEFAULT_SAMPLE_INTERVAL_S = 5;

/** The HTTP endpoint, when server.yml turns it on. */
export interface HttpConfig {
  readonly hostname: string;
  readonly port: number;
  /** The file holding the bearer token; undefined: no token (loopback only, read-only). */
  readonly tokenFile: string | undefined;
  /** Whether the page may start, stop and restart children (needs the token). */
  readonly actions: boolean;
}

/** What the HTTP keys of a server.yml say. */
export interface HttpSettings {
  readonly http: HttpConfig | undefined;
  /** Milliseconds between samples of CPU and memory. */
  readonly sampleIntervalMs: number;
}

/** Reads the HTTP keys of `map` (server.yml's top level); problems go to `check`. */
export function parseHttpSettings(
  check: Checker,
  map: Readonly<Record<string, unknown>>,
  dir: string,
): HttpSettings {
  const interval = map.sample_interval === undefined ? undefined : check.number(
    map.sample_interval,
    ["sample_interval"],
    "sample_interval (seconds)",
    { min: 0.1, max: 3600 },
  );
  const sampleIntervalMs = (interval ?? DEFAULT_SAMPLE_INTERVAL_S) * 1000;
  const tokenText = map.http_token_file === undefined || map.http_token_file === null
    ? undefined
    : check.string(map.http_token_file, ["http_token_file"], "http_token_file");
  const tokenFile = tokenText === undefined
    ? undefined
    : isAbsolute(tokenText)
    ? tokenText
    : resolve(dir, tokenText);
  const actions = map.http_actions === undefined
    ? false
    : check.flag(map.http_actions, ["http_actions"], "http_actions") ?? false;
  if (map.http_listen === undefined || map.http_listen === null) {
    for (const key of ["http_token_file", "http_actions"] as const) {
      if (map[key] !== undefined && map[key] !== null) {
        check.fail(
          [key],
          `${key} has no effect without http_listen (e.g. http_listen: 127.0.0.1:9310)`,
        );
      }
    }
    return { http: undefined, sampleIntervalMs };
  }
  const text = String(map.http_listen);
  const address = typeof map.http_listen === "string" ? parseHostPort(text) : undefined;
  if (!address) {
    check.fail(
      ["http_listen"],
      `http_listen must be HOST:PORT (127.0.0.1:9310, [::1]:9310), found ${JSON.stringify(text)}`,
    );
    return { http: undefined, sampleIntervalMs };
  }
  if (!isLoopback(address.hostname) && tokenFile === undefined) {
    check.fail(
      ["http_listen"],
      `http_listen ${text} is reachable beyond this machine, and the page and /metrics show every child's command, state and logs: set http_token_file to a file holding a secret token (clients then send "Authorization: Bearer TOKEN"), or listen on 127.0.0.1`,
    );
  }
  if (actions && tokenFile === undefined) {
    check.fail(
      ["http_actions"],
      "http_actions: on lets the page start, stop and restart children, so it needs a token: set http_token_file to a file holding a secret token",
    );
  }
  return {
    http: { hostname: address.hostname, port: address.port, tokenFile, actions },
    sampleIntervalMs,
  };
}
