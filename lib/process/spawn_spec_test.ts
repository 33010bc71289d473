import assert from "node:assert/strict";
import { parseChildConfig } from "../config/child_config.ts";
import { parseGroup, parsePasswd } from "../config/users.ts";
import type { ProcessIds } from "../config/users.ts";
import { spawnSpecFor } from "./spawn_spec.ts";
import type { SpecSources } from "./spawn_spec.ts";

const ACCOUNTS = {
  users: parsePasswd(
    "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" +
      "alice:x:1000:1000::/home/alice:/bin/zsh\n",
  ),
  groups: parseGroup("root:x:0:\nnogroup:x:65534:\nalice:x:1000:\nstaff:x:50:nobody,alice\n"),
};

/** Sources in memory: env files by path, the accounts above, and the server's ids. */
function sources(
  server: ProcessIds,
  files: Record<string, Record<string, string>> = {},
): SpecSources & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    envFiles: (paths) => {
      reads.push(...paths);
      return Promise.resolve(Object.assign({}, ...paths.map((p) => files[p] ?? {})));
    },
    accounts: () => {
      reads.push("/etc/passwd");
      return Promise.resolve(ACCOUNTS);
    },
    server: () => Promise.resolve(server),
  };
}

const ROOT = { uid: 0, gid: 0 };
const config = (yaml: string) => parseChildConfig("/srv/children/web.yml", `command: run\n${yaml}`);

Deno.test("a child without user, group, env_file or umask reads nothing and runs as the server", async () => {
  const world = sources(ROOT);
  const spec = await spawnSpecFor(config("env: { A: 1 }\n"), world);
  assert.deepEqual(spec, { argv: ["run"], cwd: "/srv/children", env: { A: "1" } });
  assert.deepEqual(world.reads, []);
});

Deno.test("a user's login variables come first, then env files in order, then env", async () => {
  const world = sources(ROOT, {
    "/srv/children/a.env": { HOME: "/srv/home", A: "a", B: "a" },
    "/srv/b.env": { B: "b", C: "b" },
  });
  const spec = await spawnSpecFor(
    config("user: nobody\nenv_file: [a.env, ../b.env]\nenv: { C: env, USER: web }\numask: 027\n"),
    world,
  );
  assert.deepEqual(spec.env, {
    HOME: "/srv/home",
    USER: "web",
    LOGNAME: "nobody",
    SHELL: "/usr/sbin/nologin",
    A: "a",
    B: "b",
    C: "env",
  });
  assert.deepEqual(spec.credentials, { uid: 65534, gid: 65534, groups: [65534, 50] });
  assert.equal(spec.umask, 0o027);
  assert.deepEqual(world.reads, ["/srv/children/a.env", "/srv/b.env", "/etc/passwd"]);
});

Deno.test("a server that is not root refuses another user at start, with the config check's words", async () => {
  await assert.rejects(
    spawnSpecFor(config("user: nobody\n"), sources({ uid: 1000, gid: 1000 })),
    (error: Error) =>
      error.message ===
        'user "nobody": the server runs as uid 1000, not root: it cannot start children as another user',
  );
  await assert.rejects(
    spawnSpecFor(config("group: staff\n"), sources({ uid: 1000, gid: 1000 })),
    /group "staff": the server runs as uid 1000, not root: it cannot start children in another group/,
  );
});

Deno.test("a server that is not root may name itself: no switch, but the login variables", async () => {
  const spec = await spawnSpecFor(
    config("user: alice\ngroup: alice\n"),
    sources({ uid: 1000, gid: 1000 }),
  );
  assert.equal(spec.credentials, undefined);
  assert.deepEqual(spec.env, {
    HOME: "/home/alice",
    USER: "alice",
    LOGNAME: "alice",
    SHELL: "/bin/zsh",
  });
});

Deno.test("an unknown user fails the start naming it", async () => {
  await assert.rejects(
    spawnSpecFor(config("user: ghost\n"), sources(ROOT)),
    /^UnknownAccountError: user "ghost" was not found in \/etc\/passwd$/,
  );
});

Deno.test("root without CAP_SETUID and CAP_SETGID switches no one: itself runs as is, others are refused", async () => {
  const bounded = { uid: 0, gid: 0, canSetIds: false };
  const self = await spawnSpecFor(config("user: root\n"), sources(bounded));
  assert.equal(self.credentials, undefined);
  assert.equal(self.env.HOME, "/root");
  await assert.rejects(
    spawnSpecFor(config("user: nobody\n"), sources(bounded)),
    /user "nobody": the server runs as root without CAP_SETUID and CAP_SETGID/,
  );
});
