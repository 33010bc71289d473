/**
 * `deno task build`: compiles supervisor-ts-server and supervisor-ts-client with `deno compile`
 * for every release target, into dist/<binary>-<target>, then writes dist/SHA256SUMS.
 *
 * Owns: running the plan of `scripts/build/plan.ts` (every argument is decided there) and
 * hashing the outputs. `--dry-run` prints the plan's commands and runs nothing. `DENORT_BIN` is
 * passed through to `deno compile`, which then uses that runtime instead of downloading one.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { createHash } from "node:crypto";
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BUILD_USAGE,
  commandLine,
  DEFAULT_OUT_DIR,
  parseBuildArgs,
  planBuild,
  shellQuote,
  sumsLine,
} from "./build/plan.ts";
import type { BuildPlan } from "./build/plan.ts";

/** The repository root: commands run here, so deno.json and deno.lock apply. */
const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

function note(line: string): void {
  console.error(line);
}

/** `dir` as the plan takes it: relative to the root when inside it, else absolute. */
function outDirFor(dir: string | undefined): string {
  if (dir === undefined) return DEFAULT_OUT_DIR;
  const absolute = resolve(Deno.cwd(), dir);
  const inside = relative(ROOT, absolute);
  if (inside === "") return ".";
  return inside.startsWith("..") || isAbsolute(inside) ? absolute : inside;
}

/** The SHA-256 of a file, read as a stream (binaries are ~100 MB). */
async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  // The stream closes the file when it ends or fails.
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

async function build(plan: BuildPlan): Promise<number> {
  const sumsPath = resolve(ROOT, plan.sumsPath);
  await Deno.mkdir(resolve(sumsPath, ".."), { recursive: true });
  // A SHA256SUMS left by an earlier build must not vouch for binaries of this one.
  await removeIfPresent(sumsPath);
  let sums = "";
  for (const step of plan.steps) {
    note(`build: ${commandLine(step)}`);
    const { code } = await new Deno.Command(step.program, {
      args: [...step.args],
      cwd: ROOT,
      env: { ...step.env },
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) {
      note(
        `error: deno compile of ${step.fileName} failed with exit status ${code}; nothing more ` +
          `was built and ${plan.sumsPath} was not written. If it failed downloading the runtime ` +
          `(denort) for ${step.target}, build where deno can reach dl.deno.land, or set ` +
          `DENORT_BIN to a denort built for ${step.target}`,
      );
      return 1;
    }
    sums += sumsLine(await sha256File(resolve(ROOT, step.output)), step.fileName);
  }
  await Deno.writeTextFile(sumsPath, sums);
  note(`build: wrote ${plan.sumsPath}:`);
  note(sums.trimEnd());
  return 0;
}

async function main(args: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseBuildArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    note(`error: ${error.message}\n\nRun "deno task build --help" for usage.`);
    return error.exitCode;
  }
  if (command.kind === "help") {
    console.log(BUILD_USAGE);
    return 0;
  }
  const denortBin = Deno.env.get("DENORT_BIN") || undefined;
  const plan = planBuild({
    deno: Deno.execPath(),
    targets: command.targets,
    outDir: outDirFor(command.outDir),
    denortBin,
  });
  if (denortBin !== undefined) {
    note(
      `DENORT_BIN=${
        shellQuote(denortBin)
      } is set and passed to deno compile: it uses that runtime for ` +
        `every target instead of downloading denort (it must be a denort for the target built)`,
    );
  }
  if (command.dryRun) {
    for (const step of plan.steps) console.log(commandLine(step));
    note(
      `dry run: nothing was run. The commands above run in ${ROOT}; then ${plan.sumsPath} ` +
        `would list the SHA-256 of each output`,
    );
    return 0;
  }
  return await build(plan);
}

Deno.exit(await main(Deno.args));
