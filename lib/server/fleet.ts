/**
 * Operations on many children at once: `start all`, `restart all`, `signal NAME|all` (a child
 * with instances stands for its copies), and `update`, which applies config drift. Each answers
 * with one bulk item per child acted on.
 *
 * Owns: which children each operation takes and in which order (dependencies: stops in reverse
 * order, starts in order). Does not own: the operation on one child (`supervisor.ts`).
 *
 * @module
 */
import { splitInstance } from "../config/instances.ts";
import { SupervisorError } from "../errors.ts";
import { bulk, failedItem, itemOf } from "./bulk.ts";
import { startOrder, stopOrder } from "./dependency_graph.ts";
import { driftOf } from "./drift.ts";
import type { Bulk, BulkItem, Signalled } from "./results.ts";
import type { OpContext, Supervisor } from "./supervisor.ts";

/** How `signal` reaches a child. */
export interface SignalHow {
  readonly signal: Deno.Signal;
  readonly main: boolean;
}

/**
 * Starts every child defined in the loadpaths that is not running, in parallel; one item per
 * child started or refused.
 */
export async function startAll(supervisor: Supervisor, ctx: OpContext): Promise<Bulk> {
  supervisor.guard();
  const defined = [...(await ctx.snap.catalog()).files.keys()];
  const names = (await Promise.all(defined.map((n) => supervisor.expand(n, ctx.snap)))).flat()
    .filter((n) => !supervisor.isLive(n));
  let layers: string[][];
  try {
    layers = await supervisor.startLayers(names, ctx.snap);
  } catch (error) {
    return bulk("start all", names.map((name) => failedItem(name, error)));
  }
  // In dependency order: a layer starts once the layers before it count as started.
  const results: BulkItem[] = [];
  const wait = layers.length > 1 ? true : ctx.wait ?? false;
  for (const layer of layers) {
    const todo = layer.filter((name) => !supervisor.isLive(name));
    results.push(
      ...await Promise.all(
        todo.map((name) => itemOf(name, () => supervisor.start(name, { ...ctx, wait }))),
      ),
    );
  }
  return bulk("start all", results);
}

/**
 * Restarts every child that runs, waits to be restarted, or gave up: in parallel; with
 * dependencies, every one stopped in reverse dependency order, then started in order.
 */
export async function restartAll(supervisor: Supervisor, ctx: OpContext): Promise<Bulk> {
  supervisor.guard();
  const names = supervisor.children().filter((c) => c.allows("restart")).map((c) => c.name)
    .sort();
  const graph = supervisor.runningGraph();
  if (![...graph.values()].some((deps) => deps.length > 0)) {
    const results = await Promise.all(
      names.map((name) => itemOf(name, () => supervisor.restart(name, ctx))),
    );
    return bulk("restart all", results);
  }
  for (const layer of stopOrder(names, graph)) {
    await Promise.all(layer.map((name) => supervisor.halt(name)));
  }
  const results: BulkItem[] = [];
  for (const layer of startOrder(names, graph, "restart")) {
    results.push(
      ...await Promise.all(layer.map((name) =>
        itemOf(name, async () => {
          const started = await supervisor.start(name, ctx);
          return { ...started, message: `restart ${name} success` };
        })
      )),
    );
  }
  return bulk("restart all", results);
}

/** `signal NAME`: the child, or every running copy of a child with instances. */
export function signalChild(
  supervisor: Supervisor,
  name: string,
  how: SignalHow,
): Signalled | Bulk {
  supervisor.guard();
  if (!splitInstance(name) && !supervisor.knows(name)) {
    const copies = supervisor.children().filter((c) => splitInstance(c.name)?.base === name);
    if (copies.length > 0) {
      return bulk(
        `signal ${name} ${how.signal}`,
        copies.filter((c) => c.isLive).map((c) => signalItem(supervisor, c.name, how)),
      );
    }
  }
  return supervisor.signal(name, how);
}

/** Sends `signal` to every running child. */
export function signalAll(supervisor: Supervisor, how: SignalHow): Bulk {
  supervisor.guard();
  const names = supervisor.children().filter((c) => c.isLive).map((c) => c.name).sort();
  return bulk(`signal all ${how.signal}`, names.map((name) => signalItem(supervisor, name, how)));
}

function signalItem(supervisor: Supervisor, name: string, how: SignalHow): BulkItem {
  try {
    return { child: name, ok: true, message: supervisor.signal(name, how).message };
  } catch (error) {
    return failedItem(name, error);
  }
}

/**
 * Applies config drift: a running child whose config changed since its run started is
 * restarted, a child whose file was removed is stopped, the copies a raised `instances` asks
 * for are started. One item per child acted on.
 */
export async function update(supervisor: Supervisor, ctx: OpContext): Promise<Bulk> {
  supervisor.guard();
  const results = await Promise.all(
    supervisor.children().map(async (child) => {
      const drift = await driftOf(child, ctx.snap);
      if (drift.kind === "removed" && (child.isLive || child.state === "BACKOFF")) {
        return await itemOf(child.name, async () => {
          const stopped = await supervisor.stopQuietly(child.name, ctx);
          const copy = splitInstance(child.name) !== undefined;
          // A copy past a lowered `instances` is forgotten, so a raised one starts it again.
          if (copy) supervisor.forget(child.name);
          const why = copy ? "instances lowered" : "its config file was removed";
          return { ...stopped, message: `${stopped.message} (${why})` };
        });
      }
      if (drift.kind === "changed" && child.isLive) {
        return await itemOf(child.name, async () => {
          const started = await supervisor.restart(child.name, ctx);
          return { ...started, message: `${started.message} (its config changed)` };
        });
      }
      if (drift.kind === "invalid" && child.isLive) {
        return failedItem(child.name, new SupervisorError("CONFIG_INVALID", drift.error));
      }
      return undefined;
    }),
  );
  const copies = await newCopies(supervisor, ctx);
  return bulk("update", [...results, ...copies].filter((r) => r !== undefined));
}

/**
 * For `update`: the copies that `instances` now asks for and that never ran, of each child with
 * a copy running (a raised `instances`); started, one item each.
 */
async function newCopies(supervisor: Supervisor, ctx: OpContext): Promise<BulkItem[]> {
  const running = new Set(
    supervisor.children().filter((c) => c.isLive).flatMap((c) => {
      const base = splitInstance(c.name)?.base;
      return base === undefined ? [] : [base];
    }),
  );
  const wanted = (await Promise.all([...running].map((base) => supervisor.expand(base, ctx.snap))))
    .flat().filter((name) => splitInstance(name) && !supervisor.knows(name));
  return await Promise.all(wanted.map((name) =>
    itemOf(name, async () => {
      const started = await supervisor.start(name, ctx);
      return { ...started, message: `${started.message} (instances raised)` };
    })
  ));
}
