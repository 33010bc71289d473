/**
 * `depends_on` at work: a start brings what the child needs first (layer by layer, waiting for
 * each condition), a stop takes the running children that need it down first, and the orders
 * of startup, `stop all`, `restart all` and shutdown.
 *
 * Owns: building the dependency graph from a snapshot (only the files reachable from the
 * children asked for) or from the runs alive, and waiting for each condition (`started`,
 * `ready`, `completed`, `completed_successfully`). Does not own: the plans themselves
 * (`dependency_graph.ts`) or the operation on one child (`supervisor.ts`, through
 * {@link DependencyHost}).
 *
 * @module
 */
import { splitInstance } from "../config/instances.ts";
import type { ConfigSnapshot } from "../config/store.ts";
import { SupervisorError } from "../errors.ts";
import type { Child } from "../process/child.ts";
import { describeExit } from "../process/exit_record.ts";
import { graphOf, nodesOf, startPlan, stopOrder, stopPlan } from "./dependency_graph.ts";
import type { DependencyGraph, GraphEntry } from "./dependency_graph.ts";
import { exitedEarly } from "./exited_early.ts";
import type { Bulk, OpResult, Started, Stopped, StoppedAll } from "./results.ts";
import type { OpContext } from "./supervisor.ts";

/** What dependencies need of the supervisor: the operations on one child, and its children. */
export interface DependencyHost {
  /** start, restart or trystart of one child, with its prehooks. */
  startOne(op: "start" | "restart" | "trystart", name: string, ctx: OpContext): Promise<Started>;
  /** `op` on `name`, or on each copy of a child with instances. */
  onCopies<T extends OpResult>(
    what: string,
    name: string,
    ctx: OpContext,
    op: (name: string) => Promise<T>,
  ): Promise<T | Bulk>;
  /** stop of one child, with its posthooks. */
  stopOne(name: string, ctx: OpContext): Promise<Stopped | StoppedAll>;
  /** stop of one child, without posthooks. */
  stopQuietly(name: string, ctx: OpContext): Promise<Stopped>;
  child(name: string): Child | undefined;
  isLive(name: string): boolean;
  children(): readonly Child[];
}

/**
 * A start (restart, trystart) of `name` after what it depends on: each dependency that does
 * not run is started first, layer by layer in dependency order (independent ones at once),
 * and waited for until its condition holds. A cycle or an undefined dependency is refused
 * before anything starts.
 */
export async function startWithDependencies(
  host: DependencyHost,
  request: { readonly op: "start" | "restart" | "trystart"; readonly name: string },
  ctx: OpContext,
): Promise<OpResult> {
  const { op, name } = request;
  const graph = await reachableGraph([name], ctx.snap);
  const targets = new Set(nodesOf(name, graph) ?? [name]);
  const layers = graph.size === 0 ? [] : startPlan([name], graph, op);
  const brought: string[] = [];
  for (const layer of layers) {
    const needed = layer.filter((n) => !targets.has(n));
    await Promise.all(needed.map(async (dep) => {
      if (await satisfy(host, { dep, graph }, ctx)) brought.push(dep);
    }));
  }
  const result = await host.onCopies(op, name, ctx, (n) => host.startOne(op, n, ctx));
  if (brought.length === 0) return result;
  return { ...result, message: `${result.message} (started first: ${brought.sort().join(", ")})` };
}

/**
 * Makes sure dependency `dep` is in the state its dependents need; true when it had to be
 * started. The condition is the strictest any dependent in `graph` asks of it.
 */
async function satisfy(
  host: DependencyHost,
  need: { readonly dep: string; readonly graph: DependencyGraph },
  ctx: OpContext,
): Promise<boolean> {
  const { dep, graph } = need;
  const conditions = [...graph.values()].flat()
    .filter((d) => d.name === dep || splitInstance(dep)?.base === d.name)
    .map((d) => d.condition);
  const completes = conditions.some((c) => c === "completed" || c === "completed_successfully");
  const strict = conditions.includes("completed_successfully");
  const child = host.child(dep);
  if (completes) {
    const last = child?.status().lastExit;
    const done = child && !child.isLive && last && !last.requested && (!strict || last.expected);
    if (done) return false;
    if (!child?.isLive) await host.startOne("start", dep, { ...ctx, wait: false });
    const exit = await host.child(dep)!.whenExited();
    if (strict && !exit.expected) {
      throw new SupervisorError(
        "HOOK_FAILED",
        `Dependency "${dep}" did not complete successfully (${describeExit(exit)})`,
        { child: dep },
      );
    }
    return true;
  }
  if (child?.isLive) {
    if (child.state === "STARTING") await awaitStarted(child);
    return false;
  }
  await host.startOne("start", dep, { ...ctx, wait: true });
  return true;
}

/** Waits until the current run of `child` counts as started; EXITED_EARLY otherwise. */
async function awaitStarted(child: Child): Promise<void> {
  const pid = child.pid;
  if (pid === null) return;
  const outcome = await child.whenStarted(pid);
  if (!outcome.started && !outcome.exit.requested) {
    throw exitedEarly({ name: child.name, op: "start", outcome, pid });
  }
}

/**
 * A stop of `name` after the running children that depend on it (dependents first, layer by
 * layer); the answer names them.
 */
export async function stopWithDependents(
  host: DependencyHost,
  name: string,
  ctx: OpContext,
): Promise<OpResult> {
  const graph = runningGraph(host.children());
  const targets = new Set(nodesOf(name, graph) ?? [name]);
  const layers = stopPlan([name], graph, (n) => host.isLive(n));
  const dependents: string[] = [];
  for (const layer of layers) {
    const first = layer.filter((n) => !targets.has(n));
    await Promise.all(first.map(async (n) => {
      await host.stopQuietly(n, ctx);
      dependents.push(n);
    }));
  }
  const result = await host.onCopies("stop", name, ctx, (n) => host.stopOne(n, ctx));
  if (dependents.length === 0) return result;
  return {
    ...result,
    message: `${result.message} (stopped first, as they depend on it: ${
      dependents.sort().join(", ")
    })`,
  };
}

/**
 * The dependency graph of `names` and everything they need, read from the snapshot (only the
 * files reachable from them). Empty when none of them has `depends_on`.
 */
export async function reachableGraph(
  names: readonly string[],
  snap: ConfigSnapshot,
): Promise<DependencyGraph> {
  const entries = new Map<string, GraphEntry>();
  const queue = names.map((n) => splitInstance(n)?.base ?? n);
  let any = false;
  while (queue.length > 0) {
    const base = queue.shift()!;
    if (entries.has(base)) continue;
    const config = await snap.childOr(base, undefined);
    if (!config) continue;
    entries.set(base, config);
    for (const dep of config.dependsOn) {
      any = true;
      queue.push(splitInstance(dep.name)?.base ?? dep.name);
    }
  }
  return any ? graphOf(entries.values()) : new Map();
}

/** The graph of `children` from the configs their runs started with (one node per copy). */
export function runningGraph(children: readonly Child[]): DependencyGraph {
  return graphOf(children.flatMap((c) => {
    const config = c.config;
    return config ? [{ name: c.name, instances: 1, dependsOn: config.dependsOn }] : [];
  }));
}

/**
 * `names` and what they depend on, in layers of dependency order (each layer may start at
 * once, after the layers before it); one layer when nothing has `depends_on`. Throws for a
 * cycle or an undefined dependency.
 */
export async function startLayers(
  names: readonly string[],
  snap: ConfigSnapshot,
): Promise<string[][]> {
  const graph = await reachableGraph(names, snap);
  if (graph.size === 0) return [[...names]];
  return startPlan(names, graph, "start");
}

/** `children` in layers of reverse dependency order (dependents first). */
export function reverseLayers(children: readonly Child[]): Child[][] {
  const byName = new Map(children.map((c) => [c.name, c]));
  return stopOrder([...byName.keys()], runningGraph(children))
    .map((layer) => layer.flatMap((n) => byName.get(n) ?? []));
}
