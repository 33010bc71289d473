/**
 * The order of starts and stops that `depends_on` asks for, planned in full before anything
 * runs: which children a start brings along and which a stop takes down, as layers — every
 * child of a layer may be acted on in parallel once the layers before it are done.
 *
 * The graph is a plain map from each child's name to its `depends_on`, built by the caller
 * from one config snapshot ({@link graphOf}). A child with `instances` is one node per copy
 * (`web:0`, `web:1`); a dependency on its base name (`web`) is a dependency on every copy.
 *
 * Starting follows every dependency: a `completed` one must run to its end first, so it is
 * started too. A start refuses a cycle or a dependency on a child that is not defined, with
 * nothing started. Stopping follows only the dependencies that must stay up (`started`,
 * `ready`), and never fails over the config: a stop must always be possible, so a cycle is
 * broken where it closes and an unknown name is stopped on its own.
 *
 * Owns: resolving dependency names, closures, layers, and the errors of a bad graph. Does not
 * own: reading configs, waiting for a condition, or running the operations
 * (`lib/server/supervisor.ts`).
 *
 * @module
 */
import { splitInstance } from "../config/instances.ts";
import { staysUp } from "../config/depends_on.ts";
import type { Dependency } from "../config/depends_on.ts";
import { SupervisorError } from "../errors.ts";
import { suggest } from "../suggest.ts";

/** Each child (each copy of a child with instances) and what it depends on, as written. */
export type DependencyGraph = ReadonlyMap<string, readonly Dependency[]>;

/** What {@link graphOf} needs of a child's config. */
export interface GraphEntry {
  readonly name: string;
  /** How many copies run; 1 (or less): the child itself. */
  readonly instances: number;
  readonly dependsOn: readonly Dependency[];
}

/** The graph of `children`: a node per child, or per copy (`web:0` …) with `instances` > 1. */
export function graphOf(children: Iterable<GraphEntry>): Map<string, readonly Dependency[]> {
  const graph = new Map<string, readonly Dependency[]>();
  for (const child of children) {
    if (child.instances <= 1) graph.set(child.name, child.dependsOn);
    else {
      for (let i = 0; i < child.instances; i++) graph.set(`${child.name}:${i}`, child.dependsOn);
    }
  }
  return graph;
}

/**
 * The nodes `name` stands for in `graph`: itself, or every copy of a child with instances;
 * undefined when it is neither.
 */
export function nodesOf(name: string, graph: DependencyGraph): string[] | undefined {
  return new Resolver(graph).nodes(name);
}

/**
 * What `name` depends on, each name resolved to nodes of `graph` (a child with instances gives
 * one entry per copy, with the same condition). Throws SupervisorError CONFIG_INVALID, in the
 * words of `op` on `name`, when a dependency is not defined.
 */
export function dependenciesOf(
  name: string,
  graph: DependencyGraph,
  op = "start",
): Dependency[] {
  return new Resolver(graph).dependencies(name, name, op);
}

/**
 * Every child to start for `targets` — the targets and everything they depend on, through any
 * number of steps — in layers: a child's dependencies are all in earlier layers, and each child
 * is in the earliest layer that allows. Within a layer, children come in the order the walk
 * finishes them (targets in the order given, each after what it depends on).
 *
 * Throws SupervisorError, in the words of `op` on the target concerned: NOT_FOUND for a target
 * that is not defined, CONFIG_INVALID for a dependency that is not defined or for a cycle
 * (`app -> db -> app`).
 */
export function startPlan(
  targets: readonly string[],
  graph: DependencyGraph,
  op = "start",
): string[][] {
  return layers(walkDependencies(targets, graph, op));
}

/**
 * Exactly the children `names` stand for, in dependency order, as layers: what is needed first
 * comes first, also when the need goes through a child outside `names`. Nothing is added: a
 * dependency outside `names` is the caller's to have started. Throws as {@link startPlan}.
 */
export function startOrder(
  names: readonly string[],
  graph: DependencyGraph,
  op = "start",
): string[][] {
  const resolver = new Resolver(graph);
  const keep = new Set(names.flatMap((name) => resolver.nodes(name) ?? []));
  return layers(walkDependencies(names, graph, op), (name) => keep.has(name));
}

/**
 * Why each of `names` cannot be started, as {@link startPlan} would throw it; the children
 * missing from the map can be. Lets `start all` start the others and report these one by one.
 */
export function startProblems(
  names: readonly string[],
  graph: DependencyGraph,
  op = "start",
): Map<string, SupervisorError> {
  const problems = new Map<string, SupervisorError>();
  for (const name of names) {
    try {
      walkDependencies([name], graph, op);
    } catch (error) {
      if (!(error instanceof SupervisorError)) throw error;
      problems.set(name, error);
    }
  }
  return problems;
}

/**
 * Every child to stop for `targets`, in layers: the targets (whether running or not: the caller
 * reports those that are not) and every running child that depends on one of them, directly or
 * through others, by a dependency that must stay up (`started`, `ready`). A child comes in a
 * layer after every child that depends on it, in the earliest such layer. Never throws: a name
 * unknown to the graph is stopped with the running children that name it, and a cycle is broken
 * where the walk closes it.
 */
export function stopPlan(
  targets: readonly string[],
  graph: DependencyGraph,
  running: ReadonlySet<string> | ((name: string) => boolean),
): string[][] {
  const resolver = new Resolver(graph);
  const roots = targets.flatMap((name) => resolver.nodes(name) ?? [name]);
  const isRunning = typeof running === "function" ? running : (name: string) => running.has(name);
  const asked = new Set(roots);
  const dependents = resolver.dependents();
  const depths = walk(roots, (name) => dependents.get(name) ?? [], () => {});
  return layers(depths, (name) => asked.has(name) || isRunning(name));
}

/**
 * Exactly the children `names` stand for, dependents first, as layers: for `stop all` and a
 * shutdown (pass the running children). Never throws, as {@link stopPlan}.
 */
export function stopOrder(names: readonly string[], graph: DependencyGraph): string[][] {
  return stopPlan(names, graph, () => false);
}

/** The depths of the walk from `targets` through dependencies, throwing on a bad graph. */
function walkDependencies(
  targets: readonly string[],
  graph: DependencyGraph,
  op: string,
): Map<string, number> {
  const resolver = new Resolver(graph);
  let target = "";
  const next = (name: string) =>
    resolver.dependencies(name, target, op).map((dependency) => dependency.name);
  const onCycle = (chain: readonly string[]) => {
    throw new SupervisorError(
      "CONFIG_INVALID",
      `Cannot ${op} child "${target}": its dependencies form a cycle: ${chain.join(" -> ")}`,
      { child: target },
    );
  };
  const depths = new Map<string, number>();
  for (const name of targets) {
    target = name;
    const nodes = resolver.nodes(name);
    if (nodes === undefined) {
      throw new SupervisorError(
        "NOT_FOUND",
        `Cannot ${op} child "${name}": no child of that name is defined${resolver.hint(name)}`,
        { child: name },
      );
    }
    walk(nodes, next, onCycle, depths);
  }
  return depths;
}

/**
 * Walks depth first from `roots` along `next`, and gives each node reached its depth: 0 when
 * `next` gives nothing, else one more than the deepest of those. `onCycle` hears of each edge
 * that closes a cycle (with the chain, first node repeated at the end); the edge is then left
 * out. Nodes are entered in `depths` as the walk finishes them. Iterative: a long chain does
 * not grow the call stack.
 */
function walk(
  roots: readonly string[],
  next: (name: string) => readonly string[],
  onCycle: (chain: readonly string[]) => void,
  depths = new Map<string, number>(),
): Map<string, number> {
  interface Frame {
    readonly name: string;
    readonly edges: readonly string[];
    at: number;
    deepest: number;
  }
  const stack: Frame[] = [];
  const onStack = new Set<string>();
  const enter = (name: string) => {
    stack.push({ name, edges: next(name), at: 0, deepest: -1 });
    onStack.add(name);
  };
  for (const root of roots) {
    if (depths.has(root)) continue;
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const to = top.edges[top.at++];
      if (to !== undefined) {
        const known = depths.get(to);
        if (known !== undefined) top.deepest = Math.max(top.deepest, known);
        else if (onStack.has(to)) {
          const from = stack.findIndex((frame) => frame.name === to);
          onCycle([...stack.slice(from).map((frame) => frame.name), to]);
        } else enter(to);
        continue;
      }
      stack.pop();
      onStack.delete(top.name);
      const depth = top.deepest + 1;
      depths.set(top.name, depth);
      const parent = stack[stack.length - 1];
      if (parent) parent.deepest = Math.max(parent.deepest, depth);
    }
  }
  return depths;
}

/** Nodes grouped by depth, shallowest first, keeping only those `keep` accepts; no empty layer. */
function layers(
  depths: ReadonlyMap<string, number>,
  keep: (name: string) => boolean = () => true,
): string[][] {
  const byDepth: string[][] = [];
  for (const [name, depth] of depths) {
    if (keep(name)) (byDepth[depth] ??= []).push(name);
  }
  return byDepth.filter((layer) => layer !== undefined);
}

/** Names to nodes over one graph, with the copies of each child indexed once. */
class Resolver {
  readonly #graph: DependencyGraph;
  readonly #copies = new Map<string, string[]>();

  constructor(graph: DependencyGraph) {
    this.#graph = graph;
    for (const name of graph.keys()) {
      const copy = splitInstance(name);
      if (copy) {
        const list = this.#copies.get(copy.base);
        if (list) list.push(name);
        else this.#copies.set(copy.base, [name]);
      }
    }
  }

  /** `name` itself, or every copy of it; undefined when the graph has neither. */
  nodes(name: string): string[] | undefined {
    if (this.#graph.has(name)) return [name];
    return this.#copies.get(name)?.slice();
  }

  /** What `name` depends on, resolved to nodes; CONFIG_INVALID for a name not defined. */
  dependencies(name: string, target: string, op: string): Dependency[] {
    const out: Dependency[] = [];
    for (const dependency of this.#graph.get(name) ?? []) {
      const nodes = this.nodes(dependency.name);
      if (nodes === undefined) {
        const who = name === target ? "it" : `"${name}"`;
        throw new SupervisorError(
          "CONFIG_INVALID",
          `Cannot ${op} child "${target}": ${who} depends on "${dependency.name}", which is not defined${
            this.hint(dependency.name)
          }`,
          { child: target },
        );
      }
      for (const node of nodes) out.push({ name: node, condition: dependency.condition });
    }
    return out;
  }

  /**
   * For each node, the nodes that depend on it by a dependency that must stay up; a name the
   * graph does not define stands for itself (a child still running after its file was removed).
   */
  dependents(): Map<string, string[]> {
    const dependents = new Map<string, string[]>();
    for (const [name, dependencies] of this.#graph) {
      for (const dependency of dependencies) {
        if (!staysUp(dependency.condition)) continue;
        for (const node of this.nodes(dependency.name) ?? [dependency.name]) {
          const list = dependents.get(node);
          if (!list) dependents.set(node, [name]);
          else if (!list.includes(name)) list.push(name);
        }
      }
    }
    return dependents;
  }

  /** ` (did you mean "db"?)`, or what copies a child has, or nothing, for a name not defined. */
  hint(name: string): string {
    const copy = splitInstance(name);
    if (copy) {
      const copies = this.#copies.get(copy.base);
      if (copies) {
        const last = Math.max(...copies.map((node) => splitInstance(node)!.index));
        return ` ("${copy.base}" has copies ${copy.base}:0 to ${copy.base}:${last})`;
      }
      if (this.#graph.has(copy.base)) return ` ("${copy.base}" has no instances)`;
    }
    const names = [...this.#graph.keys(), ...this.#copies.keys()]
      .filter((known) => !splitInstance(known));
    const close = suggest(name, names, name.length >= 3 ? Math.max(2, name.length / 3) : 1);
    return close === undefined ? "" : ` (did you mean "${close}"?)`;
  }
}
