/**
 * Black-box test of running from a URL: the repository is served over loopback HTTP and the
 * server and the client run as `deno run -A http://127.0.0.1:PORT/main_*.ts`, the way a user
 * without a checkout runs them.
 *
 * The processes get a DENO_DIR of their own, so every module really comes over HTTP (and the
 * npm packages from the npm registry), and they run in a directory with no deno.json: a module
 * run from a URL sees no import map, so a bare specifier anywhere in lib/ fails here (Deno's
 * error names only the specifier; the first test names the file and line too).
 */
import assert from "node:assert/strict";
import { extname, join } from "node:path";
import { cleanEnv, isAlive, ROOT, TestServer, waitUntil } from "./harness.ts";
import type { ClientRun } from "./harness.ts";

/** How long a first run may take: it downloads every module and the npm packages. */
const FIRST_RUN_MS = 30_000;
/** How long any one client run may take. */
const CLIENT_MS = 30_000;

/** The Content-Type a static web server would send for `path`. */
function contentType(path: string): string {
  switch (extname(path)) {
    case ".ts":
      return "application/typescript";
    case ".js":
      return "application/javascript";
    case ".json":
      return "application/json";
    default:
      return "text/plain";
  }
}

/** The repository served read-only over loopback HTTP, with a record of what was asked. */
interface RepositoryServer {
  readonly base: string;
  /** Paths asked for, in order. */
  readonly requested: string[];
  /** Paths asked for that were not served. */
  readonly missing: string[];
  shutdown(): Promise<void>;
}

/**
 * Serves the files under `root`: GET and HEAD only, files only, never anything under `.git`,
 * and nothing outside `root` (a path with a `.` or `..` segment, even percent-encoded, is 404).
 */
function serveRepository(root: string): RepositoryServer {
  const requested: string[] = [];
  const missing: string[] = [];
  const notFound = (path: string) => {
    missing.push(path);
    return new Response(`not found: ${path}\n`, { status: 404 });
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405 });
    }
    const raw = new URL(req.url).pathname;
    let path: string;
    try {
      path = decodeURIComponent(raw);
    } catch {
      return new Response("bad path\n", { status: 400 });
    }
    requested.push(path);
    const segments = path.split("/").filter((s) => s !== "");
    const refused = segments.some((s) =>
      s === "." || s === ".." || s === ".git" || s.includes("\0") || s.includes("\\")
    );
    if (refused || segments.length === 0) return notFound(path);
    const file = join(root, ...segments);
    try {
      if (!(await Deno.stat(file)).isFile) return notFound(path);
      const body = req.method === "HEAD" ? null : await Deno.readFile(file);
      return new Response(body, { headers: { "content-type": contentType(file) } });
    } catch {
      return notFound(path);
    }
  });
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    requested,
    missing,
    shutdown: () => server.shutdown(),
  };
}

/** Environment of the processes run from the URL: a cache of their own, no colour. */
function urlEnv(denoDir: string): Record<string, string> {
  return cleanEnv({ DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: "1" });
}

/** Runs `deno run -A BASE/main_client.ts ARGS…`; killed after {@link CLIENT_MS}. */
async function urlClient(
  base: string,
  denoDir: string,
  cwd: string,
  args: readonly string[],
): Promise<ClientRun> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), CLIENT_MS);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${base}/main_client.ts`, ...args],
      cwd,
      env: urlEnv(denoDir),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: abort.signal,
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Why `specifier` would not resolve when its module is run from a URL, if it would not. */
function urlImportProblem(specifier: string): string | undefined {
  if (specifier.startsWith("./") || specifier.startsWith("../")) return undefined;
  if (/^node:[a-z_/]+$/.test(specifier)) return undefined;
  if (/^npm:(@[^/@]+\/)?[^/@]+@\d[^/]*(\/.*)?$/.test(specifier)) return undefined;
  if (specifier.startsWith("npm:")) return "an npm: specifier needs a pinned version";
  if (specifier.startsWith("jsr:")) return "jsr: is not reachable from our build machines";
  return "a bare or mapped specifier needs deno.json's import map, which a URL run does not see";
}

/** One import in `deno info --json` output. */
interface InfoDependency {
  readonly specifier: string;
  readonly code?: { readonly error?: string; readonly span?: { readonly start: { line: number } } };
  readonly type?: { readonly error?: string; readonly span?: { readonly start: { line: number } } };
}

/**
 * Every import in the module graph of `entry` (static and dynamic, as Deno itself parses
 * them) that would not resolve without deno.json, as `file:line: "specifier": why`.
 */
async function importProblems(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--no-config", "--no-lock", entry],
    cwd: Deno.cwd(),
    env: cleanEnv({ DENO_NO_UPDATE_CHECK: "1" }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(out.code, 0, `deno info ${entry}:\n${decoder.decode(out.stderr)}`);
  const info = JSON.parse(decoder.decode(out.stdout)) as {
    modules: { specifier: string; error?: string; dependencies?: InfoDependency[] }[];
  };
  const problems: string[] = [];
  for (const module of info.modules) {
    const where = module.specifier.startsWith("file://")
      ? module.specifier.slice(`file://${ROOT}`.length)
      : module.specifier;
    if (module.error) problems.push(`${where}: ${module.error}`);
    for (const dep of module.dependencies ?? []) {
      const problem = urlImportProblem(dep.specifier) ?? dep.code?.error ?? dep.type?.error;
      if (problem === undefined) continue;
      const line = (dep.code?.span ?? dep.type?.span)?.start.line;
      problems.push(
        `${where}${line === undefined ? "" : `:${line + 1}`}: "${dep.specifier}": ${problem}`,
      );
    }
  }
  return problems;
}

/** Shows a client run in an assertion message. */
function show(run: ClientRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
}

Deno.test("every import of both entry points resolves without deno.json", async () => {
  const problems = [
    ...await importProblems(join(ROOT, "main_server.ts")),
    ...await importProblems(join(ROOT, "main_client.ts")),
  ];
  assert.deepEqual(problems, []);
});

Deno.test("the test's web server serves .ts as application/typescript and never .git", async () => {
  const repo = serveRepository(ROOT);
  try {
    const entry = await fetch(`${repo.base}/main_server.ts`);
    assert.equal(entry.status, 200);
    assert.equal(entry.headers.get("content-type"), "application/typescript");
    assert.equal(await entry.text(), await Deno.readTextFile(join(ROOT, "main_server.ts")));
    const json = await fetch(`${repo.base}/deno.json`);
    assert.equal(json.headers.get("content-type"), "application/json");
    await json.body?.cancel();
    for (
      const path of ["/.git/HEAD", "/.git/config", "/lib/..%2f.git%2fHEAD", "/nope.ts", "/lib"]
    ) {
      const res = await fetch(`${repo.base}${path}`);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
  } finally {
    await repo.shutdown();
  }
});

Deno.test("the server and the client run from a URL: check, start, then SIGTERM stops the child", async () => {
  const repo = serveRepository(ROOT);
  const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-url-" });
  const denoDir = join(dir, "deno_dir");
  let childPid: number | undefined;
  let server: TestServer | undefined;
  try {
    await Deno.mkdir(join(dir, "children"));
    await Deno.writeTextFile(
      join(dir, "server.yml"),
      "loadpaths:\n  - children\nlistener_addr: 127.0.0.1\nlistener_port: 0\n",
    );
    await Deno.writeTextFile(
      join(dir, "children", "napper.yml"),
      "command: sleep 1000\nstop_timeout: 2\n",
    );

    // The command users type, from a directory with no deno.json and an empty cache.
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${repo.base}/main_server.ts`, join(dir, "server.yml")],
      cwd: dir,
      env: urlEnv(denoDir),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const started = new TestServer(dir, proc);
    server = started;
    const ready = started.stdout.waitFor(/listening on 127\.0\.0\.1:(\d+)/, FIRST_RUN_MS);
    const died = started.exited.then((status) => {
      throw new Error(
        `the server run from ${repo.base}/main_server.ts exited with ${status.code} before listening (an import that does not resolve without deno.json shows here):\n${started.stderr.text}`,
      );
    });
    started.port = Number((await Promise.race([ready, died]))[1]);
    const host = started.address;

    const check = await urlClient(repo.base, denoDir, dir, ["check", "on", host]);
    assert.equal(check.code, 0, show(check));
    assert.ok(check.stdout.includes(`Server ${host} response:`), show(check));
    assert.match(check.stdout, /^napper\s+STOPPED\s/m, show(check));

    const start = await urlClient(repo.base, denoDir, dir, ["start", "napper", "on", host]);
    assert.equal(start.code, 0, show(start));
    assert.ok(start.stdout.includes(`Server ${host} response:`), show(start));
    assert.ok(start.stdout.includes("start napper success"), show(start));

    const detail = await urlClient(repo.base, denoDir, dir, ["check", "napper", "on", host]);
    assert.equal(detail.code, 0, show(detail));
    assert.match(detail.stdout, /^state:\s+(STARTING|RUNNING)\b/m, show(detail));
    const pid = Number(detail.stdout.match(/^pid:\s+(\d+)$/m)?.[1]);
    assert.ok(pid > 0, show(detail));
    childPid = pid;
    assert.ok(isAlive(pid), `napper (pid ${pid}) runs`);

    // A stop request the server does not know fails the same way from a URL as from a checkout.
    const unknown = await urlClient(repo.base, denoDir, dir, ["stop", "ghost", "on", host]);
    assert.equal(unknown.code, 1, show(unknown));
    assert.match(unknown.stdout, /\[NOT_FOUND\]/, show(unknown));

    // Everything came over HTTP: both entry points and the one file with npm: specifiers.
    for (const path of ["/main_server.ts", "/main_client.ts", "/lib/deps.ts"]) {
      assert.ok(repo.requested.includes(path), `${path} was not fetched`);
    }
    assert.deepEqual(repo.missing, [], "every module asked for exists");
    assert.ok(!repo.requested.some((p) => p.endsWith("/deno.json")), "no deno.json is asked for");

    const status = await started.stop();
    assert.equal(status.code, 0, started.stderr.text);
    await waitUntil(() => !isAlive(pid), 5_000, `napper (pid ${pid}) to be gone`);
  } finally {
    await server?.stop();
    if (childPid !== undefined && isAlive(childPid)) {
      try {
        Deno.kill(-childPid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    await repo.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
