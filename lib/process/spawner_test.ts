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

Deno.test("a umask runs the program through sh, which sets it and execs the program", () => {
  const argv = launchArgv("/bin/touch", ["a b"], {
    credentials: { uid: 1, gid: 1, groups: [1] },
    umask: 0o27,
  }, TOOLS);
  assert.deepEqual(argv.slice(6), [
    "/bin/sh",
    "-c",
    'umask 0027 && exec "$@"',
    "sh",
    "/bin/touch",
    "a b",
  ]);
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
