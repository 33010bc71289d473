/**
 * Black-box tests of the client's manners: colour only on a terminal and never with NO_COLOR
 * or --json, and failures that say what to do next.
 */
import assert from "node:assert/strict";
import { cleanEnv, CLIENT_ENTRY, runClient, startServer } from "./harness.ts";
import { requirePrograms } from "./requires.ts";

const decoder = new TextDecoder();
const ESC = "\x1b[";

/** util-linux `script` gives the client a terminal. */
const programs = requirePrograms(import.meta, ["script"]);

/**
 * Runs the client on a pseudo-terminal (through `script`) with exactly the environment given
 * (NO_COLOR only when `env` has it); returns what the terminal showed.
 */
async function runOnTerminal(args: readonly string[], env: Record<string, string>) {
  programs.check("script");
  const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
  const command = [Deno.execPath(), "run", "-A", "--quiet", CLIENT_ENTRY, ...args].map(quote)
    .join(" ");
  const base = cleanEnv(env);
  if (env.NO_COLOR === undefined) delete base.NO_COLOR;
  base.TERM = "xterm";
  const out = await new Deno.Command("script", {
    args: ["-q", "-e", "-c", command, "/dev/null"],
    env: base,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, text: decoder.decode(out.stdout) };
}

Deno.test({
  name: "check on a terminal colours the states, and NO_COLOR or --json turn it off",
  ignore: programs.skip("script"),
  async fn() {
    await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
    await server.json("start", "web");
    await server.waitChild("web", (c) => c.state === "RUNNING");
    const coloured = await runOnTerminal(["check", "on", server.address], {});
    assert.equal(coloured.code, 0, coloured.text);
    assert.ok(coloured.text.includes(`${ESC}32mRUNNING${ESC}39m`), coloured.text);

    const noColor = await runOnTerminal(["check", "on", server.address], { NO_COLOR: "1" });
    assert.match(noColor.text, /RUNNING/);
    assert.ok(!noColor.text.includes(ESC), noColor.text);

    const json = await runOnTerminal(["check", "on", server.address, "--json"], {});
    assert.match(json.text, /"RUNNING"/);
    assert.ok(!json.text.includes(ESC), json.text);
  },
});

Deno.test({
  name: "a usage error on a terminal has a red error:, and none with NO_COLOR",
  ignore: programs.skip("script"),
  async fn() {
    const coloured = await runOnTerminal(["frobnicate"], {});
    assert.equal(coloured.code, 2);
    assert.ok(coloured.text.includes(`${ESC}31merror:${ESC}39m Unknown operation`), coloured.text);
    const plain = await runOnTerminal(["frobnicate"], { NO_COLOR: "1" });
    assert.ok(!plain.text.includes(ESC), plain.text);
  },
});

Deno.test("output to a pipe has no escape codes even without NO_COLOR", async () => {
  await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
  await server.json("start", "web");
  for (const args of [["check", "on", server.address], ["frobnicate"], ["start", "ghost"]]) {
    const run = await runClient([...args, "on", server.address], { NO_COLOR: "" });
    assert.ok(!run.stdout.includes(ESC) && !run.stderr.includes(ESC), args.join(" "));
  }
});

Deno.test("a TCP host that never answers is reported as timed out with a hint, not as a bad resource", async () => {
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })().catch(() => {});
  try {
    const address = `127.0.0.1:${(silent.addr as Deno.NetAddr).port}`;
    const run = await runClient(["check", "on", address, "--timeout", "0.5"]);
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      new RegExp(
        `error: no answer from ${
          address.replace(/\./g, "\\.")
        } within 0\\.5s \\(.*raise --timeout\\)`,
      ),
    );
  } finally {
    silent.close();
    await accepting;
    for (const conn of held) conn.close();
  }
});

Deno.test("a child the server does not know gets a hint to list the children", async () => {
  await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
  const run = await server.client("start", "ghost");
  assert.equal(run.code, 1);
  assert.match(run.stdout, /\[NOT_FOUND\]\nhint: "check" lists the children this server knows/);
});

Deno.test("an unreadable key file points to the path given after with", async () => {
  const run = await runClient(["check", "with", "/nonexistent/ops.pem", "on", "127.0.0.1:1"]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /cannot read key file .*\(check the path given after "with"\)/);
});
