/**
 * Tests of contrib/systemd: the unit file says what docs/operations.md promises (a dedicated
 * user, KillMode=mixed so the server's own graceful stop runs, a stop timeout above the
 * children's, a file descriptor limit for big fleets, reload by SIGHUP), systemd itself
 * accepts it (`systemd-analyze verify`, where systemd is installed), and the server behaves as
 * the unit expects (SIGHUP reloads and keeps running; SIGTERM stops the children and exits 0).
 *
 * `systemd-analyze verify` needs no running systemd: it loads the unit and its dependencies
 * from the system's unit directories and reports what it cannot parse or find.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isAlive, ROOT, startServer, waitUntil } from "./harness.ts";
import { requirePrograms } from "./requires.ts";

const UNIT_PATH = join(ROOT, "contrib", "systemd", "supervisor-ts.service");
const SYSUSERS_PATH = join(ROOT, "contrib", "systemd", "sysusers.conf");
/** The binary the unit starts; install.sh puts it there. */
const SERVER_BINARY = "/usr/local/bin/supervisor-ts-server";
const systemd = requirePrograms(import.meta, ["systemd-analyze", "systemd-sysusers"]);

/** A unit file: each section's keys, with every value a key was given, in order. */
type Unit = Map<string, Map<string, string[]>>;

/** Parses a unit file the way systemd reads one (comments, sections, continuation lines). */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = line.match(/^\[([A-Za-z]+)\]$/);
    if (header) {
      section = unit.get(header[1]!) ?? new Map();
      unit.set(header[1]!, section);
      return;
    }
    const eq = line.indexOf("=");
    if (!section || eq <= 0) throw new Error(`line ${index + 1} is not KEY=VALUE: ${raw}`);
    const key = line.slice(0, eq).trim();
    const values = section.get(key) ?? [];
    values.push(line.slice(eq + 1).trim());
    section.set(key, values);
  });
  return unit;
}

/** The value of a key given once (systemd would take the last; twice is a mistake here). */
function one(unit: Unit, section: string, key: string): string | undefined {
  const values = unit.get(section)?.get(key);
  if (values === undefined) return undefined;
  assert.equal(values.length, 1, `[${section}] ${key} is given ${values.length} times`);
  return values[0];
}

/** A systemd time span (`90s`, `1min 30s`, `90`) in seconds. */
function seconds(span: string): number {
  const units: Record<string, number> = { "": 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const part of span.trim().split(/\s+/)) {
    const match = part.match(/^(\d+(?:\.\d+)?)([a-z]*)$/);
    const factor = match ? units[match[2]!] : undefined;
    if (!match || factor === undefined) throw new Error(`not a time span: ${span}`);
    total += Number(match[1]) * factor;
  }
  return total;
}

/** Runs a command; undefined when it cannot be run at all (not installed). */
async function run(
  command: string,
  args: readonly string[],
  cwd?: string,
): Promise<{ code: number; out: string } | undefined> {
  try {
    const output = await new Deno.Command(command, {
      args: [...args],
      ...(cwd === undefined ? {} : { cwd }),
      env: { ...Deno.env.toObject(), SYSTEMD_COLORS: "0", SYSTEMD_PAGER: "", LC_ALL: "C" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      out: decoder.decode(output.stdout) + decoder.decode(output.stderr),
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** What `systemd-analyze verify` says about the units in `dir` (only lines about them). */
async function verify(
  dir: string,
  unitText: string,
): Promise<{ code: number; complaints: string[] }> {
  const path = join(dir, "supervisor-ts.service");
  await Deno.writeTextFile(path, unitText);
  const result = await run("systemd-analyze", ["verify", path], dir);
  assert.ok(result, "systemd-analyze ran a moment ago");
  // verify also loads the units ours names (network.target …) from the system: complaints
  // about those belong to the machine, not to this file.
  const complaints = result.out.split("\n").filter((line) =>
    line.includes("supervisor-ts.service") || line.includes(path)
  );
  return { code: result.code, complaints };
}

Deno.test("the unit runs the server as its own user, stops it with KillMode=mixed and reloads with SIGHUP", async () => {
  const unit = parseUnit(await Deno.readTextFile(UNIT_PATH));
  const service = (key: string) => one(unit, "Service", key);
  assert.equal(service("ExecStart"), `${SERVER_BINARY} /etc/supervisor-ts/server.yml`);
  assert.equal(service("ExecReload"), "/bin/kill -HUP $MAINPID");
  assert.ok(["simple", "exec"].includes(service("Type") ?? "simple"), `Type=${service("Type")}`);
  assert.equal(service("User"), "supervisor-ts");
  assert.equal(service("Group"), "supervisor-ts");
  assert.equal(service("Restart"), "on-failure");
  // SIGTERM to the server alone: it stops each child's group with the child's own signal.
  assert.equal(service("KillMode"), "mixed");
  assert.equal(service("KillSignal") ?? "SIGTERM", "SIGTERM");
  assert.notEqual(service("SendSIGKILL"), "no");
  // Well above the default stop_timeout (10 s), so the graceful stop is not cut short.
  const stopTimeout = seconds(service("TimeoutStopSec") ?? "90s");
  assert.ok(stopTimeout >= 60, `TimeoutStopSec=${service("TimeoutStopSec")}`);
  assert.ok(Number(service("LimitNOFILE")) >= 65536, `LimitNOFILE=${service("LimitNOFILE")}`);
  assert.equal(one(unit, "Install", "WantedBy"), "multi-user.target");
});

Deno.test("the unit's hardening leaves children free to fork, exec, bind ports and write logs", async () => {
  const unit = parseUnit(await Deno.readTextFile(UNIT_PATH));
  const service = (key: string) => one(unit, "Service", key);
  assert.equal(service("NoNewPrivileges"), "yes");
  assert.equal(service("PrivateTmp"), "yes");
  assert.equal(service("ProtectSystem"), "strict");
  // Under ProtectSystem=strict, the log directory must be made writable.
  assert.equal(service("LogsDirectory"), "supervisor-ts");
  // Deno's JIT needs writable and executable memory; children need the network and their
  // system calls; a sandbox of their own needs namespaces.
  for (const key of ["MemoryDenyWriteExecute", "PrivateNetwork", "RestrictNamespaces"]) {
    assert.notEqual(service(key), "yes", `${key}=yes would break the server or its children`);
  }
  for (const key of ["SystemCallFilter", "RestrictAddressFamilies", "IPAddressDeny"]) {
    assert.equal(service(key), undefined, `${key} would break some children`);
  }
  const homes = service("ProtectHome");
  assert.ok(homes === undefined || ["no", "read-only"].includes(homes), `ProtectHome=${homes}`);
  const caps = service("CapabilityBoundingSet");
  assert.ok(caps === undefined || caps.includes("CAP_NET_BIND_SERVICE"), `bounding set: ${caps}`);
});

Deno.test("sysusers.conf creates the supervisor-ts user and group", async (t) => {
  const text = await Deno.readTextFile(SYSUSERS_PATH);
  const lines = text.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(
    lines[0]!,
    /^u\s+supervisor-ts\s+-\s+"[^"]+"\s+\/var\/lib\/supervisor-ts\s+\/usr\/sbin\/nologin$/,
  );
  await t.step({
    name: "systemd-sysusers --dry-run accepts it",
    ignore: systemd.skip("systemd-sysusers"),
    fn: async () => {
      systemd.check("systemd-sysusers");
      // An empty root of its own: nothing on this machine is read or written.
      const root = await Deno.makeTempDir({ prefix: "supervisor-ts-sysusers-" });
      try {
        await Deno.mkdir(join(root, "etc"));
        await Deno.writeTextFile(join(root, "etc", "passwd"), "");
        await Deno.writeTextFile(join(root, "etc", "group"), "");
        const result = await run("systemd-sysusers", [
          `--root=${root}`,
          "--dry-run",
          SYSUSERS_PATH,
        ]);
        assert.equal(result?.code, 0, result?.out);
        assert.match(result!.out, /Creating group '?supervisor-ts'?/);
        assert.match(result!.out, /Creating user '?supervisor-ts'?/);
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  });
});

Deno.test({
  name: "systemd-analyze verify accepts the unit",
  ignore: systemd.skip("systemd-analyze"),
  async fn(t) {
    systemd.check("systemd-analyze");
    const original = await Deno.readTextFile(UNIT_PATH);
    const dir = await Deno.makeTempDir({ prefix: "supervisor-ts-systemd-" });
    try {
      await t.step(
        "as shipped, its only complaint can be the binary not installed here",
        async () => {
          const { complaints } = await verify(dir, original);
          let installed = false;
          try {
            installed = Deno.statSync(SERVER_BINARY).isFile;
          } catch {
            // not installed on this machine
          }
          const missingBinary = `Command ${SERVER_BINARY} is not executable`;
          const others = complaints.filter((line) => !line.includes(missingBinary));
          assert.deepEqual(others, []);
          if (!installed) assert.equal(complaints.length, 1, "verify notices the missing binary");
        },
      );

      await t.step("with ExecStart on a binary that exists, it has nothing to say", async () => {
        // verify checks that ExecStart's program exists and is executable. The server binary is
        // not installed on a test machine, so this copy starts Deno's binary instead (with the
        // same arguments); every other line is the file as shipped. The user need not exist:
        // verify does not look users up.
        const copy = original.replace(
          `ExecStart=${SERVER_BINARY} `,
          `ExecStart=${Deno.execPath()} `,
        );
        assert.notEqual(copy, original, "ExecStart was replaced");
        const { code, complaints } = await verify(dir, copy);
        assert.deepEqual(complaints, []);
        assert.equal(code, 0);
      });

      await t.step("a broken copy is reported, so silence above means something", async () => {
        const broken = original.replace(
          `ExecStart=${SERVER_BINARY} `,
          `ExecStart=${Deno.execPath()} `,
        )
          .replace(/^KillMode=mixed$/m, "KillMode=gently");
        const { complaints } = await verify(dir, broken);
        assert.equal(complaints.length, 1, complaints.join("\n"));
        assert.match(complaints[0]!, /kill mode/i);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the server does what the unit expects: SIGHUP reloads, SIGTERM stops every child and exits 0", async () => {
  await using server = await startServer({
    serverYaml: "mode: half\nstartup:\n  - napper\n",
    children: { napper: "command: sleep 1000\nstop_timeout: 2\n" },
  });
  const before = await server.child("napper");
  const pid = before.pid!;
  assert.ok(isAlive(pid));
  // ExecReload=/bin/kill -HUP $MAINPID
  server.process.kill("SIGHUP");
  await server.stderr.waitFor("SIGHUP: log files reopened; server config re-read: no change");
  const after = await server.child("napper");
  assert.equal(after.pid, pid, "a reload leaves children running");
  // KillMode=mixed: SIGTERM to the server only. Restart=on-failure: exit 0 stays stopped.
  const status = await server.stop();
  assert.equal(status.code, 0, server.stderr.text);
  await waitUntil(() => !isAlive(pid), 5_000, `napper (pid ${pid}) to be gone`);
  assert.match(server.stderr.text, /all children stopped; bye/);
});
