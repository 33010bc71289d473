/**
 * Network addresses as server.yml writes them: whether one is loopback, and `host:port`.
 *
 * @module
 */

/** Whether `hostname` is reachable from this machine only. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
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
