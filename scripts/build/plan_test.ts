/**
 * The build plan and the build script: the arguments of every `deno compile`, the script's
 * options as a process (`--dry-run`, `--target`, `--out`, DENORT_BIN, usage errors), and — where
 * the full deno binary can stand in for the runtime (DENORT_BIN) — a real build of this
 * machine's target with its SHA256SUMS.
 *
 * @module
 */
import { UsageError } from "../../lib/errors.ts";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BINARIES,
  CLIENT_PERMISSIONS,
  commandLine,
  parseBuildArgs,
  planBuild,
  SERVER_PERMISSIONS,
  shellQuote,
  sumsLine,
  TARGETS,
} from "./plan.ts";
import type { Target } from "./plan.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUILD_SCRIPT = join(ROOT, "scripts", "build.ts");
const decoder = new TextDecoder();

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs scripts/build.ts as a process, from a directory outside the repository. */
async function buildScript(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1", ...env };
  delete base.RUST_BACKTRACE;
  if (!("DENORT_BIN" in env)) delete base.DENORT_BIN;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", BUILD_SCRIPT, ...args],
    cwd: "/",
    clearEnv: true,
    env: base,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Splits a printed command line into words the way `sh` does. */
async function shellWords(line: string): Promise<string[]> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `set -- ${line}; printf '%s\\0' "$@"`],
    stdout: "piped",
  }).output();
  assert.equal(out.code, 0, line);
  return decoder.decode(out.stdout).split("\0").slice(0, -1);
}

/** The words expected for one binary on one target. */
function expectedWords(
  name: string,
  target: string,
  outDir: string,
  denortBin?: string,
): string[] {
  const binary = BINARIES.find((b) => b.name === name)!;
  return [
    ...(denortBin === undefined ? [] : [`DENORT_BIN=${denortBin}`]),
    Deno.execPath(),
    "compile",
    "--target",
    target,
    "--output",
    `${outDir}/${name}-${target}`,
    ...binary.permissions,
    ...(binary.v8Flags.length === 0 ? [] : [`--v8-flags=${binary.v8Flags.join(",")}`]),
    binary.entry,
  ];
}

Deno.test("the plan compiles both binaries for every target, with their permissions", () => {
  const plan = planBuild({ deno: "deno", targets: TARGETS, outDir: "dist" });
  assert.equal(plan.steps.length, BINARIES.length * TARGETS.length);
  assert.equal(plan.sumsPath, "dist/SHA256SUMS");
  const server = plan.steps[0]!;
  assert.deepEqual(server.args, [
    "compile",
    "--target",
    "x86_64-unknown-linux-gnu",
    "--output",
    "dist/supervisor-ts-server-x86_64-unknown-linux-gnu",
    "--allow-all",
    "--v8-flags=--max-semi-space-size=2,--expose-gc",
    "main_server.ts",
  ]);
  assert.deepEqual(server.env, {});
  assert.equal(server.fileName, "supervisor-ts-server-x86_64-unknown-linux-gnu");
  const client = plan.steps[1]!;
  assert.deepEqual(client.args.slice(-5), [
    "--allow-net",
    "--allow-read",
    "--allow-run",
    "--allow-env=NO_COLOR,SUPERVISOR_TS_SSH,TERM",
    "main_client.ts",
  ]);
  assert.deepEqual(plan.steps.map((s) => s.target), TARGETS.flatMap((t) => [t, t]));
});

Deno.test("the client gets no -A, sys, ffi, import, --no-check or an unlimited env", () => {
  const steps = planBuild({ deno: "deno", targets: TARGETS, outDir: "d" }).steps;
  for (const step of steps.filter((s) => s.fileName.startsWith("supervisor-ts-client"))) {
    for (const forbidden of ["-A", "--allow-all", "--allow-sys", "--allow-ffi", "--no-check"]) {
      assert.ok(!step.args.some((a) => a.startsWith(forbidden)), `${step.fileName}: ${forbidden}`);
    }
    assert.ok(!step.args.includes("--allow-import"));
    assert.ok(!step.args.includes("--allow-env"), "env is limited to named variables");
  }
  assert.ok(!(CLIENT_PERMISSIONS as readonly string[]).includes("--allow-write"));
});

Deno.test("the server gets every permission: Deno 2.9 reads /proc only with --allow-all", () => {
  assert.deepEqual([...SERVER_PERMISSIONS], ["--allow-all"]);
});

Deno.test("the plan builds the targets asked for in the release order, and passes DENORT_BIN", () => {
  const plan = planBuild({
    deno: "/opt/deno",
    targets: ["aarch64-apple-darwin", "x86_64-unknown-linux-gnu"],
    outDir: "/tmp/out/",
    denortBin: "/opt/denort",
  });
  assert.deepEqual(plan.steps.map((s) => s.output), [
    "/tmp/out/supervisor-ts-server-x86_64-unknown-linux-gnu",
    "/tmp/out/supervisor-ts-client-x86_64-unknown-linux-gnu",
    "/tmp/out/supervisor-ts-server-aarch64-apple-darwin",
    "/tmp/out/supervisor-ts-client-aarch64-apple-darwin",
  ]);
  assert.equal(plan.sumsPath, "/tmp/out/SHA256SUMS");
  for (const step of plan.steps) {
    assert.deepEqual(step.env, { DENORT_BIN: "/opt/denort" });
    assert.equal(step.program, "/opt/deno");
  }
});

Deno.test("shellQuote leaves plain words alone and single-quotes the rest", () => {
  assert.equal(shellQuote("--allow-env=A,B"), "--allow-env=A,B");
  assert.equal(shellQuote("dist/x-y_z.1"), "dist/x-y_z.1");
  assert.equal(shellQuote("a b"), "'a b'");
  assert.equal(shellQuote(""), "''");
  assert.equal(shellQuote("it's $HOME"), `'it'\\''s $HOME'`);
  const step = planBuild({
    deno: "/my deno/deno",
    targets: ["x86_64-apple-darwin"],
    outDir: "out dir",
    denortBin: "/a b/denort",
  }).steps[0]!;
  assert.equal(
    commandLine(step),
    "DENORT_BIN='/a b/denort' '/my deno/deno' compile --target x86_64-apple-darwin " +
      "--output 'out dir/supervisor-ts-server-x86_64-apple-darwin' --allow-all " +
      "--v8-flags=--max-semi-space-size=2,--expose-gc main_server.ts",
  );
});

Deno.test("a SHA256SUMS line is what sha256sum writes", () => {
  assert.equal(sumsLine("ab".repeat(32), "f-x"), `${"ab".repeat(32)}  f-x\n`);
});

Deno.test("parseBuildArgs: targets, --out, --dry-run, help, and usage errors", () => {
  assert.deepEqual(parseBuildArgs([]), {
    kind: "build",
    dryRun: false,
    targets: [...TARGETS],
    outDir: undefined,
  });
  assert.deepEqual(
    parseBuildArgs(["--target=aarch64-apple-darwin", "--dry-run", "--target", TARGETS[0]]),
    {
      kind: "build",
      dryRun: true,
      targets: [TARGETS[0], "aarch64-apple-darwin"],
      outDir: undefined,
    },
  );
  assert.deepEqual(parseBuildArgs(["--out", "x"]), {
    kind: "build",
    dryRun: false,
    targets: [...TARGETS],
    outDir: "x",
  });
  assert.deepEqual(parseBuildArgs(["-h"]), { kind: "help" });
  assert.throws(() => parseBuildArgs(["--target", "x86_64-pc-windows-msvc"]), (e) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /unknown target "x86_64-pc-windows-msvc": expected one of /);
    return true;
  });
  assert.throws(() => parseBuildArgs(["--fast"]), UsageError);
  assert.throws(() => parseBuildArgs(["main_server.ts"]), UsageError);
  assert.throws(() => parseBuildArgs(["--out"]), UsageError);
  assert.throws(() => parseBuildArgs(["--out", ""]), /--out needs a directory/);
});

Deno.test("build.ts --dry-run prints one compile command per binary per target and runs nothing", async () => {
  const out = join(await Deno.makeTempDir(), "not-created");
  const run = await buildScript(["--dry-run", "--out", out]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  assert.equal(lines.length, TARGETS.length * BINARIES.length);
  let i = 0;
  for (const target of TARGETS) {
    for (const binary of BINARIES) {
      assert.deepEqual(await shellWords(lines[i++]!), expectedWords(binary.name, target, out));
    }
  }
  assert.match(run.stderr, /dry run: nothing was run/);
  assert.match(run.stderr, new RegExp(`${out}/SHA256SUMS`));
  assert.doesNotMatch(run.stderr, /DENORT_BIN/);
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  await Deno.remove(join(out, ".."), { recursive: true });
});

Deno.test("build.ts --dry-run writes to dist/ in the repository by default", async () => {
  const run = await buildScript(["--dry-run", "--target", "x86_64-apple-darwin"]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  assert.deepEqual(await Promise.all(lines.map(shellWords)), [
    expectedWords("supervisor-ts-server", "x86_64-apple-darwin", "dist"),
    expectedWords("supervisor-ts-client", "x86_64-apple-darwin", "dist"),
  ]);
  assert.match(run.stderr, new RegExp(`run in ${ROOT.replace(/\/$/, "")}; `));
});

Deno.test("build.ts --target limits the build to those targets", async () => {
  const run = await buildScript([
    "--dry-run",
    "--target",
    "aarch64-apple-darwin",
    "--target",
    "aarch64-unknown-linux-gnu",
    "--out",
    "/tmp/o",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const words = await Promise.all(run.stdout.trimEnd().split("\n").map(shellWords));
  assert.deepEqual(words, [
    expectedWords("supervisor-ts-server", "aarch64-unknown-linux-gnu", "/tmp/o"),
    expectedWords("supervisor-ts-client", "aarch64-unknown-linux-gnu", "/tmp/o"),
    expectedWords("supervisor-ts-server", "aarch64-apple-darwin", "/tmp/o"),
    expectedWords("supervisor-ts-client", "aarch64-apple-darwin", "/tmp/o"),
  ]);
});

Deno.test("build.ts with an unknown target or option is a usage error (exit 2), running nothing", async () => {
  const unknown = await buildScript(["--dry-run", "--target", "riscv64-unknown-linux-gnu"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stdout, "");
  assert.match(
    unknown.stderr,
    /^error: unknown target "riscv64-unknown-linux-gnu": expected one of x86_64-unknown-linux-gnu, /m,
  );
  assert.match(unknown.stderr, /Run "deno task build --help" for usage/);
  const option = await buildScript(["--release"]);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /^error: .*--release/m);
  const help = await buildScript(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task build \[--dry-run\] \[--target TARGET\]\.\.\. /m);
  for (const target of TARGETS) assert.ok(help.stdout.includes(target), target);
});

Deno.test("build.ts passes DENORT_BIN through to deno compile and says so", async () => {
  const denort = "/opt/deno runtimes/denort";
  const run = await buildScript(["--dry-run", "--target", "x86_64-unknown-linux-gnu"], {
    DENORT_BIN: denort,
  });
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 2);
  for (const line of lines) assert.ok(line.startsWith(`DENORT_BIN='${denort}' `), line);
  assert.deepEqual(
    await shellWords(lines[1]!),
    expectedWords("supervisor-ts-client", "x86_64-unknown-linux-gnu", "dist", denort),
  );
  assert.match(
    run.stderr,
    /DENORT_BIN='\/opt\/deno runtimes\/denort' is set and passed to deno compile/,
  );
});

Deno.test("the client's module graph holds its dynamically imported signing module", async () => {
  // deno compile embeds the graph deno info shows; a literal import() is part of it, which is
  // why the build needs no --include for the bundled signing module (lib/auth/signed_request.ts
  // bundled, bundle/client/signed_request-HASH.js).
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main_client.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const info = JSON.parse(decoder.decode(out.stdout)) as { modules: { specifier: string }[] };
  const modules = info.modules.map((m) => m.specifier);
  assert.ok(
    modules.some((s) => /\/bundle\/client\/signed_request-\w+\.js$/.test(s)),
    modules.join("\n"),
  );
});

async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

/** This machine's release target; the full deno stands in for its runtime on Linux only. */
const HOST_TARGET = (TARGETS as readonly string[]).includes(Deno.build.target)
  ? Deno.build.target as Target
  : undefined;

Deno.test({
  name: "build.ts with DENORT_BIN builds this machine's target and a SHA256SUMS that checks",
  // DENORT_BIN pointed at the full deno stands in for denort, which cannot be downloaded here.
  // The binaries it makes run deno itself, not the app: this tests the script, not the runtime.
  ignore: HOST_TARGET === undefined || Deno.build.os !== "linux",
  async fn() {
    const target = HOST_TARGET!;
    const out = await Deno.makeTempDir({ prefix: "supervisor-ts-build-test-" });
    try {
      await Deno.writeTextFile(join(out, "SHA256SUMS"), "stale\n");
      const run = await buildScript(["--target", target, "--out", out], {
        DENORT_BIN: Deno.execPath(),
      });
      assert.equal(run.code, 0, run.stderr);
      const names = BINARIES.map((b) => `${b.name}-${target}`);
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort(),
        [...names, "SHA256SUMS"].sort(),
      );
      const expected = (await Promise.all(names.map(async (n) => {
        const info = await Deno.stat(join(out, n));
        assert.ok(info.isFile && (info.mode! & 0o111) !== 0, `${n} is executable`);
        return sumsLine(await sha256File(join(out, n)), n);
      }))).join("");
      assert.equal(await Deno.readTextFile(join(out, "SHA256SUMS")), expected);
      const check = await new Deno.Command("sha256sum", {
        args: ["--check", "--strict", "SHA256SUMS"],
        cwd: out,
        stdout: "piped",
      }).output();
      assert.equal(check.code, 0, decoder.decode(check.stdout));
      assert.match(run.stderr, /DENORT_BIN=\S+ is set and passed to deno compile/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
