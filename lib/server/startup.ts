/**
 * What starts with the server: nothing (`quiet`), the `startup` names that exist (`half`), or
 * every child (`full`, and only if every child config is valid).
 *
 * @module
 */
import type { ConfigStore } from "../config/store.ts";
import type { ServerConfig } from "../config/server_config.ts";
import { ConfigError, SupervisorError } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";

/** The children to start, and warnings for the log. */
export interface StartupPlan {
  readonly names: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Decides which children start. In `full` mode every child config is validated first: any
 * problem throws a ConfigError naming all of them, and nothing may be started.
 */
export async function planStartup(
  store: ConfigStore,
  config: ServerConfig,
): Promise<StartupPlan> {
  if (config.mode === "quiet") return { names: [], warnings: [] };
  const catalog = await store.catalog(config);
  if (config.mode === "half") {
    const warnings: string[] = [];
    const names: string[] = [];
    for (const name of config.startup) {
      if (catalog.files.has(name)) names.push(name);
      else warnings.push(`startup child "${name}" is not defined in any loadpath; skipped`);
    }
    return { names, warnings };
  }
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  for (const problem of catalog.problems) {
    if (problem.kind === "loadpath") warnings.push(problem.message);
    else {
      problems.push({
        file: config.path,
        line: undefined,
        col: undefined,
        message: problem.message,
      });
    }
  }
  for (const [name, file] of catalog.files) {
    try {
      await store.childConfigAt(name, file.path);
    } catch (error) {
      const cause = error instanceof SupervisorError ? error.cause : error;
      if (cause instanceof ConfigError) problems.push(...cause.problems);
      else {problems.push({
          file: file.path,
          line: undefined,
          col: undefined,
          message: String(error),
        });}
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { names: [...catalog.files.keys()], warnings };
}
