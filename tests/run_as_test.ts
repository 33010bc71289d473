/**
 * Black-box tests of who a child runs as: `user`, `group`, `umask` and `env_file`, with a real
 * server and real children, asserted on /proc and on what the children print and create.
 *
 * Running as another user needs a server running as root and util-linux `setpriv`; those tests
 * are skipped elsewhere, with one line saying why, except under `CI=true` (CI runs as root).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { procState, startServer, waitUntil } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const CI = Deno.env.get("CI") === "true";
const ROOT = Deno.build.os === "linux" && Deno.uid() === 0;
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].some(exists);
const USERADD = ["/usr/sbin/useradd", "/sbin/useradd"].some(exists);

/** Why the tests that switch users cannot run here; undefined when they can (or under CI). */
const cannotSwitch = CI
  ? undefined
  : !ROOT
  ? "they need the server to run as root on Linux"
  : !SETPRIV
  ? "they need setpriv: apt-get install -y util-linux"
  : undefined;
if (cannotSwitch) note(`skipped: tests/run_as_test.ts: tests of user and group, ${cannotSwitch}`);
const cannotAddUsers = cannotSwitch ??
  (USERADD || CI ? undefined : "useradd: apt-get install -y passwd");
if (cannotAddUsers && !cannotSwitch) {
  note(`skipped: tests/run_as_test.ts: the test with a temporary user needs ${cannotAddUsers}`);
}

/** A line of /etc/passwd, looked up here independently of the server's code. */
function passwdEntry(name: string): { uid: number; gid: number; home: string; shell: string } {
  const line = Deno.readTextFileSync("/etc/passwd").split("\n").find((l) =>
    l.startsWith(`${name}:`)
  );
  if (!line) throw new Error(`${name} is not in /etc/passwd`);
  const [, , uid, gid, , home, shell] = line.split(":");
  return { uid: Number(uid), gid: Number(gid), home: home!, shell: shell! };
}

/** The gids of every /etc/group line that lists `name` as a member. */
function memberOf(name: string): number[] {
  return Deno.readTextFileSync("/etc/group").split("\n").filter((line) => {
    const members = line.split(":")[3] ?? "";
    return members.split(",").map((m) => m.trim()).includes(name);
  }).map((line) => Number(line.split(":")[2]));
}

/** Uid, Gid (real, effective, saved, fs) and Groups of a live process, from /proc. */
function credentialsOf(pid: number): { uid: number[]; gid: number[]; groups: number[] } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) =>
    (new RegExp(`^${name}:(.*)$`, "m").exec(status)?.[1] ?? "").trim().split(/\s+/)
      .filter((w) => w !== "").map(Number);
  return { uid: field("Uid"), gid: field("Gid"), groups: field("Groups") };
}

/** Starts `name` and returns its pid from `check --json`, once the process has exec'd `comm`. */
async function startedPid(server: TestServer, name: string, comm: string): Promise<number> {
  const started = await server.json("start", name);
  assert.equal(started.ok, true, started.message);
  const pid = (await server.child(name)).pid!;
  // setsid, setpriv and sh each exec the next, so the pid turns into `comm` without changing.
  await waitUntil(
    () => readOr(`/proc/${pid}/comm`).trim() === comm,
    10_000,
    `pid ${pid} to run ${comm}`,
  );
  return pid;
}

Deno.test({
  name: "a child with user nobody runs as nobody, with only nobody's groups, under the pid tracked",
  ignore: cannotSwitch !== undefined,
  async fn() {
    const nobody = passwdEntry("nobody");
    await using server = await startServer({
      children: { idle: "command: sleep 1000\nuser: nobody\n" },
    });
    const pid = await startedPid(server, "idle", "sleep");
    const ids = credentialsOf(pid);
    assert.deepEqual(ids.uid, [nobody.uid, nobody.uid, nobody.uid, nobody.uid]);
    assert.deepEqual(ids.gid, [nobody.gid, nobody.gid, nobody.gid, nobody.gid]);
    const expected = [...new Set([nobody.gid, ...memberOf("nobody")])].sort((a, b) => a - b);
    assert.deepEqual(ids.groups.sort((a, b) => a - b), expected, "nobody's groups, none of root's");
    // The tracked pid is the server's own child and leads its session: no wrapper in between.
    const state = procState(pid)!;
    assert.equal(state.ppid, server.pid);
    assert.equal(state.pgrp, pid);
    const [program, ...args] = readOr(`/proc/${pid}/cmdline`).split("\0");
    assert.match(program!, /^\/\S*\/sleep$/);
    assert.deepEqual(args, ["1000", ""]);
    const stopped = await server.json("stop", "idle");
    assert.equal(stopped.ok, true, stopped.message);
  },
});

Deno.test({
  name: "a child with user nobody gets nobody's HOME, USER, LOGNAME and SHELL unless env sets them",
  ignore: cannotSwitch !== undefined,
  async fn() {
    const nobody = passwdEntry("nobody");
    const print = `command: [sh, -c, 'echo "$HOME|$USER|$LOGNAME|$SHELL|$(id -u)"']\n` +
      "user: nobody\nstart_seconds: 0\n";
    await using server = await startServer({
      children: {
        login: `${print}output: [{ stdout: login.log }]\n`,
        custom: `${print}env: { HOME: /srv/custom }\noutput: [{ stdout: custom.log }]\n`,
      },
    });
    assert.equal((await server.json("start", "login")).ok, true);
    assert.equal((await server.json("start", "custom")).ok, true);
    const line = (file: string) => readOr(join(server.childDir, file)).trim();
    await waitUntil(() => line("login.log") !== "" && line("custom.log") !== "");
    assert.equal(line("login.log"), `${nobody.home}|nobody|nobody|${nobody.shell}|${nobody.uid}`);
    assert.equal(line("custom.log"), `/srv/custom|nobody|nobody|${nobody.shell}|${nobody.uid}`);
  },
});

Deno.test({
  name: "a temporary user gets its own groups from /etc/group, and group replaces its primary",
  ignore: cannotAddUsers !== undefined,
  async fn() {
    const suffix = crypto.randomUUID().slice(0, 8);
    const user = `sts-u-${suffix}`;
    const extra = `sts-g-${suffix}`;
    run("groupadd", extra);
    try {
      run("useradd", "--no-create-home", "--shell", "/bin/sh", "--groups", extra, user);
      try {
        const account = passwdEntry(user);
        const extraGid = groupGid(extra);
        await using server = await startServer({
          children: {
            own: `command: sleep 1000\nuser: ${user}\n`,
            switched: `command: sleep 1000\nuser: ${user}\ngroup: ${extra}\n`,
          },
        });
        const own = credentialsOf(await startedPid(server, "own", "sleep"));
        assert.equal(own.uid[1], account.uid);
        assert.equal(own.gid[1], account.gid);
        assert.deepEqual(
          own.groups.sort((a, b) => a - b),
          [account.gid, extraGid].sort((a, b) => a - b),
        );
        const switched = credentialsOf(await startedPid(server, "switched", "sleep"));
        assert.equal(switched.uid[1], account.uid);
        assert.equal(switched.gid[1], extraGid);
        // As initgroups(user, group) makes them: the user's own group is not listed in /etc/group.
        assert.deepEqual(switched.groups, [extraGid]);
      } finally {
        run("userdel", user);
      }
    } finally {
      run("groupdel", extra);
    }
  },
});

Deno.test({
  name: "a user or group this machine does not know fails the start, naming it",
  ignore: cannotSwitch !== undefined,
  async fn() {
    await using server = await startServer({
      children: {
        ghost: "command: sleep 1000\nuser: no-such-user-sts\n",
        ghosts: "command: sleep 1000\nuser: nobody\ngroup: no-such-group-sts\n",
      },
    });
    const ghost = await server.json("start", "ghost");
    assert.equal(ghost.code, "SPAWN_FAILED");
    assert.equal(
      ghost.message,
      'Cannot start child "ghost": user "no-such-user-sts" was not found in /etc/passwd',
    );
    const ghosts = await server.json("start", "ghosts");
    assert.equal(ghosts.code, "SPAWN_FAILED");
    assert.match(ghosts.message, /group "no-such-group-sts" was not found in \/etc\/group$/);
    assert.equal((await server.child("ghosts")).state, "FATAL");
  },
});

Deno.test({
  name: "umask applies to the child: it reports the mask and its files get the mode it gives",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using server = await startServer({
      children: {
        masked: "command: [sh, -c, 'umask; touch made; mkdir dir']\numask: 027\n" +
          "start_seconds: 0\noutput: [{ stdout: masked.log }]\n",
      },
    });
    assert.equal((await server.json("start", "masked")).ok, true);
    await server.waitChild("masked", (c) => c.state === "EXITED");
    assert.equal(readOr(join(server.childDir, "masked.log")), "0027\n");
    assert.equal(Deno.statSync(join(server.childDir, "made")).mode! & 0o777, 0o640);
    assert.equal(Deno.statSync(join(server.childDir, "dir")).mode! & 0o777, 0o750);
    // The server's own umask (this test's, which it inherited) did not change: a file it
    // creates after the spawn has the usual mode.
    assert.equal(
      Deno.statSync(join(server.childDir, "masked.log")).mode! & 0o777,
      0o666 & ~Deno.umask(),
    );
  },
});

Deno.test({
  name: "umask and user together: the mask is set after the switch, the pid is still the program's",
  ignore: cannotSwitch !== undefined,
  async fn() {
    await using server = await startServer({
      children: {
        both: "command: [sh, -c, 'umask >&2; exec sleep 1000']\n" +
          "user: nobody\numask: 0o077\n",
      },
    });
    const pid = await startedPid(server, "both", "sleep");
    assert.equal(credentialsOf(pid).uid[1], passwdEntry("nobody").uid);
    assert.equal(procState(pid)!.ppid, server.pid);
    await server.stderr.waitFor("both | 0077");
  },
});

Deno.test("env_file values reach the child; later files override earlier ones, env overrides all", async () => {
  await using server = await startServer({
    children: {
      envs: "command: [sh, -c, 'echo \"$A|$B|$C|$D\"']\nstart_seconds: 0\n" +
        "env_file: [common.env, web.env]\nenv: { D: from-env }\noutput: [{ stdout: envs.log }]\n",
    },
  });
  Deno.writeTextFileSync(
    join(server.childDir, "common.env"),
    "# shared\nexport A=common\nB='common b'\nD=common\n",
  );
  Deno.writeTextFileSync(join(server.childDir, "web.env"), 'B="web\\tb"\nC=web # comment\n');
  assert.equal((await server.json("start", "envs")).ok, true);
  await server.waitChild("envs", (c) => c.state === "EXITED");
  assert.equal(readOr(join(server.childDir, "envs.log")), "common|web\tb|web|from-env\n");
});

Deno.test("a missing or malformed env_file fails the start with SPAWN_FAILED naming the file", async () => {
  await using server = await startServer({
    children: {
      lost: "command: sleep 1000\nenv_file: lost.env\noutput: [{ stdout: lost.log }]\n",
      bad: "command: sleep 1000\nenv_file: bad.env\n",
    },
  });
  Deno.writeTextFileSync(join(server.childDir, "lost.log"), "kept\n");
  const lost = await server.json("start", "lost");
  assert.equal(lost.code, "SPAWN_FAILED");
  const lostPath = join(server.childDir, "lost.env");
  assert.equal(
    lost.message,
    `Cannot start child "lost": env_file "${lostPath}" cannot be read: it does not exist`,
  );
  assert.equal(readOr(join(server.childDir, "lost.log")), "kept\n", "the output file is untouched");

  Deno.writeTextFileSync(join(server.childDir, "bad.env"), "A=1\nB='open\n");
  const bad = await server.json("start", "bad");
  assert.equal(bad.code, "SPAWN_FAILED");
  assert.equal(
    bad.message,
    `Cannot start child "bad": ${
      join(server.childDir, "bad.env")
    }:2:3: unterminated single quote: a quoted value must end on the same line`,
  );
  // Fixed, it is read again at the next start.
  Deno.writeTextFileSync(join(server.childDir, "bad.env"), "A=1\nB='closed'\n");
  assert.equal((await server.json("start", "bad")).ok, true);
});

Deno.test("a config check names the line and column of a umask that is not octal", async () => {
  await using server = await startServer({
    children: { odd: "command: sleep 1000\numask: 0x1f\n" },
  });
  const odd = await server.json("start", "odd");
  assert.equal(odd.code, "CONFIG_INVALID");
  assert.match(
    odd.message,
    /odd\.yml:2:8: umask must be an octal mask from 000 to 777, such as "027", 027 or 0o027, found "0x1f"/,
  );
});

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function readOr(path: string, fallback = ""): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

function groupGid(name: string): number {
  const line = Deno.readTextFileSync("/etc/group").split("\n").find((l) =>
    l.startsWith(`${name}:`)
  );
  if (!line) throw new Error(`${name} is not in /etc/group`);
  return Number(line.split(":")[2]);
}

function run(program: string, ...args: string[]): void {
  const out = new Deno.Command(program, { args, stdout: "null", stderr: "piped" }).outputSync();
  if (!out.success) {
    throw new Error(`${program} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * One line to this process's stderr, which `deno test --quiet` would drop from console: through
 * /dev/stderr opened anew, unless that is a regular file (a second handle could overwrite it).
 */
function note(line: string): void {
  try {
    if (!Deno.statSync("/dev/stderr").isFile) {
      using stderr = Deno.openSync("/dev/stderr", { append: true });
      stderr.writeSync(new TextEncoder().encode(`${line}\n`));
      return;
    }
  } catch {
    // no /dev/stderr here
  }
  console.error(line);
}
