/**
 * The HTTP endpoint against a real server: the JSON API (the control protocol's responses),
 * who may read and who may act, the page's event stream, the refusals at startup, CPU and
 * memory in `check`, `max_memory`, and `events` / `events --follow` from the real client.
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { cleanEnv, CLIENT_ENTRY, exchange, startServer, waitUntil } from "./harness.ts";

const SLEEPER = "command: sleep 1000\nstart_seconds: 0.2\n";
const TOKEN = "0123456789abcdef0123456789abcdef";

async function getJson(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
}

/** Reads an event stream until `until` holds for the events read so far, or `ms` passes. */
async function readEvents(
  response: Response,
  until: (events: { event: string; data: Record<string, unknown> }[]) => boolean,
  ms = 10_000,
): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { event: string; data: Record<string, unknown> }[] = [];
  let buffer = "";
  const deadline = Date.now() + ms;
  try {
    while (!until(events)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`events never matched; have ${JSON.stringify(events)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const next = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), left))),
      ]);
      clearTimeout(timer);
      if (next === null || next.done) continue;
      buffer += next.value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) {
          events.push({ event, data: JSON.parse(data) });
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}

Deno.test("the JSON API answers with the control protocol's responses, read-only by default", async () => {
  await using server = await startServer({
    serverYaml: "http_listen: 127.0.0.1:0",
    children: { web: SLEEPER, idle: SLEEPER },
  });
  const base = await server.httpUrl();
  await server.client("start", "web");
  const api = await getJson(`${base}/api/check`);
  assertEquals(api.status, 200);
  assertEquals(api.body.ok, true);
  const children = (api.body.data as { children: { name: string; state: string }[] }).children;
  assertEquals(children.map((c) => [c.name, c.state]), [["idle", "STOPPED"], ["web", "RUNNING"]]);
  // The same shape as the control port's answer.
  const wire = await server.request({ op: "check" });
  assertEquals(
    Object.keys((wire.data as { children: Record<string, unknown>[] }).children[0]!).sort(),
    Object.keys((api.body.data as { children: Record<string, unknown>[] }).children[0]!).sort(),
  );
  // check samples CPU and memory of a running child.
  const web = (api.body.data as { children: { name: string; resources: unknown }[] }).children
    .find((c) => c.name === "web")!;
  const resources = web.resources as { rss_bytes: number; processes: number };
  assert(resources.rss_bytes > 0, JSON.stringify(web));
  assertEquals(resources.processes, 1);

  const info = await getJson(`${base}/api/info`);
  assertEquals((info.body.data as { pid: number }).pid, server.pid);
  const one = await getJson(`${base}/api/check?child=nope`);
  assertEquals([one.status, one.body.code], [404, "NOT_FOUND"]);
  const changes = await getJson(`${base}/api/changes`);
  const events = (changes.body.data as { events: { child: string; to: string }[] }).events;
  assert(events.some((e) => e.child === "web" && e.to === "RUNNING"), JSON.stringify(events));

  // Acting is off unless server.yml turns it on; the child keeps running.
  const stop = await getJson(`${base}/api/stop`, {
    method: "POST",
    body: JSON.stringify({ child: "web" }),
    headers: { "x-requested-with": "supervisor-ts" },
  });
  assertEquals([stop.status, stop.body.code], [403, "FORBIDDEN"]);
  assertStringIncludes(String(stop.body.message), "http_actions: on");
  assertEquals((await server.child("web")).state, "RUNNING");

  // A page of another site whose name was rebound to 127.0.0.1 names that site in Host.
  // (fetch sends the URL's own Host, whatever it is told: a raw request says what a browser
  // would.)
  const port = Number(new URL(base).port);
  const rebound = await exchange(
    port,
    "GET /api/check HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    { halfClose: false },
  );
  assertMatch(rebound, /^HTTP\/1\.1 403 /);
  assertStringIncludes(rebound, '"code":"FORBIDDEN"');
  assertStringIncludes(rebound, "is not this machine's loopback");
  const local = await exchange(
    port,
    "GET /api/info HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    { halfClose: false },
  );
  assertMatch(local, /^HTTP\/1\.1 200 /);
  const missing = await getJson(`${base}/nope`);
  assertEquals([missing.status, missing.body.code], [404, "NOT_FOUND"]);

  // The page's files: with an ETag, a 304 when unchanged, and a policy that allows only itself.
  const page = await fetch(`${base}/`);
  const html = await page.text();
  assertStringIncludes(html, "<html");
  assertStringIncludes(page.headers.get("content-security-policy") ?? "", "default-src 'none'");
  const etag = page.headers.get("etag")!;
  const again = await fetch(`${base}/`, { headers: { "if-none-match": etag } });
  await again.body?.cancel();
  assertEquals(again.status, 304);
  // Audited and counted as requests of the http dialect.
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assertMatch(metrics, /supervisor_requests_total\{op="check",code="OK"\} \d+/);
  assertMatch(metrics, /supervisor_requests_total\{op="start",code="OK"\} 1/);
});

Deno.test("with a token file, every request needs the token; actions need http_actions and a browser's header", async () => {
  const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-http-" });
  const tokenFile = join(dir, "http.token");
  await Deno.writeTextFile(tokenFile, `${TOKEN}\n`);
  await using server = await startServer({
    serverYaml: `http_listen: 127.0.0.1:0\nhttp_token_file: ${tokenFile}\nhttp_actions: on`,
    children: { web: SLEEPER },
  });
  try {
    const base = await server.httpUrl();
    assertStringIncludes(server.stdout.text, "(token required) with actions");
    const anonymous = await getJson(`${base}/api/check`);
    assertEquals([anonymous.status, anonymous.body.code], [401, "AUTH_REQUIRED"]);
    const metricsAnonymous = await fetch(`${base}/metrics`);
    await metricsAnonymous.body?.cancel();
    assertEquals(metricsAnonymous.status, 401);
    const wrong = await getJson(`${base}/api/check`, { headers: { authorization: "Bearer nope" } });
    assertEquals([wrong.status, wrong.body.message], [401, "Wrong token"]);
    const bearer = { authorization: `Bearer ${TOKEN}` };
    assertEquals((await getJson(`${base}/api/check`, { headers: bearer })).status, 200);
    // The page itself holds no data: it loads without the token, and then asks for it.
    const page = await fetch(`${base}/`);
    await page.body?.cancel();
    assertEquals(page.status, 200);

    // A script acts with the bearer token.
    const start = await getJson(`${base}/api/start`, {
      method: "POST",
      headers: bearer,
      body: JSON.stringify({ child: "web" }),
    });
    assertEquals([start.status, start.body.ok], [200, true]);
    assertEquals((await server.child("web")).state, "RUNNING");
    const again = await getJson(`${base}/api/start`, {
      method: "POST",
      headers: bearer,
      body: JSON.stringify({ child: "web" }),
    });
    assertEquals([again.status, again.body.code], [409, "ALREADY_RUNNING"]);

    // A browser logs in with the token and gets a session cookie.
    const badLogin = await fetch(`${base}/login`, { method: "POST", body: "token=nope" });
    await badLogin.body?.cancel();
    assertEquals(badLogin.status, 401);
    const login = await fetch(`${base}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${TOKEN}`,
    });
    await login.body?.cancel();
    assertEquals(login.status, 204);
    const cookie = login.headers.get("set-cookie")!;
    assertMatch(cookie, /^supervisor_ts_session=[0-9a-f]{64}; HttpOnly; SameSite=Strict/);
    const session = { cookie: cookie.split(";")[0]! };
    assertEquals((await getJson(`${base}/api/info`, { headers: session })).status, 200);
    // A cookie rides along with requests other sites' pages make: an action also needs the
    // header such a page cannot send.
    const forged = await getJson(`${base}/api/stop`, {
      method: "POST",
      headers: session,
      body: JSON.stringify({ child: "web" }),
    });
    assertEquals([forged.status, forged.body.code], [403, "FORBIDDEN"]);
    assertEquals((await server.child("web")).state, "RUNNING");
    const stop = await getJson(`${base}/api/stop`, {
      method: "POST",
      headers: { ...session, "x-requested-with": "supervisor-ts" },
      body: JSON.stringify({ child: "web" }),
    });
    assertEquals([stop.status, stop.body.ok], [200, true]);
    assertEquals((await server.child("web")).state, "STOPPED");
    const bad = await getJson(`${base}/api/restart`, {
      method: "POST",
      headers: bearer,
      body: "not json",
    });
    assertEquals([bad.status, bad.body.code], [400, "BAD_REQUEST"]);
    const logout = await fetch(`${base}/logout`, { method: "POST", headers: session });
    await logout.body?.cancel();
    assertEquals((await getJson(`${base}/api/info`, { headers: session })).status, 401);
    assertStringIncludes(server.stderr.text, "a login with a wrong token was refused");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the server refuses to start with an HTTP endpoint it cannot make safe, and says why", async (t) => {
  const cases: { name: string; yaml: string; token?: string; expect: RegExp }[] = [
    {
      name: "beyond loopback without a token",
      yaml: "http_listen: 0.0.0.0:0",
      expect: /http_listen 0\.0\.0\.0:0 is reachable beyond this machine.*set http_token_file/,
    },
    {
      name: "actions without a token",
      yaml: "http_listen: 127.0.0.1:0\nhttp_actions: on",
      expect:
        /http_actions: on lets the page start, stop and restart children, so it needs a token/,
    },
    {
      name: "a token too short",
      yaml: "http_listen: 127.0.0.1:0\nhttp_token_file: short.token",
      token: "abc",
      expect: /holds a token of 3 characters; use at least 16/,
    },
    {
      name: "a token file that is not there",
      yaml: "http_listen: 127.0.0.1:0\nhttp_token_file: missing.token",
      expect: /http_token_file ".*missing\.token" cannot be read/,
    },
    {
      name: "an address that is not HOST:PORT",
      yaml: "http_listen: 9310",
      expect: /http_listen must be HOST:PORT \(127\.0\.0\.1:9310, \[::1\]:9310\), found "9310"/,
    },
    {
      name: "a token without http_listen",
      yaml: "http_token_file: x.token",
      expect: /http_token_file has no effect without http_listen/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const server = await startServer({ serverYaml: c.yaml, expectFailure: true });
      try {
        if (c.token !== undefined) {
          await Deno.writeTextFile(join(server.dir, "short.token"), c.token);
        }
        const status = await server.exited;
        assertEquals(status.code, 1);
        await server.stderr.done;
        assertMatch(server.stderr.text, c.expect);
        assert(!server.stdout.text.includes("listening on"), server.stdout.text);
      } finally {
        await server[Symbol.asyncDispose]();
      }
    });
  }
});

Deno.test("the page's event stream: the server and every child, then each change as it happens", async () => {
  await using server = await startServer({
    serverYaml: "http_listen: 127.0.0.1:0\nsample_interval: 0.2",
    children: {
      web: SLEEPER,
      crasher: "command: sleep 1000\nrestart: never\nstart_seconds: 0.2\n",
    },
  });
  const base = await server.httpUrl();
  await server.client("start", "web");
  await server.client("start", "crasher");
  const crasher = await server.child("crasher");
  const response = await fetch(`${base}/api/events`);
  assertEquals(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  let killed = false;
  const events = await readEvents(response, (seen) => {
    if (!killed && seen.some((e) => e.event === "check")) {
      killed = true;
      Deno.kill(crasher.pid!, "SIGKILL");
    }
    return seen.some((e) => e.event === "child" && e.data.name === "crasher") &&
      seen.some((e) => e.event === "resources");
  });
  assertEquals(events[0]!.event, "hello");
  assertEquals(events[0]!.data.actions, false);
  assertEquals(events[1]!.event, "check");
  const change = events.find((e) => e.event === "change")!.data;
  assertEquals([change.child, change.from, change.to], ["crasher", "RUNNING", "EXITED"]);
  assertEquals((change.exit as { signal: string }).signal, "SIGKILL");
  const child = events.find((e) => e.event === "child")!.data;
  assertEquals(child.state, "EXITED");
  const sample = events.find((e) => e.event === "resources")!.data;
  assert("web" in (sample.children as Record<string, unknown>), JSON.stringify(sample));
  const history = await getJson(`${base}/api/resources`);
  assertEquals(history.body.period_ms, 200);
  assert(((history.body.children as Record<string, unknown[]>).web ?? []).length > 0);
});

Deno.test("max_memory restarts a child that stays above it, recorded as memory limit", async () => {
  // The shell keeps 24 MiB in a variable: well above the 8 MiB limit.
  const hog = [
    `command: sh -c 'x=$(head -c 25165824 /dev/zero | tr "\\\\0" a); echo ready; sleep 1000'`,
    "max_memory: { limit: 8M, samples: 2 }",
    "start_seconds: 0",
    "backoff: { initial: 0.1, max: 0.1 }",
  ].join("\n");
  await using server = await startServer({
    serverYaml: "sample_interval: 0.2",
    children: { hog },
  });
  await server.client("start", "hog");
  const child = await server.waitChild("hog", (c) => c.history.length > 0, 20_000);
  const exit = child.history[0]!;
  assertEquals(exit.reason, "memory limit");
  assertEquals(exit.requested, false);
  assertMatch(
    server.stderr.text,
    /child "hog" \(pid \d+\) used [\d.]+M \(over max_memory 8\.00M\) for 2 samples in a row: ending it/,
  );
  const events = await server.json("events");
  const change = (events.data as { events: { child: string; reason: string | null }[] }).events
    .find((e) => e.child === "hog" && e.reason !== null);
  assertEquals(change?.reason, "memory limit");
  // It is started again, and so on: a restart, not a stop.
  await server.waitChild("hog", (c) => c.restarts >= 1 && c.pid !== null, 20_000);
});

Deno.test("check shows CPU and memory; events lists changes and --follow prints each as it happens", async () => {
  await using server = await startServer({ children: { web: SLEEPER } });
  await server.client("start", "web");
  const table = await server.client("check");
  assertMatch(table.stdout, /NAME +STATE +PID +UPTIME +RESTARTS +CPU +MEM +LAST EXIT/);
  assertMatch(table.stdout, /web +RUNNING +\d+ +\S+ +0 +(-|\d+\.\d%) +[\d.]+[KM] +-/);
  const detail = await server.client("check", "web");
  assertMatch(detail.stdout, /resources: +.*resident in 1 process, sampled at /);

  const text = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLIENT_ENTRY, "events", "--follow", "on", server.address],
    env: cleanEnv(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const json = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLIENT_ENTRY, "events", "-f", "--json", "on", server.address],
    env: cleanEnv(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const textOut = collect(text.stdout);
  const jsonOut = collect(json.stdout);
  // Once both print a change they follow for sure: then every later change must show.
  await waitUntil(async () => {
    await server.client("restart", "web");
    return /STARTING -> RUNNING/.test(textOut.text) && /"to":"RUNNING"/.test(jsonOut.text);
  }, 20_000);
  const before = textOut.text.length;
  await server.client("stop", "web");
  await waitUntil(() => /STOPPING -> STOPPED/.test(textOut.text.slice(before)), 10_000);
  text.kill("SIGINT");
  json.kill("SIGINT");
  assertEquals((await text.status).code, 0);
  assertEquals((await json.status).code, 0);
  await Promise.all([textOut.done, jsonOut.done, text.stderr.cancel(), json.stderr.cancel()]);
  assertMatch(
    textOut.text.slice(before),
    /^\S+Z web RUNNING -> STOPPING\n\S+Z web STOPPING -> STOPPED signal SIGTERM \(stopped\)\n$/,
  );
  const lines = jsonOut.text.trim().split("\n").map((l) => JSON.parse(l));
  assert(lines.every((l) => l.host === server.address && typeof l.at === "string"), jsonOut.text);
  assert(lines.some((l) => l.from === "STARTING" && l.to === "RUNNING"), jsonOut.text);

  const listed = await server.client("events");
  assertMatch(listed.stdout, /web STARTING -> RUNNING/);
  assertMatch(listed.stdout, /\d+ recent changes of state/);
  const misuse = await server.client("events", "web");
  assertEquals(misuse.code, 2);
  assertStringIncludes(misuse.stderr, `"events" takes no child name, found "web"`);
});

function collect(stream: ReadableStream<Uint8Array>): { text: string; done: Promise<void> } {
  const out = { text: "", done: Promise.resolve() };
  out.done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) out.text += chunk;
  })();
  return out;
}

function assert(value: unknown, message?: string): asserts value {
  nodeAssert.ok(value, message);
}

function assertEquals<T>(actual: T, expected: T): void {
  nodeAssert.deepEqual(actual, expected);
}

function assertMatch(text: string, pattern: RegExp): void {
  nodeAssert.match(text, pattern);
}

function assertStringIncludes(text: string, part: string): void {
  nodeAssert.ok(text.includes(part), `expected ${JSON.stringify(part)} in:\n${text}`);
}

Deno.test("HTTP connections are bounded: a flood of idle ones closes the oldest, never the newcomer", async () => {
  // limits.max_follows 1: one event stream and 64 connections beside it, 65 in all.
  await using server = await startServer({
    serverYaml: "http_listen: 127.0.0.1:0\nlimits: { max_follows: 1 }",
    children: { web: SLEEPER },
  });
  const base = await server.httpUrl();
  const port = Number(new URL(base).port);
  const idle: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 200; i++) idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    const answer = await getJson(`${base}/api/info`);
    assertEquals(answer.status, 200);
    // The oldest were closed to make room: reading them ends at once.
    const first = await Promise.race([
      idle[0]!.read(new Uint8Array(16)).catch(() => null),
      new Promise((resolve) => setTimeout(() => resolve("open"), 3000)),
    ]);
    assertEquals(first, null);
    assertEquals((await server.client("check")).code, 0);
    // Within what the bound allows once the evicted ones are closed on both sides: at most 65
    // connections, 3 descriptors each (without the bound: 600 and more).
    const fds = () => [...Deno.readDirSync(`/proc/${server.pid}/fd`)].length;
    await waitUntil(() => fds() < 300, 5_000, "the evicted connections to be closed");
  } finally {
    for (const conn of idle) {
      try {
        conn.close();
      } catch {
        // closed by the server
      }
    }
  }
});

Deno.test("a request body that never ends neither holds up SIGTERM nor lives past its timeout; a big one is refused", async () => {
  const server = await startServer({
    serverYaml: "http_listen: 127.0.0.1:0",
    children: { web: SLEEPER },
  });
  try {
    const base = await server.httpUrl();
    const port = Number(new URL(base).port);
    const big = await getJson(`${base}/login`, {
      method: "POST",
      body: "token=" + "x".repeat(5000),
    });
    assertEquals([big.status, big.body.code], [413, "TOO_LARGE"]);
    await server.client("start", "web");
    const pid = (await server.child("web")).pid!;
    const slow = await Deno.connect({ hostname: "127.0.0.1", port });
    await slow.write(
      new TextEncoder().encode(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000\r\n\r\ntoken=",
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const status = await server.stop();
    assertEquals(status.code, 0);
    assert(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    let alive = true;
    try {
      Deno.kill(pid, "SIGCONT");
    } catch {
      alive = false;
    }
    assertEquals(alive, false);
    try {
      slow.close();
    } catch {
      // closed by the server
    }
  } finally {
    await server[Symbol.asyncDispose]();
  }
});
