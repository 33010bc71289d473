import assert from "node:assert/strict";
import {
  accountRef,
  identityFromStatus,
  namedIdentity,
  parseGroup,
  parsePasswd,
  readAccounts,
  readServerIdentity,
  resolveRunAs,
  runAsRefusals,
} from "./users.ts";
import { UnknownAccountError } from "../errors.ts";
import type { Accounts } from "./users.ts";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/bash",
  "# a comment",
  "",
  "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  "deploy:x:1001:1001:Deploy,,,:/home/deploy:",
  "broken:x:notanumber:1:::",
  "+nis",
  "short:x:5",
].join("\n");

const GROUP = [
  "root:x:0:",
  "www-data:x:33:deploy",
  "docker:x:998:deploy, alice",
  "deploy:x:1001:",
  "adm:x:4:syslog,deploy",
  "nogroup:x:65534:",
].join("\r\n");

const ACCOUNTS: Accounts = { users: parsePasswd(PASSWD), groups: parseGroup(GROUP) };

Deno.test("/etc/passwd lines become accounts; comments, NIS and malformed lines are skipped", () => {
  assert.deepEqual(ACCOUNTS.users.map((u) => u.name), ["root", "www-data", "nobody", "deploy"]);
  assert.deepEqual(ACCOUNTS.users[2], {
    name: "nobody",
    uid: 65534,
    gid: 65534,
    home: "/nonexistent",
    shell: "/usr/sbin/nologin",
  });
});

Deno.test("/etc/group lines become groups with their members, CRLF or not", () => {
  assert.deepEqual(ACCOUNTS.groups.find((g) => g.name === "docker"), {
    name: "docker",
    gid: 998,
    members: ["deploy", "alice"],
  });
  assert.deepEqual(ACCOUNTS.groups.find((g) => g.name === "nogroup")?.members, []);
});

Deno.test("a user gets its primary group, then every group that lists it, and login variables", () => {
  assert.deepEqual(resolveRunAs("deploy", undefined, ACCOUNTS), {
    uid: 1001,
    gid: 1001,
    groups: [1001, 33, 998, 4],
    env: { HOME: "/home/deploy", USER: "deploy", LOGNAME: "deploy", SHELL: "/bin/sh" },
  });
  assert.deepEqual(resolveRunAs("65534", undefined, ACCOUNTS), {
    uid: 65534,
    gid: 65534,
    groups: [65534],
    env: {
      HOME: "/nonexistent",
      USER: "nobody",
      LOGNAME: "nobody",
      SHELL: "/usr/sbin/nologin",
    },
  });
});

Deno.test("a group given with a user replaces its primary group, as initgroups would", () => {
  const runAs = resolveRunAs("deploy", "www-data", ACCOUNTS);
  assert.equal(runAs.gid, 33);
  assert.deepEqual(runAs.groups, [33, 998, 4]);
  assert.deepEqual(resolveRunAs("nobody", "4242", ACCOUNTS).groups, [4242]);
});

Deno.test("a group alone keeps the server's user, with that one group and no login variables", () => {
  assert.deepEqual(resolveRunAs(undefined, "docker", ACCOUNTS), {
    uid: undefined,
    gid: 998,
    groups: [998],
    env: {},
  });
});

Deno.test("an unknown user or group is an error naming it and the file", () => {
  const unknown = (user: string | undefined, group: string | undefined) => {
    try {
      resolveRunAs(user, group, ACCOUNTS);
    } catch (error) {
      assert.ok(error instanceof UnknownAccountError);
      return [error.key, error.message];
    }
    assert.fail("expected an UnknownAccountError");
  };
  assert.deepEqual(unknown("ghost", undefined), [
    "user",
    'user "ghost" was not found in /etc/passwd',
  ]);
  assert.deepEqual(unknown("4321", undefined), [
    "user",
    "user 4321 is not in /etc/passwd: a child's user must have an entry there (for its home and groups)",
  ]);
  assert.deepEqual(unknown("nobody", "ghosts"), [
    "group",
    'group "ghosts" was not found in /etc/group',
  ]);
});

Deno.test("a server that is not root may name only itself, by id or by name", () => {
  const alice = { uid: 1000, gid: 1000, user: "alice", group: "alice" };
  assert.deepEqual(runAsRefusals(alice, "nobody", undefined), [{
    key: "user",
    message:
      'user "nobody": the server runs as uid 1000, not root: it cannot start children as another user',
  }]);
  assert.deepEqual(runAsRefusals(alice, undefined, "0").map((r) => r.key), ["group"]);
  assert.deepEqual(runAsRefusals(alice, "alice", "1000"), []);
  assert.deepEqual(runAsRefusals(alice, "1000", "alice"), []);
  assert.deepEqual(runAsRefusals({ uid: 1000, gid: 1000 }, "alice", undefined).length, 1);
  assert.deepEqual(runAsRefusals({ uid: 0, gid: 0 }, "nobody", "nogroup"), []);
  assert.deepEqual(runAsRefusals({ uid: 0, gid: 0, canSetIds: true }, "nobody", undefined), []);
});

Deno.test("root without CAP_SETUID and CAP_SETGID is refused like a user, saying why", () => {
  const bounded = { uid: 0, gid: 0, canSetIds: false, user: "root", group: "root" };
  assert.deepEqual(runAsRefusals(bounded, "nobody", "root"), [{
    key: "user",
    message: 'user "nobody": the server runs as root without CAP_SETUID and CAP_SETGID (a ' +
      "capability bounding set, such as systemd's CapabilityBoundingSet=, removed them): it " +
      "cannot start children as another user",
  }]);
});

Deno.test("the server's ids are the effective ones of /proc/self/status, named from the files", () => {
  const status = "Name:\tdeno\nUid:\t1000\t0\t0\t0\nGid:\t1000\t33\t33\t33\nGroups:\t4 \n" +
    "CapEff:\t000001ffffffffff\n";
  assert.deepEqual(identityFromStatus(status), { uid: 0, gid: 33, canSetIds: true });
  // CAP_SETGID (6) and CAP_SETUID (7) missing, as under a narrow systemd bounding set.
  const bounded = status.replace("000001ffffffffff", "0000000000000400");
  assert.equal(identityFromStatus(bounded)?.canSetIds, false);
  assert.equal(identityFromStatus(status.replace(/^CapEff.*$/m, ""))?.canSetIds, undefined);
  assert.equal(identityFromStatus("Name:\tdeno\n"), undefined);
  assert.deepEqual(namedIdentity({ uid: 33, gid: 998 }, ACCOUNTS), {
    uid: 33,
    gid: 998,
    canSetIds: undefined,
    user: "www-data",
    group: "docker",
  });
});

Deno.test("user and group values are names or ids, in a canonical form", () => {
  assert.equal(accountRef("www-data"), "www-data");
  assert.equal(accountRef("_svc.1"), "_svc.1");
  assert.equal(accountRef("machine$"), "machine$");
  assert.equal(accountRef(33), "33");
  assert.equal(accountRef("0033"), "33");
  for (const bad of ["", "a b", "a:b", "-x", 1.5, -1, 4294967295, "4294967295", true, null]) {
    assert.equal(accountRef(bad), undefined, `${JSON.stringify(bad)}`);
  }
});

Deno.test("reading the files reports which one could not be read", async () => {
  const read = (path: string) =>
    path === "/etc/group"
      ? Promise.reject(new Deno.errors.PermissionDenied("Permission denied (os error 13)"))
      : Promise.resolve(PASSWD);
  await assert.rejects(
    readAccounts(read),
    (error: Error) =>
      !(error instanceof Deno.errors.PermissionDenied) &&
      error.message === "cannot read /etc/group: Permission denied (os error 13)",
  );
  await assert.rejects(
    readServerIdentity(() => Promise.resolve("Name:\tx\n")),
    /cannot tell which user the server runs as/,
  );
});

Deno.test("the real files of this machine parse, and this process's ids are found", async () => {
  const accounts = await readAccounts();
  assert.ok(accounts.users.some((u) => u.uid === 0), "root is in /etc/passwd");
  const self = await readServerIdentity();
  assert.ok(Number.isInteger(self.uid) && Number.isInteger(self.gid));
});
