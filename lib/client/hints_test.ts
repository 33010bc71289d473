import assert from "node:assert/strict";
import { KeyFileError } from "../errors.ts";
import { keyFileHint, refusalHint, unreachableHint, withHint } from "./hints.ts";
import { parseHost } from "./hosts.ts";
import { ERROR_CODES } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";

const TCP = parseHost("10.0.0.5:4000");
const SSH = parseHost("ssh://ops@web1:2222/4000");
const UNIX = parseHost("unix:/run/supervisor-ts.sock");

Deno.test("a refused connection asks whether the server runs on that port", () => {
  assert.equal(
    unreachableHint({ code: "REFUSED", reason: "connection refused" }, TCP),
    "is the server running on that port?",
  );
});

Deno.test("a timeout suggests checking the host and raising --timeout", () => {
  const hint = unreachableHint({ code: "TIMED_OUT", reason: "timed out" }, TCP)!;
  assert.match(hint, /--timeout/);
  assert.match(hint, /host/);
});

Deno.test("a host name that is not found asks to check its spelling", () => {
  assert.equal(
    unreachableHint({ code: "HOST_NOT_FOUND", reason: "host name not found" }, parseHost("webb1")),
    'check the spelling of "webb1", or give its IP address',
  );
});

Deno.test("a port that closes without answering or speaks another protocol gets a next step", () => {
  assert.match(
    unreachableHint({ code: "CLOSED", reason: "closed without answering" }, TCP)!,
    /port 4000/,
  );
  assert.match(
    unreachableHint({ code: "NOT_V2", reason: "answer is not protocol v2 JSON" }, TCP)!,
    /supervisor-rs/,
  );
  assert.match(
    unreachableHint({ code: "BAD_ANSWER", reason: "bad answer: response lacks ok" }, TCP)!,
    /--version/,
  );
  assert.match(unreachableHint({ code: "RESET", reason: "connection reset" }, TCP)!, /try again/);
});

Deno.test("ssh failures get a hint that matches what ssh said", () => {
  assert.equal(
    unreachableHint({
      code: "SSH_FAILED",
      reason: "ssh: channel 0: open failed: connect failed: Connection refused",
    }, SSH),
    "is the server running on port 4000 of web1?",
  );
  assert.match(
    unreachableHint(
      { code: "SSH_FAILED", reason: "ssh: ops@web1: Permission denied (publickey)" },
      SSH,
    )!,
    /"ssh -p 2222 ops@web1" logs in without a password/,
  );
  assert.match(
    unreachableHint({ code: "SSH_FAILED", reason: "ssh: Host key verification failed." }, SSH)!,
    /run "ssh -p 2222 ops@web1" once by hand/,
  );
  assert.match(
    unreachableHint({
      code: "SSH_FAILED",
      reason: "ssh: connect to host web1 port 2222: Connection refused",
    }, SSH)!,
    /is sshd running on web1 port 2222\?/,
  );
  assert.match(
    unreachableHint({
      code: "SSH_FAILED",
      reason: "ssh: Could not resolve hostname web1: Name or service not known",
    }, SSH)!,
    /spelling of "web1"/,
  );
  assert.equal(
    unreachableHint({ code: "SSH_FAILED", reason: "ssh exited with code 255" }, SSH),
    'run "ssh -p 2222 ops@web1" by hand to see why it fails',
  );
  assert.match(
    unreachableHint({ code: "SSH_NOT_FOUND", reason: 'ssh command "ssh" not found' }, SSH)!,
    /SUPERVISOR_TS_SSH/,
  );
});

Deno.test("an unknown reason gets no invented hint", () => {
  assert.equal(unreachableHint({ code: "OTHER", reason: "error" }, TCP), undefined);
  assert.equal(withHint("m", undefined), "m");
  assert.equal(withHint("m", "h"), "m (h)");
});

Deno.test("the server's words on signing and refusals that say what to do get no hint", () => {
  const none: ErrorCode[] = [
    "UNKNOWN_KEY",
    "FORBIDDEN",
    "STALE_REQUEST",
    "BAD_SIGNATURE",
    "SIGNATURE_REQUIRED",
    "REPLAYED",
    "ALREADY_RUNNING",
    "BUSY",
  ];
  for (const code of none) {
    assert.equal(refusalHint({ op: "start", child: "web", code, message: "x" }), undefined, code);
  }
});

Deno.test("NOT_RUNNING gets a hint unless the server already suggested an operation", () => {
  const refusal = { op: "stop", child: "web", code: "NOT_RUNNING" as const };
  assert.equal(
    refusalHint({ ...refusal, message: 'Cannot stop child "web": it is not running' }),
    '"check web" shows how it last exited',
  );
  assert.equal(
    refusalHint({
      ...refusal,
      op: "restart",
      message:
        'Cannot restart child "web": it is not running (state EXITED); use start or trystart',
    }),
    undefined,
  );
});

Deno.test("every error code has a decision on hints, and the hints are one line", () => {
  for (const code of ERROR_CODES) {
    const hint = refusalHint({ op: "start", child: "web", code, message: "m" });
    if (hint !== undefined) assert.doesNotMatch(hint, /\n/, code);
  }
  assert.match(
    refusalHint({ op: "x", child: undefined, code: "UNKNOWN_OP", message: "" })!,
    /version/,
  );
});

Deno.test("an unreadable key file points to the path given after with", () => {
  assert.equal(
    keyFileHint(
      new KeyFileError("UNREADABLE", 'cannot read key file "k.pem": No such file or directory'),
    ),
    'check the path given after "with"',
  );
  assert.equal(
    keyFileHint(new KeyFileError("NOT_PEM", '"k.pem" is not a PEM private key (make one with …)')),
    undefined,
  );
});

Deno.test("a refused or missing control socket asks whether the server runs with that control_socket", () => {
  for (const reason of ["connection refused", "no socket at /run/supervisor-ts.sock"]) {
    assert.equal(
      unreachableHint({ code: "REFUSED", reason }, UNIX),
      "is the server running with control_socket: /run/supervisor-ts.sock?",
    );
  }
});

Deno.test("a control socket the client may not open suggests running as the server's user", () => {
  assert.equal(
    unreachableHint({ code: "PERMISSION_DENIED", reason: "permission denied" }, UNIX),
    "the control socket has mode 0600: run the client as the user the server runs as",
  );
  assert.equal(unreachableHint({ code: "OTHER", reason: "something else" }, UNIX), undefined);
});

Deno.test("hints for a control socket speak of the socket, not of a port or a host name", () => {
  for (const code of ["RESET", "TIMED_OUT", "CLOSED", "NOT_V2", "BAD_ANSWER"] as const) {
    const hint = unreachableHint({ code, reason: "x" }, UNIX) ?? "";
    assert.doesNotMatch(hint, /\bport\b|host|spelling/, code);
  }
  assert.match(
    unreachableHint({ code: "CLOSED", reason: "closed without answering" }, UNIX)!,
    /\/run\/supervisor-ts\.sock/,
  );
});

Deno.test("a start that exited early points to the child's stderr", () => {
  const refusal = { op: "start", code: "EXITED_EARLY" as const, message: "m" };
  assert.equal(
    refusalHint({ ...refusal, child: "db" }),
    '"log db --stderr" shows more of what it wrote',
  );
  assert.equal(
    refusalHint({ ...refusal, child: undefined }),
    '"log NAME --stderr" shows more of what a child wrote',
  );
  assert.equal(
    refusalHint({ ...refusal, child: "all" }),
    '"log NAME --stderr" shows more of what a child wrote',
  );
});

Deno.test("a bulk failure and an unknown signal get no hint: the answer says it already", () => {
  for (const code of ["SOME_FAILED", "BAD_SIGNAL"] as const) {
    assert.equal(refusalHint({ op: "signal", child: "all", code, message: "m" }), undefined);
  }
});
