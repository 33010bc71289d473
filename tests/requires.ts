/**
 * The system programs tests run, and what a test does when one is missing here.
 *
 * On a developer's machine a test whose program is missing is skipped (Deno reports it as
 * ignored) and its file prints one line to stderr saying what is missing and how to get it.
 * With `CI=true` a program that `.ci/run` installs is required instead: its tests run and fail
 * with the same hint, so CI never passes by skipping them.
 *
 * Owns: the table of programs with their Debian packages and whether CI installs them,
 * finding programs, and the skip line. Does not own: installing anything (see `.ci/run`) or
 * running the programs (each test file does).
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Where a program comes from. */
interface Source {
  /** The Debian package that has it. */
  readonly apt: string;
  /** Whether `.ci/run` installs it, so that under CI its tests must run. */
  readonly ci: boolean;
  /** Only Linux has it: elsewhere its tests are skipped even under CI. */
  readonly linuxOnly?: boolean;
}

/** Every program a test runs that a machine with only Node and npm may lack. `a|b`: either. */
const PROGRAMS = {
  "/usr/sbin/sshd": { apt: "openssh-server", ci: true },
  "ssh": { apt: "openssh-client", ci: true },
  "ssh-keygen": { apt: "openssh-client", ci: true },
  "systemd-analyze": { apt: "systemd", ci: true, linuxOnly: true },
  // An extra check beside systemd-analyze: .ci/run does not make sure of it.
  "systemd-sysusers": { apt: "systemd", ci: false },
  "openssl": { apt: "openssl", ci: true },
  "curl|wget": { apt: "curl", ci: true },
  "sha256sum|shasum": { apt: "coreutils", ci: true },
  // .ci/run installs curl only when neither curl nor wget is there.
  "curl": { apt: "curl", ci: false },
  "wget": { apt: "wget", ci: false },
  "shasum": { apt: "perl", ci: false },
  "perl": { apt: "perl", ci: false },
  "sha256sum": { apt: "coreutils", ci: true },
  "seq": { apt: "coreutils", ci: true },
  "sleep": { apt: "coreutils", ci: true },
  "bash": { apt: "bash", ci: true },
  "script": { apt: "bsdutils", ci: true },
  "zsh": { apt: "zsh", ci: false },
  // The status page's browser test drives Debian's Chromium through npm playwright-core.
  "chromium": { apt: "chromium", ci: true, linuxOnly: true },
  // /metrics is checked with the real Prometheus tooling.
  "promtool": { apt: "prometheus", ci: true, linuxOnly: true },
  "fish": { apt: "fish", ci: false },
} as const satisfies Record<string, Source>;

/** A program (or `a|b`, either of two) that tests may require. */
export type Program = keyof typeof PROGRAMS;

/** What a test file learns from {@link requirePrograms}. */
export interface Requirements {
  /**
   * For `Deno.test`'s `ignore`: whether a test running `programs` (all the file's when none
   * are given) is skipped here, because one is missing and CI does not require it.
   */
  skip(...programs: Program[]): boolean;
  /** Throws, saying what is missing and how to install it, when one of `programs` is. */
  check(...programs: Program[]): void;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const reported = new Set<string>();

/**
 * Looks up the programs the tests of the file `meta` belongs to run, once, when the file is
 * loaded; prints one line to stderr when some of its tests will be skipped for want of one.
 */
export function requirePrograms(meta: ImportMeta, programs: readonly Program[]): Requirements {
  const file = relative(ROOT, fileURLToPath(meta.url));
  const ci = Deno.env.get("CI") === "true";
  const missing = new Set(programs.filter((program) => !installed(program)));
  const required = (program: Program): boolean => {
    const source: Source = PROGRAMS[program];
    return ci && source.ci && (!source.linuxOnly || Deno.build.os === "linux");
  };
  const declared = (list: Program[]): Program[] => {
    const names = list.length === 0 ? [...programs] : list;
    const unknown = names.filter((name) => !programs.includes(name));
    if (unknown.length > 0) {
      throw new Error(`${file} did not declare ${unknown.join(", ")} in requirePrograms`);
    }
    return names.filter((name) => missing.has(name));
  };
  const skipped = [...missing].filter((program) => !required(program));
  if (skipped.length > 0 && !reported.has(file)) {
    reported.add(file);
    toStderr(`skipped: ${file} needs ${hint(skipped)}`);
  }
  return {
    skip: (...list) => declared(list).some((program) => !required(program)),
    check(...list) {
      const absent = declared(list);
      if (absent.length > 0) throw new Error(`${file} needs ${hint(absent)}`);
    },
  };
}

/** `ssh, ssh-keygen: apt-get install -y openssh-client`. */
function hint(programs: readonly Program[]): string {
  // "curl or wget" says nothing more when curl and wget are both listed.
  const names = programs
    .filter((program) =>
      !program.includes("|") ||
      !program.split("|").every((name) => programs.includes(name as Program))
    )
    .map((program) => program.replace("|", " or "));
  const packages = new Set(programs.map((program) => PROGRAMS[program].apt));
  return `${names.join(", ")}: apt-get install -y ${[...packages].join(" ")}`;
}

/** Whether `program` (any of `a|b`) is an executable file: a path, or a name on PATH. */
function installed(program: Program): boolean {
  return program.split("|").some((name) => {
    if (name.startsWith("/")) return executable(name);
    const path = Deno.env.get("PATH") ?? "";
    return path.split(":").some((dir) => dir !== "" && executable(join(dir, name)));
  });
}

function executable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Writes `line` to this process's stderr. `deno test --quiet` drops what tests print through
 * `console` and `Deno.stderr`, so the line goes through /dev/stderr opened anew, in append
 * mode. When stderr is a regular file a second handle could overwrite what the first writes
 * (`> log 2>&1`): `console` is used then, and the line shows without `--quiet`.
 */
function toStderr(line: string): void {
  try {
    if (!Deno.statSync("/dev/stderr").isFile) {
      using stderr = Deno.openSync("/dev/stderr", { append: true });
      const bytes = new TextEncoder().encode(`${line}\n`);
      let written = 0;
      while (written < bytes.length) written += stderr.writeSync(bytes.subarray(written));
      return;
    }
  } catch {
    // No /dev/stderr here (or no permission to open it): console below.
  }
  console.error(line);
}
