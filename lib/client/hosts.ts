/**
 * The hosts a client command goes to: `127.0.0.1`, `localhost`, `host:port`, `::1`,
 * `[::1]:port`, and comma-separated lists of them (`"h1, h2"`).
 *
 * @module
 */
import { DEFAULT_PORT } from "../version.ts";

/** One server to talk to. */
export interface HostTarget {
  /** As the user wrote it, normalised to `host:port` (`[v6]:port`); used in output. */
  readonly label: string;
  readonly hostname: string;
  readonly port: number;
}

/** A host argument that cannot be understood. */
export class HostSyntaxError extends SyntaxError {
  constructor(message: string) {
    super(message);
    this.name = "HostSyntaxError";
  }
}

function parsePort(text: string, host: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new HostSyntaxError(`Invalid port "${text}" in host "${host}": expected 1 to 65535`);
  }
  return port;
}

/** Parses one host (no commas). */
export function parseHost(text: string, defaultPort = DEFAULT_PORT): HostTarget {
  const host = text.trim();
  if (host === "") throw new HostSyntaxError("Empty host name");
  if (host.includes("://")) {
    const scheme = host.slice(0, host.indexOf("://"));
    throw new HostSyntaxError(
      `Unsupported host "${host}": the ${scheme}:// transport is not available in this version; use HOST or HOST:PORT`,
    );
  }
  let hostname: string;
  let port = defaultPort;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close < 0) throw new HostSyntaxError(`Invalid host "${host}": missing "]"`);
    hostname = host.slice(1, close);
    const rest = host.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) {
        throw new HostSyntaxError(`Invalid host "${host}": expected ":PORT" after "]"`);
      }
      port = parsePort(rest.slice(1), host);
    }
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

/** Parses a host argument that may list several hosts separated by commas. */
export function parseHostList(text: string, defaultPort = DEFAULT_PORT): HostTarget[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.some((p) => p === "")) {
    throw new HostSyntaxError(`Invalid host list "${text}": empty entry`);
  }
  return parts.map((p) => parseHost(p, defaultPort));
}
