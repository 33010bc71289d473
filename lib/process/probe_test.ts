/**
 * Tests of one probe check against real listeners, servers and commands, and of LogMatcher.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LogMatcher, PROBE_USER_AGENT, probeCheck, runProbe } from "./probe.ts";
import type { ProbeContext, ProbeSpec } from "./probe.ts";

/** A context that never aborts, in the system's temporary directory. */
function context(overrides: Partial<ProbeContext> = {}): ProbeContext {
  return { signal: new AbortController().signal, cwd: "/tmp", env: {}, ...overrides };
}

/** An exec probe of `sh -c SCRIPT`. */
function sh(script: string, timeoutMs = 5000): ProbeSpec {
  return { kind: "exec", argv: ["sh", "-c", script], timeoutMs };
}

/** A port on 127.0.0.1 that nothing listens on (just closed). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** Whether process `pid` still exists (a zombie counts as gone). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

Deno.test("a tcp check succeeds when something listens on the port, and fails when not", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = listener.addr.port;
    assert.equal(
      await runProbe({ kind: "tcp", host: "127.0.0.1", port, timeoutMs: 1000 }, context()),
      true,
    );
  } finally {
    listener.close();
  }
  const port = closedPort();
  assert.equal(
    await runProbe({ kind: "tcp", host: "127.0.0.1", port, timeoutMs: 1000 }, context()),
    false,
  );
});

Deno.test("an http check counts 2xx and 3xx as success, sends no keep-alive, follows no redirect", async () => {
  const seen: { path: string; connection: string | null; agent: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    seen.push({
      path,
      connection: request.headers.get("connection"),
      agent: request.headers.get("user-agent"),
    });
    if (path === "/moved") return Response.redirect(new URL("/broken", request.url), 302);
    if (path === "/broken") return new Response("down", { status: 500 });
    if (path === "/missing") return new Response("no", { status: 404 });
    return new Response("ok");
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const check = (path: string) =>
      runProbe({ kind: "http", url: `${base}${path}`, timeoutMs: 2000 }, context());
    assert.equal(await check("/healthz"), true);
    assert.equal(await check("/moved"), true);
    assert.equal(await check("/broken"), false);
    assert.equal(await check("/missing"), false);
    assert.deepEqual(seen.map((s) => s.path), ["/healthz", "/moved", "/broken", "/missing"]);
    assert.ok(seen.every((s) => s.connection === "close" && s.agent === PROBE_USER_AGENT));
  } finally {
    await server.shutdown();
  }
  const port = closedPort();
  assert.equal(
    await runProbe({ kind: "http", url: `http://127.0.0.1:${port}/`, timeoutMs: 1000 }, context()),
    false,
  );
});

Deno.test("an http check that gets no answer within its timeout fails", async () => {
  const { promise: release, resolve } = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await release;
    return new Response("late");
  });
  try {
    const started = performance.now();
    const url = `http://127.0.0.1:${server.addr.port}/`;
    assert.equal(await runProbe({ kind: "http", url, timeoutMs: 100 }, context()), false);
    assert.ok(performance.now() - started < 2000);
  } finally {
    resolve();
    await server.shutdown();
  }
});

Deno.test("an exec check succeeds on exit 0 and fails on any other exit or a missing program", async () => {
  assert.equal(await runProbe(sh("exit 0"), context()), true);
  assert.equal(await runProbe(sh("exit 1"), context()), false);
  assert.equal(await runProbe(sh("kill -TERM $$"), context()), false);
  assert.equal(
    await runProbe({ kind: "exec", argv: ["/nonexistent/probe"], timeoutMs: 1000 }, context()),
    false,
  );
});

Deno.test("an exec check runs in the child's directory with the child's environment added", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/marker`, "");
    const where = { cwd: dir, env: { PROBE_WANTED: "yes" } };
    assert.equal(await probeCheck(sh("test -f marker"), where)(new AbortController().signal), true);
    assert.equal(await runProbe(sh('test "$PROBE_WANTED" = yes'), context(where)), true);
    assert.equal(await runProbe(sh('test -n "$PATH"'), context(where)), true);
    assert.equal(await runProbe(sh("test -f marker"), context()), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an exec check that outlives its timeout fails, and its whole process group is killed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const started = performance.now();
    const ok = await runProbe(sh(`sleep 10 & echo $! > ${dir}/pid; sleep 10`, 200), context());
    assert.equal(ok, false);
    assert.ok(performance.now() - started < 3000);
    const background = Number(await Deno.readTextFile(`${dir}/pid`));
    for (let i = 0; i < 50 && await alive(background); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await alive(background), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an aborted context ends a check at once as a failure, or never starts it", async () => {
  const controller = new AbortController();
  const running = runProbe(sh("sleep 10"), context({ signal: controller.signal }));
  setTimeout(() => controller.abort(), 50);
  const started = performance.now();
  assert.equal(await running, false);
  assert.ok(performance.now() - started < 3000);
  assert.equal(await runProbe(sh("exit 0"), context({ signal: controller.signal })), false);
});

Deno.test("a log probe is not run", async () => {
  await assert.rejects(
    runProbe({ kind: "log", pattern: /x/, source: "x", timeoutMs: 1000 }, context()),
    TypeError,
  );
});

Deno.test("a log matcher remembers the first line that matched", () => {
  const matcher = new LogMatcher(/ready to accept connections/);
  assert.equal(matcher.matched, false);
  assert.equal(matcher.offer("starting up"), false);
  assert.equal(matcher.offer("database system is ready to accept connections"), true);
  assert.equal(matcher.matched, true);
  assert.equal(matcher.offer("something else"), true);
});

Deno.test("a log matcher given a global pattern still tests every line afresh", () => {
  const matcher = new LogMatcher(/ready/g);
  const global = /ready/g;
  assert.equal(global.test("ready"), true);
  assert.equal(global.test("ready"), false); // what lastIndex would do
  assert.equal(matcher.offer("not yet"), false);
  assert.equal(matcher.offer("ready"), true);
  const sticky = new LogMatcher(/ready/y);
  assert.equal(sticky.offer("now ready"), true);
});
