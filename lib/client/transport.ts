/**
 * Sending one v2 request to one server and reading its response, within a time limit: over
 * TCP, through the system's ssh (`ssh -W 127.0.0.1:PORT`, so ssh-agent, ~/.ssh/config and
 * known_hosts apply and nothing extra runs on the remote host), or through the server's control
 * socket on this machine (`unix:PATH`). Also the raw exchange of the supervisor-rs 0.8 dialect
 * ({@link legacyExchange}: bytes out, bytes back until the server closes), over the same routes.
 *
 * Reports what happened (`TransportError` with a short `reason`; {@link NotV2Error} keeps the
 * first line of an answer that is not JSON); the hint on what to do next is added by
 * `hints.ts`, and whether that answer came from a supervisor-rs server is `legacy_client.ts`'s
 * call.
 *
 * @module
 */
import { concat } from "../process/bytes.ts";
import { errorMessage, TransportError } from "../errors.ts";
import type { TransportCode } from "../errors.ts";
import { splitCommand } from "../config/command_split.ts";
import { LineReader } from "../protocol/line_reader.ts";
import { parseResponse } from "../protocol/messages.ts";
import type { Response as V2Response } from "../protocol/messages.ts";
import { decodeFollowEvent } from "../protocol/payloads.ts";
import type { FollowEvent } from "../protocol/payloads.ts";
import type { HostTarget, NetworkHost, SshRoute, UnixRoute } from "./hosts.ts";

/** Largest response line accepted (a `check` of a big fleet is large). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The first read buffer for a response: a `check` of 50 children (about 40 KB) in one read,
 * where the reader's default (1 KiB, doubling) takes six, each an await of its own.
 */
const RESPONSE_READ_BYTES = 64 * 1024;

/** Largest supervisor-rs reply accepted (its `check` lists config dumps, a few hundred bytes each). */
const MAX_LEGACY_REPLY_BYTES = 16 * 1024 * 1024;

/** How much of a non-JSON answer {@link NotV2Error} keeps. */
const KEPT_ANSWER_CHARS = 200;

/** Environment variable that replaces the ssh command (like git's GIT_SSH_COMMAND). */
export const SSH_COMMAND_ENV = "SUPERVISOR_TS_SSH";

/** A byte stream both ways. */
interface Duplex {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  /** Why the stream ended without an answer, when the transport knows better than "closed". */
  failure?(): Promise<string | undefined>;
}

/** What a failed connect or read means, as a code and a few words. */
function tcpFailure(error: unknown): { code: TransportCode; reason: string } {
  if (error instanceof Deno.errors.ConnectionRefused) {
    return { code: "REFUSED", reason: "connection refused" };
  }
  if (error instanceof Deno.errors.ConnectionReset) {
    return { code: "RESET", reason: "connection reset" };
  }
  if (error instanceof Deno.errors.TimedOut) return { code: "TIMED_OUT", reason: "timed out" };
  if (error instanceof Deno.errors.NotFound) {
    return { code: "HOST_NOT_FOUND", reason: "host name not found" };
  }
  return { code: "OTHER", reason: errorMessage(error) };
}

/** What a failed connect to the Unix socket at `path` means, as a code and a few words. */
export function unixFailure(error: unknown, path: string): { code: TransportCode; reason: string } {
  if (error instanceof Deno.errors.NotFound) {
    return { code: "REFUSED", reason: `no socket at ${path}` };
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return { code: "PERMISSION_DENIED", reason: "permission denied" };
  }
  return tcpFailure(error);
}

/** A TransportError saying that `host` cannot be reached, and why. */
function unreachable(
  host: HostTarget,
  failure: { code: TransportCode; reason: string },
  cause?: unknown,
): TransportError {
  return new TransportError(
    host.label,
    failure,
    `cannot reach ${host.label}: ${failure.reason}`,
    cause === undefined ? undefined : { cause },
  );
}

/** A TransportError saying that `host` answered with something that is not the declared shape. */
export function badAnswer(host: string, error: unknown): TransportError {
  const why = `bad answer: ${errorMessage(error)}`;
  return new TransportError(host, { code: "BAD_ANSWER", reason: why }, `${host} gave a ${why}`, {
    cause: error,
  });
}

/**
 * A host that answered a v2 request with something that is not JSON. `answer` is the first line
 * of it (at most {@link KEPT_ANSWER_CHARS} characters, without the line's `\r`): a supervisor-rs
 * 0.8 server says `no legal operations input`, or its encrypt-mode banner.
 */
export class NotV2Error extends TransportError {
  readonly answer: string;

  constructor(host: string, answer: string) {
    const shown = answer.length > 60 ? `${answer.slice(0, 60)}…` : answer;
    super(
      host,
      { code: "NOT_V2", reason: "answer that is not protocol v2 JSON" },
      `${host} gave an answer that is not protocol v2 JSON: ${JSON.stringify(shown)}`,
    );
    this.name = "NotV2Error";
    this.answer = answer;
  }
}

/** The ssh command and arguments for a route: `ssh -o BatchMode=yes [-p P] -W 127.0.0.1:PORT -- DEST`. */
export function sshArgv(
  route: SshRoute,
  port: number,
  command = Deno.env.get(SSH_COMMAND_ENV),
): string[] {
  const base = command && command.trim() !== "" ? splitCommand(command) : ["ssh"];
  return [
    ...base,
    "-o",
    "BatchMode=yes",
    ...(route.sshPort === undefined ? [] : ["-p", String(route.sshPort)]),
    "-W",
    `127.0.0.1:${port}`,
    "--",
    route.destination,
  ];
}

/** A TCP connection to `host`. */
async function openTcp(host: NetworkHost): Promise<Duplex> {
  const conn = await Deno.connect({ hostname: host.hostname, port: host.port, transport: "tcp" });
  return closeOnce(conn);
}

/** A connection to a server's control socket; a failure to connect says why in its words. */
async function openUnix(host: HostTarget, route: UnixRoute): Promise<Duplex> {
  try {
    return closeOnce(await Deno.connect({ transport: "unix", path: route.path }));
  } catch (error) {
    throw unreachable(host, unixFailure(error, route.path), error);
  }
}

/**
 * `conn` as a Duplex whose `close` may be called twice: the timer closes it when the time is up,
 * and the request's own cleanup closes it again (a second `Deno.Conn.close` throws "Bad
 * resource ID", which used to replace the "no answer within" message).
 */
function closeOnce(conn: Deno.Conn): Duplex {
  let closed = false;
  return {
    read: (buffer) => conn.read(buffer),
    write: (bytes) => conn.write(bytes),
    close() {
      if (closed) return;
      closed = true;
      conn.close();
    },
  };
}

function openSsh(host: NetworkHost, route: SshRoute): Duplex {
  const [program, ...args] = sshArgv(route, host.port);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program!, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
      .spawn();
  } catch (error) {
    const failure = error instanceof Deno.errors.NotFound
      ? { code: "SSH_NOT_FOUND" as const, reason: `ssh command "${program}" not found` }
      : tcpFailure(error);
    throw unreachable(host, failure, error);
  }
  const reader = child.stdout.getReader();
  const writer = child.stdin.getWriter();
  const stderr = new Response(child.stderr).text().catch(() => "");
  let pending: Uint8Array | undefined;
  return {
    async read(buffer) {
      if (!pending || pending.length === 0) {
        const { value, done } = await reader.read();
        if (done || !value) return null;
        pending = value;
      }
      const n = Math.min(buffer.length, pending.length);
      buffer.set(pending.subarray(0, n));
      pending = pending.subarray(n);
      return n;
    },
    async write(bytes) {
      await writer.write(bytes);
      return bytes.length;
    },
    close() {
      try {
        child.kill("SIGTERM");
      } catch {
        // exited already
      }
      reader.cancel().catch(() => {});
      writer.close().catch(() => {});
      child.status.catch(() => {});
    },
    async failure() {
      const status = await child.status;
      return describeSshFailure(await stderr, status.code);
    },
  };
}

/**
 * What ssh said when it gave up, in one line: its last few meaningful stderr lines (the cause
 * is often in an earlier line than the last), each once, without a doubled `ssh:` prefix.
 * What to do about it is `hints.ts`'s business.
 */
export function describeSshFailure(stderr: string, code: number): string {
  const lines = stderr.split("\n")
    .map((l) => l.trim().replace(/^ssh:\s*/, ""))
    .filter((l) => l !== "" && !l.startsWith("Warning: Permanently added"));
  const kept = [...new Set(lines)].slice(-3);
  if (kept.length === 0) return `ssh exited with code ${code}`;
  return `ssh: ${kept.join("; ")}`;
}

/** Checks SUPERVISOR_TS_SSH before any host is contacted; the message says what is wrong. */
export function checkSshCommand(command = Deno.env.get(SSH_COMMAND_ENV)): string | undefined {
  if (command === undefined || command.trim() === "") return undefined;
  try {
    splitCommand(command);
    return undefined;
  } catch (error) {
    return `${SSH_COMMAND_ENV}: ${errorMessage(error)} in ${JSON.stringify(command)}`;
  }
}

/** An answered request whose connection stays open for the events that follow it. */
export interface Exchange {
  readonly response: V2Response;
  /**
   * The events after the response (`log --follow`), until the server or `close` ends them; an
   * event that is not the declared shape ends them too.
   */
  events(): AsyncGenerator<FollowEvent>;
  close(): void;
}

/** Sends `line` to `host` and returns its one-line response. */
export async function request(
  host: HostTarget,
  line: string,
  timeoutMs: number,
): Promise<V2Response> {
  const exchange = await openExchange(host, line, timeoutMs);
  exchange.close();
  return exchange.response;
}

/** A connection to `host` by its route. */
function connect(host: HostTarget): Promise<Duplex> {
  if (host.unix !== undefined) return openUnix(host, host.unix);
  return host.ssh ? Promise.resolve(openSsh(host, host.ssh)) : openTcp(host);
}

/** Writes all of `bytes`; ssh that exited already breaks the pipe, and what it said is the reason. */
async function send(host: HostTarget, stream: Duplex, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  try {
    while (offset < bytes.length) offset += await stream.write(bytes.subarray(offset));
  } catch (error) {
    const why = await stream.failure?.();
    if (why === undefined) throw error;
    throw unreachable(host, { code: "SSH_FAILED", reason: why }, error);
  }
}

/** A running time limit: {@link TimeLimit.expired} tells whether it ran out. */
export interface TimeLimit {
  /** Resolves true when the time ran out, false when {@link TimeLimit.cancel} came first. */
  readonly expired: Promise<boolean>;
  /** Ends the limit early; `expired` then resolves false. */
  cancel(): void;
}

/**
 * A limit of `ms` on a conversation. Its timer is V8's own, the time limit of
 * `Atomics.waitAsync` on a cell nobody writes: starting it runs no JavaScript of Deno's, where
 * `AbortSignal.timeout` and its listener cost a `check` about 0.6 ms of first-call compilation
 * (issue 15) and the first `setTimeout` loads Deno's Node timers layer (about 10 ms). Such a
 * wait does not keep the process alive by itself; it need not, since while a conversation is
 * timed, its connect, write, read or ssh process is pending.
 */
export function timeLimit(ms: number): TimeLimit {
  const cell = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const wait = Atomics.waitAsync(cell, 0, 0, ms);
  const expired = wait.async
    ? wait.value.then((outcome) => outcome === "timed-out")
    : Promise.resolve(wait.value === "timed-out");
  return { expired, cancel: () => void Atomics.notify(cell, 0) };
}

/** Races a promise against the end of the time allowed. */
type Within = <T>(promise: Promise<T>) => Promise<T>;

/**
 * One conversation with `host` within `timeoutMs`: connects, then `talk` writes and reads. When
 * `talk` answers `keep`, the connection is handed over with its value (the caller closes it);
 * otherwise it is closed here. Failures come out as TransportErrors: refused, timed out, …
 */
async function converse<T>(
  host: HostTarget,
  timeoutMs: number,
  talk: (stream: Duplex, within: Within) => Promise<{ readonly value: T; readonly keep: boolean }>,
): Promise<T> {
  let stream: Duplex | undefined;
  let timedOut = false;
  let expire!: (error: Error) => void;
  const expired = new Promise<never>((_, reject) => (expire = reject));
  expired.catch(() => {});
  const limit = timeLimit(timeoutMs);
  limit.expired.then((expiredNow) => {
    if (!expiredNow) return;
    timedOut = true;
    expire(new Deno.errors.TimedOut("timed out"));
    stream?.close();
  });
  const within: Within = (promise) => Promise.race([promise, expired]);
  try {
    const opening = connect(host);
    opening.then((s) => timedOut && s.close(), () => {});
    stream = await within(opening);
    const { value, keep } = await talk(stream, within);
    if (keep) stream = undefined; // handed over: the caller closes it
    return value;
  } catch (error) {
    if (error instanceof TransportError) throw error;
    if (timedOut) {
      throw new TransportError(
        host.label,
        { code: "TIMED_OUT", reason: "timed out" },
        `no answer from ${host.label} within ${timeoutMs / 1000}s`,
        { cause: error },
      );
    }
    throw unreachable(host, tcpFailure(error), error);
  } finally {
    limit.cancel();
    stream?.close();
  }
}

/** The end of a stream that gave no answer: what ssh said, or "closed without answering". */
async function noAnswer(host: HostTarget, stream: Duplex): Promise<TransportError> {
  const why = await stream.failure?.();
  return unreachable(
    host,
    why === undefined
      ? { code: "CLOSED", reason: "closed without answering" }
      : { code: "SSH_FAILED", reason: why },
  );
}

/**
 * Sends `line` to `host` and reads its response within `timeoutMs`; the connection stays open
 * for the events that may follow, without a time limit, until closed. An answer that is not
 * JSON is a {@link NotV2Error}.
 */
export function openExchange(
  host: HostTarget,
  line: string,
  timeoutMs: number,
): Promise<Exchange> {
  return converse(host, timeoutMs, async (stream, within) => {
    await send(host, stream, new TextEncoder().encode(line));
    const reader = new LineReader(stream, MAX_RESPONSE_BYTES, undefined, RESPONSE_READ_BYTES);
    const reply = await within(reader.next());
    if (reply === null) throw await noAnswer(host, stream);
    const text = new TextDecoder().decode(reply);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new NotV2Error(host.label, firstLine(text));
    }
    let response: V2Response;
    try {
      response = parseResponse(value);
    } catch (error) {
      throw badAnswer(host.label, error);
    }
    const exchange: Exchange = {
      response,
      close: () => stream.close(),
      async *events() {
        for (;;) {
          let next: Uint8Array | null;
          try {
            next = await reader.next();
          } catch {
            return;
          }
          if (next === null) return;
          let event: FollowEvent;
          try {
            event = decodeFollowEvent(JSON.parse(new TextDecoder().decode(next)));
          } catch {
            return;
          }
          yield event;
        }
      },
    };
    return { value: exchange, keep: true };
  });
}

/** The start of a line as {@link NotV2Error} keeps it: no `\r`, at most a few hundred characters. */
function firstLine(text: string): string {
  return text.replace(/\r$/, "").slice(0, KEPT_ANSWER_CHARS);
}

/**
 * The supervisor-rs 0.8 exchange: writes `request` to `host` in one piece, with no terminator,
 * and reads what comes back until the server closes the connection, all within `timeoutMs`.
 * A server that closes without a byte is "closed without answering".
 */
export function legacyExchange(
  host: HostTarget,
  request: Uint8Array,
  timeoutMs: number,
): Promise<Uint8Array> {
  return converse(host, timeoutMs, async (stream, within) => {
    await send(host, stream, request);
    const reply = await within(readToEnd(stream, MAX_LEGACY_REPLY_BYTES));
    if (reply.length === 0) throw await noAnswer(host, stream);
    return { value: reply, keep: false };
  });
}

/** Every byte until the end of the stream; more than `limit` is an error. */
async function readToEnd(stream: Duplex, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buffer = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await stream.read(buffer);
    if (n === null) break;
    size += n;
    if (size > limit) throw new Error(`the reply is longer than ${limit} bytes`);
    chunks.push(buffer.slice(0, n));
  }
  return concat(chunks);
}
