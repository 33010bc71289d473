/**
 * Finding child config files in the server's loadpaths.
 *
 * Owns: the file naming rule (`<name>.yml` or `<name>.yaml`), and the problems of the set as a
 * whole — one name defined twice, a file whose stem is not a valid name, a loadpath that is not
 * a readable directory. Does not own: what is inside a child file.
 *
 * @module
 */
import { join } from "node:path";
import { fileSource } from "./config_source.ts";
import type { ConfigSource, SourceEntry } from "./config_source.ts";
import { errorMessage, SupervisorError } from "../errors.ts";
import { childNameOf } from "./child_config.ts";
import { nameProblem } from "./names.ts";

/** Extensions of child config files. */
export const CHILD_EXTENSIONS = [".yml", ".yaml"] as const;

/** A child config file found in a loadpath. */
export interface ChildFile {
  readonly name: string;
  readonly path: string;
}

/**
 * Something wrong with the set of child files: a loadpath that cannot be read (`loadpath`), a
 * file whose stem is not a valid name (`ignored`), a name defined twice (`duplicate`).
 */
export interface CatalogProblem {
  readonly kind: "loadpath" | "ignored" | "duplicate";
  readonly message: string;
}

/** Every child file in the loadpaths, and what is wrong with the set. */
export interface Catalog {
  readonly files: ReadonlyMap<string, ChildFile>;
  readonly problems: readonly CatalogProblem[];
}

function isChildFile(fileName: string): boolean {
  return CHILD_EXTENSIONS.some((ext) => fileName.endsWith(ext) && fileName.length > ext.length) &&
    !fileName.startsWith(".");
}

/** Message for one name defined by several files. */
export function duplicateMessage(name: string, paths: readonly string[]): string {
  return `child "${name}" is defined more than once: ${
    paths.map((p) => `"${p}"`).join(" and ")
  }; rename or remove all but one`;
}

/** Lists every child file of the loadpaths, sorted by name. */
export async function scanLoadpaths(
  loadpaths: readonly string[],
  source: ConfigSource = fileSource,
): Promise<Catalog> {
  const found = new Map<string, string[]>();
  const problems: CatalogProblem[] = [];
  for (const dir of loadpaths) {
    let entries: SourceEntry[];
    try {
      entries = await source.list(dir);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound ? "does not exist" : errorMessage(error);
      problems.push({ kind: "loadpath", message: `loadpath "${dir}" cannot be read: ${reason}` });
      continue;
    }
    for (const entry of entries) {
      if (entry.isDirectory || !isChildFile(entry.name)) continue;
      const path = join(dir, entry.name);
      const name = childNameOf(entry.name);
      const bad = nameProblem(name);
      if (bad) {
        problems.push({ kind: "ignored", message: `"${path}" is ignored: ${bad.message}` });
        continue;
      }
      found.set(name, [...(found.get(name) ?? []), path]);
    }
  }
  const files = new Map<string, ChildFile>();
  for (const name of [...found.keys()].sort()) {
    const paths = found.get(name)!;
    if (paths.length > 1) {
      problems.push({ kind: "duplicate", message: duplicateMessage(name, paths) });
    }
    files.set(name, { name, path: paths[0]! });
  }
  return { files, problems };
}

/**
 * The one file defining child `name`. Throws NOT_FOUND when no loadpath has it and
 * CONFIG_INVALID when several do.
 */
export async function findChildFile(
  loadpaths: readonly string[],
  name: string,
  source: ConfigSource = fileSource,
): Promise<string> {
  const paths: string[] = [];
  for (const dir of loadpaths) {
    for (const ext of CHILD_EXTENSIONS) {
      const path = join(dir, name + ext);
      if (await source.isFile(path)) paths.push(path);
    }
  }
  if (paths.length === 0) {
    throw new SupervisorError(
      "NOT_FOUND",
      `Cannot find child "${name}": no ${name}.yml or ${name}.yaml in loadpaths ${
        loadpaths.map((p) => `"${p}"`).join(", ") || "(none configured)"
      }`,
      { child: name },
    );
  }
  if (paths.length > 1) {
    throw new SupervisorError("CONFIG_INVALID", duplicateMessage(name, paths), { child: name });
  }
  return paths[0]!;
}
