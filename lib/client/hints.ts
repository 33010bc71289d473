/**
 * What to do next: the hints the client adds to the failures it reports, in one table each for
 * hosts it could not ask and for refusals of a server.
 *
 * Owns: the wording of every hint. Does not own: usage errors (the entry point points them to
 * --help), nor the server's own words — a refusal whose message already says what to do
 * (ALREADY_RUNNING, SIGNATURE_REQUIRED, UNKNOWN_KEY, FORBIDDEN, STALE_REQUEST, …) gets no hint.
 * Pure functions from facts to text.
 *
 * @module
 */
import { KeyFileError } from "../errors.ts";
import type { ErrorCode, TransportCode } from "../errors.ts";
import type { HostTarget, NetworkHost } from "./hosts.ts";
import { SSH_COMMAND_ENV } from "./transport.ts";

/** The command a person would run to log in where `host` goes through ssh. */
function sshCommand(host: NetworkHost): string {
  const route = host.ssh;
  if (route === undefined) return "ssh";
  return `ssh${route.sshPort === undefined ? "" : ` -p ${route.sshPort}`} ${route.destination}`;
}

/** Hints for what ssh said, first match wins; the forwarding failures come before the rest. */
const SSH_HINTS: readonly (readonly [RegExp, (host: NetworkHost) => string])[] = [
  [
    /open failed|stdio forwarding failed|connect failed/i,
    (h) => `is the server running on port ${h.port} of ${h.hostname}?`,
  ],
  [
    /permission denied/i,
    (h) =>
      `the client runs ssh without prompts: check that "${
        sshCommand(h)
      }" logs in without a password, e.g. with ssh-agent`,
  ],
  [
    /host key verification failed|host identification has changed/i,
    (h) => `run "${sshCommand(h)}" once by hand to check the host key and accept it`,
  ],
  [/could not resolve hostname/i, (h) => `check the spelling of "${h.hostname}"`],
  [
    /connection refused/i,
    (h) =>
      `is sshd running on ${h.hostname}${
        h.ssh?.sshPort === undefined ? "" : ` port ${h.ssh.sshPort}`
      }?`,
  ],
  [/timed out/i, (h) => `is ${h.hostname} up and reachable?`],
];

/**
 * The next step for a host that could not be asked, from the transport's failure: its code, and
 * for ssh what ssh itself said (`reason`); `undefined` when there is none to give.
 */
export function unreachableHint(
  failure: { readonly code: TransportCode; readonly reason: string },
  host: HostTarget,
): string | undefined {
  if (host.unix !== undefined) return controlSocketHint(failure, host.unix.path);
  switch (failure.code) {
    case "REFUSED":
      return "is the server running on that port?";
    case "RESET":
      return "the server dropped the connection: check its log, then try again";
    case "TIMED_OUT":
      return "is the host up and the port right? If the server is just slow, raise --timeout";
    case "HOST_NOT_FOUND":
      return `check the spelling of "${host.hostname}", or give its IP address`;
    case "CLOSED":
      return `is a supervisor-ts server listening on port ${host.port}? Check the port and the server's log`;
    case "NOT_V2":
      // A supervisor-rs 0.8 server's answer never gets here: the client asks it in its dialect.
      return `neither supervisor-ts nor supervisor-rs answers like that: is port ${host.port} the server's?`;
    case "BAD_ANSWER":
      return `compare the server's version with "supervisor-ts-client --version"`;
    case "SSH_NOT_FOUND":
      return `install an OpenSSH client, or set ${SSH_COMMAND_ENV} to the ssh command to use`;
    case "SSH_FAILED": {
      // ssh's own words, not ours: the only place where text decides.
      const found = SSH_HINTS.find(([pattern]) => pattern.test(failure.reason));
      return found ? found[1](host) : `run "${sshCommand(host)}" by hand to see why it fails`;
    }
    case "PERMISSION_DENIED":
    case "OTHER":
      return undefined;
  }
}

/** The next step for a control socket (`unix:PATH`) that could not be asked. */
function controlSocketHint(
  failure: { readonly code: TransportCode; readonly reason: string },
  path: string,
): string | undefined {
  switch (failure.code) {
    case "REFUSED":
      return `is the server running with control_socket: ${path}?`;
    case "RESET":
      return "the server dropped the connection: check its log, then try again";
    case "TIMED_OUT":
      return "the server did not answer in time: if it is just slow, raise --timeout";
    case "CLOSED":
      return `is ${path} the control_socket of a supervisor-ts server? Check the server's log`;
    case "NOT_V2":
    case "BAD_ANSWER":
      return `compare the server's version with "supervisor-ts-client --version"`;
    case "PERMISSION_DENIED":
      return "the control socket has mode 0600: run the client as the user the server runs as";
    case "OTHER":
      return undefined;
    case "HOST_NOT_FOUND":
    case "SSH_NOT_FOUND":
    case "SSH_FAILED":
      return undefined;
  }
}

/** A message with its hint in parentheses, when there is one. */
export function withHint(message: string, hint: string | undefined): string {
  return hint === undefined ? message : `${message} (${hint})`;
}

/** What a refusal was about. */
export interface Refusal {
  readonly op: string;
  readonly child: string | undefined;
  readonly code: ErrorCode;
  readonly message: string;
}

type Hint = (refusal: Refusal) => string | undefined;

const versionHint: Hint = () =>
  `client and server may be of different versions: compare "info" with "supervisor-ts-client --version"`;

const childCheck = (r: Refusal) => `"check${r.child === undefined ? "" : ` ${r.child}`}"`;

/**
 * The next step for each code a server may send. `null`: the server's message already says what
 * to do (or it is the server's word on signing, which the client does not second-guess).
 */
const SERVER_HINTS: Readonly<Record<ErrorCode, Hint | null>> = {
  BAD_REQUEST: versionHint,
  BAD_JSON: versionHint,
  BAD_ENCODING: versionHint,
  EMPTY_REQUEST: versionHint,
  TOO_LARGE: versionHint,
  UNKNOWN_OP: versionHint,
  TIMEOUT: () => "the request reached the server incomplete; try again",
  BUSY: null,
  BAD_NAME: null,
  RESERVED_NAME: null,
  NOT_FOUND: () => `"check" lists the children this server knows`,
  ALREADY_RUNNING: null,
  // A refused restart names start and trystart already; a refused stop says nothing more.
  NOT_RUNNING: (r) => r.op === "restart" ? undefined : `${childCheck(r)} shows how it last exited`,
  CONFIG_INVALID: () => "fix the config file named above, then try again",
  SPAWN_FAILED: (r) => `fix the command in the child's config (${childCheck(r)} shows the file)`,
  HOOK_CYCLE: () => "remove one of the prehooks named above to break the cycle",
  HOOK_FAILED: () => "fix the prehook named above, or the child it names, then try again",
  SIGNATURE_REQUIRED: null,
  BAD_KEY_NAME: null,
  UNKNOWN_KEY: null,
  BAD_SIGNATURE: null,
  STALE_REQUEST: null,
  REPLAYED: null,
  // Only the HTTP endpoint answers it; the client never asks there.
  AUTH_REQUIRED: null,
  FORBIDDEN: null,
  LEGACY_DISABLED: null,
  SHUTTING_DOWN: () => "wait until the server is back, then try again",
  // The answer lists each child with its reason, and each failed one gets its own hint.
  SOME_FAILED: null,
  // The server's message lists the signals it knows.
  BAD_SIGNAL: null,
  // The message carries the last stderr lines and says whether it is tried again.
  EXITED_EARLY: (r) =>
    r.child === undefined || r.child === "all"
      ? `"log NAME --stderr" shows more of what a child wrote`
      : `"log ${r.child} --stderr" shows more of what it wrote`,
  INTERNAL: () => "this is a bug in the server: its log has the details",
};

/** The next step for a refusal, or `undefined` when the server's message says it already. */
export function refusalHint(refusal: Refusal): string | undefined {
  const hint = Object.hasOwn(SERVER_HINTS, refusal.code) ? SERVER_HINTS[refusal.code] : null;
  return hint ? hint(refusal) : undefined;
}

/** The next step when the key file given with `with` cannot be used. */
export function keyFileHint(error: unknown): string | undefined {
  return error instanceof KeyFileError && error.code === "UNREADABLE"
    ? `check the path given after "with"`
    : undefined;
}
