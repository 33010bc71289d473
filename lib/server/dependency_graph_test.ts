import assert from "node:assert/strict";
import type { Dependency, DependencyCondition } from "../config/depends_on.ts";
import { SupervisorError } from "../errors.ts";
import {
  dependenciesOf,
  graphOf,
  nodesOf,
  startOrder,
  startPlan,
  startProblems,
  stopOrder,
  stopPlan,
} from "./dependency_graph.ts";
import type { DependencyGraph } from "./dependency_graph.ts";

/** A graph from `{ app: ["db", "migrate=completed"] }`: names, each with `=condition` or ready. */
function graph(spec: Record<string, readonly string[]>): DependencyGraph {
  return new Map(
    Object.entries(spec).map(([name, deps]) => [name, deps.map(dependency)]),
  );
}

function dependency(text: string): Dependency {
  const [name, condition = "ready"] = text.split("=");
  return { name: name!, condition: condition as DependencyCondition };
}

/** The SupervisorError `run` throws. */
function thrown(run: () => unknown): SupervisorError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof SupervisorError, `expected a SupervisorError, got ${error}`);
    return error;
  }
  assert.fail("expected an error");
}

const NONE: ReadonlySet<string> = new Set();

// ---- start

Deno.test("a child without dependencies starts alone in one layer", () => {
  assert.deepEqual(startPlan(["ticker"], graph({ ticker: [], web: [] })), [["ticker"]]);
  assert.deepEqual(startPlan([], graph({ ticker: [] })), []);
});

Deno.test("a chain starts from its far end, one layer per step", () => {
  const g = graph({ web: ["app"], app: ["db"], db: [] });
  assert.deepEqual(startPlan(["web"], g), [["db"], ["app"], ["web"]]);
  assert.deepEqual(startPlan(["app"], g), [["db"], ["app"]]);
});

Deno.test("a diamond starts its shared dependency once, and both middles together", () => {
  const g = graph({ app: ["left", "right"], left: ["base"], right: ["base"], base: [] });
  assert.deepEqual(startPlan(["app"], g), [["base"], ["left", "right"], ["app"]]);
});

Deno.test("independent branches share their layers, so they start in parallel", () => {
  const g = graph({
    web: ["db"],
    worker: ["queue"],
    db: [],
    queue: [],
    unrelated: [],
  });
  assert.deepEqual(startPlan(["web", "worker"], g), [["db", "queue"], ["web", "worker"]]);
});

Deno.test("a child waits for its deepest dependency, even when it also needs a nearer one", () => {
  const g = graph({ app: ["cache", "db"], cache: ["db"], db: [] });
  assert.deepEqual(startPlan(["app"], g), [["db"], ["cache"], ["app"]]);
});

Deno.test("targets keep their order, and a target named twice or needed by another starts once", () => {
  const g = graph({ b: [], a: [], app: ["a"] });
  assert.deepEqual(startPlan(["b", "a", "b"], g), [["b", "a"]]);
  assert.deepEqual(startPlan(["a", "app"], g), [["a"], ["app"]]);
});

Deno.test("a long chain is planned without growing the call stack", () => {
  const spec: Record<string, string[]> = { c0: [] };
  for (let i = 1; i < 20_000; i++) spec[`c${i}`] = [`c${i - 1}`];
  const plan = startPlan(["c19999"], graph(spec));
  assert.equal(plan.length, 20_000);
  assert.deepEqual(plan[0], ["c0"]);
  assert.deepEqual(plan[19_999], ["c19999"]);
});

Deno.test("a dependency to run to completion is started before its dependent, like any other", () => {
  const g = graph({
    app: ["migrate=completed_successfully", "db=started"],
    migrate: ["db"],
    db: [],
  });
  assert.deepEqual(startPlan(["app"], g), [["db"], ["migrate"], ["app"]]);
});

Deno.test("a dependency on a child with instances is a dependency on every copy", () => {
  const g = graphOf([
    { name: "app", instances: 1, dependsOn: [{ name: "web", condition: "started" }] },
    { name: "web", instances: 2, dependsOn: [] },
    { name: "one", instances: 1, dependsOn: [{ name: "web:1", condition: "ready" }] },
  ]);
  assert.deepEqual(startPlan(["app"], g), [["web:0", "web:1"], ["app"]]);
  assert.deepEqual(startPlan(["one"], g), [["web:1"], ["one"]]);
  assert.deepEqual(startPlan(["web"], g), [["web:0", "web:1"]]);
  assert.deepEqual(dependenciesOf("app", g), [
    { name: "web:0", condition: "started" },
    { name: "web:1", condition: "started" },
  ]);
});

Deno.test("the copies of a child with instances each depend on what the child does", () => {
  const g = graphOf([
    { name: "web", instances: 3, dependsOn: [{ name: "db", condition: "ready" }] },
    { name: "db", instances: 1, dependsOn: [] },
  ]);
  assert.deepEqual([...g.keys()], ["web:0", "web:1", "web:2", "db"]);
  assert.deepEqual(startPlan(["web:2"], g), [["db"], ["web:2"]]);
  assert.deepEqual(startPlan(["web"], g), [["db"], ["web:0", "web:1", "web:2"]]);
});

Deno.test("the nodes a name stands for: itself, its copies, or nothing", () => {
  const g = graphOf([
    { name: "db", instances: 1, dependsOn: [] },
    { name: "web", instances: 2, dependsOn: [] },
  ]);
  assert.deepEqual(nodesOf("db", g), ["db"]);
  assert.deepEqual(nodesOf("web", g), ["web:0", "web:1"]);
  assert.deepEqual(nodesOf("web:1", g), ["web:1"]);
  assert.equal(nodesOf("web:2", g), undefined);
  assert.equal(nodesOf("dbb", g), undefined);
});

// ---- cycles

Deno.test("a child depending on itself is a cycle of one", () => {
  const error = thrown(() => startPlan(["app"], graph({ app: ["app"] })));
  assert.equal(error.code, "CONFIG_INVALID");
  assert.equal(error.child, "app");
  assert.equal(
    error.message,
    'Cannot start child "app": its dependencies form a cycle: app -> app',
  );
});

Deno.test("two children depending on each other are a cycle named from the target", () => {
  const g = graph({ app: ["db"], db: ["app"] });
  assert.equal(
    thrown(() => startPlan(["app"], g)).message,
    'Cannot start child "app": its dependencies form a cycle: app -> db -> app',
  );
  assert.equal(
    thrown(() => startPlan(["db"], g, "restart")).message,
    'Cannot restart child "db": its dependencies form a cycle: db -> app -> db',
  );
});

Deno.test("a cycle of three is named in full", () => {
  const g = graph({ a: ["b"], b: ["c"], c: ["a"] });
  assert.equal(
    thrown(() => startPlan(["a"], g)).message,
    'Cannot start child "a": its dependencies form a cycle: a -> b -> c -> a',
  );
});

Deno.test("a cycle further down is named without the way to it", () => {
  const g = graph({ web: ["app"], app: ["db"], db: ["cache"], cache: ["app"] });
  const error = thrown(() => startPlan(["web"], g));
  assert.equal(
    error.message,
    'Cannot start child "web": its dependencies form a cycle: app -> db -> cache -> app',
  );
  assert.equal(error.child, "web");
});

Deno.test("a cycle through every copy of a child with instances is found", () => {
  const g = graphOf([{
    name: "web",
    instances: 2,
    dependsOn: [{ name: "web", condition: "ready" }],
  }]);
  assert.match(thrown(() => startPlan(["web"], g)).message, /form a cycle: web:0 -> web:0$/);
});

Deno.test("a cycle the targets do not reach does not stop them", () => {
  const g = graph({ web: ["db"], db: [], a: ["b"], b: ["a"] });
  assert.deepEqual(startPlan(["web"], g), [["db"], ["web"]]);
});

Deno.test("a diamond is not a cycle", () => {
  const g = graph({ a: ["b", "c"], b: ["d"], c: ["d"], d: [] });
  assert.deepEqual(startPlan(["a", "b", "c", "d"], g), [["d"], ["b", "c"], ["a"]]);
});

// ---- names not defined

Deno.test("a dependency that is not defined names who needs it, with a suggestion", () => {
  const g = graph({ app: ["dbb"], db: [], web: ["app"] });
  const error = thrown(() => startPlan(["app"], g));
  assert.equal(error.code, "CONFIG_INVALID");
  assert.equal(error.child, "app");
  assert.equal(
    error.message,
    'Cannot start child "app": it depends on "dbb", which is not defined (did you mean "db"?)',
  );
  assert.equal(
    thrown(() => startPlan(["web"], g)).message,
    'Cannot start child "web": "app" depends on "dbb", which is not defined (did you mean "db"?)',
  );
});

Deno.test("a dependency far from every name is reported without a suggestion", () => {
  assert.equal(
    thrown(() => startPlan(["app"], graph({ app: ["postgres"], db: [] }))).message,
    'Cannot start child "app": it depends on "postgres", which is not defined',
  );
});

Deno.test("a copy that does not exist is reported with the copies there are", () => {
  const g = graphOf([
    { name: "app", instances: 1, dependsOn: [{ name: "web:5", condition: "ready" }] },
    { name: "api", instances: 1, dependsOn: [{ name: "db:0", condition: "ready" }] },
    { name: "web", instances: 2, dependsOn: [] },
    { name: "db", instances: 1, dependsOn: [] },
  ]);
  assert.equal(
    thrown(() => startPlan(["app"], g)).message,
    'Cannot start child "app": it depends on "web:5", which is not defined ("web" has copies web:0 to web:1)',
  );
  assert.equal(
    thrown(() => startPlan(["api"], g)).message,
    'Cannot start child "api": it depends on "db:0", which is not defined ("db" has no instances)',
  );
});

Deno.test("a target that is not defined is NOT_FOUND, with a suggestion", () => {
  const error = thrown(() => startPlan(["wbe"], graph({ web: [] })));
  assert.equal(error.code, "NOT_FOUND");
  assert.equal(error.child, "wbe");
  assert.equal(
    error.message,
    'Cannot start child "wbe": no child of that name is defined (did you mean "web"?)',
  );
});

Deno.test("dependenciesOf refuses a name not defined in the words of the operation", () => {
  assert.equal(
    thrown(() => dependenciesOf("app", graph({ app: ["db"] }), "trystart")).message,
    'Cannot trystart child "app": it depends on "db", which is not defined',
  );
});

Deno.test("startProblems reports each child that cannot start, and only those", () => {
  const g = graph({
    ok: ["db"],
    db: [],
    broken: ["nope"],
    needsBroken: ["broken"],
    loop: ["loop"],
  });
  const problems = startProblems([...g.keys()], g);
  assert.deepEqual([...problems.keys()], ["broken", "needsBroken", "loop"]);
  assert.equal(
    problems.get("needsBroken")!.message,
    'Cannot start child "needsBroken": "broken" depends on "nope", which is not defined',
  );
  assert.match(problems.get("loop")!.message, /cycle: loop -> loop$/);
  const fine = [...g.keys()].filter((name) => !problems.has(name));
  assert.deepEqual(startPlan(fine, g), [["db"], ["ok"]]);
});

// ---- start order of given names

Deno.test("startOrder orders exactly the names given, adding none", () => {
  const g = graph({ web: ["app"], app: ["db"], db: [], ticker: [] });
  assert.deepEqual(startOrder(["ticker", "web", "db"], g), [["ticker", "db"], ["web"]]);
  assert.deepEqual(startOrder([...g.keys()], g), startPlan([...g.keys()], g));
});

Deno.test("startOrder refuses a cycle among the names as startPlan does", () => {
  assert.equal(
    thrown(() => startOrder(["a"], graph({ a: ["b"], b: ["a"] }))).code,
    "CONFIG_INVALID",
  );
});

// ---- stop

Deno.test("stopping a child nobody depends on stops it alone", () => {
  const g = graph({ web: ["db"], db: [] });
  assert.deepEqual(stopPlan(["web"], g, new Set(["web", "db"])), [["web"]]);
});

Deno.test("stopping a root stops every running child that depends on it first, layer by layer", () => {
  const g = graph({ web: ["app"], app: ["db"], worker: ["db"], db: [], ticker: [] });
  const running = new Set(["web", "app", "worker", "db", "ticker"]);
  assert.deepEqual(stopPlan(["db"], g, running), [["web", "worker"], ["app"], ["db"]]);
});

Deno.test("a stop leaves out the dependents that are not running", () => {
  const g = graph({ web: ["app"], app: ["db"], worker: ["db"], db: [] });
  assert.deepEqual(stopPlan(["db"], g, new Set(["app", "db"])), [["app"], ["db"]]);
  assert.deepEqual(stopPlan(["db"], g, NONE), [["db"]]);
});

Deno.test("a running child that needs the stopped one through a stopped child still stops first", () => {
  const g = graph({ web: ["app"], app: ["db"], db: [] });
  assert.deepEqual(stopPlan(["db"], g, new Set(["web", "db"])), [["web"], ["db"]]);
});

Deno.test("the children asked for are in the plan even when they are not running", () => {
  const g = graph({ app: ["db"], db: [] });
  assert.deepEqual(stopPlan(["db"], g, (name) => name === "app"), [["app"], ["db"]]);
});

Deno.test("stopping the bottom of a diamond stops the top, then both middles together", () => {
  const g = graph({ app: ["left", "right"], left: ["base"], right: ["base"], base: [] });
  const running = new Set(g.keys());
  assert.deepEqual(stopPlan(["base"], g, running), [["app"], ["left", "right"], ["base"]]);
  assert.deepEqual(stopPlan(["left"], g, running), [["app"], ["left"]]);
});

Deno.test("a child that only needed another to complete does not stop with it", () => {
  const g = graph({
    app: ["migrate=completed_successfully", "cache=started"],
    migrate: [],
    cache: [],
    job: ["migrate=completed"],
  });
  const running = new Set(g.keys());
  assert.deepEqual(stopPlan(["migrate"], g, running), [["migrate"]]);
  assert.deepEqual(stopPlan(["cache"], g, running), [["app"], ["cache"]]);
});

Deno.test("stopping a child with instances stops every copy, after their dependents", () => {
  const g = graphOf([
    { name: "lb", instances: 1, dependsOn: [{ name: "web", condition: "ready" }] },
    { name: "pin", instances: 1, dependsOn: [{ name: "web:1", condition: "ready" }] },
    { name: "web", instances: 2, dependsOn: [] },
  ]);
  const running = new Set(g.keys());
  assert.deepEqual(stopPlan(["web"], g, running), [["lb", "pin"], ["web:0", "web:1"]]);
  assert.deepEqual(stopPlan(["web:0"], g, running), [["lb"], ["web:0"]]);
});

Deno.test("a name the graph does not define is stopped with the running children naming it", () => {
  // web.yml was removed while web runs; app's file still depends on it.
  const g = graph({ app: ["web"] });
  assert.deepEqual(stopPlan(["web"], g, new Set(["web", "app"])), [["app"], ["web"]]);
  assert.deepEqual(stopPlan(["ghost"], g, new Set(["app"])), [["ghost"]]);
});

Deno.test("a stop never fails over a cycle, and each child of it stops once", () => {
  const g = graph({ a: ["b"], b: ["c"], c: ["a"], d: ["a"] });
  const running = new Set(g.keys());
  const plan = stopPlan(["a"], g, running);
  assert.deepEqual(plan.flat().sort(), ["a", "b", "c", "d"]);
  assert.deepEqual(plan.at(-1), ["a"]);
  assert.deepEqual(stopPlan(["x"], graph({ x: ["x"] }), new Set(["x"])), [["x"]]);
});

Deno.test("stopOrder puts dependents first and keeps independent children together", () => {
  const g = graph({ web: ["app"], app: ["db"], worker: ["db"], db: [], ticker: [] });
  assert.deepEqual(stopOrder([...g.keys()], g), [["web", "worker", "ticker"], ["app"], ["db"]]);
});

Deno.test("stopOrder orders only the names given, also through a child left out", () => {
  const g = graph({ web: ["app"], app: ["db"], db: [], ticker: [] });
  assert.deepEqual(stopOrder(["db", "web", "ticker"], g), [["web", "ticker"], ["db"]]);
});

Deno.test("stopOrder of a graph with a cycle and a missing name still names every child", () => {
  const g = graph({ a: ["b"], b: ["a"], c: ["nope"] });
  assert.deepEqual(stopOrder(["a", "b", "c"], g).flat().sort(), ["a", "b", "c"]);
});

Deno.test("shutdown order is the start order reversed for a chain", () => {
  const g = graph({ web: ["app"], app: ["db"], db: [] });
  assert.deepEqual(stopOrder([...g.keys()], g), startPlan(["web"], g).reverse());
});
