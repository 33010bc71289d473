import assert from "node:assert/strict";
import { HostSyntaxError } from "../errors.ts";
import { absolutePath, parseHost, parseHostList } from "./hosts.ts";

function assertHostError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof HostSyntaxError, `expected HostSyntaxError, got ${error}`);
    assert.ok(error instanceof SyntaxError);
    assert.equal(error.name, "HostSyntaxError");
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("an IPv4 address gets the default port 33889", () => {
  assert.deepEqual(parseHost("127.0.0.1"), {
    label: "127.0.0.1:33889",
    hostname: "127.0.0.1",
    port: 33889,
  });
});

Deno.test("a host name gets the default port", () => {
  assert.deepEqual(parseHost("localhost"), {
    label: "localhost:33889",
    hostname: "localhost",
    port: 33889,
  });
});

Deno.test("host:port uses the given port", () => {
  assert.deepEqual(parseHost("web-1.example.com:4000"), {
    label: "web-1.example.com:4000",
    hostname: "web-1.example.com",
    port: 4000,
  });
});

Deno.test("a caller may choose another default port", () => {
  assert.equal(parseHost("localhost", 5000).port, 5000);
  assert.equal(parseHost("localhost:6000", 5000).port, 6000);
});

Deno.test("surrounding spaces are ignored", () => {
  assert.equal(parseHost("  localhost:80 ").label, "localhost:80");
});

Deno.test("a bare IPv6 address such as ::1 gets the default port and a bracketed label", () => {
  assert.deepEqual(parseHost("::1"), { label: "[::1]:33889", hostname: "::1", port: 33889 });
  assert.equal(parseHost("fe80::1:2").hostname, "fe80::1:2");
});

Deno.test("[::1]:4000 is an IPv6 address with a port", () => {
  assert.deepEqual(parseHost("[::1]:4000"), { label: "[::1]:4000", hostname: "::1", port: 4000 });
});

Deno.test("[::1] without a port gets the default port", () => {
  assert.deepEqual(parseHost("[::1]"), { label: "[::1]:33889", hostname: "::1", port: 33889 });
});

Deno.test("a port outside 1 to 65535 or not a number is refused", () => {
  assertHostError(
    () => parseHost("host:0"),
    'Invalid port "0" in host "host:0": expected 1 to 65535',
  );
  assertHostError(
    () => parseHost("host:65536"),
    'Invalid port "65536" in host "host:65536": expected 1 to 65535',
  );
  assertHostError(
    () => parseHost("host:http"),
    'Invalid port "http" in host "host:http": expected 1 to 65535',
  );
  assertHostError(() => parseHost("host:"), 'Invalid port "" in host "host:": expected 1 to 65535');
  assertHostError(
    () => parseHost("[::1]:-1"),
    'Invalid port "-1" in host "[::1]:-1": expected 1 to 65535',
  );
  assertHostError(
    () => parseHost("host:80.5"),
    'Invalid port "80.5" in host "host:80.5": expected 1 to 65535',
  );
});

Deno.test("a malformed bracketed address is refused", () => {
  assertHostError(() => parseHost("[::1"), 'Invalid host "[::1": missing "]"');
  assertHostError(
    () => parseHost("[::1]4000"),
    'Invalid host "[::1]4000": expected ":PORT" after "]"',
  );
  assertHostError(() => parseHost("[]:80"), 'Invalid host "[]:80"');
});

Deno.test("an empty host or one with spaces, slashes or @ is refused", () => {
  assertHostError(() => parseHost(""), "Empty host name");
  assertHostError(() => parseHost("   "), "Empty host name");
  assertHostError(() => parseHost(":80"), 'Invalid host ":80"');
  assertHostError(() => parseHost("a b"), 'Invalid host "a b"');
  assertHostError(() => parseHost("user@host"), 'Invalid host "user@host"');
  assertHostError(() => parseHost("host/path"), 'Invalid host "host/path"');
});

Deno.test("an ssh:// host names the ssh destination, its port and the server's port", () => {
  assert.deepEqual(parseHost("ssh://deploy@web1:2222/4000"), {
    label: "ssh://deploy@web1:2222/4000",
    hostname: "web1",
    port: 4000,
    ssh: { destination: "deploy@web1", sshPort: 2222 },
  });
  assert.deepEqual(parseHost("ssh://web1"), {
    label: "ssh://web1/33889",
    hostname: "web1",
    port: 33889,
    ssh: { destination: "web1", sshPort: undefined },
  });
  assert.equal(parseHost("ssh://root@[::1]:22/5000").ssh?.destination, "root@::1");
});

Deno.test("an ssh:// host that ssh would read as an option, or another scheme, is refused", () => {
  assert.throws(() => parseHost("ssh://-oProxyCommand=x"), HostSyntaxError);
  assert.throws(() => parseHost("ssh://bad user@h"), HostSyntaxError);
  assert.throws(() => parseHost("http://h"), /the http:\/\/ transport does not exist/);
});

Deno.test('a quoted list "h1, h2" gives each host in order', () => {
  assert.deepEqual(parseHostList("h1, h2:4000,[::1]:5000"), [
    { label: "h1:33889", hostname: "h1", port: 33889 },
    { label: "h2:4000", hostname: "h2", port: 4000 },
    { label: "[::1]:5000", hostname: "::1", port: 5000 },
  ]);
  assert.deepEqual(parseHostList("solo").map((h) => h.label), ["solo:33889"]);
});

Deno.test("a list with an empty entry is refused", () => {
  assertHostError(() => parseHostList("h1,,h2"), 'Invalid host list "h1,,h2": empty entry');
  assertHostError(() => parseHostList("h1, "), 'Invalid host list "h1, ": empty entry');
  assertHostError(() => parseHostList(""), 'Invalid host list "": empty entry');
});

Deno.test("a list with one bad host is refused with that host's problem", () => {
  assertHostError(
    () => parseHostList("h1, h2:99999"),
    'Invalid port "99999" in host "h2:99999": expected 1 to 65535',
  );
});

Deno.test("unix:PATH is the server's control socket at an absolute path", () => {
  assert.deepEqual(parseHost("unix:/run/supervisor-ts.sock"), {
    label: "unix:/run/supervisor-ts.sock",
    unix: { path: "/run/supervisor-ts.sock" },
  });
  assert.equal(parseHost(" unix:/tmp/a b.sock ").label, "unix:/tmp/a b.sock");
});

Deno.test("unix:relative/path is resolved against the client's current directory", () => {
  assert.deepEqual(parseHost("unix:run/s.sock", undefined, "/home/ops"), {
    label: "unix:/home/ops/run/s.sock",
    unix: { path: "/home/ops/run/s.sock" },
  });
  assert.deepEqual(parseHost("unix:../s.sock", undefined, "/home/ops").unix, {
    path: "/home/s.sock",
  });
  assert.equal(parseHost("unix:s.sock").label, `unix:${Deno.cwd()}/s.sock`);
});

Deno.test("unix: without a path, or written as a URL, is refused with the expected form", () => {
  assertHostError(
    () => parseHost("unix:"),
    'Invalid host "unix:": expected unix:PATH, the path of the server\'s control_socket',
  );
  assertHostError(
    () => parseHost("unix:///run/s.sock"),
    'Invalid host "unix:///run/s.sock": write unix:PATH, e.g. unix:/run/s.sock',
  );
});

Deno.test("a list may mix unix: sockets with TCP and ssh hosts", () => {
  assert.deepEqual(
    parseHostList("unix:/run/a.sock, h1:4000, ssh://web1").map((h) => h.label),
    ["unix:/run/a.sock", "h1:4000", "ssh://web1/33889"],
  );
});

Deno.test("unix: paths are made absolute as node:path's resolve would", () => {
  assert.equal(absolutePath("s.sock", "/run/x"), "/run/x/s.sock");
  assert.equal(absolutePath("./a/../s.sock", "/run/x"), "/run/x/s.sock");
  assert.equal(absolutePath("../../../s.sock", "/run/x"), "/s.sock");
  assert.equal(absolutePath("/srv//a/./b/", "/ignored"), "/srv/a/b");
  assert.equal(absolutePath(".", "/"), "/");
});
