/**
 * Network addresses as server.yml writes them: whether one is loopback, and `host:port`.
 *
 * @module
 */

/**
 * Whether `hostname` is reachable from this machine only: `localhost`, `::1`, or an IPv4
 * address in 127.0.0.0/8 written as one (`127.0.0.1.example.com` is a name anyone can own).
 */
export function isLoopback(hostname: string): boolean {
  const name = hostname.toLowerCase();
  if (name === "localhost" || name === "::1") return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return octets !== null && octets.slice(1).every((o) => Number(o) <= 255);
}

/** A parsed `host:port`; an IPv6 host is written in brackets (`[::1]:9310`), kept without. */
export interface HostPort {
  readonly hostname: string;
  readonly port: number;
}

/** `127.0.0.1:9310`, `[::1]:9310`, `localhost:0`; undefined when `text` is none of these. */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:\[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { hostname: match[1] ?? match[2]!, port };
}

/** A listen address as `host:port`, with brackets for IPv6: `127.0.0.1:9310`, `[::1]:9310`. */
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
