/**
 * End-to-end tests of the ssh transport (`on ssh://user@host[:sshport][/port]`): a real OpenSSH
 * server from Debian's openssh-server on a loopback port, the real client going through
 * `ssh -W 127.0.0.1:PORT`, and a real supervisor-ts server behind it.
 *
 * Every test starts its own sshd in a temporary directory (host key, client keys,
 * authorized_keys, known_hosts) and stops it at the end. Nothing but 127.0.0.1 is contacted.
 * Without OpenSSH the tests that need it are skipped, saying what to install; under CI
 * (`CI=true`) they fail instead, since .ci/run installs it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ClientRun, delay, freePort, runClient, startServer } from "./harness.ts";
import { requirePrograms } from "./requires.ts";

const SSHD = "/usr/sbin/sshd";
const openSsh = requirePrograms(import.meta, [SSHD, "ssh", "ssh-keygen"]);

/** Seconds the client may wait for each host: failures must come well before. */
const CLIENT_TIMEOUT_S = 10;
/** A client run that ends in error must end faster than this (no hang until the timeout). */
const PROMPT_MS = 8_000;

const decoder = new TextDecoder();

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Single-quotes a word for SUPERVISOR_TS_SSH, which is split like a shell splits words. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Runs a program to completion; throws with its stderr when it fails. */
async function run(program: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(out.stdout);
  const stderr = decoder.decode(out.stderr);
  if (!out.success) {
    throw new Error(`${program} ${args.join(" ")} exited with ${out.code}:\n${stderr}${stdout}`);
  }
  return stdout + stderr;
}

async function keygen(path: string): Promise<string> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ssh_test", "-f", path]);
  return (await Deno.readTextFile(`${path}.pub`)).trim();
}

/** OpenSSH's version as [major, minor], from `ssh -V`. */
async function openSshVersion(): Promise<[number, number]> {
  const text = await run("ssh", ["-V"]);
  const match = text.match(/OpenSSH_(\d+)\.(\d+)/);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

/** How the client's ssh is told to connect: keys, known_hosts, strictness, log level. */
interface SshOptions {
  readonly key?: string;
  readonly knownHosts?: string;
  readonly strict?: "yes" | "accept-new";
  /** `undefined` keeps ssh's default level (INFO). */
  readonly logLevel?: string | undefined;
  /** Replaces `ssh` (the program only; the options follow). */
  readonly program?: string;
}

/** A real sshd on 127.0.0.1, in the foreground, with everything in a temporary directory. */
class Sshd {
  readonly dir: string;
  readonly port: number;
  /** Key in authorized_keys; its path has a space, to show SUPERVISOR_TS_SSH is word-split. */
  readonly clientKey: string;
  /** A key that is not in authorized_keys. */
  readonly strangerKey: string;
  readonly strangerPub: string;
  readonly knownHosts: string;
  readonly process: Deno.ChildProcess;
  log = "";
  readonly #logDone: Promise<void>;

  constructor(
    dir: string,
    port: number,
    keys: { client: string; stranger: string; strangerPub: string },
    process: Deno.ChildProcess,
  ) {
    this.dir = dir;
    this.port = port;
    this.clientKey = keys.client;
    this.strangerKey = keys.stranger;
    this.strangerPub = keys.strangerPub;
    this.knownHosts = join(dir, "known_hosts");
    this.process = process;
    this.#logDone = (async () => {
      for await (const chunk of process.stderr) {
        this.log += decoder.decode(chunk, { stream: true });
      }
    })();
  }

  /** The `ssh://` host for a server port behind this sshd (or behind another ssh port). */
  host(serverPort: number, sshPort = this.port): string {
    return `ssh://root@127.0.0.1:${sshPort}/${serverPort}`;
  }

  /** A SUPERVISOR_TS_SSH value: hermetic (no ~/.ssh/config, no agent keys, own known_hosts). */
  command(options: SshOptions = {}): string {
    const words = [
      options.program ?? "ssh",
      "-F",
      "none",
      "-i",
      options.key ?? this.clientKey,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      `UserKnownHostsFile=${options.knownHosts ?? this.knownHosts}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      `StrictHostKeyChecking=${options.strict ?? "accept-new"}`,
      "-o",
      "ConnectTimeout=5",
    ];
    if (!("logLevel" in options)) words.push("-o", "LogLevel=ERROR");
    else if (options.logLevel !== undefined) words.push("-o", `LogLevel=${options.logLevel}`);
    return words.map(quote).join(" ");
  }

  /** Environment for the client. */
  env(options: SshOptions = {}): Record<string, string> {
    return { SUPERVISOR_TS_SSH: this.command(options) };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.process.kill("SIGTERM");
    } catch {
      // exited already
    }
    const timer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch {
        // exited already
      }
    }, 5_000);
    await this.process.status;
    clearTimeout(timer);
    await this.#logDone;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Starts sshd on a free loopback port and waits until it accepts connections. */
async function startSshd(): Promise<Sshd> {
  openSsh.check();
  // The privilege separation directory sshd insists on.
  await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-ssh-" });
  let process: Deno.ChildProcess | undefined;
  try {
    const hostKey = join(dir, "host_key");
    const client = join(dir, "client key");
    const stranger = join(dir, "stranger_key");
    await keygen(hostKey);
    const clientPub = await keygen(client);
    const strangerPub = await keygen(stranger);
    const authorized = join(dir, "authorized_keys");
    await Deno.writeTextFile(authorized, `${clientPub}\n`);
    const [major, minor] = await openSshVersion();
    const port = freePort();
    const config = [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorized}`,
      "StrictModes no",
      "UsePAM no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "AllowTcpForwarding yes",
      "X11Forwarding no",
      "AllowAgentForwarding no",
      "PrintMotd no",
      "LogLevel ERROR",
      // OpenSSH 9.8 and later refuse sources that failed often (these tests fail on purpose).
      ...(major > 9 || (major === 9 && minor >= 8) ? ["PerSourcePenaltyExemptList 127.0.0.1"] : []),
    ].join("\n") + "\n";
    const configPath = join(dir, "sshd_config");
    await Deno.writeTextFile(configPath, config);
    process = new Deno.Command(SSHD, {
      args: ["-D", "-e", "-f", configPath],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const sshd = new Sshd(dir, port, { client, stranger, strangerPub }, process);
    try {
      await waitForListening(sshd);
    } catch (error) {
      await sshd[Symbol.asyncDispose]();
      throw error;
    }
    return sshd;
  } catch (error) {
    if (process === undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

async function waitForListening(sshd: Sshd): Promise<void> {
  let exited: Deno.CommandStatus | undefined;
  sshd.process.status.then((s) => (exited = s), () => {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) {
      throw new Error(`sshd exited with ${exited.code} before listening:\n${sshd.log}`);
    }
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: sshd.port });
      conn.close();
      return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      throw new Error(`sshd never listened on 127.0.0.1:${sshd.port}:\n${sshd.log}`);
    }
    await delay(25);
  }
}

/** Live `ssh` processes whose command line mentions `dir`: "pid: argv". */
function sshProcessesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let argv: string[];
    try {
      argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
    } catch {
      continue; // gone meanwhile
    }
    const program = argv[0]?.split("/").pop();
    if (program === "ssh" && argv.some((a) => a.includes(dir))) {
      found.push(`${entry.name}: ${argv.join(" ").trim()}`);
    }
  }
  return found;
}

/** Runs the client; asserts it ended promptly and left no ssh process behind. */
async function client(
  sshd: Sshd,
  args: string[],
  env: Record<string, string>,
): Promise<ClientRun & { ms: number }> {
  const started = Date.now();
  const result = await runClient([...args, "--timeout", String(CLIENT_TIMEOUT_S)], env);
  const ms = Date.now() - started;
  // The client SIGTERMs its ssh on the way out; give the signal a moment to land.
  const deadline = Date.now() + 2_000;
  let left = sshProcessesUsing(sshd.dir);
  while (left.length > 0 && Date.now() < deadline) {
    await delay(20);
    left = sshProcessesUsing(sshd.dir);
  }
  assert.deepEqual(left, [], `ssh processes left after "${args.join(" ")}"`);
  return { ...result, ms };
}

/** The one block of a single-host run that failed: exit 1, header, `error: …`. */
function assertFailed(run: ClientRun & { ms: number }, host: string, error: RegExp): string {
  const context = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  assert.equal(run.code, 1, context);
  assert.ok(run.ms < PROMPT_MS, `took ${run.ms} ms: ${context}`);
  const match = run.stdout.match(
    new RegExp(`^Server ${escape(host)} response:\\n(error: .*)$`, "m"),
  );
  assert.ok(match, `no error block for ${host}: ${context}`);
  const line = match[1]!;
  assert.match(line, error, context);
  return line;
}

Deno.test({
  name: "check, start and --json go through a real sshd with ssh -W",
  ignore: openSsh.skip(),
  async fn() {
    await using sshd = await startSshd();
    await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
    const host = sshd.host(server.port);
    const env = sshd.env();

    const check = await client(sshd, ["check", "on", host], env);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.ok(
      check.stdout.startsWith(`Server ${host} response:\nNAME `),
      `unexpected output:\n${check.stdout}`,
    );
    assert.match(check.stdout, /^web\s+STOPPED\s/m);
    // The first connection recorded the host key (StrictHostKeyChecking=accept-new).
    assert.match(await Deno.readTextFile(sshd.knownHosts), /ssh-ed25519 /);

    const start = await client(sshd, ["start", "web", "on", host], env);
    assert.equal(start.code, 0, start.stdout + start.stderr);
    assert.match(start.stdout, new RegExp(`^Server ${escape(host)} response:\\n`));
    const direct = await server.json("check", "web");
    assert.equal(direct.ok, true, direct.message);
    const web = (direct.data!.children as { state: string; pid: number | null }[])[0]!;
    assert.match(web.state, /^(STARTING|RUNNING)$/);
    assert.equal(typeof web.pid, "number");

    const json = await client(sshd, ["check", "web", "on", host, "--json"], env);
    assert.equal(json.code, 0, json.stdout + json.stderr);
    const parsed = JSON.parse(json.stdout) as {
      host: string;
      ok: boolean;
      data: { children: { name: string; state: string; pid: number }[] };
    }[];
    assert.equal(parsed.length, 1);
    assert.equal(parsed[0]!.host, host);
    assert.equal(parsed[0]!.ok, true);
    assert.deepEqual(
      parsed[0]!.data.children.map((c) => [c.name, c.pid]),
      [["web", web.pid]],
    );
  },
});

Deno.test({
  name: "SUPERVISOR_TS_SSH is split like a shell and gets BatchMode, -p, -W and the destination",
  ignore: openSsh.skip(),
  async fn() {
    await using sshd = await startSshd();
    await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
    const wrapper = join(sshd.dir, "ssh wrapper");
    const argvFile = join(sshd.dir, "argv");
    await Deno.writeTextFile(
      wrapper,
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${quote(argvFile)}\nexec ssh "$@"\n`,
    );
    await Deno.chmod(wrapper, 0o755);
    const host = sshd.host(server.port);
    const run = await client(sshd, ["check", "on", host], sshd.env({ program: wrapper }));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^web\s+STOPPED\s/m);
    const argv = (await Deno.readTextFile(argvFile)).split("\n").slice(0, -1);
    // The configured words arrive intact (the key's path has a space) …
    assert.deepEqual(argv.slice(0, 4), ["-F", "none", "-i", sshd.clientKey]);
    // … and the client appends exactly this.
    assert.deepEqual(argv.slice(-8), [
      "-o",
      "BatchMode=yes",
      "-p",
      String(sshd.port),
      "-W",
      `127.0.0.1:${server.port}`,
      "--",
      "root@127.0.0.1",
    ]);
  },
});

Deno.test({
  name: "a fleet of ssh and tcp hosts: blocks in order, a summary, exit 1 for the dead one",
  ignore: openSsh.skip(),
  async fn() {
    await using sshd = await startSshd();
    await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
    const ssh = sshd.host(server.port);
    const tcp = server.address;
    const dead = `127.0.0.1:${freePort()}`;
    const run = await client(sshd, ["check", "on", ssh, "on", tcp, "on", dead], sshd.env());
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const headers = [...run.stdout.matchAll(/^Server (\S+) response:$/gm)].map((m) => m[1]);
    assert.deepEqual(headers, [ssh, tcp, dead]);
    const blocks = run.stdout.split(/^Server \S+ response:\n/m).slice(1);
    assert.match(blocks[0]!, /^NAME .*\nweb\s+STOPPED\s/);
    assert.match(blocks[1]!, /^NAME .*\nweb\s+STOPPED\s/);
    assert.match(
      blocks[2]!,
      new RegExp(`^error: cannot reach ${escape(dead)}: connection refused`),
    );
    assert.match(
      run.stdout,
      new RegExp(`\\n2 ok, 1 failed: ${escape(dead)} \\(connection refused\\)\\n?$`),
    );
  },
});

Deno.test({
  name: "ssh failures are reported per host in ssh's own words, promptly, with exit 1",
  ignore: openSsh.skip(),
  async fn(t) {
    await using sshd = await startSshd();
    await using server = await startServer({ children: { web: "command: sleep 1000\n" } });
    const host = sshd.host(server.port);
    const prefix = `error: cannot reach ${escape(host)}: ssh: `;

    await t.step("a key that is not in authorized_keys", async () => {
      const run = await client(sshd, ["check", "on", host], sshd.env({ key: sshd.strangerKey }));
      assertFailed(run, host, new RegExp(`^${prefix}.*Permission denied \\(publickey`));
    });

    await t.step("an ssh port where nothing listens", async () => {
      const closed = sshd.host(server.port, freePort());
      const run = await client(sshd, ["check", "on", closed], sshd.env());
      assertFailed(
        run,
        closed,
        new RegExp(`^error: cannot reach ${escape(closed)}: ssh: .*Connection refused`),
      );
    });

    await t.step("a host key that does not match known_hosts", async () => {
      const knownHosts = join(sshd.dir, "known_hosts_wrong");
      await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.strangerPub}\n`);
      const run = await client(
        sshd,
        ["check", "on", host],
        sshd.env({ knownHosts, strict: "yes" }),
      );
      assertFailed(run, host, new RegExp(`^${prefix}.*host key verification failed`, "i"));
    });

    await t.step("the server port behind ssh is closed", async () => {
      const gone = sshd.host(freePort());
      for (const logLevel of ["ERROR", undefined]) {
        const run = await client(sshd, ["check", "on", gone], sshd.env({ logLevel }));
        assertFailed(
          run,
          gone,
          new RegExp(
            `^error: cannot reach ${
              escape(gone)
            }: ssh: .*(forwarding failed|open failed|connect failed)`,
          ),
        );
      }
    });

    await t.step("SUPERVISOR_TS_SSH names a program that does not exist", async () => {
      for (const program of [join(sshd.dir, "no-such-ssh"), "no-such-ssh-command"]) {
        const run = await client(sshd, ["check", "on", host], sshd.env({ program }));
        assertFailed(
          run,
          host,
          new RegExp(`^error: cannot reach ${escape(host)}: .*"${escape(program)}" not found`),
        );
      }
    });

    await t.step("an ssh port that accepts but never speaks times out and kills ssh", async () => {
      const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const held: Deno.Conn[] = [];
      const accepting = (async () => {
        for await (const conn of silent) held.push(conn);
      })().catch(() => {});
      try {
        const stuck = sshd.host(server.port, (silent.addr as Deno.NetAddr).port);
        const started = Date.now();
        const run = await runClient(["check", "on", stuck, "--timeout", "1"], sshd.env());
        const ms = Date.now() - started;
        assert.equal(run.code, 1, run.stdout + run.stderr);
        assert.match(
          run.stdout,
          new RegExp(
            `^Server ${escape(stuck)} response:\\nerror: no answer from ${escape(stuck)} within 1s`,
          ),
        );
        assert.ok(ms < 5_000, `took ${ms} ms`);
        assert.deepEqual(sshProcessesUsing(sshd.dir), [], "ssh left after the timeout");
      } finally {
        silent.close();
        await accepting;
        for (const conn of held) conn.close();
      }
    });

    await t.step("one command, several ssh hosts: each block has its own error", async () => {
      const closed = sshd.host(server.port, freePort());
      const gone = sshd.host(freePort());
      const run = await client(
        sshd,
        ["check", "on", closed, "on", host, "on", gone],
        sshd.env(),
      );
      assert.equal(run.code, 1, run.stdout + run.stderr);
      const headers = [...run.stdout.matchAll(/^Server (\S+) response:$/gm)].map((m) => m[1]);
      assert.deepEqual(headers, [closed, host, gone]);
      const blocks = run.stdout.split(/^Server \S+ response:\n/m).slice(1);
      assert.match(blocks[0]!, /^error: cannot reach .*Connection refused/);
      assert.match(blocks[1]!, /^NAME .*\nweb\s+STOPPED\s/);
      assert.match(blocks[2]!, /^error: cannot reach .*ssh: /);
      assert.match(
        run.stdout,
        new RegExp(`\\n1 ok, 2 failed: ${escape(closed)} \\(ssh: .*\\), ${escape(gone)} \\(ssh: `),
      );
    });
  },
});

Deno.test("ssh that exits before the request is written is reported with its own words, not a broken pipe", async () => {
  await using server = await startServer();
  const runs = await Promise.all(
    Array.from(
      { length: 10 },
      () =>
        runClient(["check", "on", `ssh://nobody@127.0.0.1/${server.port}`], {
          SUPERVISOR_TS_SSH: "sh -c 'echo proxy says no >&2; exit 1' sh",
        }),
    ),
  );
  for (const run of runs) {
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /error: cannot reach ssh:\/\/nobody@127\.0\.0\.1\/\d+: ssh: proxy says no/,
    );
    assert.doesNotMatch(run.stdout, /Broken pipe/);
  }
});

Deno.test("a badly quoted SUPERVISOR_TS_SSH is a usage error naming the variable", async () => {
  const run = await runClient(["check", "on", "ssh://me@127.0.0.1/1"], {
    SUPERVISOR_TS_SSH: "ssh -i 'x",
  });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /error: SUPERVISOR_TS_SSH: unterminated single quote in "ssh -i 'x"/);
});
