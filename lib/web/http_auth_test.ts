import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { cookieOf, hostnameOf, HttpAuth, SESSION_MS } from "./http_auth.ts";

const TOKEN = "s3cret-token-0123456789";

function request(headers: Record<string, string>): Request {
  return new Request("http://127.0.0.1:9310/api/check", { headers });
}

async function withToken(clock = new FakeClock()): Promise<HttpAuth> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/token`, `  ${TOKEN}  \nsecond line ignored\n`);
    return await HttpAuth.load(`${dir}/token`, clock);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Host headers: the host name without port or brackets", () => {
  assert.equal(hostnameOf("127.0.0.1:9310"), "127.0.0.1");
  assert.equal(hostnameOf("[::1]:9310"), "::1");
  assert.equal(hostnameOf("LocalHost"), "localhost");
  assert.equal(hostnameOf(""), undefined);
  assert.equal(hostnameOf(null), undefined);
  assert.equal(cookieOf("a=1; supervisor_ts_session=ab=c; b=2", "supervisor_ts_session"), "ab=c");
  assert.equal(cookieOf(null, "x"), undefined);
});

Deno.test("without a token: loopback hosts only", async () => {
  const auth = await HttpAuth.load(undefined, new FakeClock());
  assert.equal(auth.required, false);
  assert.deepEqual(auth.check(request({ host: "localhost:9310" })), { ok: true, via: "open" });
  assert.deepEqual(auth.check(request({ host: "[::1]:9310" })), { ok: true, via: "open" });
  for (const host of ["127.0.0.1.evil.example", "127.attacker.example", "127.0.0.999"]) {
    assert.equal(auth.check(request({ host })).ok, false, host);
  }
  const rebound = auth.check(request({ host: "attacker.example" }));
  assert.equal(rebound.ok, false);
  assert.equal(!rebound.ok && rebound.status, 403);
  assert.equal(auth.login(TOKEN), undefined, "no token: nothing to log in with");
});

Deno.test("with a token: bearer or session cookie; sessions expire and log out", async () => {
  const clock = new FakeClock();
  const auth = await withToken(clock);
  assert.equal(auth.required, true);
  assert.deepEqual(auth.check(request({ authorization: `Bearer ${TOKEN}` })), {
    ok: true,
    via: "bearer",
  });
  for (const wrong of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, "Basic abc", ""]) {
    const admission = auth.check(request({ authorization: wrong }));
    assert.equal(admission.ok, false, wrong);
    assert.equal(!admission.ok && admission.status, 401);
  }
  assert.equal(auth.login("nope"), undefined);
  const cookie = auth.login(` ${TOKEN} `)!;
  const session = cookie.split(";")[0]!;
  assert.deepEqual(auth.check(request({ cookie: session })), { ok: true, via: "cookie" });
  await clock.advance(SESSION_MS);
  assert.equal(auth.check(request({ cookie: session })).ok, false, "expired");
  const second = auth.login(TOKEN)!.split(";")[0]!;
  assert.match(auth.logout(request({ cookie: second })), /Max-Age=0/);
  assert.equal(auth.check(request({ cookie: second })).ok, false, "logged out");
});

Deno.test("a token file that is missing or holds a short token is refused with the reason", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      HttpAuth.load(`${dir}/missing`, new FakeClock()),
      /http_token_file ".*missing" cannot be read/,
    );
    await Deno.writeTextFile(`${dir}/short`, "abc\n");
    await assert.rejects(
      HttpAuth.load(`${dir}/short`, new FakeClock()),
      /holds a token of 3 characters; use at least 16, e\.g\. from "openssl rand -hex 32"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
