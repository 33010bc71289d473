/**
 * Running hooks: the prehook chain before start, restart and trystart (planned in full by
 * `hooks.ts` before anything runs), and the posthooks after a stop.
 *
 * There is one way to run a hook's action — {@link Perform}, given by the Supervisor — in two
 * modes: a prehook step is `bare` (that child's own hooks were planned already; "already
 * running" and "not running" count as done), a posthook is `full` (a whole operation with its
 * own hooks; its failure is reported, never thrown).
 *
 * Owns: the order of hooks and their reports. Does not own: what an action does.
 *
 * @module
 */
import type { Hook } from "../config/child_config.ts";
import type { ConfigSnapshot } from "../config/store.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import { hookText, planPrehooks } from "./hooks.ts";
import type { HookReport, OpResult } from "./results.ts";

/** How a hook's action is run: `bare` without the target's hooks, `full` with them. */
export type Perform = (
  action: Hook["action"],
  target: string,
  options: { readonly snap: ConfigSnapshot; readonly mode: "bare" | "full" },
) => Promise<OpResult>;

/** Runs prehook chains and posthooks through one {@link Perform}. */
export class HookRunner {
  readonly #perform: Perform;

  constructor(perform: Perform) {
    this.#perform = perform;
  }

  /**
   * Plans the prehook chain of `name` (refusing cycles and missing children before anything
   * runs), then runs it step by step. Throws HOOK_FAILED at the first step that fails.
   */
  async before(name: string, op: string, snap: ConfigSnapshot): Promise<HookReport[]> {
    const steps = await planPrehooks(name, (n) => snap.child(n), op);
    const reports: HookReport[] = [];
    for (const step of steps) {
      const text = hookText(step.hook);
      try {
        reports.push({ hook: text, ok: true, message: await this.#step(step.hook, snap) });
      } catch (error) {
        throw new SupervisorError(
          "HOOK_FAILED",
          `Cannot ${op} child "${name}": prehook "${text}" of "${step.owner}" failed: ${
            errorMessage(error)
          }`,
          { child: name, cause: error },
        );
      }
    }
    return reports;
  }

  /** Runs each posthook as a whole operation, in order; failures are reported, not thrown. */
  async after(posthooks: readonly Hook[], snap: ConfigSnapshot): Promise<HookReport[]> {
    const reports: HookReport[] = [];
    for (const hook of posthooks) {
      const text = hookText(hook);
      try {
        const result = await this.#perform(hook.action, hook.target, { snap, mode: "full" });
        reports.push({ hook: text, ok: true, message: result.message });
      } catch (error) {
        const report = { hook: text, ok: false, message: errorMessage(error) };
        reports.push(error instanceof SupervisorError ? { ...report, code: error.code } : report);
      }
    }
    return reports;
  }

  /** One prehook step; a target already in the wanted state counts as done. */
  async #step(hook: Hook, snap: ConfigSnapshot): Promise<string> {
    try {
      return (await this.#perform(hook.action, hook.target, { snap, mode: "bare" })).message;
    } catch (error) {
      if (error instanceof SupervisorError && error.code === "ALREADY_RUNNING") {
        return `${hook.target} is already running`;
      }
      if (error instanceof SupervisorError && error.code === "NOT_RUNNING") {
        return `${hook.target} is not running`;
      }
      throw error;
    }
  }
}

/** The posthooks of a stop, as a note for the response's message. */
export function posthookNotes(reports: readonly HookReport[]): string[] {
  return reports.map((r) => `posthook "${r.hook}": ${r.ok ? r.message : `failed: ${r.message}`}`);
}
