/**
 * Prehook chains: which operations on other children run, in which order, before a child is
 * started or restarted — planned in full before anything runs, so a cycle or a hook naming a
 * missing child is refused with nothing started.
 *
 * A prehook `start B` of A means: before A starts, B is started (and B's own prehooks run
 * before that). `restart B` restarts B (or starts it when it is not running). `stop B` stops B
 * if it runs. Posthooks are not planned here: they run after a stop, one level at a time.
 *
 * @module
 */
import type { ChildConfig, Hook } from "../config/child_config.ts";
import { errorMessage, SupervisorError } from "../errors.ts";

/** One operation a prehook chain runs. */
export interface HookStep {
  /** The child whose config holds the hook. */
  readonly owner: string;
  readonly hook: Hook;
}

/** Renders a hook as written in YAML: `start web`. */
export function hookText(hook: Hook): string {
  return `${hook.action} ${hook.target}`;
}

/**
 * The prehook steps to run before `name` starts, deepest first. `configOf` reads a child's
 * config and throws (NOT_FOUND, CONFIG_INVALID) when it cannot.
 */
export async function planPrehooks(
  name: string,
  configOf: (name: string) => Promise<ChildConfig>,
  op = "start",
): Promise<HookStep[]> {
  const steps: HookStep[] = [];
  const visit = async (child: string, path: readonly string[], prehooks: readonly Hook[]) => {
    for (const hook of prehooks) {
      const chain = [...path, hook.target];
      if (path.includes(hook.target)) {
        throw new SupervisorError(
          "HOOK_CYCLE",
          `Cannot ${op} child "${name}": its prehooks form a cycle: ${chain.join(" -> ")}`,
          { child: name },
        );
      }
      let target: ChildConfig;
      try {
        target = await configOf(hook.target);
      } catch (error) {
        const reason = errorMessage(error);
        throw new SupervisorError(
          "HOOK_FAILED",
          `Cannot ${op} child "${name}": prehook "${
            hookText(hook)
          }" of "${child}" names a child that cannot be read: ${reason}`,
          { child: name, cause: error },
        );
      }
      if (hook.action !== "stop") await visit(hook.target, chain, target.prehooks);
      steps.push({ owner: child, hook });
    }
  };
  await visit(name, [name], (await configOf(name)).prehooks);
  return steps;
}
