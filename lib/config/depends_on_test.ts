import assert from "node:assert/strict";
import type { ConfigProblem } from "../errors.ts";
import { Checker } from "./checker.ts";
import { DEFAULT_CONDITION, DEPENDENCY_CONDITIONS, parseDependsOn, staysUp } from "./depends_on.ts";
import type { Dependency } from "./depends_on.ts";
import { YamlSource } from "./yaml_source.ts";

const FILE = "/srv/children/app.yml";

/** The dependencies `depends_on` of `text` gives, and the problems recorded on the way. */
function parse(
  text: string,
  self?: string,
): { deps: Dependency[]; problems: readonly ConfigProblem[] } {
  const source = YamlSource.parse(FILE, text);
  const check = new Checker(source);
  const map = check.record(source.value, [], "child config") ?? {};
  const deps = parseDependsOn(check, map.depends_on, self === undefined ? {} : { self });
  return { deps, problems: check.problems };
}

/** The dependencies of `text`, asserting it has no problem. */
function depsOf(text: string, self?: string): Dependency[] {
  const { deps, problems } = parse(text, self);
  assert.deepEqual(problems, []);
  return deps;
}

/** The one problem of `text`, as `line:col: message`. */
function problemOf(text: string, self?: string): string {
  const { problems } = parse(text, self);
  assert.equal(problems.length, 1, `expected one problem, got ${JSON.stringify(problems)}`);
  const [problem] = problems;
  assert.equal(problem!.file, FILE);
  return `${problem!.line}:${problem!.col}: ${problem!.message}`;
}

Deno.test("a list of names depends on each with the default condition, ready", () => {
  assert.equal(DEFAULT_CONDITION, "ready");
  assert.deepEqual(depsOf("depends_on: [db, cache]\n"), [
    { name: "db", condition: "ready" },
    { name: "cache", condition: "ready" },
  ]);
  assert.deepEqual(depsOf("depends_on:\n  - db\n  - cache\n"), [
    { name: "db", condition: "ready" },
    { name: "cache", condition: "ready" },
  ]);
});

Deno.test("a mapping gives each dependency its own condition, in the order written", () => {
  assert.deepEqual(
    depsOf("depends_on: { db: ready, migrate: completed_successfully, cache: started }\n"),
    [
      { name: "db", condition: "ready" },
      { name: "migrate", condition: "completed_successfully" },
      { name: "cache", condition: "started" },
    ],
  );
  assert.deepEqual(depsOf("depends_on:\n  job: completed\n"), [
    { name: "job", condition: "completed" },
  ]);
});

Deno.test("a single name is a dependency on that child", () => {
  assert.deepEqual(depsOf("depends_on: db\n"), [{ name: "db", condition: "ready" }]);
});

Deno.test("no depends_on, a null one or an empty one is no dependency", () => {
  assert.deepEqual(depsOf("command: x\n"), []);
  assert.deepEqual(depsOf("depends_on:\n"), []);
  assert.deepEqual(depsOf("depends_on: []\n"), []);
  assert.deepEqual(depsOf("depends_on: {}\n"), []);
});

Deno.test("a copy of a child with instances may be named, written without leading zeros", () => {
  assert.deepEqual(depsOf("depends_on: [web:1, shard:007]\n"), [
    { name: "web:1", condition: "ready" },
    { name: "shard:7", condition: "ready" },
  ]);
  assert.deepEqual(depsOf("depends_on: { 'web:0': started }\n"), [
    { name: "web:0", condition: "started" },
  ]);
});

Deno.test("an unknown condition is rejected at its value, with a suggestion", () => {
  assert.equal(
    problemOf("depends_on:\n  db: redy\n"),
    '2:7: the condition of "db" in depends_on must be one of started, ready, completed, ' +
      'completed_successfully, found "redy" (did you mean "ready"?)',
  );
});

Deno.test("docker compose's condition words are answered with ours", () => {
  assert.equal(
    problemOf("depends_on: { db: service_healthy }\n"),
    '1:19: the condition of "db" in depends_on must be one of started, ready, completed, ' +
      'completed_successfully, found "service_healthy" (did you mean "ready"?)',
  );
  assert.doesNotMatch(problemOf("depends_on: { db: constructor }\n"), /did you mean/);
  assert.match(
    problemOf("depends_on: { m: service_completed_successfully }\n"),
    /\(did you mean "completed_successfully"\?\)$/,
  );
});

Deno.test("a dependency without a condition in the mapping form is rejected", () => {
  assert.equal(
    problemOf("depends_on:\n  db:\n  cache: started\n"),
    '2:3: the condition of "db" in depends_on must be one of started, ready, completed, ' +
      "completed_successfully, found nothing",
  );
});

Deno.test("a name no child can have is rejected where it is written", () => {
  assert.equal(
    problemOf("depends_on: [db, 'bad name']\n"),
    '1:18: depends_on names no child: "bad name" is not a valid child name: expected a letter ' +
      'or digit, then letters, digits, ".", "_" or "-" (at most 128 characters)',
  );
  assert.equal(
    problemOf("depends_on:\n  all: ready\n"),
    '2:3: depends_on names no child: "all" is a reserved word and cannot name a child',
  );
  assert.match(problemOf("depends_on: [web:x]\n"), /^1:14: depends_on names no child: "web:x"/);
  assert.match(
    problemOf("depends_on: ['-x:1']\n"),
    /^1:14: depends_on names no child: "-x:1" is not a copy of a valid child name: "-x"/,
  );
});

Deno.test("a bad name and a bad condition of one entry are both reported", () => {
  const { deps, problems } = parse("depends_on: { 'a b': soon }\n");
  assert.deepEqual(deps, []);
  assert.deepEqual(problems.map((p) => [p.line, p.col]), [[1, 22], [1, 15]]);
});

Deno.test("an entry that is not a name is rejected, and the others are kept", () => {
  const { deps, problems } = parse("depends_on:\n  - db\n  - { cache: ready }\n  - ''\n");
  assert.deepEqual(deps, [{ name: "db", condition: "ready" }]);
  assert.deepEqual(problems, [
    {
      file: FILE,
      line: 3,
      col: 5,
      message: 'each entry of depends_on must be a non-empty string, found {"cache":"ready"}',
    },
    {
      file: FILE,
      line: 4,
      col: 5,
      message: 'each entry of depends_on must be a non-empty string, found ""',
    },
  ]);
});

Deno.test("depends_on of another type says what is expected", () => {
  assert.equal(
    problemOf("depends_on: 5\n"),
    "1:13: depends_on must be a list of child names or a mapping of child names to conditions " +
      "(started, ready, completed, completed_successfully), found 5",
  );
});

Deno.test("a name given twice is rejected at its second place", () => {
  assert.equal(
    problemOf("depends_on: [db, cache, db]\n"),
    '1:25: "db" is named twice in depends_on',
  );
  assert.equal(
    problemOf("depends_on: { 'web:1': ready, 'web:01': started }\n"),
    '1:31: "web:1" is named twice in depends_on',
  );
});

Deno.test("a child depending on itself or on a copy of itself is rejected", () => {
  assert.equal(
    problemOf("depends_on: [db, app]\n", "app"),
    '1:18: a child cannot depend on itself, but "app" does',
  );
  assert.equal(
    problemOf("depends_on:\n  app:2: started\n", "app"),
    '2:3: a child cannot depend on its own copy "app:2", but "app" does',
  );
  assert.deepEqual(depsOf("depends_on: [application]\n", "app"), [
    { name: "application", condition: "ready" },
  ]);
});

Deno.test("the path of the field may be given, for depends_on nested elsewhere", () => {
  const source = YamlSource.parse(FILE, "x:\n  needs: [db, 'a b']\n");
  const check = new Checker(source);
  const map = check.record(source.value, [], "file") ?? {};
  const inner = check.record(map.x, ["x"], "x") ?? {};
  const deps = parseDependsOn(check, inner.needs, { path: ["x", "needs"] });
  assert.deepEqual(deps, [{ name: "db", condition: "ready" }]);
  assert.deepEqual(check.problems.map((p) => [p.line, p.col]), [[2, 15]]);
});

Deno.test("only started and ready dependencies must stay up while their dependent runs", () => {
  assert.deepEqual(DEPENDENCY_CONDITIONS.filter(staysUp), ["started", "ready"]);
});
