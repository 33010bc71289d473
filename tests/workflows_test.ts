/**
 * The GitHub workflows: both parse as YAML (npm:yaml, without errors or warnings); ci.yml runs
 * `deno task check` on Linux and macOS with the pinned Deno; release.yml runs on version tags,
 * builds exactly the build plan's targets and publishes them. Its smoke-test step is run here
 * too, with the entry points run under the build plan's permissions in place of the binaries
 * (which cannot be compiled on machines without network), so its shell and those permissions
 * are both exercised.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "../lib/deps.ts";
import { BINARIES, TARGETS } from "../scripts/build/plan.ts";
import { requirePrograms } from "./requires.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CI = join(ROOT, ".github", "workflows", "ci.yml");
const RELEASE = join(ROOT, ".github", "workflows", "release.yml");
const decoder = new TextDecoder();
const programs = requirePrograms(import.meta, ["bash", "openssl", "sleep", "seq"]);

type Json = Record<string, unknown>;

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Json;
  readonly env?: Json;
  readonly "working-directory"?: string;
}

/** Parses a workflow file, failing on any YAML error or warning. */
async function workflow(path: string): Promise<Json> {
  const doc = parseDocument(await Deno.readTextFile(path), { prettyErrors: true });
  assert.deepEqual(doc.errors.map(String), [], `${path} has YAML errors`);
  assert.deepEqual(doc.warnings.map(String), [], `${path} has YAML warnings`);
  const value: unknown = doc.toJS();
  assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), path);
  return value as Json;
}

function asObject(value: unknown, what: string): Json {
  assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), what);
  return value as Json;
}

/** The steps of job `id`. */
function steps(wf: Json, id: string): Step[] {
  const job = asObject(asObject(wf.jobs, "jobs")[id], `job ${id}`);
  assert.ok(Array.isArray(job.steps), `job ${id} has steps`);
  return job.steps as Step[];
}

/** The Deno version `.ci/run` installs: every place pins the same one. */
async function ciDenoVersion(): Promise<string> {
  const text = await Deno.readTextFile(join(ROOT, ".ci", "run"));
  const match = text.match(/^DENO_VERSION=(\S+)$/m);
  assert.ok(match, ".ci/run sets DENO_VERSION");
  return match[1]!;
}

/** Asserts a setup-deno step, pinned by a version tag, installs `version`. */
function assertSetupDeno(all: Step[], version: string): void {
  const setup = all.filter((s) => s.uses?.startsWith("denoland/setup-deno@"));
  assert.equal(setup.length, 1, "one denoland/setup-deno step");
  assert.match(setup[0]!.uses!, /^denoland\/setup-deno@v\d+(\.\d+){0,2}$/, "pinned by tag");
  assert.equal(String(setup[0]!.with?.["deno-version"]), version);
  const checkout = all.find((s) => s.uses?.startsWith("actions/checkout@"));
  assert.match(checkout?.uses ?? "", /^actions\/checkout@v\d+$/);
}

/** Each step's `run` script, with `${{ }}` expressions replaced so a shell can parse it. */
function scripts(all: Step[]): string[] {
  return all.flatMap((s) => s.run === undefined ? [] : [s.run.replace(/\$\{\{[^}]*\}\}/g, "X")]);
}

async function bashParses(script: string): Promise<string | undefined> {
  const out = await new Deno.Command("bash", {
    args: ["-n", "-c", script],
    stdout: "null",
    stderr: "piped",
  }).output();
  return out.code === 0 ? undefined : decoder.decode(out.stderr);
}

Deno.test("ci.yml runs deno task check on push and pull requests, on Linux and macOS", async () => {
  const wf = await workflow(CI);
  const on = asObject(wf.on, "on");
  assert.ok("push" in on && "pull_request" in on, "triggers: push and pull_request");
  const job = asObject(asObject(wf.jobs, "jobs").check, "job check");
  const matrix = asObject(asObject(job.strategy, "strategy").matrix, "matrix");
  assert.deepEqual(matrix.os, ["ubuntu-latest", "macos-latest"]);
  assert.equal(job["runs-on"], "${{ matrix.os }}");
  const all = steps(wf, "check");
  assertSetupDeno(all, await ciDenoVersion());
  const check = all.filter((s) => /^\s*deno task check\s*$/m.test(s.run ?? ""));
  assert.equal(check.length, 1, "one step runs deno task check");
  const ssh = all.find((s) => /apt-get install .*openssh-server/.test(s.run ?? ""));
  assert.ok(ssh, "a step installs openssh-server");
  assert.equal(ssh.if, "runner.os == 'Linux'");
  assert.ok(all.indexOf(ssh) < all.indexOf(check[0]!), "ssh is installed before the tests");
});

Deno.test("release.yml builds exactly the build plan's targets on a v* tag and publishes them", async () => {
  const wf = await workflow(RELEASE);
  const on = asObject(wf.on, "on");
  assert.deepEqual(Object.keys(on), ["push"], "runs on pushes only");
  const push = asObject(on.push, "on.push");
  assert.deepEqual(push.tags, ["v*"]);
  assert.equal(push.branches, undefined);
  assert.deepEqual(wf.permissions, { contents: "write" });
  const job = asObject(asObject(wf.jobs, "jobs").release, "job release");
  assert.equal(job["runs-on"], "ubuntu-latest");
  const all = steps(wf, "release");
  assertSetupDeno(all, await ciDenoVersion());

  const builds = all.filter((s) => /\bdeno task build\b/.test(s.run ?? ""));
  assert.equal(builds.length, 1, "one step runs deno task build");
  const targets = [...builds[0]!.run!.matchAll(/--target[= ](\S+)/g)].map((m) => m[1]!);
  assert.deepEqual([...targets].sort(), [...TARGETS].sort(), "the build plan's targets");
  assert.equal(new Set(targets).size, targets.length, "no target twice");

  const verify = all.find((s) => /sha256sum (--check|-c)\b.*SHA256SUMS/.test(s.run ?? ""));
  assert.equal(verify?.["working-directory"], "dist");
  const publish = all.find((s) => /\bgh release create\b/.test(s.run ?? ""));
  assert.ok(publish, "a step runs gh release create");
  assert.match(publish.run!, /gh release create "\$GITHUB_REF_NAME" dist\/\*/);
  assert.equal(publish.env?.GH_TOKEN, "${{ github.token }}");
  const order = [builds[0]!, verify!, publish].map((s) => all.indexOf(s));
  assert.deepEqual(order, [...order].sort((a, b) => a - b), "build, verify, then publish");
});

Deno.test({
  name: "every run script of both workflows parses as bash",
  ignore: programs.skip("bash"),
  async fn() {
    programs.check("bash");
    for (const path of [CI, RELEASE]) {
      const wf = await workflow(path);
      for (const id of Object.keys(asObject(wf.jobs, "jobs"))) {
        for (const script of scripts(steps(wf, id))) {
          assert.equal(await bashParses(script), undefined, `${path} job ${id}:\n${script}`);
        }
      }
    }
  },
});

/** Writes dist/<binary>-x86_64-unknown-linux-gnu wrappers running the entry points as built. */
async function fakeDist(dir: string): Promise<void> {
  await Deno.mkdir(join(dir, "dist"));
  for (const binary of BINARIES) {
    const words = [
      Deno.execPath(),
      "run",
      "--quiet",
      ...binary.permissions,
      join(ROOT, binary.entry),
    ];
    const path = join(dir, "dist", `${binary.name}-x86_64-unknown-linux-gnu`);
    const quoted = words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(" ");
    await Deno.writeTextFile(path, `#!/bin/sh\nexec ${quoted} "$@"\n`);
    await Deno.chmod(path, 0o755);
  }
}

Deno.test({
  name: "the release smoke test passes with the server and client under the build's permissions",
  ignore: programs.skip("bash", "openssl", "sleep", "seq"),
  async fn() {
    programs.check("bash", "openssl", "sleep", "seq");
    const smoke = steps(await workflow(RELEASE), "release").find((s) =>
      s.name?.startsWith("Smoke-test")
    );
    assert.ok(smoke?.run, "release.yml has a smoke-test step");
    const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-smoke-test-" });
    try {
      await fakeDist(dir);
      const out = await new Deno.Command("bash", {
        args: ["-c", smoke.run],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
      assert.equal(out.code, 0, text);
      assert.match(text, /supervisor-ts-server \d+\.\d+\.\d+/);
      assert.match(text, /supervisor-ts-client \d+\.\d+\.\d+/);
      assert.match(text, /state: +(STARTING|RUNNING)/);
      assert.doesNotMatch(text, /Requires \w+ access|NotCapable|PermissionDenied/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
