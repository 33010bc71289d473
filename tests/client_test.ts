/**
 * Black-box tests of the client: help, usage errors, hosts, fleets, JSON output.
 */
import assert from "node:assert/strict";
import { runClient, startServer } from "./harness.ts";

Deno.test("help, --help and --version print and exit 0", async () => {
  for (const args of [["help"], ["--help"], ["-h"], ["check", "--help"]]) {
    const run = await runClient(args);
    assert.equal(run.code, 0, args.join(" "));
    assert.match(run.stdout, /Usage: supervisor-ts-client <op>/);
  }
  const version = await runClient(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^supervisor-ts-client \d+\.\d+\.\d+\n$/);
});

Deno.test("usage errors exit 2 with a message and a pointer to help", async () => {
  const cases: [string[], RegExp][] = [
    [[], /No operation given/],
    [["frobnicate"], /Unknown operation "frobnicate"/],
    [["start"], /"start" needs a child name/],
    [["check", "on"], /"on" needs a host/],
    [["check", "on", "host:99999"], /Invalid port "99999"/],
    [["check", "--timeout", "0"], /--timeout needs a number of seconds/],
    [["check", "--bogus"], /Unknown option "--bogus"/],
    [["kill", "web"], /"kill" takes no child name/],
  ];
  for (const [args, message] of cases) {
    const run = await runClient(args);
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, message);
    assert.match(run.stderr, /Run "supervisor-ts-client --help"/);
  }
});

Deno.test("an unreachable host fails with exit 1 and a message naming it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const run = await runClient(["check", "on", `127.0.0.1:${port}`]);
  assert.equal(run.code, 1);
  assert.match(
    run.stdout,
    new RegExp(
      `Server 127\\.0\\.0\\.1:${port} response:\\nerror: cannot reach 127\\.0\\.0\\.1:${port}: connection refused`,
    ),
  );
});

Deno.test("several hosts are answered in the order given, then a summary line", async () => {
  await using one = await startServer({ children: { a: "command: sleep 1000\n" } });
  await using two = await startServer({ children: { b: "command: sleep 1000\n" } });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const down = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  const run = await runClient(["check", "on", `${two.address}, ${down}`, "on", one.address]);
  assert.equal(run.code, 1);
  const headers = [...run.stdout.matchAll(/^Server (\S+) response:$/gm)].map((m) => m[1]);
  assert.deepEqual(headers, [two.address, down, one.address]);
  assert.match(
    run.stdout,
    new RegExp(`2 ok, 1 failed: ${down.replace(/\./g, "\\.")} \\(connection refused\\)\\s*$`),
  );

  const json = await runClient(["check", "on", one.address, "on", two.address, "--json"]);
  assert.equal(json.code, 0);
  const parsed = JSON.parse(json.stdout) as {
    host: string;
    ok: boolean;
    data: { children: { name: string }[] };
  }[];
  assert.deepEqual(parsed.map((p) => [p.host, p.ok, p.data.children[0]!.name]), [
    [one.address, true, "a"],
    [two.address, true, "b"],
  ]);
});

Deno.test("check --json lists children with name, state, pid, restarts and last_exit", async () => {
  await using server = await startServer({
    children: { a: "command: sleep 1000\n", b: "command: sleep 1000\n" },
  });
  await server.json("start", "a");
  const result = await server.json("check");
  assert.equal(result.ok, true);
  const children = result.data!.children as Record<string, unknown>[];
  assert.deepEqual(children.map((c) => c.name), ["a", "b"]);
  for (const c of children) {
    for (const key of ["name", "state", "pid", "restarts", "last_exit"]) assert.ok(key in c, key);
  }
  assert.equal(typeof children[0]!.pid, "number");
  assert.equal(children[1]!.pid, null);
  assert.equal(children[1]!.last_exit, null);
});

Deno.test("hosts may be written as localhost, [::1]:port or a bare ::1", async () => {
  await using server = await startServer({ serverYaml: "" });
  const run = await runClient(["info", "on", `localhost:${server.port}`, "--timeout", "5"]);
  // localhost may resolve to ::1 first; the server listens on 127.0.0.1 only, so accept either answer
  // but require that the client named the host as given.
  assert.match(run.stdout, new RegExp(`Server localhost:${server.port} response:`));
  const v6 = await runClient(["info", "on", `[::1]:${server.port}`]);
  assert.match(v6.stdout, new RegExp(`Server \\[::1\\]:${server.port} response:`));
});
