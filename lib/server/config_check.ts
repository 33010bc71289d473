/**
 * `supervisor-ts-server --check [CONFIG]`: every problem the server would find in server.yml and
 * the child files of its loadpaths, found without starting, binding or writing anything.
 *
 * Each file is judged by the functions the server itself uses (`parseServerConfig`,
 * `scanLoadpaths`, `parseChildConfig` with the server's identity for `user` and `group`), and
 * the set as a whole as a start would judge it: hooks and `depends_on` naming children that are
 * not defined, prehook and dependency cycles (`planPrehooks`, `startProblems`), env files that
 * do not parse, and an `http_token_file` the server could not use. What the server would only
 * skip or fail on later is a warning: a `startup` name not defined, a missing output directory,
 * `cwd`, env file or key directory. With `fromSupervisorRs`, it adds where the files behave
 * differently than under supervisor-rs 0.8.5 (`lib/config/rs_differences.ts`).
 *
 * Owns: what the check looks at, the exit status it implies, and the text of its report.
 * Decides only: it returns a {@link CheckReport}; the entry point prints it. Does not own the
 * rules of any file (the config modules do).
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { parseChildConfig } from "../config/child_config.ts";
import type { ChildConfig } from "../config/child_config.ts";
import { fileSource } from "../config/config_source.ts";
import type { ConfigSource } from "../config/config_source.ts";
import { readEnvFiles } from "../config/env_file.ts";
import { ParsedFileCache } from "../config/file_cache.ts";
import { splitInstance } from "../config/instances.ts";
import { duplicateMessage, scanLoadpaths } from "../config/loadpaths.ts";
import { findRsDifferences } from "../config/rs_differences.ts";
import type { RsDifference, RsFile, RsLoadpath } from "../config/rs_differences.ts";
import { parseServerConfig, unreadable } from "../config/server_config.ts";
import type { ServerConfig } from "../config/server_config.ts";
import { namedIdentity, readAccounts, readServerIdentity } from "../config/users.ts";
import type { ServerIdentity } from "../config/users.ts";
import { YamlSource } from "../config/yaml_source.ts";
import type { YamlPath } from "../config/yaml_source.ts";
import { ConfigError, errorMessage, formatProblem, SupervisorError } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";
import { realClock } from "../process/clock.ts";
import { suggest } from "../suggest.ts";
import { HttpAuth } from "../web/http_auth.ts";
import { graphOf, nodesOf, startProblems } from "./dependency_graph.ts";
import type { GraphEntry } from "./dependency_graph.ts";
import { planPrehooks } from "./hooks.ts";

/** What the check is told beyond the path of server.yml. */
export interface CheckOptions {
  /** Where files are read from (memory in unit tests). */
  readonly source?: ConfigSource;
  /** Also list the differences from supervisor-rs 0.8.5. */
  readonly fromSupervisorRs?: boolean;
  /** Where supervisor-rs resolved relative paths; default: the working directory. */
  readonly cwd?: string;
  /** Who the server runs as, for `user` and `group`; default: this process, as the server reads it. */
  readonly identity?: () => Promise<ServerIdentity | undefined>;
}

/** A child the check read. */
export interface CheckedChild {
  readonly name: string;
  readonly path: string;
  /** Copies it runs (1: the child itself); 1 too when its file is invalid. */
  readonly instances: number;
  readonly valid: boolean;
}

/** What the check found. */
export interface CheckReport {
  readonly serverPath: string;
  /** Files read: server.yml and each child file. */
  readonly files: number;
  /** Every child defined in the loadpaths, by name. */
  readonly children: readonly CheckedChild[];
  /** What supervisor-ts refuses: any of these makes the check fail. */
  readonly problems: readonly ConfigProblem[];
  /** What the server accepts but would skip or fail on later. */
  readonly warnings: readonly ConfigProblem[];
  /** With `fromSupervisorRs`: where the files behave differently than under supervisor-rs. */
  readonly differences: readonly RsDifference[] | undefined;
}

/** The exit status of a check: 1 when supervisor-ts would refuse anything, else 0. */
export function checkExitCode(report: CheckReport): 0 | 1 {
  return report.problems.length > 0 ? 1 : 0;
}

/** The server's identity as the server reads it at boot; undefined when it cannot be told. */
async function processIdentity(): Promise<ServerIdentity | undefined> {
  try {
    return namedIdentity(await readServerIdentity(), await readAccounts());
  } catch {
    return undefined;
  }
}

/** A child file read, with what was made of it. */
interface ChildEntry {
  readonly name: string;
  readonly path: string;
  readonly text: string;
  readonly config: ChildConfig | undefined;
  readonly source: YamlSource | undefined;
}

/** Checks server.yml at `configPath` and every child file of its loadpaths. */
export async function checkConfig(
  configPath: string,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const source = options.source ?? fileSource;
  const serverPath = resolve(configPath);
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const texts = new ParsedFileCache<string>((_path, text) => text, { source });
  const read = async (path: string): Promise<string | undefined> => {
    try {
      return await texts.read(path);
    } catch (error) {
      problems.push(...(error instanceof ConfigError ? error : unreadable(path, error)).problems);
      return undefined;
    }
  };
  const done = (
    files: number,
    children: CheckedChild[],
    differences?: RsDifference[],
  ): CheckReport => ({
    serverPath,
    files,
    children,
    problems,
    warnings,
    differences: options.fromSupervisorRs ? differences ?? [] : undefined,
  });

  const serverText = await read(serverPath);
  if (serverText === undefined) return done(0, []);
  let config: ServerConfig | undefined;
  try {
    config = parseServerConfig(serverPath, serverText);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const serverYaml = yamlOf(serverPath, serverText);
  const atServer = (path: YamlPath, message: string, atKey = false): ConfigProblem =>
    problemAt(serverPath, serverYaml, path, message, atKey);

  // The loadpaths, one at a time, so that each problem points at its entry in server.yml.
  const loadpaths = config
    ? config.loadpaths.map((dir, index) => ({ index, dir }))
    : writtenLoadpaths(serverYaml, dirname(serverPath));
  const rsLoadpaths: RsLoadpath[] = [];
  const found = new Map<string, { path: string; index: number }[]>();
  for (const { index, dir } of loadpaths) {
    const catalog = await scanLoadpaths([dir], source);
    for (const problem of catalog.problems) {
      problems.push(atServer(["loadpaths", index], problem.message));
    }
    for (const [name, file] of catalog.files) {
      found.set(name, [...found.get(name) ?? [], { path: file.path, index }]);
    }
    let fileNames: string[] | undefined;
    try {
      fileNames = (await source.list(dir)).filter((e) => !e.isDirectory).map((e) => e.name);
    } catch {
      fileNames = undefined;
    }
    rsLoadpaths.push({ index, dir, fileNames });
  }
  for (const [name, files] of found) {
    const indexes = new Set(files.map((f) => f.index));
    if (indexes.size < 2) continue;
    // Within one directory, the scan above named the files already.
    const paths = files.map((f) => f.path);
    problems.push(
      atServer(["loadpaths", files[files.length - 1]!.index], duplicateMessage(name, paths)),
    );
  }

  // Every child file, each read and judged as a start would.
  const identity = await (options.identity ?? processIdentity)();
  const entries: ChildEntry[] = [];
  for (const name of [...found.keys()].sort()) {
    for (const { path } of found.get(name)!) {
      const text = await read(path);
      if (text === undefined) continue;
      let child: ChildConfig | undefined;
      try {
        child = parseChildConfig(path, text, { server: identity });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems);
      }
      entries.push({ name, path, text, config: child, source: yamlOf(path, text) });
    }
  }
  const primary = new Map<string, ChildEntry>();
  for (const entry of entries) if (!primary.has(entry.name)) primary.set(entry.name, entry);
  const children: CheckedChild[] = [...primary.values()].map((e) => ({
    name: e.name,
    path: e.path,
    instances: e.config?.instances ?? 1,
    valid: e.config !== undefined,
  }));

  await crossFileProblems(primary, { problems, warnings });
  if (config) await serverWarnings(config, primary, { problems, warnings, atServer, source });
  for (const entry of primary.values()) {
    if (entry.config) await childWarnings(entry, entry.config, { problems, warnings, source });
  }

  let differences: RsDifference[] | undefined;
  if (options.fromSupervisorRs) {
    const fileOf = (path: string, text: string): RsFile => ({
      path,
      text,
      problems: problems.filter((p) => p.file === path),
    });
    differences = findRsDifferences({
      server: fileOf(serverPath, serverText),
      loadpaths: rsLoadpaths,
      children: entries.map((e) => fileOf(e.path, e.text)),
      cwd: options.cwd ?? Deno.cwd(),
    });
  }
  return done(1 + entries.length, children, differences);
}

/** The YAML of a file, for locating places in it; undefined when it does not parse. */
function yamlOf(path: string, text: string): YamlSource | undefined {
  try {
    return YamlSource.parse(path, text);
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

/** A problem at `path` in `file` (its line and column when the YAML is there). */
function problemAt(
  file: string,
  yaml: YamlSource | undefined,
  path: YamlPath,
  message: string,
  atKey = false,
): ConfigProblem {
  const at = yaml?.locate(path, atKey);
  return { file, line: at?.line, col: at?.col, message };
}

/** The loadpaths as written in an invalid server.yml: its string entries, resolved. */
function writtenLoadpaths(
  yaml: YamlSource | undefined,
  dir: string,
): { index: number; dir: string }[] {
  const value = yaml?.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  const list = (value as Record<string, unknown>).loadpaths;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry, index) =>
    typeof entry === "string" && entry !== "" ? [{ index, dir: resolve(dir, entry) }] : []
  );
}

interface Sinks {
  readonly problems: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

/** " (did you mean "x"?)" for a name close to one of `names`, else nothing. */
function hint(name: string, names: Iterable<string>): string {
  const close = suggest(name, [...names], name.length >= 3 ? Math.max(2, name.length / 3) : 1);
  return close === undefined ? "" : ` (did you mean "${close}"?)`;
}

/** Hooks and dependencies naming children that are not defined, and cycles. */
async function crossFileProblems(
  primary: ReadonlyMap<string, ChildEntry>,
  sinks: Sinks,
): Promise<void> {
  const { problems } = sinks;
  const defined = [...primary.keys()];
  const valid = new Map<string, ChildEntry & { config: ChildConfig }>();
  for (const [name, entry] of primary) {
    if (entry.config) valid.set(name, { ...entry, config: entry.config });
  }
  const at = (entry: ChildEntry, path: YamlPath, message: string, atKey = false) =>
    problemAt(entry.path, entry.source, path, message, atKey);

  for (const entry of valid.values()) {
    const hooks = rawField(entry, "hooks");
    if (!Array.isArray(hooks)) continue;
    hooks.forEach((item, index) => {
      for (const kind of ["prehook", "posthook"] as const) {
        const text = (item as Record<string, unknown> | null)?.[kind];
        if (typeof text !== "string") continue;
        const target = text.trim().split(/\s+/)[1] ?? "";
        if (primary.has(target)) continue;
        problems.push(at(
          entry,
          ["hooks", index, kind],
          `${kind} "${text}" names the child "${target}", which is not defined in any loadpath${
            hint(target, defined)
          }`,
        ));
      }
    });
  }

  // Prehook cycles, as a start plans them: every child whose start would be refused.
  const configOf = (name: string): Promise<ChildConfig> => {
    const entry = valid.get(name);
    if (entry) return Promise.resolve(entry.config);
    return Promise.reject(new SupervisorError("NOT_FOUND", `"${name}" cannot be read`));
  };
  for (const entry of valid.values()) {
    if (entry.config.prehooks.length === 0) continue;
    try {
      await planPrehooks(entry.name, configOf);
    } catch (error) {
      if (error instanceof SupervisorError && error.code === "HOOK_CYCLE") {
        problems.push(at(entry, ["hooks"], error.message, true));
      }
      // Any other failure is a hook naming a child that is missing or invalid: reported above.
    }
  }

  // depends_on: names not defined, then cycles among the names that are.
  const invalid = new Set(defined.filter((name) => !valid.has(name)));
  const nodes: GraphEntry[] = [
    ...[...valid.values()].map((e) => e.config),
    ...[...invalid].map((name) => ({ name, instances: 1, dependsOn: [] })),
  ];
  const graph = graphOf(nodes);
  for (const entry of valid.values()) {
    entry.config.dependsOn.forEach((dependency, index) => {
      const copy = splitInstance(dependency.name);
      const base = copy ? copy.base : dependency.name;
      if (invalid.has(base) || nodesOf(dependency.name, graph) !== undefined) return;
      const of = valid.get(base)?.config;
      const detail = copy && of
        ? ` ("${base}" has ${
          of.instances > 1 ? `copies ${base}:0 to ${base}:${of.instances - 1}` : "no instances"
        })`
        : hint(dependency.name, defined);
      const { path, atKey } = dependencyPlace(rawField(entry, "depends_on"), index);
      problems.push(at(
        entry,
        path,
        `depends_on names "${dependency.name}", which is not defined in any loadpath${detail}`,
        atKey,
      ));
    });
  }
  const closed = new Map(
    [...graph].map(([name, deps]) => [name, deps.filter((d) => nodesOf(d.name, graph))]),
  );
  const reported = new Set<string>();
  for (const [node, error] of startProblems([...closed.keys()], closed)) {
    const name = splitInstance(node)?.base ?? node;
    const entry = valid.get(name);
    if (!entry || reported.has(name)) continue;
    reported.add(name);
    // With every dependency defined, a start can only be refused for a cycle.
    problems.push(at(entry, ["depends_on"], error.message, true));
  }
}

/** A top-level value of a child file as written. */
function rawField(entry: ChildEntry, key: string): unknown {
  const value = entry.source?.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  return (value as Record<string, unknown>)[key];
}

/** Where dependency `index` is written: in a list, as a key of a mapping, or the whole field. */
function dependencyPlace(written: unknown, index: number): { path: YamlPath; atKey: boolean } {
  if (Array.isArray(written)) return { path: ["depends_on", index], atKey: false };
  if (written !== null && typeof written === "object") {
    const key = Object.keys(written)[index];
    if (key !== undefined) return { path: ["depends_on", key], atKey: true };
  }
  return { path: ["depends_on"], atKey: false };
}

/** What server.yml names that the server would skip or refuse at start. */
async function serverWarnings(
  config: ServerConfig,
  primary: ReadonlyMap<string, ChildEntry>,
  sinks: Sinks & {
    readonly atServer: (path: YamlPath, message: string, atKey?: boolean) => ConfigProblem;
    readonly source: ConfigSource;
  },
): Promise<void> {
  const { atServer } = sinks;
  if (config.mode === "half") {
    config.startup.forEach((name, index) => {
      if (primary.has(name)) return;
      sinks.warnings.push(atServer(
        ["startup", index],
        `startup child "${name}" is not defined in any loadpath; the server will skip it${
          hint(name, primary.keys())
        }`,
      ));
    });
  }
  if (config.encrypt) {
    const dirs = await Promise.all(config.pubKeysPath.map((dir) => sinks.source.modifiedAt(dir)));
    config.pubKeysPath.forEach((dir, index) => {
      if (dirs[index] !== undefined) return;
      sinks.warnings.push(atServer(
        ["pub_keys_path", index],
        `pub_keys_path "${dir}" does not exist: no key in it can sign a request`,
      ));
    });
  }
  if (config.http?.tokenFile !== undefined) {
    try {
      await HttpAuth.load(config.http.tokenFile, realClock);
    } catch (error) {
      sinks.problems.push(atServer(
        ["http_token_file"],
        `${errorMessage(error)}; the server would refuse to start`,
      ));
    }
  }
}

/** What a start of a valid child would still fail on: env files, its cwd, output directories. */
async function childWarnings(
  entry: ChildEntry,
  config: ChildConfig,
  sinks: Sinks & { readonly source: ConfigSource },
): Promise<void> {
  const at = (path: YamlPath, message: string) =>
    problemAt(entry.path, entry.source, path, message);
  const written = rawField(entry, "env_file");
  for (const [index, file] of config.envFiles.entries()) {
    const path = Array.isArray(written) ? ["env_file", index] : ["env_file"];
    try {
      await readEnvFiles([file], sinks.source);
    } catch (error) {
      if (error instanceof ConfigError) sinks.problems.push(...error.problems);
      else {
        sinks.warnings.push(
          at(path, `${errorMessage(error)}; the child cannot start until it can be read`),
        );
      }
    }
  }
  if (config.cwd !== config.dir && await sinks.source.modifiedAt(config.cwd) === undefined) {
    sinks.warnings.push(
      at(["cwd"], `cwd "${config.cwd}" does not exist; the child cannot start until it does`),
    );
  }
  const output = rawField(entry, "output");
  for (const stream of ["stdout", "stderr"] as const) {
    const target = config[stream];
    if (!target || target.path.includes("{instance}")) continue;
    const dir = dirname(target.path);
    if (await sinks.source.modifiedAt(dir) !== undefined) continue;
    const index = Array.isArray(output)
      ? output.findIndex((o) => (o as Record<string, unknown> | null)?.[stream] !== undefined)
      : -1;
    sinks.warnings.push(at(
      index < 0 ? ["output"] : ["output", index, stream],
      `the directory of output ${stream} "${target.path}" does not exist; the child cannot start until it does`,
    ));
  }
}

/** The order of a report's lines: server.yml first, then files by path, then by place. */
function byPlace(a: Placed, b: Placed): number {
  return a.rank - b.rank || a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) ||
    (a.col ?? 0) - (b.col ?? 0) || a.order - b.order;
}

interface Placed {
  readonly rank: number;
  readonly file: string;
  readonly line: number | undefined;
  readonly col: number | undefined;
  readonly order: number;
  readonly lines: readonly string[];
}

function where(p: { file: string; line: number | undefined; col: number | undefined }): string {
  return p.line === undefined ? p.file : `${p.file}:${p.line}:${p.col ?? 1}`;
}

/**
 * The report as lines of text: each problem as `file:line:col: message`, each warning as
 * `file:line:col: warning: message`, each difference from supervisor-rs with its fix on the
 * next line, all in the order of the files; then a summary.
 */
export function renderCheck(report: CheckReport): string[] {
  const covered = new Set(report.differences?.flatMap((d) => d.covers ? [d.covers] : []) ?? []);
  const rank = (file: string) => (file === report.serverPath ? 0 : 1);
  const placed: Placed[] = [];
  for (const problem of report.problems) {
    if (covered.has(problem)) continue;
    placed.push({
      ...problem,
      rank: rank(problem.file),
      order: 0,
      lines: [formatProblem(problem)],
    });
  }
  for (const d of report.differences ?? []) {
    const lines = [
      `${where(d)}: ${
        d.refused ? "refused, unlike supervisor-rs" : "differs from supervisor-rs"
      }: ${d.message}`,
    ];
    if (d.covers) lines.push(`    supervisor-ts: ${d.covers.message}`);
    lines.push(`    fix: ${d.fix}`);
    placed.push({ ...d, rank: rank(d.file), order: 1, lines });
  }
  for (const warning of report.warnings) {
    placed.push({
      ...warning,
      rank: rank(warning.file),
      order: 2,
      lines: [`${where(warning)}: warning: ${warning.message}`],
    });
  }
  const out = placed.sort(byPlace).flatMap((p) => p.lines);
  out.push(...summary(report));
  return out;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function summary(report: CheckReport): string[] {
  const names = report.children.map((
    c,
  ) => (c.instances > 1 ? `${c.name} (${c.instances} instances)` : c.name));
  const children = report.children.length === 0
    ? "no children defined"
    : `${plural(report.children.length, "child", "children")} checked: ${names.join(", ")}`;
  const warned = report.warnings.length > 0 ? `, ${plural(report.warnings.length, "warning")}` : "";
  const lines: string[] = [];
  if (report.problems.length === 0) {
    lines.push(
      `valid: ${report.serverPath} and ${
        plural(report.files - 1, "child file")
      }${warned}; ${children}`,
    );
  } else {
    const files = new Set(report.problems.map((p) => p.file)).size;
    lines.push(
      `invalid: ${plural(report.problems.length, "problem")} in ${
        plural(files, "file")
      }${warned} (${plural(report.files, "file")} read); ${children}`,
    );
  }
  if (report.differences !== undefined) {
    const refused = report.differences.filter((d) => d.refused).length;
    lines.push(
      `supervisor-rs 0.8.5: ${plural(report.differences.length, "difference")}${
        refused > 0 ? `, ${refused} of them refused by supervisor-ts` : ""
      }${report.differences.length > 0 ? "; each with its fix above" : ""}`,
    );
  }
  return lines;
}
