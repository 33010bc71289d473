/**
 * install.sh end to end: a loopback HTTP server started here serves fake binaries (small shell
 * scripts that say which target they are) and a SHA256SUMS; the real script, run by `sh`,
 * downloads, verifies and installs them into a temporary prefix. A fake `uname` first on PATH
 * plays other machines.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TARGETS } from "../scripts/build/plan.ts";
import type { Target } from "../scripts/build/plan.ts";
import { requirePrograms } from "./requires.ts";

const INSTALL_SH = fileURLToPath(new URL("../install.sh", import.meta.url));
const BINARIES = ["supervisor-ts-server", "supervisor-ts-client"] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const programs = requirePrograms(import.meta, [
  "curl|wget",
  "sha256sum|shasum",
  "curl",
  "wget",
  "shasum",
  "sha256sum",
  "perl",
]);
/** What install.sh needs to download and check a release. */
const DOWNLOAD = ["curl|wget", "sha256sum|shasum"] as const;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** What a fake binary prints: its name and target, so a test sees which one was installed. */
function fakeOutput(binary: string, target: string): string {
  return `${binary} 0.0.0-fake ${target}`;
}

/** The files of a release: a fake binary per binary and target, and a correct SHA256SUMS. */
function releaseFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let sums = "";
  for (const target of TARGETS) {
    for (const binary of BINARIES) {
      const name = `${binary}-${target}`;
      const body = encoder.encode(`#!/bin/sh\necho "${fakeOutput(binary, target)}"\n`);
      files.set(name, body);
      sums += `${sha256(body)}  ${name}\n`;
    }
  }
  files.set("SHA256SUMS", encoder.encode(sums));
  return files;
}

/** A loopback HTTP server of release files, recording the paths asked for. */
class ReleaseServer implements AsyncDisposable {
  readonly requests: string[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(readonly files: Map<string, Uint8Array>) {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const path = new URL(req.url).pathname;
      this.requests.push(path);
      const body = this.files.get(path.replace(/^\/release\//, ""));
      return body === undefined
        ? new Response("not found\n", { status: 404 })
        : new Response(body.slice(), {
          headers: { "content-type": "application/octet-stream" },
        });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/release`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
  }
}

/** A temporary directory, removed at the end of the test. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "supervisor-ts-install-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** Writes an executable `uname` into `dir` that reports `os` for -s and `cpu` for -m. */
async function fakeUname(dir: string, os: string, cpu: string): Promise<void> {
  const path = join(dir, "uname");
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\ncase "$1" in\n  -m) echo '${cpu}' ;;\n  *) echo '${os}' ;;\nesac\n`,
  );
  await Deno.chmod(path, 0o755);
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs install.sh with /bin/sh and exactly `env` (plus PATH and HOME unless given). */
async function install(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command("/bin/sh", {
    args: [INSTALL_SH, ...args],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: "/nonexistent", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs an installed binary and returns what it printed. */
async function runInstalled(path: string): Promise<string> {
  const out = await new Deno.Command(path, { stdout: "piped", stderr: "inherit" }).output();
  assert.equal(out.code, 0, `${path} failed`);
  return decoder.decode(out.stdout).trim();
}

/** The files in `dir`, or [] when it does not exist. */
async function listing(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** The release target of the machine running the tests, if releases have one for it. */
function hostTarget(): Target | undefined {
  const os = { linux: "unknown-linux-gnu", darwin: "apple-darwin" }[Deno.build.os as string];
  const target = `${Deno.build.arch}-${os}`;
  return (TARGETS as readonly string[]).includes(target) ? target as Target : undefined;
}

function assertInstalledNothing(prefix: string, names: string[]): void {
  assert.deepEqual(names, [], `nothing may be installed in ${prefix}/bin`);
}

Deno.test({
  name: "install.sh installs both binaries for this machine, checked against SHA256SUMS",
  ignore: hostTarget() === undefined || programs.skip(...DOWNLOAD),
  async fn() {
    programs.check(...DOWNLOAD);
    const target = hostTarget()!;
    await using server = new ReleaseServer(releaseFiles());
    await using dir = await tempDir();
    const prefix = join(dir.path, "prefix with space");
    const run = await install(["--prefix", prefix], { SUPERVISOR_TS_RELEASE_URL: server.url });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.deepEqual(await listing(join(prefix, "bin")), [...BINARIES].sort());
    for (const binary of BINARIES) {
      const path = join(prefix, "bin", binary);
      assert.equal(await runInstalled(path), fakeOutput(binary, target));
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o755);
      const sum = sha256(server.files.get(`${binary}-${target}`)!);
      assert.match(run.stdout, new RegExp(`checksum ok: ${binary}-${target} ${sum}`));
      assert.ok(run.stdout.includes(`installed ${path} (${binary}-${target})`), run.stdout);
    }
    assert.ok(run.stdout.includes(`installing supervisor-ts for ${target}`), run.stdout);
    assert.deepEqual(server.requests.sort(), [
      "/release/SHA256SUMS",
      `/release/supervisor-ts-client-${target}`,
      `/release/supervisor-ts-server-${target}`,
    ]);
  },
});

Deno.test({
  name: "install.sh maps uname's OS and CPU names to the release target",
  ignore: programs.skip(...DOWNLOAD),
  async fn() {
    programs.check(...DOWNLOAD);
    const cases: [os: string, cpu: string, target: Target][] = [
      ["Linux", "x86_64", "x86_64-unknown-linux-gnu"],
      ["Linux", "amd64", "x86_64-unknown-linux-gnu"],
      ["Linux", "aarch64", "aarch64-unknown-linux-gnu"],
      ["Linux", "arm64", "aarch64-unknown-linux-gnu"],
      ["Darwin", "x86_64", "x86_64-apple-darwin"],
      ["Darwin", "arm64", "aarch64-apple-darwin"],
    ];
    await using server = new ReleaseServer(releaseFiles());
    for (const [os, cpu, target] of cases) {
      await using dir = await tempDir();
      await fakeUname(dir.path, os, cpu);
      const prefix = join(dir.path, "prefix");
      // The URL from --url and the prefix from SUPERVISOR_TS_PREFIX this time.
      const run = await install(["--url", server.url], {
        PATH: `${dir.path}:${Deno.env.get("PATH")}`,
        SUPERVISOR_TS_PREFIX: prefix,
      });
      assert.equal(run.code, 0, `${os} ${cpu}: ${run.stderr}`);
      for (const binary of BINARIES) {
        assert.equal(await runInstalled(join(prefix, "bin", binary)), fakeOutput(binary, target));
      }
    }
  },
});

Deno.test({
  name: "install.sh refuses a checksum mismatch, names the file and both sums, installs nothing",
  ignore: programs.skip(...DOWNLOAD),
  async fn() {
    programs.check(...DOWNLOAD);
    const files = releaseFiles();
    const target: Target = "x86_64-unknown-linux-gnu";
    const client = `supervisor-ts-client-${target}`;
    const wrong = "0".repeat(64);
    // The server's line stays right, so the mismatch is found after one binary passed its check.
    const sums = decoder.decode(files.get("SHA256SUMS")).replace(
      new RegExp(`^[0-9a-f]{64}(?=  ${client}$)`, "m"),
      wrong,
    );
    files.set("SHA256SUMS", encoder.encode(sums));
    await using server = new ReleaseServer(files);
    await using dir = await tempDir();
    await fakeUname(dir.path, "Linux", "x86_64");
    const prefix = join(dir.path, "prefix");
    const run = await install(["--url", server.url, "--prefix", prefix], {
      PATH: `${dir.path}:${Deno.env.get("PATH")}`,
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^error: checksum mismatch for ${client}$`, "m"));
    assert.match(run.stderr, new RegExp(`expected \\(SHA256SUMS\\): ${wrong}`));
    assert.match(
      run.stderr,
      new RegExp(`actual \\(downloaded\\): +${sha256(files.get(client)!)}`),
    );
    assert.match(run.stderr, /Nothing was installed/);
    assertInstalledNothing(prefix, await listing(join(prefix, "bin")));
  },
});

Deno.test({
  name: "install.sh refuses a damaged download of a binary and installs nothing",
  ignore: programs.skip(...DOWNLOAD),
  async fn() {
    programs.check(...DOWNLOAD);
    const files = releaseFiles();
    const server_ = `supervisor-ts-server-aarch64-apple-darwin`;
    files.set(server_, encoder.encode("#!/bin/sh\necho tampered\n"));
    await using server = new ReleaseServer(files);
    await using dir = await tempDir();
    await fakeUname(dir.path, "Darwin", "arm64");
    const prefix = join(dir.path, "prefix");
    const run = await install(["--url", server.url, "--prefix", prefix], {
      PATH: `${dir.path}:${Deno.env.get("PATH")}`,
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`checksum mismatch for ${server_}`));
    assertInstalledNothing(prefix, await listing(join(prefix, "bin")));
  },
});

Deno.test("install.sh refuses an unsupported CPU or OS clearly, before downloading anything", async () => {
  const cases = [
    [
      "Linux",
      "riscv64",
      /^error: unsupported CPU architecture "riscv64" on Linux: .*x86_64.*aarch64/m,
    ],
    ["Linux", "i686", /^error: unsupported CPU architecture "i686" on Linux/m],
    ["FreeBSD", "amd64", /^error: unsupported operating system "FreeBSD": .*Linux and macOS/m],
  ] as const;
  await using server = new ReleaseServer(releaseFiles());
  for (const [os, cpu, message] of cases) {
    await using dir = await tempDir();
    await fakeUname(dir.path, os, cpu);
    const prefix = join(dir.path, "prefix");
    const run = await install(["--url", server.url, "--prefix", prefix], {
      PATH: `${dir.path}:${Deno.env.get("PATH")}`,
    });
    assert.equal(run.code, 1, `${os} ${cpu}`);
    assert.match(run.stderr, message);
    assertInstalledNothing(prefix, await listing(join(prefix, "bin")));
  }
  assert.deepEqual(server.requests, []);
});

Deno.test({
  name: "install.sh reports a file the release lacks and installs nothing",
  ignore: programs.skip(...DOWNLOAD),
  async fn() {
    programs.check(...DOWNLOAD);
    const files = releaseFiles();
    files.delete("supervisor-ts-client-x86_64-unknown-linux-gnu");
    await using server = new ReleaseServer(files);
    await using dir = await tempDir();
    await fakeUname(dir.path, "Linux", "x86_64");
    const prefix = join(dir.path, "prefix");
    const run = await install(["--url", `${server.url}/`, "--prefix", prefix], {
      PATH: `${dir.path}:${Deno.env.get("PATH")}`,
    });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^error: could not download http:\/\/127\.0\.0\.1:\d+\/release\/supervisor-ts-client-x86_64-unknown-linux-gnu: .*nothing was installed/m,
    );
    assertInstalledNothing(prefix, await listing(join(prefix, "bin")));
  },
});

Deno.test({
  name: "install.sh refuses a SHA256SUMS that has no line for a binary",
  ignore: programs.skip(...DOWNLOAD),
  async fn() {
    programs.check(...DOWNLOAD);
    const files = releaseFiles();
    const sums = decoder.decode(files.get("SHA256SUMS"))
      .split("\n").filter((l) => !l.endsWith("  supervisor-ts-server-x86_64-unknown-linux-gnu"))
      .join("\n");
    files.set("SHA256SUMS", encoder.encode(sums));
    await using server = new ReleaseServer(files);
    await using dir = await tempDir();
    await fakeUname(dir.path, "Linux", "x86_64");
    const prefix = join(dir.path, "prefix");
    const run = await install(["--url", server.url, "--prefix", prefix], {
      PATH: `${dir.path}:${Deno.env.get("PATH")}`,
    });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /SHA256SUMS from .* has no line for supervisor-ts-server-x86_64-unknown-linux-gnu/,
    );
    assertInstalledNothing(prefix, await listing(join(prefix, "bin")));
  },
});

/** A directory of symlinks to just `tools`, to run install.sh with nothing else on PATH. */
async function onlyTools(dir: string, tools: string[]): Promise<void> {
  for (const tool of tools) {
    const out = await new Deno.Command("sh", {
      args: ["-c", `command -v "$1"`, "sh", tool],
      stdout: "piped",
    }).output();
    const path = decoder.decode(out.stdout).trim();
    if (out.code !== 0 || !path.startsWith("/")) throw new Error(`${tool} is not on PATH`);
    await Deno.symlink(path, join(dir, tool));
  }
}

async function haveAll(tools: string[]): Promise<boolean> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'for t in "$@"; do command -v "$t" >/dev/null || exit 1; done', "sh", ...tools],
  }).output();
  return out.code === 0;
}

// Everything install.sh runs besides its downloader and hasher.
const BASE_TOOLS = ["uname", "mktemp", "rm", "awk", "tr", "cut", "mkdir", "cp", "chmod", "mv"];

Deno.test({
  name: "install.sh works with only wget and shasum, and with only curl and sha256sum",
  ignore: hostTarget() === undefined ||
    programs.skip("wget", "shasum", "perl", "curl", "sha256sum") || !(await haveAll(BASE_TOOLS)),
  async fn() {
    programs.check("wget", "shasum", "perl", "curl", "sha256sum");
    const target = hostTarget()!;
    await using server = new ReleaseServer(releaseFiles());
    for (const tools of [["wget", "shasum", "perl"], ["curl", "sha256sum"]]) {
      await using dir = await tempDir();
      const bin = join(dir.path, "tools");
      await Deno.mkdir(bin);
      await onlyTools(bin, [...BASE_TOOLS, ...tools]);
      const prefix = join(dir.path, "prefix");
      const run = await install(["--url", server.url, "--prefix", prefix], { PATH: bin });
      assert.equal(run.code, 0, `${tools.join(" and ")}: ${run.stderr}`);
      for (const binary of BINARIES) {
        assert.equal(
          await runInstalled(join(prefix, "bin", binary)),
          fakeOutput(binary, target),
        );
      }
      assert.match(run.stdout, /note: .* is not on your PATH/);
    }
  },
});

Deno.test({
  name: "install.sh without curl or wget says to install one, exit 1",
  ignore: hostTarget() === undefined,
  async fn() {
    await using dir = await tempDir();
    await onlyTools(dir.path, ["uname"]);
    const run = await install(["--url", "http://127.0.0.1:9/none"], { PATH: dir.path });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: neither curl nor wget was found: install one/m);
  },
});

Deno.test("install.sh --help prints its usage; an unknown argument is a usage error (exit 2)", async () => {
  const help = await install(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: sh install\.sh \[--url URL\] \[--prefix DIR\]$/m);
  assert.match(help.stdout, /SUPERVISOR_TS_RELEASE_URL/);
  assert.match(help.stdout, /SUPERVISOR_TS_PREFIX/);
  const bad = await install(["--frobnicate"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: unexpected argument "--frobnicate"/m);
  const missing = await install(["--prefix"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--prefix needs a directory/);
});

Deno.test("install.sh defaults to the latest GitHub release and /usr/local", async () => {
  const text = await Deno.readTextFile(INSTALL_SH);
  assert.match(text, /^OWNER="[^"]+"$/m);
  assert.match(
    text,
    /^DEFAULT_RELEASE_URL="https:\/\/github\.com\/\$\{OWNER\}\/\$\{REPO\}\/releases\/latest\/download"$/m,
  );
  assert.match(text, /^DEFAULT_PREFIX="\/usr\/local"$/m);
});
