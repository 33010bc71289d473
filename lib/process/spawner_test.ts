import assert from "node:assert/strict";
import { launchArgv } from "./spawner.ts";

const TOOLS = { setsid: "/usr/bin/setsid", setpriv: "/usr/bin/setpriv" };

Deno.test("a plain child runs through setsid alone", () => {
  assert.deepEqual(launchArgv("/bin/sleep", ["5"], {}, TOOLS), [
    "/usr/bin/setsid",
    "/bin/sleep",
    "5",
  ]);
  assert.deepEqual(launchArgv("/bin/sleep", ["5"], {}, { setsid: undefined, setpriv: undefined }), [
    "/bin/sleep",
    "5",
  ]);
});

Deno.test("credentials chain setpriv with the uid, the gid and exactly the groups given", () => {
  const argv = launchArgv(
    "/bin/sleep",
    ["5"],
    { credentials: { uid: 65534, gid: 65534, groups: [65534, 4] } },
    TOOLS,
  );
  assert.deepEqual(argv, [
    "/usr/bin/setsid",
    "/usr/bin/setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--groups=65534,4",
    "--",
    "/bin/sleep",
    "5",
  ]);
});

Deno.test("a group alone keeps the uid; no groups at all clears them", () => {
  const argv = launchArgv("/bin/id", [], { credentials: { uid: undefined, gid: 33, groups: [] } }, {
    setsid: undefined,
    setpriv: "/bin/setpriv",
  });
  assert.deepEqual(argv, ["/bin/setpriv", "--regid=33", "--clear-groups", "--", "/bin/id"]);
});

Deno.test("a umask runs the program through sh, which sets it and execs setpriv", () => {
  const argv = launchArgv("/bin/touch", ["a b"], {
    credentials: { uid: 1, gid: 1, groups: [1] },
    umask: 0o27,
  }, TOOLS);
  assert.deepEqual(argv, [
    "/usr/bin/setsid",
    "/bin/sh",
    "-c",
    'umask 0027 && exec "$@"',
    "sh",
    "/usr/bin/setpriv",
    "--reuid=1",
    "--regid=1",
    "--groups=1",
    "--",
    "/bin/touch",
    "a b",
  ]);
});

Deno.test("direct output files are opened by sh before setpriv, their paths as operands", () => {
  const argv = launchArgv("/bin/echo", ["hi"], {
    credentials: { uid: 1, gid: 1, groups: [1] },
    files: { stdout: "/var/log/a b.log", stderr: "/var/log/$(x).err" },
  }, TOOLS);
  assert.deepEqual(argv.slice(0, 8), [
    "/usr/bin/setsid",
    "/bin/sh",
    "-c",
    'exec >>"$1" 2>>"$2" && shift 2 && exec "$@"',
    "sh",
    "/var/log/a b.log",
    "/var/log/$(x).err",
    "/usr/bin/setpriv",
  ]);
  assert.deepEqual(launchArgv("/bin/echo", [], { umask: 0o22, files: { stderr: "/l" } }, TOOLS), [
    "/usr/bin/setsid",
    "/bin/sh",
    "-c",
    'umask 0022 && exec 2>>"$1" && shift 1 && exec "$@"',
    "sh",
    "/l",
    "/bin/echo",
  ]);
  // One file for both streams is opened once: stderr goes where stdout goes.
  assert.deepEqual(launchArgv("/bin/echo", [], { files: { stdout: "/l", stderr: "/l" } }, TOOLS), [
    "/usr/bin/setsid",
    "/bin/sh",
    "-c",
    'exec >>"$1" 2>&1 && shift 1 && exec "$@"',
    "sh",
    "/l",
    "/bin/echo",
  ]);
});

Deno.test("direct output files reach the program: a real spawn through the chain", async () => {
  const { denoSpawner } = await import("./spawner.ts");
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/out put.log`;
    await Deno.writeTextFile(out, "before\n");
    const proc = await denoSpawner.spawn({
      argv: ["/bin/sh", "-c", "echo to-out; echo to-err >&2; ls -l /proc/$$/fd/1"],
      cwd: dir,
      env: {},
      files: { stdout: out },
    });
    assert.equal(proc.stdout, null);
    assert.ok(proc.stderr);
    const err = await new Response(proc.stderr).text();
    assert.deepEqual(await proc.status, { code: 0, signal: null });
    assert.equal(err, "to-err\n");
    const text = await Deno.readTextFile(out);
    assert.match(text, /^before\nto-out\n.*-> .*out put\.log\n$/s);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("credentials without setpriv fail, saying to install util-linux", () => {
  assert.throws(
    () =>
      launchArgv("/bin/id", [], { credentials: { uid: 1, gid: 1, groups: [1] } }, {
        setsid: "/usr/bin/setsid",
        setpriv: undefined,
      }),
    /user and group need setpriv from util-linux, which was not found in \/usr\/bin or \/bin: install util-linux/,
  );
});
