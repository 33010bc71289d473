/**
 * What changed between two readings of server.yml, in words for the log.
 *
 * The listen addresses (control port, control socket, HTTP endpoint) and the encrypt mode are
 * fixed at start; a change to them is reported as taking effect only after a restart of the
 * server.
 *
 * @module
 */
import type { ServerConfig } from "../config/server_config.ts";

function listDiff(what: string, before: readonly string[], after: readonly string[]): string[] {
  const added = after.filter((x) => !before.includes(x));
  const removed = before.filter((x) => !after.includes(x));
  const out: string[] = [];
  if (added.length > 0) out.push(`${what} added: ${added.join(", ")}`);
  if (removed.length > 0) out.push(`${what} removed: ${removed.join(", ")}`);
  return out;
}

function httpListen(config: ServerConfig): string {
  return config.http ? `${config.http.hostname}:${config.http.port}` : "(none)";
}

/** One line per change from `before` to `after`; empty when nothing changed. */
export function describeConfigChanges(before: ServerConfig, after: ServerConfig): string[] {
  const changes = [
    ...listDiff("loadpaths", before.loadpaths, after.loadpaths),
    ...listDiff("startup", before.startup, after.startup),
    ...listDiff("pub_keys_path", before.pubKeysPath, after.pubKeysPath),
  ];
  if (before.mode !== after.mode) {
    changes.push(`mode: ${before.mode} -> ${after.mode} (used at the next server start)`);
  }
  const fixed: [string, unknown, unknown][] = [
    ["listener_addr", before.listenerAddr, after.listenerAddr],
    ["listener_port", before.listenerPort, after.listenerPort],
    ["encrypt", before.encrypt, after.encrypt],
    ["control_socket", before.controlSocket ?? "(none)", after.controlSocket ?? "(none)"],
    ["state_file", before.stateFile ?? "(default)", after.stateFile ?? "(default)"],
    ["http_listen", httpListen(before), httpListen(after)],
    ["http_token_file", before.http?.tokenFile ?? "(none)", after.http?.tokenFile ?? "(none)"],
    ["http_actions", before.http?.actions ?? false, after.http?.actions ?? false],
    ["sample_interval", before.sampleIntervalMs / 1000, after.sampleIntervalMs / 1000],
  ];
  for (const [key, a, b] of fixed) {
    if (a !== b) changes.push(`${key}: ${a} -> ${b} (takes effect only when the server restarts)`);
  }
  const plain: [string, unknown, unknown][] = [
    ["legacy", before.legacy, after.legacy],
    ["sign_window", before.signWindowMs / 1000, after.signWindowMs / 1000],
    ["audit_log", before.auditLog ?? "(none)", after.auditLog ?? "(none)"],
  ];
  for (const [key, a, b] of plain) if (a !== b) changes.push(`${key}: ${a} -> ${b}`);
  const permissions = (c: ServerConfig) => JSON.stringify([...c.permissions].sort());
  if (permissions(before) !== permissions(after)) changes.push("permissions changed");
  const la = before.limits;
  const lb = after.limits;
  if (
    la.maxRequestBytes !== lb.maxRequestBytes || la.readTimeoutMs !== lb.readTimeoutMs ||
    la.maxConnections !== lb.maxConnections ||
    la.maxNonces !== lb.maxNonces || la.maxFollows !== lb.maxFollows
  ) {
    changes.push("limits changed (take effect only when the server restarts)");
  }
  return changes;
}
