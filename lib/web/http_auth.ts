/**
 * Who may use the HTTP endpoint. Without `http_token_file` it listens on loopback only, and
 * answers anyone whose request names a loopback host (a page of another site that rebinds its
 * name to 127.0.0.1 is refused: its Host header names that site). With a token file, every
 * request but the page's static files needs the token: `Authorization: Bearer TOKEN` (scripts,
 * Prometheus), or the session cookie a browser gets from `POST /login` with the token.
 *
 * Owns: the token, the sessions, the cookie and the decision. Does not own: routing or what an
 * authenticated request may do (`http_server.ts` decides that actions need `http_actions`).
 *
 * @module
 */
import { isLoopback } from "../config/addresses.ts";
import { errorMessage } from "../errors.ts";
import type { Clock } from "../process/clock.ts";

/** The cookie a browser keeps its session in. */
export const SESSION_COOKIE = "supervisor_ts_session";

/** How long a browser session lasts without logging in again. */
export const SESSION_MS = 12 * 60 * 60 * 1000;

/** Sessions kept at once; the oldest goes when one more logs in. */
const MAX_SESSIONS = 1000;

/** Shortest token accepted: a guessable token is no protection. */
export const MIN_TOKEN_LENGTH = 16;

/** What {@link HttpAuth.check} decides about a request. */
export type Admission =
  | { readonly ok: true; readonly via: "open" | "bearer" | "cookie" }
  | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

/** The token and the sessions of one server's HTTP endpoint. */
export class HttpAuth {
  readonly #token: Uint8Array | undefined;
  readonly #clock: Clock;
  /** Session id → when it expires. */
  readonly #sessions = new Map<string, number>();

  private constructor(token: string | undefined, clock: Clock) {
    this.#token = token === undefined ? undefined : new TextEncoder().encode(token);
    this.#clock = clock;
  }

  /**
   * Reads the token file (its first line, trimmed). Throws an Error saying what is wrong: the
   * file cannot be read, or holds a token too short to be secret.
   */
  static async load(tokenFile: string | undefined, clock: Clock): Promise<HttpAuth> {
    if (tokenFile === undefined) return new HttpAuth(undefined, clock);
    let text: string;
    try {
      text = await Deno.readTextFile(tokenFile);
    } catch (error) {
      throw new Error(`http_token_file "${tokenFile}" cannot be read: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    const token = (text.split("\n")[0] ?? "").trim();
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new Error(
        `http_token_file "${tokenFile}" holds a token of ${token.length} characters; use at least ${MIN_TOKEN_LENGTH}, e.g. from "openssl rand -hex 32"`,
      );
    }
    return new HttpAuth(token, clock);
  }

  /** Whether requests need the token. */
  get required(): boolean {
    return this.#token !== undefined;
  }

  /** Whether `request` may read the endpoint's data. */
  check(request: Request): Admission {
    if (this.#token === undefined) {
      const host = hostnameOf(request.headers.get("host"));
      if (host === undefined || !isLoopback(host)) {
        return {
          ok: false,
          status: 403,
          message: `Host ${
            JSON.stringify(request.headers.get("host"))
          } is not this machine's loopback: without http_token_file the endpoint answers only requests for localhost or 127.0.0.1`,
        };
      }
      return { ok: true, via: "open" };
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
    if (bearer && this.#matches(bearer[1]!)) return { ok: true, via: "bearer" };
    const session = cookieOf(request.headers.get("cookie"), SESSION_COOKIE);
    if (session !== undefined && this.#live(session)) return { ok: true, via: "cookie" };
    return {
      ok: false,
      status: 401,
      message: bearer
        ? "Wrong token"
        : 'This endpoint needs the token of http_token_file: send "Authorization: Bearer TOKEN", or log in on the page',
    };
  }

  /** A new session for the right token: the Set-Cookie value; undefined for a wrong one. */
  login(token: string): string | undefined {
    if (!this.#matches(token.trim())) return undefined;
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    if (this.#sessions.size >= MAX_SESSIONS) {
      this.#sessions.delete(this.#sessions.keys().next().value!);
    }
    this.#sessions.set(id, this.#clock.now() + SESSION_MS);
    return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${
      SESSION_MS / 1000
    }`;
  }

  /** Ends the session of `request`, if any: the Set-Cookie value that clears the cookie. */
  logout(request: Request): string {
    const session = cookieOf(request.headers.get("cookie"), SESSION_COOKIE);
    if (session !== undefined) this.#sessions.delete(session);
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  #live(session: string): boolean {
    const expires = this.#sessions.get(session);
    if (expires === undefined) return false;
    if (expires <= this.#clock.now()) {
      this.#sessions.delete(session);
      return false;
    }
    return true;
  }

  /** Compares in time that does not depend on where the first difference is. */
  #matches(token: string): boolean {
    const expected = this.#token;
    if (expected === undefined) return false;
    const given = new TextEncoder().encode(token);
    let diff = given.length ^ expected.length;
    for (let i = 0; i < expected.length; i++) diff |= expected[i]! ^ (given[i] ?? 0);
    return diff === 0;
  }
}

/** The host name of a Host header: `127.0.0.1:9310` → `127.0.0.1`, `[::1]:9310` → `::1`. */
export function hostnameOf(host: string | null): string | undefined {
  if (host === null || host === "") return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1];
  const plain = /^([^:]+)(?::\d+)?$/.exec(host);
  return plain ? plain[1]!.toLowerCase() : undefined;
}

/** The value of cookie `name` in a Cookie header. */
export function cookieOf(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}
