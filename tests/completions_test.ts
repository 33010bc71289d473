/**
 * Black-box tests of shell completions: the real client prints the scripts, lists a real
 * server's children through its hidden operation, and bash completes child names by running
 * the client found on PATH.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cleanEnv, CLIENT_ENTRY, runClient, startServer } from "./harness.ts";

const decoder = new TextDecoder();

/** A loopback port where nothing listens. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A directory holding `supervisor-ts-client`, a wrapper that runs this repository's client. */
async function clientOnPath(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-completions-" });
  const wrapper = join(dir, "supervisor-ts-client");
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\nexec '${Deno.execPath()}' run -A '${CLIENT_ENTRY}' "$@"\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  return dir;
}

/**
 * Sources `script` in bash, sets COMP_WORDS (and COMP_LINE when given) as bash does for a TAB
 * after `words`, runs the function registered for supervisor-ts-client and returns COMPREPLY.
 */
async function complete(
  script: string,
  pathDir: string,
  words: readonly string[],
  line?: string,
): Promise<string[]> {
  const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
  const program = [
    script,
    `COMP_WORDS=(${["supervisor-ts-client", ...words].map(quote).join(" ")})`,
    `COMP_CWORD=${words.length}`,
    ...(line === undefined
      ? []
      : [`COMP_LINE=${quote(`supervisor-ts-client ${line}`)}`, `COMP_POINT=\${#COMP_LINE}`]),
    // The function the script registered, found the way bash itself finds it.
    `spec=$(complete -p supervisor-ts-client)`,
    `function=\${spec#*-F }`,
    `"\${function%% *}"`,
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join("\n");
  const out = await new Deno.Command("bash", {
    args: ["-c", program],
    env: cleanEnv({ PATH: `${pathDir}:${Deno.env.get("PATH") ?? ""}` }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, decoder.decode(out.stderr));
  return decoder.decode(out.stdout).split("\n").filter((l) => l !== "");
}

Deno.test("completions prints a script for each shell and exits 0", async () => {
  const bash = await runClient(["completions", "bash"]);
  assert.equal(bash.code, 0, bash.stderr);
  assert.match(bash.stdout, /^complete -F \S+ supervisor-ts-client$/m);
  assert.equal(bash.stderr, "");
  const zsh = await runClient(["completions", "zsh"]);
  assert.equal(zsh.code, 0);
  assert.match(zsh.stdout, /^#compdef supervisor-ts-client\n/);
  const fish = await runClient(["completions", "fish"]);
  assert.equal(fish.code, 0);
  assert.match(fish.stdout, /^complete --command supervisor-ts-client /m);
});

Deno.test("completions for an unknown shell is a usage error", async () => {
  const run = await runClient(["completions", "tcsh"]);
  assert.equal(run.code, 2);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /Unknown shell "tcsh"; expected one of: bash, zsh, fish/);
  assert.match(run.stderr, /Run "supervisor-ts-client --help"/);
});

Deno.test("help lists the completions operation", async () => {
  const run = await runClient(["--help"]);
  assert.match(run.stdout, /^ {2}completions SHELL/m);
});

Deno.test("__complete-children prints the server's child names, one a line", async () => {
  await using server = await startServer({
    children: { web: "command: sleep 1000\n", "api-2": "command: sleep 1000\n" },
  });
  const run = await runClient(["__complete-children", "on", server.address]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "api-2\nweb\n");
  assert.equal(run.stderr, "");
});

Deno.test("__complete-children against a dead port prints nothing and exits 0 at once", async () => {
  const started = Date.now();
  const run = await runClient(["__complete-children", "on", `127.0.0.1:${deadPort()}`]);
  const ms = Date.now() - started;
  assert.equal(run.code, 0);
  assert.equal(run.stdout, "");
  assert.equal(run.stderr, "");
  assert.ok(ms < 5_000, `took ${ms} ms`);
});

Deno.test("__complete-children gives up on a silent host within its short timeout", async () => {
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })().catch(() => {});
  try {
    const address = `127.0.0.1:${(silent.addr as Deno.NetAddr).port}`;
    const started = Date.now();
    const run = await runClient(["__complete-children", "on", address]);
    const ms = Date.now() - started;
    assert.equal(run.code, 0);
    assert.equal(run.stdout, "");
    assert.ok(ms < 8_000, `took ${ms} ms`);
  } finally {
    silent.close();
    await accepting;
    for (const conn of held) conn.close();
  }
});

Deno.test("bash completes child names asked from the server named on the command line", async () => {
  await using server = await startServer({
    children: { web: "command: sleep 1000\n", worker: "command: sleep 1000\n" },
  });
  const dir = await clientOnPath();
  try {
    const script = (await runClient(["completions", "bash"])).stdout;
    // As a test would type it: one word per argument.
    assert.deepEqual(
      await complete(script, dir, ["start", "on", server.address, ""]),
      ["web", "worker", "all"],
    );
    // As bash really splits it: COMP_WORDBREAKS cuts "127.0.0.1:PORT" at the colon.
    assert.deepEqual(
      await complete(
        script,
        dir,
        ["on", "127.0.0.1", ":", String(server.port), "start", "w"],
        `on ${server.address} start w`,
      ),
      ["web", "worker"],
    );
    assert.deepEqual(
      await complete(script, dir, ["stop", "on", server.address, "wo"]),
      ["worker"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bash completes no child names, quickly, when the server is down", async () => {
  const dir = await clientOnPath();
  try {
    const script = (await runClient(["completions", "bash"])).stdout;
    const started = Date.now();
    const replies = await complete(script, dir, ["start", "on", `127.0.0.1:${deadPort()}`, ""]);
    assert.deepEqual(replies, ["all"], "no child names, only start's keyword");
    assert.ok(Date.now() - started < 5_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the completion scripts in contrib/completions are what the client prints now", async () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const run = await runClient(["completions", shell]);
    const committed = await Deno.readTextFile(
      new URL(`../contrib/completions/supervisor-ts-client.${shell}`, import.meta.url),
    );
    assert.equal(
      committed,
      run.stdout,
      `contrib/completions/supervisor-ts-client.${shell} is stale: regenerate it with "deno task client completions ${shell}"`,
    );
  }
});
