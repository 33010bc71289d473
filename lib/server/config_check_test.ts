import assert from "node:assert/strict";
import { formatProblem } from "../errors.ts";
import { MemoryConfigSource } from "../testing/memory_config_source.ts";
import type { ServerIdentity } from "../config/users.ts";
import { checkConfig, checkExitCode, renderCheck } from "./config_check.ts";
import type { CheckOptions, CheckReport } from "./config_check.ts";

const SERVER = "/srv/server.yml";
const DIR = "/srv/children";

/** A server.yml with loadpath `children` and the given child files, checked in memory. */
async function check(
  serverYaml: string,
  children: Record<string, string>,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const source = new MemoryConfigSource();
  source.write(SERVER, serverYaml);
  for (const [file, text] of Object.entries(children)) source.write(`${DIR}/${file}`, text);
  return await checkConfig(SERVER, {
    source,
    identity: () => Promise.resolve(undefined),
    cwd: "/home/op",
    ...options,
  });
}

const BASE = "loadpaths: [children]\n";

/** Each problem as the check prints it. */
function lines(report: CheckReport): string[] {
  return report.problems.map(formatProblem);
}

Deno.test("valid files: no problem, every child named, exit 0", async () => {
  const report = await check(`${BASE}mode: full\n`, {
    "db.yml": "command: postgres\n",
    "web.yml": "command: web\ndepends_on: [db]\ninstances: 2\nhooks:\n  - prehook: start db\n",
  });
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.warnings, []);
  assert.equal(report.differences, undefined);
  assert.equal(checkExitCode(report), 0);
  assert.deepEqual(report.children.map((c) => [c.name, c.instances, c.valid]), [
    ["db", 1, true],
    ["web", 2, true],
  ]);
  assert.deepEqual(renderCheck(report), [
    "valid: /srv/server.yml and 2 child files; 2 children checked: db, web (2 instances)",
  ]);
});

Deno.test("each file's own problems, at their line and column", async () => {
  const report = await check(`${BASE}mode: fast\n`, {
    "web.yml": "command: web\nrestart: sometimes\n",
    "bad.yml": "command: [unclosed\n",
  });
  assert.equal(checkExitCode(report), 1);
  const text = lines(report);
  assert.ok(
    text.includes('/srv/server.yml:2:7: mode must be one of quiet, half, full, found "fast"'),
  );
  assert.ok(text.some((l) => l.startsWith("/srv/children/web.yml:2:10: restart must be one of")));
  assert.ok(text.some((l) => /^\/srv\/children\/bad\.yml:\d+:\d+: invalid YAML/.test(l)));
  assert.deepEqual(report.children.map((c) => [c.name, c.valid]), [["bad", false], ["web", false]]);
});

Deno.test("an invalid server.yml does not stop the check of its loadpaths", async () => {
  const report = await check(`${BASE}listenr_port: 1\n`, { "web.yml": "command: web\nfoo: 1\n" });
  const text = lines(report);
  assert.ok(text.some((l) => l.startsWith('/srv/server.yml:2:1: unknown key "listenr_port"')));
  assert.ok(text.some((l) => l.startsWith('/srv/children/web.yml:2:1: unknown key "foo"')));
});

Deno.test("hooks and depends_on naming children that are not defined", async () => {
  const report = await check(BASE, {
    "db.yml": "command: db\n",
    "web.yml": [
      "command: web",
      "depends_on: { dbb: ready, db: started }",
      "hooks:",
      "  - posthook: start cahce",
      "",
    ].join("\n"),
    "api.yml": "command: api\ndepends_on: [db:1]\n",
  });
  assert.deepEqual(lines(report), [
    '/srv/children/web.yml:4:15: posthook "start cahce" names the child "cahce", which is not defined in any loadpath',
    '/srv/children/api.yml:2:14: depends_on names "db:1", which is not defined in any loadpath ("db" has no instances)',
    '/srv/children/web.yml:2:15: depends_on names "dbb", which is not defined in any loadpath (did you mean "db"?)',
  ]);
});

Deno.test("dependency and prehook cycles, as a start would refuse them", async () => {
  const report = await check(BASE, {
    "a.yml": "command: a\ndepends_on: [b]\n",
    "b.yml": "command: b\ndepends_on: [a]\n",
    "c.yml": "command: c\nhooks:\n  - prehook: start d\n",
    "d.yml": "command: d\nhooks:\n  - prehook: restart c\n",
  });
  const text = lines(report);
  assert.equal(text.length, 4, text.join("\n"));
  assert.ok(text.includes(
    '/srv/children/a.yml:2:1: Cannot start child "a": its dependencies form a cycle: a -> b -> a',
  ));
  assert.ok(text.includes(
    '/srv/children/c.yml:2:1: Cannot start child "c": its prehooks form a cycle: c -> d -> c',
  ));
});

Deno.test("a dependency on an invalid child is reported in that child's file only", async () => {
  const report = await check(BASE, {
    "db.yml": "comand: db\n",
    "web.yml": "command: web\ndepends_on: [db]\nhooks:\n  - prehook: start db\n",
  });
  // An unknown key and a missing command, in db.yml; nothing in web.yml.
  assert.deepEqual(new Set(report.problems.map((p) => p.file)), new Set(["/srv/children/db.yml"]));
});

Deno.test("catalog problems point at their loadpath: missing, reserved names, one name twice", async () => {
  const source = new MemoryConfigSource();
  source.write(SERVER, "loadpaths:\n  - children\n  - more\n  - missing\n");
  source.write(`${DIR}/web.yml`, "command: web\n");
  source.write(`${DIR}/all.yml`, "command: all\n");
  source.write("/srv/more/web.yaml", "command: web\n");
  const report = await checkConfig(SERVER, { source, identity: () => Promise.resolve(undefined) });
  assert.deepEqual(lines(report), [
    '/srv/server.yml:2:5: "/srv/children/all.yml" is ignored: "all" is a reserved word and cannot name a child',
    '/srv/server.yml:4:5: loadpath "/srv/missing" cannot be read: does not exist',
    '/srv/server.yml:3:5: child "web" is defined more than once: "/srv/children/web.yml" and "/srv/more/web.yaml"; rename or remove all but one',
  ]);
});

Deno.test("user: on a server that is not root is refused, as the server refuses it", async () => {
  const identity: ServerIdentity = { uid: 1000, gid: 1000, user: "op", group: "op" };
  const report = await check(BASE, { "web.yml": "command: web\nuser: www-data\n" }, {
    identity: () => Promise.resolve(identity),
  });
  assert.equal(report.problems.length, 1);
  assert.match(formatProblem(report.problems[0]!), /^\/srv\/children\/web\.yml:2:1: /);
});

Deno.test("http_listen beyond loopback without a token is a problem of server.yml", async () => {
  const report = await check(`${BASE}http_listen: 0.0.0.0:9310\n`, {});
  assert.match(
    lines(report)[0]!,
    /^\/srv\/server\.yml:2:14: http_listen 0\.0\.0\.0:9310 is reachable/,
  );
});

Deno.test("warnings: an unknown startup name, a missing output directory, a broken env file", async () => {
  const report = await check(`${BASE}mode: half\nstartup: [web, wbe2]\n`, {
    "web.yml": [
      "command: web",
      "output:",
      "  - stdout: logs/web.out",
      "env_file: [web.env, missing.env]",
      "",
    ].join("\n"),
    "web.env": "A=1\nnot a line\n",
  });
  assert.deepEqual(lines(report), [
    '/srv/children/web.env:2:1: expected NAME=VALUE, found "not a line"',
  ]);
  assert.deepEqual(report.warnings.map(formatProblem), [
    '/srv/server.yml:3:16: startup child "wbe2" is not defined in any loadpath; the server will skip it (did you mean "web"?)',
    '/srv/children/web.yml:4:21: env_file "/srv/children/missing.env" cannot be read: it does not exist; the child cannot start until it can be read',
    '/srv/children/web.yml:3:13: the directory of output stdout "/srv/children/logs/web.out" does not exist; the child cannot start until it does',
  ]);
  const text = renderCheck(report);
  assert.ok(text.includes(
    '/srv/server.yml:3:16: warning: startup child "wbe2" is not defined in any loadpath; the server will skip it (did you mean "web"?)',
  ));
  assert.equal(
    text.at(-1),
    "invalid: 1 problem in 1 file, 3 warnings (2 files read); 1 child checked: web",
  );
});

Deno.test("an unreadable server.yml is the one problem", async () => {
  const report = await checkConfig("/nowhere/server.yml", { source: new MemoryConfigSource() });
  assert.deepEqual(lines(report), ["/nowhere/server.yml: cannot read config file: no such file"]);
  assert.equal(checkExitCode(report), 1);
});

Deno.test("--from-supervisor-rs: a refused difference carries supervisor-ts's problem, printed once", async () => {
  const report = await check(`${BASE}listener_addr: 127.0.0.1\n`, {
    "web.yml": "command: web\nautorestart: true\n",
  }, { fromSupervisorRs: true });
  assert.equal(checkExitCode(report), 1);
  assert.deepEqual(report.differences!.map((d) => [d.topic, d.refused]), [
    ["relative-loadpath", false],
    ["ignored-key", true],
  ]);
  const text = renderCheck(report);
  assert.equal(text.filter((l) => l.includes('unknown key "autorestart"')).length, 1);
  const at = text.findIndex((l) => l.startsWith("/srv/children/web.yml:2:1: refused, unlike"));
  assert.match(text[at + 1]!, /^ {4}supervisor-ts: unknown key "autorestart"/);
  assert.match(text[at + 2]!, /^ {4}fix: remove "autorestart"/);
  assert.equal(
    text.at(-1),
    "supervisor-rs 0.8.5: 2 differences, 1 of them refused by supervisor-ts; each with its fix above",
  );
});

Deno.test("--from-supervisor-rs: differences alone leave the exit status 0", async () => {
  const report = await check(BASE, { "web.yml": "command: sh -c 'exec web'\n" }, {
    fromSupervisorRs: true,
  });
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.differences!.map((d) => d.topic).sort(), [
    "command-split",
    "listener-addr",
    "relative-loadpath",
  ]);
  assert.equal(checkExitCode(report), 0);
});
