/**
 * The build plan of `deno task build`: which binaries are compiled for which targets, with which
 * permissions, and the exact `deno compile` command lines — as data, with no I/O, so every
 * argument can be unit-tested and printed by `--dry-run`.
 *
 * Owns: the target list (read by the release workflow's test too), the binaries and the
 * permissions baked into each, parsing the build script's arguments, shell quoting, and the
 * SHA256SUMS line format. Does not own: running commands, hashing or writing files (see
 * `scripts/build.ts`).
 *
 * @module
 */
import { errorMessage, UsageError } from "../../lib/errors.ts";
import { parseArgs } from "node:util";

/** Every target a release ships, in the order they are built and listed in SHA256SUMS. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
] as const;

/** One of {@link TARGETS}. */
export type Target = typeof TARGETS[number];

/** Whether `value` is one of {@link TARGETS}. */
export function isTarget(value: string): value is Target {
  return (TARGETS as readonly string[]).includes(value);
}

/** One executable of the release. */
export interface Binary {
  /** File name without the target suffix, e.g. `supervisor-ts-server`. */
  readonly name: string;
  /** Entry module, relative to the repository root. */
  readonly entry: string;
  /** The permission flags baked into the executable: nothing is ever asked at run time. */
  readonly permissions: readonly string[];
  /** V8 flags baked into the executable (`--v8-flags=…`), none when empty. */
  readonly v8Flags: readonly string[];
}

/**
 * The server's permissions: all of them (`--allow-all`). Deno 2.9 refuses every read of /proc
 * without it ("Requires all access to /proc/self/stat"), even with `--allow-read=/proc`, and
 * the server needs /proc to stop a child's whole process group and session (listing members),
 * to tell a process from a later one with its pid (start times, for adoption), and to know its
 * own user (for `user`/`group`). It loses nothing by it: `--allow-run` of any program the
 * configs name, which it needs anyway, already lets a child do anything the server's user can.
 * What keeps the server safe is its user (a dedicated one under systemd), not Deno's sandbox.
 * Checked by tests/workflows_test.ts, which runs the release smoke test with these flags.
 */
export const SERVER_PERMISSIONS = ["--allow-all"] as const;

/**
 * The client's permissions:
 *
 * - `--allow-net`: TCP to the hosts given with `on`, which can be any host.
 * - `--allow-read`: the private key of `with KEY.pem`, at any path the user gives.
 * - `--allow-run`: `ssh` for `ssh://` hosts — or whatever program `SUPERVISOR_TS_SSH` names,
 *   so it cannot be limited to `ssh`.
 * - `--allow-env=NO_COLOR,SUPERVISOR_TS_SSH,TERM`: the only variables the client reads (NO_COLOR
 *   and TERM decide colours; SUPERVISOR_TS_SSH replaces the ssh command).
 *
 * Not granted: write (the client writes no file), sys, ffi, import, and never -A.
 */
export const CLIENT_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-run",
  "--allow-env=NO_COLOR,SUPERVISOR_TS_SSH,TERM",
] as const;

/**
 * The server's V8 flags. A young generation of at most 2 MiB per semi-space: the server
 * allocates many short-lived objects (requests, YAML parses, spawns), and V8 otherwise grows the
 * young generation to tens of MiB for a long-running process; capped, it holds about 23 MiB
 * less with 500 children, for scavenges that stay well under a millisecond. `--expose-gc`: after
 * a burst of clients the server collects its heap once, giving back what the burst grew it to
 * (see `BurstCollector` in lib/server/listener.ts); without it, V8 keeps that memory. The same
 * flags are in `deno task start` (deno.json).
 */
export const SERVER_V8_FLAGS = ["--max-semi-space-size=2", "--expose-gc"] as const;

/**
 * The release's executables. No `--include` is needed: the client's only dynamic import (the
 * signing module, `import("./signed_request-HASH.js")` in its bundle, bundle/client/) has a
 * literal specifier, which `deno compile` puts in the module graph and embeds like a static
 * import (the tests check the client's graph holds it).
 */
export const BINARIES: readonly Binary[] = [
  {
    name: "supervisor-ts-server",
    entry: "main_server.ts",
    permissions: SERVER_PERMISSIONS,
    v8Flags: SERVER_V8_FLAGS,
  },
  {
    name: "supervisor-ts-client",
    entry: "main_client.ts",
    permissions: CLIENT_PERMISSIONS,
    v8Flags: [],
  },
];

/** The checksum file written next to the binaries. */
export const SUMS_FILE = "SHA256SUMS";

/** Default output directory, relative to the repository root. */
export const DEFAULT_OUT_DIR = "dist";

/** The file name of `binary` built for `target`. */
export function binaryFileName(binary: Binary, target: Target): string {
  return `${binary.name}-${target}`;
}

/** What to build. */
export interface BuildOptions {
  /** The deno executable that runs `deno compile`. */
  readonly deno: string;
  /** Targets, in any order; built in {@link TARGETS} order. */
  readonly targets: readonly Target[];
  /** Output directory: relative to the repository root (where commands run), or absolute. */
  readonly outDir: string;
  /** `DENORT_BIN` from the environment, passed through to `deno compile` when set. */
  readonly denortBin?: string | undefined;
}

/** One `deno compile` run. */
export interface CompileStep {
  readonly binary: Binary;
  readonly target: Target;
  /** Output path, as passed to `--output`. */
  readonly output: string;
  /** The output's file name, as listed in SHA256SUMS. */
  readonly fileName: string;
  /** The program to run (the deno executable). */
  readonly program: string;
  /** Its arguments, starting with `compile`. */
  readonly args: readonly string[];
  /** Variables set for this command on top of the inherited environment. */
  readonly env: Readonly<Record<string, string>>;
}

/** Everything a build does, in order. */
export interface BuildPlan {
  readonly steps: readonly CompileStep[];
  /** Where SHA256SUMS is written once every step succeeded. */
  readonly sumsPath: string;
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** The compile steps for every binary on every target of `options`, and the sums file. */
export function planBuild(options: BuildOptions): BuildPlan {
  const env: Record<string, string> = options.denortBin === undefined
    ? {}
    : { DENORT_BIN: options.denortBin };
  const steps: CompileStep[] = [];
  for (const target of TARGETS.filter((t) => options.targets.includes(t))) {
    for (const binary of BINARIES) {
      const fileName = binaryFileName(binary, target);
      const output = joinPath(options.outDir, fileName);
      steps.push({
        binary,
        target,
        output,
        fileName,
        program: options.deno,
        // deno compile type-checks local modules by default: no --no-check, on purpose.
        args: [
          "compile",
          "--target",
          target,
          "--output",
          output,
          ...binary.permissions,
          ...(binary.v8Flags.length === 0 ? [] : [`--v8-flags=${binary.v8Flags.join(",")}`]),
          binary.entry,
        ],
        env,
      });
    }
  }
  return { steps, sumsPath: joinPath(options.outDir, SUMS_FILE) };
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `word` quoted for a POSIX shell: unchanged when it needs no quoting, else in single quotes. */
export function shellQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The exact command line of `step`, shell-quoted, with its environment assignments first. */
export function commandLine(step: CompileStep): string {
  const assignments = Object.entries(step.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return [...assignments, shellQuote(step.program), ...step.args.map(shellQuote)].join(" ");
}

/** One line of SHA256SUMS, in the format `sha256sum` writes and `sha256sum -c` reads. */
export function sumsLine(hexDigest: string, fileName: string): string {
  return `${hexDigest}  ${fileName}\n`;
}

/** What the build script was asked to do. */
export type BuildCommand =
  | { readonly kind: "help" }
  | {
    readonly kind: "build";
    readonly dryRun: boolean;
    readonly targets: readonly Target[];
    /** `--out` as given, or undefined for {@link DEFAULT_OUT_DIR}. */
    readonly outDir: string | undefined;
  };

/** Parses the build script's arguments; throws {@link UsageError} on anything wrong. */
export function parseBuildArgs(args: readonly string[]): BuildCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        "dry-run": { type: "boolean" },
        target: { type: "string", multiple: true },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const { values } = parsed;
  if (values.help) return { kind: "help" };
  const asked = values.target ?? [];
  const unknown = asked.filter((t) => !isTarget(t));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown target ${unknown.map((t) => `"${t}"`).join(", ")}: expected one of ${
        TARGETS.join(", ")
      }`,
    );
  }
  if (values.out !== undefined && values.out.trim() === "") {
    throw new UsageError("--out needs a directory");
  }
  return {
    kind: "build",
    dryRun: values["dry-run"] ?? false,
    targets: asked.length === 0 ? [...TARGETS] : TARGETS.filter((t) => asked.includes(t)),
    outDir: values.out,
  };
}

/** The build script's `--help`. */
export const BUILD_USAGE =
  `deno task build: compiles supervisor-ts-server and supervisor-ts-client for every target

Usage: deno task build [--dry-run] [--target TARGET]... [--out DIR]

  --dry-run        print the exact commands, one per line, and do nothing
  --target TARGET  build only this target (repeatable); one of:
                     ${TARGETS.join("\n                     ")}
  --out DIR        output directory (default: ${DEFAULT_OUT_DIR}/ in the repository)
  -h, --help       print this help

Writes DIR/<binary>-<target> for each binary and target, then DIR/${SUMS_FILE}.
DENORT_BIN, when set, is passed to deno compile, which then uses that runtime instead of
downloading one for each target (it must be a denort built for the target).`;
