/**
 * `depends_on` in a child's file: the children that must be up, or must have run, before this
 * one starts, each with the condition it waits for.
 *
 * ```yaml
 * depends_on: [db, cache]   # each with the default condition, ready
 * depends_on: { db: ready, migrate: completed_successfully, cache: started }
 * ```
 *
 * A name is a child's name (`db`), or one copy of a child with `instances` (`web:1`); the name
 * of a child with instances stands for every copy. Whether a name is defined, and cycles, are
 * judged over all the files together, in `lib/server/dependency_graph.ts`.
 *
 * Owns: the {@link Dependency} type, the conditions and the validation of the field. Does not
 * own: waiting for a condition, nor the order of starts and stops.
 *
 * @module
 */
import { Checker, quote } from "./checker.ts";
import type { YamlPath } from "./yaml_source.ts";
import { splitInstance } from "./instances.ts";
import { nameProblem } from "./names.ts";

/**
 * What a dependency must reach before its dependent starts: `started` (RUNNING), `ready` (ready
 * by its readiness probe, or RUNNING when it has none), `completed` (ran and exited, any code),
 * `completed_successfully` (exited with one of its `exit_codes`).
 */
export type DependencyCondition = "started" | "ready" | "completed" | "completed_successfully";

/** Every condition, in the order messages list them. */
export const DEPENDENCY_CONDITIONS: readonly DependencyCondition[] = [
  "started",
  "ready",
  "completed",
  "completed_successfully",
];

/** The condition of a dependency given by name only. */
export const DEFAULT_CONDITION: DependencyCondition = "ready";

/** One entry of `depends_on`. */
export interface Dependency {
  /** A child's name, or a copy's (`web:1`, written without leading zeros). */
  readonly name: string;
  readonly condition: DependencyCondition;
}

/**
 * Whether a dependency must stay up while its dependent runs (`started`, `ready`), rather than
 * only have run to its end before the dependent started (`completed`, `completed_successfully`).
 */
export function staysUp(condition: DependencyCondition): boolean {
  return condition === "started" || condition === "ready";
}

/** Docker Compose's words for the conditions, answered with a "did you mean". */
const COMPOSE_WORDS: ReadonlyMap<string, DependencyCondition> = new Map([
  ["service_started", "started"],
  ["service_healthy", "ready"],
  ["service_completed_successfully", "completed_successfully"],
]);

/** Where `depends_on` is, and whose file it is in. */
export interface DependsOnOptions {
  /** The path of the field in the file; default `["depends_on"]`. */
  readonly path?: YamlPath;
  /** The name of the child the file defines: naming it, or a copy of it, is a problem. */
  readonly self?: string;
}

/**
 * Validates `depends_on`: a list of names (each with the {@link DEFAULT_CONDITION}), one name,
 * or a mapping of names to conditions. Nothing (absent or null) is no dependency. Problems are
 * recorded on `check` with their line and column; the entries that are valid are returned, in
 * the order written.
 */
export function parseDependsOn(
  check: Checker,
  value: unknown,
  options: DependsOnOptions = {},
): Dependency[] {
  const path = options.path ?? ["depends_on"];
  if (value === undefined || value === null) return [];
  const out: Dependency[] = [];
  const seen = new Set<string>();
  const add = (
    written: string,
    at: YamlPath,
    atKey: boolean,
    condition: DependencyCondition | undefined,
  ) => {
    const name = dependencyName(check, written, at, atKey, options.self);
    if (name === undefined || condition === undefined) return;
    if (seen.has(name)) {
      check.fail(at, `${quote(name)} is named twice in depends_on`, atKey);
      return;
    }
    seen.add(name);
    out.push({ name, condition });
  };
  if (typeof value === "string") {
    add(value, path, false, DEFAULT_CONDITION);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      const name = check.string(item, [...path, index], "each entry of depends_on");
      if (name !== undefined) add(name, [...path, index], false, DEFAULT_CONDITION);
    });
  } else if (typeof value === "object") {
    for (const [name, written] of Object.entries(value)) {
      add(name, [...path, name], true, parseCondition(check, written, [...path, name], name));
    }
  } else {
    check.fail(
      path,
      `depends_on must be a list of child names or a mapping of child names to conditions (${
        DEPENDENCY_CONDITIONS.join(", ")
      }), found ${quote(value)}`,
    );
  }
  return out;
}

/** The name a dependency is known by (copy numbers without leading zeros), or a problem. */
function dependencyName(
  check: Checker,
  written: string,
  at: YamlPath,
  atKey: boolean,
  self: string | undefined,
): string | undefined {
  const copy = splitInstance(written);
  const base = copy ? copy.base : written;
  const problem = nameProblem(base);
  if (problem) {
    const detail = copy ? `${quote(written)} is not a copy of a valid child name: ` : "";
    return check.fail(at, `depends_on names no child: ${detail}${problem.message}`, atKey);
  }
  if (self !== undefined && base === self) {
    const what = copy ? `its own copy ${quote(written)}` : "itself";
    return check.fail(at, `a child cannot depend on ${what}, but "${self}" does`, atKey);
  }
  return copy ? `${copy.base}:${copy.index}` : written;
}

function parseCondition(
  check: Checker,
  value: unknown,
  path: YamlPath,
  name: string,
): DependencyCondition | undefined {
  const what = `the condition of ${quote(name)} in depends_on`;
  const expected = `${what} must be one of ${DEPENDENCY_CONDITIONS.join(", ")}`;
  // An empty value has no place of its own in the file: the key's is shown.
  if (value === null) return check.fail(path, `${expected}, found nothing`, true);
  const compose = typeof value === "string" ? COMPOSE_WORDS.get(value) : undefined;
  if (compose !== undefined) {
    return check.fail(
      path,
      `${expected}, found ${quote(value)} (did you mean "${compose}"?)`,
    );
  }
  return check.oneOf(value, path, what, DEPENDENCY_CONDITIONS);
}
