/**
 * Where the same configuration files behave differently under supervisor-ts than they did under
 * supervisor-rs 0.8.5, each place with its fix: what `supervisor-ts-server --check
 * --from-supervisor-rs` lists.
 *
 * Only what the files themselves show is judged: relative paths (supervisor-rs resolved
 * loadpaths, pub_keys_path and output paths against its working directory), child names taken
 * from dotted file names, keys supervisor-rs ignored, `repeat` values it ignored, words it read
 * differently (`encrypt`, `ipv6`, `mode`), the default listen address, command splitting, hooks
 * and repeat timers at startup, and the supervisor-rs dialect under `encrypt: on`. How
 * supervisor-rs 0.8.5 read each key is taken from its source (yaml-rust, 0.8.5 tag).
 *
 * Owns: those rules and their wording. Pure: it reads nothing and prints nothing; it is given
 * each file's text and the problems supervisor-ts found in it (`supervisor-ts refuses` is a
 * problem at the same line and column). Does not own: validation (the config modules do) nor
 * reading the files (`lib/server/config_check.ts`).
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { CommandSyntaxError, ConfigError } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";
import { childNameOf } from "./child_config.ts";
import { splitCommand } from "./command_split.ts";
import { CHILD_EXTENSIONS } from "./loadpaths.ts";
import { nameProblem } from "./names.ts";
import { YamlSource } from "./yaml_source.ts";
import type { Position, YamlPath } from "./yaml_source.ts";

/** What a difference is about; tests and callers decide by this, never by the text. */
export type RsTopic =
  | "relative-loadpath"
  | "relative-pub-keys-path"
  | "relative-output"
  | "dotted-name"
  | "name-refused"
  | "same-name"
  | "ignored-key"
  | "repeat-ignored"
  | "repeat-at-startup"
  | "prehooks-at-startup"
  | "several-hooks"
  | "command-split"
  | "listener-addr"
  | "ipv6-word"
  | "encrypt-word"
  | "encrypt-legacy"
  | "mode-word";

/** One place where a file means something else to supervisor-ts than to supervisor-rs 0.8.5. */
export interface RsDifference {
  readonly topic: RsTopic;
  readonly file: string;
  readonly line: number | undefined;
  readonly col: number | undefined;
  /** What differs: how supervisor-rs 0.8.5 took it, how supervisor-ts takes it. */
  readonly message: string;
  /** What to write instead. */
  readonly fix: string;
  /** Whether supervisor-ts refuses the file as written (it counts as invalid). */
  readonly refused: boolean;
  /** The problem supervisor-ts reports at this very place, which this difference explains. */
  readonly covers: ConfigProblem | undefined;
}

/** A file as the check read it. */
export interface RsFile {
  /** Absolute path. */
  readonly path: string;
  readonly text: string;
  /** What supervisor-ts found wrong in it (its ConfigError problems). */
  readonly problems: readonly ConfigProblem[];
}

/** One entry of server.yml's `loadpaths`, and what is in its directory. */
export interface RsLoadpath {
  /** Its index in the `loadpaths` list of server.yml. */
  readonly index: number;
  /** The directory, resolved as supervisor-ts resolves it. */
  readonly dir: string;
  /** The names of the entries of the directory; undefined when it cannot be read. */
  readonly fileNames: readonly string[] | undefined;
}

/** Everything the finder looks at. */
export interface RsInput {
  readonly server: RsFile;
  readonly loadpaths: readonly RsLoadpath[];
  /** Every child file supervisor-ts reads in the loadpaths. */
  readonly children: readonly RsFile[];
  /** The working directory of the check: where supervisor-rs would have resolved paths. */
  readonly cwd: string;
}

/** The keys supervisor-rs 0.8.5 read in server.yml; it ignored any other. */
export const RS_SERVER_KEYS: readonly string[] = [
  "loadpaths",
  "mode",
  "startup",
  "encrypt",
  "pub_keys_path",
  "listener_addr",
  "ipv6",
];

/** The keys supervisor-rs 0.8.5 read in a child file; it ignored any other. */
export const RS_CHILD_KEYS: readonly string[] = ["command", "output", "repeat", "hooks"];

const RS_OUTPUT_KEYS: readonly string[] = ["stdout", "stderr", "mode"];
const RS_REPEAT_KEYS: readonly string[] = ["action", "seconds"];
const RS_HOOK_KEYS: readonly string[] = ["prehook", "posthook"];

/** The operation words supervisor-rs 0.8.5 refused as child names (exact case), with all and on. */
const RS_RESERVED: readonly string[] = [
  "all",
  "on",
  "restart",
  "Restart",
  "start",
  "Start",
  "stop",
  "Stop",
  "check",
  "Check",
  "kill",
  "Kill",
  "trystart",
  "TryStart",
  "Trystart",
  "info",
  "Info",
  "INFO",
  "InFo",
  "help",
  "Help",
  "-h",
];

const RS = "supervisor-rs 0.8.5";

/** Every difference the files show, in the order of the files and of the places in them. */
export function findRsDifferences(input: RsInput): RsDifference[] {
  const out: RsDifference[] = [];
  const server = openFile(input.server);
  if (server) serverDifferences(server, input, out);
  const childTexts = new Map(input.children.map((file) => [file.path, file]));
  const bootNames = server ? startedAtBoot(server.map) : { all: false, names: new Set<string>() };
  for (const file of input.children) {
    const child = openFile(file);
    if (!child) continue;
    const name = childNameOf(file.path);
    const atBoot = bootNames.all || bootNames.names.has(name);
    childDifferences(child, { name, atBoot, cwd: input.cwd }, out);
  }
  loadpathDifferences(input, childTexts, out);
  return out;
}

/** A file's YAML with its top-level mapping; undefined when it is not YAML or not a mapping. */
interface OpenFile {
  readonly file: RsFile;
  readonly source: YamlSource;
  readonly map: Readonly<Record<string, unknown>>;
}

function openFile(file: RsFile): OpenFile | undefined {
  let source: YamlSource;
  try {
    source = YamlSource.parse(file.path, file.text);
  } catch (error) {
    // Invalid YAML is one of the file's problems already; there is nothing to compare.
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
  const map = isMapping(source.value) ? source.value : {};
  return { file, source, map };
}

function isMapping(value: unknown): value is Readonly<Record<string, unknown>> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Records differences against one file. */
class Recorder {
  readonly #open: OpenFile;
  readonly #out: RsDifference[];

  constructor(open: OpenFile, out: RsDifference[]) {
    this.#open = open;
    this.#out = out;
  }

  /** Where `path` is (with `atKey`, its key); undefined for an empty document. */
  at(path: YamlPath, atKey = false): Position | undefined {
    return this.#open.source.locate(path, atKey);
  }

  /** The problem supervisor-ts reports at `position` of this file, if any. */
  problemAt(position: Position | undefined): ConfigProblem | undefined {
    if (position === undefined) return undefined;
    return this.#open.file.problems.find((p) =>
      p.file === this.#open.file.path && p.line === position.line && p.col === position.col
    );
  }

  /**
   * A difference at `path`. Refused when supervisor-ts reports a problem at the same place
   * (or when `refused` says so for a problem found elsewhere).
   */
  add(
    topic: RsTopic,
    where: { readonly path: YamlPath; readonly atKey?: boolean },
    text: (refused: boolean) => { readonly message: string; readonly fix: string },
    refused?: boolean,
  ): void {
    const position = this.at(where.path, where.atKey ?? false);
    // Only a difference judged by its place explains the problem found there.
    const covers = refused === undefined ? this.problemAt(position) : undefined;
    const isRefused = refused ?? covers !== undefined;
    const { message, fix } = text(isRefused);
    this.#out.push({
      topic,
      file: this.#open.file.path,
      line: position?.line,
      col: position?.col,
      message,
      fix,
      refused: isRefused,
      covers,
    });
  }
}

/** Quotes a value as YAML would show it in a message. */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "nothing";
  return JSON.stringify(value) ?? String(value);
}

/** Keys of `map` (at `path`) that supervisor-rs did not read, each as an `ignored-key`. */
function ignoredKeys(
  rec: Recorder,
  map: Readonly<Record<string, unknown>>,
  path: YamlPath,
  known: readonly string[],
  what: string,
  rsEffect = `${RS} ignored it`,
): void {
  for (const key of Object.keys(map)) {
    if (known.includes(key)) continue;
    const dotted = [...path, key].join(".");
    rec.add("ignored-key", { path: [...path, key], atKey: true }, (refused) =>
      refused
        ? {
          message: `key "${dotted}" in ${what}: ${rsEffect}; supervisor-ts refuses it`,
          fix: `remove "${key}" (${RS} never used it), or write the key supervisor-ts knows`,
        }
        : {
          message: `key "${dotted}" in ${what}: ${rsEffect}; supervisor-ts uses it (${key}: ${
            show(map[key])
          })`,
          fix: `keep it if you want its effect now; remove it to run as under ${RS}`,
        });
  }
}

/** Which children supervisor-ts starts with the server, by its own reading of mode. */
function startedAtBoot(
  map: Readonly<Record<string, unknown>>,
): { all: boolean; names: Set<string> } {
  const startup = Array.isArray(map.startup)
    ? map.startup.filter((s): s is string => typeof s === "string")
    : [];
  return {
    all: map.mode === "full",
    names: new Set(map.mode === "half" ? startup : []),
  };
}

/** A relative path's two readings, for a message. */
function readings(written: string, base: string, baseName: string, cwd: string) {
  const now = resolve(base, written);
  const then = resolve(cwd, written);
  const rs = `${RS} read it relative to its working directory`;
  if (now === then) {
    return {
      message:
        `supervisor-ts reads it as ${now} (relative to ${baseName}); ${rs}, the same directory when started in ${cwd}`,
      fix: `write an absolute path: ${now}`,
    };
  }
  return {
    message:
      `supervisor-ts reads it as ${now} (relative to ${baseName}); ${rs} (${then} when started in ${cwd})`,
    fix:
      `write an absolute path: ${now} as supervisor-ts reads it, or ${then} if ${RS} was started in ${cwd}`,
  };
}

function serverDifferences(open: OpenFile, input: RsInput, out: RsDifference[]): void {
  const rec = new Recorder(open, out);
  const { map } = open;
  const dir = dirname(open.file.path);
  ignoredKeys(rec, map, [], RS_SERVER_KEYS, "server.yml");

  const relativeList = (key: "loadpaths" | "pub_keys_path", topic: RsTopic, what: string) => {
    const list = map[key];
    if (!Array.isArray(list)) return;
    list.forEach((entry, index) => {
      if (typeof entry !== "string" || entry === "" || isAbsolute(entry)) return;
      const { message, fix } = readings(entry, dir, "the directory of server.yml", input.cwd);
      rec.add(topic, { path: [key, index] }, () => ({
        message: `${what} ${show(entry)} is relative: ${message}`,
        fix,
      }), false);
    });
  };
  relativeList("loadpaths", "relative-loadpath", "loadpath");
  relativeList("pub_keys_path", "relative-pub-keys-path", "pub_keys_path entry");

  if (map.mode !== undefined && map.mode !== null && map.mode !== "full" && map.mode !== "half") {
    if (map.mode !== "quiet") {
      rec.add("mode-word", { path: ["mode"] }, (refused) => ({
        message: `mode ${
          show(map.mode)
        }: ${RS} took it as quiet (it knew only full and half, in lower case)${
          refused ? "; supervisor-ts refuses it" : ""
        }`,
        fix: `mode: quiet to keep what ${RS} did, or the mode you meant in lower case (half, full)`,
      }));
    }
  }

  // ipv6: yaml-rust read only the booleans true and false; supervisor-ts also on, yes and the like.
  const rsIpv6 = map.ipv6 === true;
  const tsIpv6 = map.ipv6 === true ||
    (typeof map.ipv6 === "string" && ["on", "true", "yes"].includes(map.ipv6.toLowerCase()));
  if (map.listener_addr === undefined || map.listener_addr === null) {
    if (tsIpv6 && !rsIpv6) {
      rec.add("ipv6-word", { path: ["ipv6"] }, () => ({
        message: `ipv6 ${
          show(map.ipv6)
        }: ${RS} read only true as on, so it listened on 0.0.0.0 (every IPv4 interface); supervisor-ts reads it as on and listens on ::`,
        fix: `listener_addr: 0.0.0.0 to listen where ${RS} did, or ipv6: true to keep ::`,
      }));
    } else if (!tsIpv6) {
      rec.add("listener-addr", { path: [] }, () => ({
        message:
          `no listener_addr: ${RS} listened on 0.0.0.0 (every interface); supervisor-ts listens on 127.0.0.1 (this machine only)`,
        fix:
          `listener_addr: 0.0.0.0 to be reachable from other machines as before (best with encrypt: on), or keep 127.0.0.1 and reach the server with "on ssh://user@host"`,
      }), false);
    }
  }

  // encrypt: supervisor-rs turned it on only for the string "on"; supervisor-ts takes any flag word.
  const encrypt = map.encrypt;
  if (encrypt !== undefined && encrypt !== null) {
    const rsOn = encrypt === "on";
    const tsOn = encrypt === true ||
      (typeof encrypt === "string" && ["on", "true", "yes"].includes(encrypt.toLowerCase()));
    const tsOff = encrypt === false ||
      (typeof encrypt === "string" && ["off", "false", "no"].includes(encrypt.toLowerCase()));
    if (!rsOn && tsOn) {
      rec.add("encrypt-word", { path: ["encrypt"] }, () => ({
        message: `encrypt ${
          show(encrypt)
        }: ${RS} turned encrypt on only for the word on in lower case, so it took unsigned commands; supervisor-ts reads it as on: every request must be signed`,
        fix:
          `encrypt: off to keep taking unsigned commands as ${RS} did, or keep it on with keys in pub_keys_path`,
      }));
    } else if (!rsOn && !tsOff) {
      rec.add("encrypt-word", { path: ["encrypt"] }, (refused) => ({
        message: `encrypt ${show(encrypt)}: ${RS} took it as off${
          refused ? "; supervisor-ts refuses it" : ""
        }`,
        fix: `encrypt: off, which is what ${RS} did`,
      }));
    }
    if (rsOn && (map.legacy === undefined || map.legacy === null)) {
      rec.add("encrypt-legacy", { path: ["encrypt"] }, () => ({
        message:
          `encrypt: on: supervisor-rs-client's signed commands are refused now, since encrypt: on turns the supervisor-rs dialect off unless legacy: on`,
        fix:
          `add legacy: on while supervisor-rs clients remain (their signed commands carry no time and can be replayed), and turn it off once every client uses supervisor-ts-client`,
      }), false);
    }
  }
}

interface ChildFacts {
  readonly name: string;
  /** Whether supervisor-ts starts it with the server (mode full, or half and in startup). */
  readonly atBoot: boolean;
  readonly cwd: string;
}

function childDifferences(open: OpenFile, facts: ChildFacts, out: RsDifference[]): void {
  const rec = new Recorder(open, out);
  const { map } = open;
  const dir = dirname(open.file.path);
  ignoredKeys(rec, map, [], RS_CHILD_KEYS, "a child file");

  if (typeof map.command === "string") commandDifference(rec, map.command);

  if (Array.isArray(map.output)) {
    map.output.forEach((entry, index) => {
      if (!isMapping(entry)) return;
      ignoredKeys(
        rec,
        entry,
        ["output", index],
        RS_OUTPUT_KEYS,
        "an output entry",
        `${RS} refused the entry for it and so ignored the whole output list (the output went to the server's own)`,
      );
      for (const stream of ["stdout", "stderr"] as const) {
        const path = entry[stream];
        if (typeof path !== "string" || path === "" || isAbsolute(path)) continue;
        const { message, fix } = readings(path, dir, "the child file's directory", facts.cwd);
        rec.add("relative-output", { path: ["output", index, stream] }, () => ({
          message: `output ${stream} ${show(path)} is relative: ${message}`,
          fix,
        }), false);
      }
    });
  }

  if (isMapping(map.repeat)) repeatDifferences(rec, map.repeat, facts);

  if (Array.isArray(map.hooks)) hookDifferences(rec, map.hooks, facts);
}

/** The argv supervisor-rs 0.8.5 ran: the program up to the first space, then words split on single spaces. */
export function rsArgv(command: string): string[] {
  const space = command.indexOf(" ");
  if (space < 0) return [command];
  return [command.slice(0, space), ...command.slice(space + 1).split(" ")];
}

function commandDifference(rec: Recorder, command: string): void {
  const then = rsArgv(command);
  let now: string[] | undefined;
  try {
    now = splitCommand(command);
  } catch (error) {
    if (!(error instanceof CommandSyntaxError)) throw error;
  }
  if (now !== undefined && now.length === then.length && now.every((w, i) => w === then[i])) {
    return;
  }
  const list = `command: [${then.map((w) => JSON.stringify(w)).join(", ")}]`;
  rec.add("command-split", { path: ["command"] }, (refused) => ({
    message: `command ${show(command)}: ${RS} split it on single spaces into ${
      JSON.stringify(then)
    }; ${
      now === undefined
        ? "supervisor-ts splits it like sh does, and refuses it"
        : `supervisor-ts splits it like sh does, into ${JSON.stringify(now)}`
    }`,
    fix: refused || now === undefined
      ? `write the words as a list, as ${RS} passed them: ${list}`
      : `nothing, if these are the words you meant (quotes now group words); to pass the words as ${RS} did: ${list}`,
  }));
}

function repeatDifferences(
  rec: Recorder,
  repeat: Readonly<Record<string, unknown>>,
  facts: ChildFacts,
): void {
  ignoredKeys(rec, repeat, ["repeat"], RS_REPEAT_KEYS, "repeat");
  const seconds = repeat.seconds;
  // yaml-rust's into_i64 took only integers; anything else (or nothing) left 0, refused with a log line.
  const rsValid = typeof seconds === "number" && Number.isInteger(seconds) && seconds > 0;
  if (!rsValid) {
    const path = seconds === undefined ? ["repeat"] : ["repeat", "seconds"];
    rec.add("repeat-ignored", { path }, (refused) => ({
      message: `repeat.seconds ${
        seconds === undefined ? "missing" : show(seconds)
      }: ${RS} ignored this repeat (it logged an error and set no timer); ${
        refused
          ? "supervisor-ts refuses the file"
          : `supervisor-ts runs its timer every ${show(seconds)} s`
      }`,
      fix: refused
        ? `remove repeat to keep what ${RS} did (no timer), or give seconds: 1 or more for a timer`
        : `remove repeat to keep what ${RS} did (no timer), or keep it for the timer`,
    }));
    return;
  }
  if (facts.atBoot) {
    const action = typeof repeat.action === "string" && repeat.action !== ""
      ? repeat.action
      : "restart";
    rec.add("repeat-at-startup", { path: ["repeat"], atKey: true }, () => ({
      message:
        `repeat: ${RS} set no repeat timer for children it started with the server; supervisor-ts does, so "${action} ${facts.name}" runs every ${seconds} s from the server's start`,
      fix:
        `nothing, if the timer should run from the start; else leave "${facts.name}" out of the startup children (mode half) and start it by hand`,
    }), false);
  }
}

function hookDifferences(rec: Recorder, hooks: readonly unknown[], facts: ChildFacts): void {
  const byKind = new Map<string, string[]>([["prehook", []], ["posthook", []]]);
  hooks.forEach((entry, index) => {
    if (!isMapping(entry)) return;
    ignoredKeys(rec, entry, ["hooks", index], RS_HOOK_KEYS, "a hook entry");
    for (const kind of RS_HOOK_KEYS) {
      const text = entry[kind];
      if (typeof text === "string") byKind.get(kind)!.push(text);
    }
  });
  for (const [kind, texts] of byKind) {
    if (texts.length < 2) continue;
    rec.add("several-hooks", { path: ["hooks"], atKey: true }, () => ({
      message: `${texts.length} ${kind}s: ${RS} kept one ${kind} per child, the last one (${
        show(texts[texts.length - 1])
      }); supervisor-ts runs them all, in order: ${texts.map(show).join(", ")}`,
      fix: `keep only the last ${kind} to do what ${RS} did, or keep them all if each should run`,
    }), false);
  }
  const prehooks = byKind.get("prehook")!;
  if (facts.atBoot && prehooks.length > 0) {
    rec.add("prehooks-at-startup", { path: ["hooks"], atKey: true }, () => ({
      message:
        `prehooks: ${RS} ran no hooks for children it started with the server; supervisor-ts runs the prehooks of "${facts.name}" first at startup too: ${
          prehooks.map(show).join(", ")
        }`,
      fix:
        `nothing, if they should run at startup; else leave "${facts.name}" out of the startup children (mode half) and start it by hand`,
    }), false);
  }
}

/** The name supervisor-rs 0.8.5 gave a file in a loadpath (up to its first dot), if it was a child file. */
export function rsChildName(fileName: string): string | undefined {
  const dot = fileName.lastIndexOf(".");
  // Rust's Path::extension: none for a name whose only dot starts it.
  if (dot <= 0) return undefined;
  const extension = fileName.slice(dot + 1);
  if (extension !== "yml" && extension !== "yaml") return undefined;
  return fileName.split(".")[0];
}

/** The name supervisor-ts gives a file in a loadpath, if it reads it as a child file. */
function tsChildName(fileName: string): string | undefined {
  if (fileName.startsWith(".")) return undefined;
  const isChild = CHILD_EXTENSIONS.some((ext) =>
    fileName.endsWith(ext) && fileName.length > ext.length
  );
  return isChild ? childNameOf(fileName) : undefined;
}

function loadpathDifferences(
  input: RsInput,
  children: ReadonlyMap<string, RsFile>,
  out: RsDifference[],
): void {
  const server = openFile(input.server);
  const serverRec = server ? new Recorder(server, out) : undefined;
  const startup = server && Array.isArray(server.map.startup) ? server.map.startup : [];
  const hookTargets = [...children.values()].flatMap((file) => {
    const hooks = openFile(file)?.map.hooks;
    return Array.isArray(hooks)
      ? hooks.flatMap((h) =>
        isMapping(h)
          ? RS_HOOK_KEYS.flatMap((k) =>
            typeof h[k] === "string" ? [h[k].trim().split(/\s+/)[1]] : []
          )
          : []
      )
      : [];
  });
  /** Which of startup and the hooks name `name`, for a fix: ` (startup names "a")`, or nothing. */
  const references = (name: string): string => {
    const where = [
      ...(startup.includes(name) ? ["startup"] : []),
      ...(hookTargets.includes(name) ? ["hooks"] : []),
    ];
    const verb = where.length === 1 ? "names" : "name";
    return where.length === 0 ? "" : ` (${where.join(" and ")} ${verb} "${name}")`;
  };
  /** Where supervisor-ts found each of its names, in loadpath order. */
  const tsNames = new Map<string, { path: string; index: number }[]>();
  for (const loadpath of input.loadpaths) {
    for (const fileName of [...loadpath.fileNames ?? []].sort()) {
      const tsName = tsChildName(fileName);
      if (tsName === undefined) continue;
      const path = resolve(loadpath.dir, fileName);
      tsNames.set(tsName, [...tsNames.get(tsName) ?? [], { path, index: loadpath.index }]);
    }
  }
  for (const loadpath of input.loadpaths) {
    for (const fileName of [...loadpath.fileNames ?? []].sort()) {
      const rsName = rsChildName(fileName);
      const tsName = tsChildName(fileName);
      if (!rsName || tsName === undefined) continue;
      const path = resolve(loadpath.dir, fileName);
      if (rsName !== tsName) {
        const others = (tsNames.get(rsName) ?? []).map((f) => f.path);
        const extension = fileName.slice(fileName.lastIndexOf("."));
        const child = children.get(path);
        const open = child ? openFile(child) : undefined;
        const rec = open ? new Recorder(open, out) : undefined;
        const text = () => ({
          message: `file name ${
            show(fileName)
          }: ${RS} named its child "${rsName}" (the file name up to its first dot); supervisor-ts names it "${tsName}" (up to its extension)`,
          fix: others.length > 0
            ? `"${rsName}" is also ${
              others.map(show).join(" and ")
            }, and ${RS} answered to "${rsName}" with whichever it found first: keep one, rename the other (and use the new name in commands, startup and hooks)`
            : `rename the file to ${rsName}${extension} to keep the name "${rsName}"${
              references(rsName)
            }, or use "${tsName}" in commands, startup and hooks`,
        });
        if (rec) rec.add("dotted-name", { path: [] }, text, false);
        else {
          out.push({
            topic: "dotted-name",
            file: path,
            line: undefined,
            col: undefined,
            ...text(),
            refused: false,
            covers: undefined,
          });
        }
        continue;
      }
      const problem = nameProblem(tsName);
      if (problem && !RS_RESERVED.includes(rsName) && serverRec) {
        serverRec.add("name-refused", { path: ["loadpaths", loadpath.index] }, () => ({
          message: `${
            show(path)
          }: ${RS} ran it as the child "${rsName}"; supervisor-ts ignores the file: ${problem.message}`,
          fix:
            `rename the file to a name of letters, digits, ".", "_" and "-" that is not a reserved word (e.g. ${
              suggestName(tsName)
            }${
              fileName.slice(fileName.lastIndexOf("."))
            }), and use the new name in commands, startup and hooks`,
        }), true);
      }
    }
  }
  if (!serverRec) return;
  for (const [name, files] of tsNames) {
    if (files.length < 2 || nameProblem(name)) continue;
    const last = files[files.length - 1]!;
    serverRec.add("same-name", { path: ["loadpaths", last.index] }, () => ({
      message: `child "${name}" is defined by ${
        files.map((f) => show(f.path)).join(" and ")
      }: ${RS} used the first it found, silently; supervisor-ts refuses the name`,
      fix: `remove or rename all but one of the files`,
    }), true);
  }
}

/** A valid child name close to `name`: invalid characters made `-`, a reserved word suffixed. */
function suggestName(name: string): string {
  let base = name.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  if (base === "") base = "child";
  if (nameProblem(base)) base = `${base}-child`;
  return base;
}
