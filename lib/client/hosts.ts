/**
 * The hosts a client command goes to: `127.0.0.1`, `localhost`, `host:port`, `::1`,
 * `[::1]:port`, `ssh://[user@]host[:sshport][/port]`, `unix:PATH` (the server's control
 * socket on this machine), and comma-separated lists of them (`"h1, h2"`).
 *
 * @module
 */
import { HostSyntaxError } from "../errors.ts";
import { DEFAULT_PORT } from "../version.ts";

/** One server to talk to: over the network (TCP or ssh), or through a Unix socket. */
export type HostTarget = NetworkHost | UnixHost;

/** A server reached by TCP, directly or through `ssh -W`. */
export interface NetworkHost {
  /** As the user wrote it, normalised to `host:port` (`[v6]:port`, `ssh://…`); used in output. */
  readonly label: string;
  readonly hostname: string;
  /** The server's port (on the remote host, for ssh). */
  readonly port: number;
  /** Set when the server is reached through `ssh -W`. */
  readonly ssh?: SshRoute;
  readonly unix?: never;
}

/** A server reached through its control socket on this machine. */
export interface UnixHost {
  /** `unix:` and the socket's absolute path; used in output. */
  readonly label: string;
  readonly unix: UnixRoute;
  readonly hostname?: never;
  readonly port?: never;
  readonly ssh?: never;
}

/** Where a server's control socket is. */
export interface UnixRoute {
  /** Absolute. */
  readonly path: string;
}

/** The prefix of a Unix socket host. */
const UNIX_PREFIX = "unix:";

/** How to reach a server through ssh. */
export interface SshRoute {
  /** `user@host` or `host`, as ssh takes it. */
  readonly destination: string;
  readonly sshPort: number | undefined;
}

function parsePort(text: string, host: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new HostSyntaxError(`Invalid port "${text}" in host "${host}": expected 1 to 65535`);
  }
  return port;
}

/** Splits `[v6addr]` or `[v6addr]:port`; `whole` is the argument as given, for messages. */
function splitBracketed(
  part: string,
  whole: string,
  portName: string,
): { hostname: string; port: number | undefined } {
  const close = part.indexOf("]");
  if (close < 0) throw new HostSyntaxError(`Invalid host "${whole}": missing "]"`);
  const after = part.slice(close + 1);
  if (after !== "" && !after.startsWith(":")) {
    throw new HostSyntaxError(`Invalid host "${whole}": expected ":${portName}" after "]"`);
  }
  return {
    hostname: part.slice(1, close),
    port: after === "" ? undefined : parsePort(after.slice(1), whole),
  };
}

/**
 * Parses one host (no commas). A relative `unix:` path is resolved against `cwd` (default: the
 * current directory).
 */
export function parseHost(
  text: string,
  defaultPort = DEFAULT_PORT,
  cwd?: string,
): HostTarget {
  const host = text.trim();
  if (host === "") throw new HostSyntaxError("Empty host name");
  if (host.startsWith("ssh://")) return parseSshHost(host, defaultPort);
  if (host.startsWith(UNIX_PREFIX)) return parseUnixHost(host, cwd);
  if (host.includes("://")) {
    const scheme = host.slice(0, host.indexOf("://"));
    throw new HostSyntaxError(
      `Unsupported host "${host}": the ${scheme}:// transport does not exist; use HOST, HOST:PORT, ssh://USER@HOST[:SSHPORT][/PORT] or unix:PATH`,
    );
  }
  let hostname: string;
  let port = defaultPort;
  if (host.startsWith("[")) {
    const bracketed = splitBracketed(host, host, "PORT");
    hostname = bracketed.hostname;
    port = bracketed.port ?? defaultPort;
  } else if ((host.match(/:/g) ?? []).length > 1) {
    hostname = host; // a bare IPv6 address such as ::1
  } else if (host.includes(":")) {
    const colon = host.lastIndexOf(":");
    hostname = host.slice(0, colon);
    port = parsePort(host.slice(colon + 1), host);
  } else {
    hostname = host;
  }
  if (hostname === "" || /[\s/@]/.test(hostname)) {
    throw new HostSyntaxError(`Invalid host "${host}"`);
  }
  const label = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  return { label, hostname, port };
}

/** Parses `ssh://[user@]host[:sshport][/port]`. */
function parseSshHost(text: string, defaultPort: number): NetworkHost {
  const rest = text.slice("ssh://".length);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const port = slash < 0 ? defaultPort : parsePort(rest.slice(slash + 1), text);
  const at = authority.lastIndexOf("@");
  const user = at < 0 ? undefined : authority.slice(0, at);
  const hostPart = authority.slice(at + 1);
  if (user !== undefined && !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(user)) {
    throw new HostSyntaxError(`Invalid user in "${text}"`);
  }
  let hostname: string;
  let sshPort: number | undefined;
  if (hostPart.startsWith("[")) {
    ({ hostname, port: sshPort } = splitBracketed(hostPart, text, "SSHPORT"));
  } else {
    const colon = hostPart.indexOf(":");
    hostname = colon < 0 ? hostPart : hostPart.slice(0, colon);
    if (colon >= 0) sshPort = parsePort(hostPart.slice(colon + 1), text);
  }
  // A leading "-" would be read by ssh as an option.
  if (hostname === "" || hostname.startsWith("-") || /[\s/@\[\]]/.test(hostname)) {
    throw new HostSyntaxError(`Invalid host "${text}": expected ssh://USER@HOST[:SSHPORT][/PORT]`);
  }
  const destination = user === undefined ? hostname : `${user}@${hostname}`;
  const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
  const label = `ssh://${user === undefined ? "" : `${user}@`}${shown}${
    sshPort === undefined ? "" : `:${sshPort}`
  }/${port}`;
  return { label, hostname, port, ssh: { destination, sshPort } };
}

/** Parses `unix:PATH`; a relative PATH is resolved against `cwd`. */
function parseUnixHost(text: string, cwd: string | undefined): UnixHost {
  const path = text.slice(UNIX_PREFIX.length);
  if (path.startsWith("//")) {
    throw new HostSyntaxError(`Invalid host "${text}": write unix:PATH, e.g. unix:/run/s.sock`);
  }
  if (path === "" || path.includes("\0")) {
    throw new HostSyntaxError(
      `Invalid host "${text}": expected unix:PATH, the path of the server's control_socket`,
    );
  }
  const absolute = absolutePath(path, cwd ?? Deno.cwd());
  return { label: `${UNIX_PREFIX}${absolute}`, unix: { path: absolute } };
}

/**
 * `path` made absolute against `cwd`, its `.` and `..` segments and repeated slashes resolved,
 * as node:path's resolve does (written here: node:path costs the client ~15 ms to load).
 */
export function absolutePath(path: string, cwd: string): string {
  const parts: string[] = [];
  for (const part of `${path.startsWith("/") ? "" : cwd}/${path}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * Parses a host argument that may list several hosts separated by commas (so a `unix:` path in
 * a list cannot hold a comma).
 */
export function parseHostList(
  text: string,
  defaultPort = DEFAULT_PORT,
  cwd?: string,
): HostTarget[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.some((p) => p === "")) {
    throw new HostSyntaxError(`Invalid host list "${text}": empty entry`);
  }
  return parts.map((p) => parseHost(p, defaultPort, cwd));
}
