import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";
import { parseChildConfig } from "./child_config.ts";
import { findRsDifferences, rsArgv, rsChildName } from "./rs_differences.ts";
import type { RsDifference, RsFile, RsInput, RsLoadpath, RsTopic } from "./rs_differences.ts";
import { parseServerConfig } from "./server_config.ts";

const SERVER = "/etc/sv/server.yml";
const CHILDREN = "/etc/sv/children";
const CWD = "/home/op";

/** What supervisor-ts finds wrong in `text`, by the parser the server uses. */
function problemsOf(parse: () => unknown): ConfigProblem[] {
  try {
    parse();
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

function serverFile(text: string): RsFile {
  return { path: SERVER, text, problems: problemsOf(() => parseServerConfig(SERVER, text)) };
}

function childFile(fileName: string, text: string, dir = CHILDREN): RsFile {
  const path = `${dir}/${fileName}`;
  return { path, text, problems: problemsOf(() => parseChildConfig(path, text)) };
}

/** The differences of a server.yml with one loadpath (`children`) holding `children`. */
function differences(
  serverText: string,
  children: Record<string, string> = {},
  extra: Partial<RsInput> = {},
): RsDifference[] {
  const files = Object.entries(children).map(([name, text]) => childFile(name, text));
  const loadpaths: RsLoadpath[] = [{
    index: 0,
    dir: CHILDREN,
    fileNames: Object.keys(children),
  }];
  return findRsDifferences({
    server: serverFile(serverText),
    loadpaths,
    children: files,
    cwd: CWD,
    ...extra,
  });
}

function topics(found: readonly RsDifference[]): RsTopic[] {
  return found.map((d) => d.topic);
}

function only(found: readonly RsDifference[], topic: RsTopic): RsDifference {
  const matching = found.filter((d) => d.topic === topic);
  assert.equal(matching.length, 1, `one ${topic} in ${JSON.stringify(found, null, 2)}`);
  return matching[0]!;
}

/** A server.yml that differs in nothing by itself. */
const QUIET_SERVER = "loadpaths: [/etc/sv/children]\nlistener_addr: 127.0.0.1\n";

Deno.test("rsArgv splits as supervisor-rs did: the program, then single spaces", () => {
  assert.deepEqual(rsArgv("sleep 10"), ["sleep", "10"]);
  assert.deepEqual(rsArgv("sh -c 'echo out'"), ["sh", "-c", "'echo", "out'"]);
  assert.deepEqual(rsArgv("a  b"), ["a", "", "b"]);
  assert.deepEqual(rsArgv("/tmp/test"), ["/tmp/test"]);
});

Deno.test("rsChildName takes the file name up to its first dot, for .yml and .yaml", () => {
  assert.equal(rsChildName("web.yml"), "web");
  assert.equal(rsChildName("a.b.yml"), "a");
  assert.equal(rsChildName("a.b.yaml"), "a");
  assert.equal(rsChildName("notes.txt"), undefined);
  assert.equal(rsChildName(".yml"), undefined);
});

Deno.test("a server.yml and child files that mean the same to both give no difference", () => {
  const found = differences(QUIET_SERVER, {
    "web.yml": "command: /usr/bin/web --port 8080\noutput:\n  - stdout: /var/log/web.out\n",
  });
  assert.deepEqual(found, []);
});

Deno.test("relative loadpaths and pub_keys_path: which directory now, and the cwd's under supervisor-rs", () => {
  const found = differences(
    "loadpaths:\n  - children\n  - /abs\nencrypt: on\nlegacy: on\npub_keys_path: [keys]\nlistener_addr: 127.0.0.1\n",
    {},
    { loadpaths: [] },
  );
  // legacy is a key of supervisor-ts only: supervisor-rs ignored it.
  assert.deepEqual(topics(found), ["ignored-key", "relative-loadpath", "relative-pub-keys-path"]);
  const loadpath = only(found, "relative-loadpath");
  assert.equal(loadpath.file, SERVER);
  assert.deepEqual([loadpath.line, loadpath.col], [2, 5]);
  assert.equal(loadpath.refused, false);
  assert.match(
    loadpath.message,
    /"children" is relative: supervisor-ts reads it as \/etc\/sv\/children/,
  );
  assert.match(
    loadpath.message,
    /working directory \(\/home\/op\/children when started in \/home\/op\)/,
  );
  assert.match(
    loadpath.fix,
    /write an absolute path: \/etc\/sv\/children .* or \/home\/op\/children/,
  );
  assert.match(only(found, "relative-pub-keys-path").message, /\/etc\/sv\/keys/);
});

Deno.test("relative output paths resolve against the child file's directory now", () => {
  const found = differences(QUIET_SERVER, {
    "web.yml": "command: web\noutput:\n  - stdout: logs/web.out\n    mode: append\n",
  });
  const output = only(found, "relative-output");
  assert.equal(output.file, `${CHILDREN}/web.yml`);
  assert.deepEqual([output.line, output.col], [3, 13]);
  assert.match(output.message, /reads it as \/etc\/sv\/children\/logs\/web\.out/);
  assert.match(output.message, /\/home\/op\/logs\/web\.out when started in \/home\/op/);
  assert.match(output.fix, /absolute path/);
});

Deno.test("a dotted file name names another child; the fix renames the file", () => {
  const found = differences("loadpaths: [/etc/sv/children]\nmode: half\nstartup: [api]\n", {
    "api.prod.yml": "command: api\n",
  });
  const dotted = only(found, "dotted-name");
  assert.equal(dotted.file, `${CHILDREN}/api.prod.yml`);
  assert.match(dotted.message, /named its child "api".*supervisor-ts names it "api\.prod"/);
  assert.match(
    dotted.fix,
    /rename the file to api\.yml to keep the name "api" \(startup names "api"\)/,
  );
});

Deno.test("a dotted file name beside the file of its supervisor-rs name: keep one", () => {
  const found = differences(QUIET_SERVER, {
    "api.yml": "command: api\n",
    "api.old.yml": "command: api-old\n",
  });
  assert.match(only(found, "dotted-name").fix, /"api" is also .*api\.yml.*keep one/);
});

Deno.test("a name supervisor-rs accepted and supervisor-ts reserves is refused, with a new name", () => {
  const found = differences(QUIET_SERVER, { "log.yml": "command: tail\n", "kill.yml": "x: 1\n" });
  // "kill" was refused by supervisor-rs too: no difference for it.
  const refused = only(found, "name-refused");
  assert.equal(refused.file, SERVER);
  assert.equal(refused.refused, true);
  assert.match(refused.message, /ran it as the child "log"; supervisor-ts ignores the file/);
  assert.match(refused.fix, /log-child\.yml/);
});

Deno.test("one name in two loadpaths: supervisor-rs took the first silently", () => {
  const found = findRsDifferences({
    server: serverFile("loadpaths: [/a, /b]\nlistener_addr: 127.0.0.1\n"),
    loadpaths: [
      { index: 0, dir: "/a", fileNames: ["web.yml"] },
      { index: 1, dir: "/b", fileNames: ["web.yaml"] },
    ],
    children: [
      childFile("web.yml", "command: a\n", "/a"),
      childFile("web.yaml", "command: b\n", "/b"),
    ],
    cwd: CWD,
  });
  const same = only(found, "same-name");
  assert.deepEqual([same.file, same.line, same.refused], [SERVER, 1, true]);
  assert.match(same.message, /"\/a\/web\.yml" and "\/b\/web\.yaml".*used the first/);
  assert.match(same.fix, /all but one/);
});

Deno.test("keys supervisor-rs ignored: refused ones explain supervisor-ts's problem, known ones say they are used", () => {
  const found = differences(
    "loadpaths: [/etc/sv/children]\nlistener_addr: 127.0.0.1\nlistener_port: 4000\n",
    {
      "web.yml": "command: web\nautorestart: true\nrestart: always\n",
    },
  );
  const keys = found.filter((d) => d.topic === "ignored-key");
  assert.equal(keys.length, 3);
  const [port, unknown, restart] = keys;
  assert.deepEqual([port!.file, port!.line, port!.refused], [SERVER, 3, false]);
  assert.match(port!.message, /supervisor-ts uses it \(listener_port: 4000\)/);
  assert.deepEqual([unknown!.line, unknown!.col, unknown!.refused], [2, 1, true]);
  assert.match(unknown!.covers!.message, /unknown key "autorestart"/);
  assert.match(unknown!.fix, /remove "autorestart"/);
  assert.equal(restart!.refused, false);
  assert.equal(restart!.covers, undefined);
});

Deno.test("an unknown key in an output entry: supervisor-rs dropped the whole output list", () => {
  const found = differences(QUIET_SERVER, {
    "web.yml": "command: web\noutput:\n  - stdout: /var/log/w\n    rotate: daily\n",
  });
  const key = only(found, "ignored-key");
  assert.equal(key.refused, true);
  assert.match(key.message, /ignored the whole output list/);
});

Deno.test("repeat.seconds that supervisor-rs ignored: 0 is refused now, 1.5 runs a timer", () => {
  const zero = only(
    differences(QUIET_SERVER, { "r.yml": "command: r\nrepeat:\n  seconds: 0\n" }),
    "repeat-ignored",
  );
  assert.deepEqual([zero.line, zero.col, zero.refused], [3, 12, true]);
  assert.match(zero.covers!.message, /repeat\.seconds must be a number greater than 0/);
  assert.match(zero.fix, /remove repeat .* seconds: 1 or more/);
  const missing = only(
    differences(QUIET_SERVER, { "r.yml": "command: r\nrepeat:\n  action: restart\n" }),
    "repeat-ignored",
  );
  assert.equal(missing.refused, true);
  const half = only(
    differences(QUIET_SERVER, { "r.yml": "command: r\nrepeat:\n  seconds: 1.5\n" }),
    "repeat-ignored",
  );
  assert.equal(half.refused, false);
  assert.match(half.message, /runs its timer every 1\.5 s/);
  assert.deepEqual(
    differences(QUIET_SERVER, { "r.yml": "command: r\nrepeat:\n  seconds: 5\n" }),
    [],
  );
});

Deno.test("commands split on single spaces before, like sh now; the fix is the list form", () => {
  const found = differences(QUIET_SERVER, { "s.yml": "command: sh -c 'echo out'\n" });
  const split = only(found, "command-split");
  assert.equal(split.refused, false);
  assert.match(split.message, /\["sh","-c","'echo","out'"\].*\["sh","-c","echo out"\]/);
  assert.match(split.fix, /command: \["sh", "-c", "'echo", "out'"\]/);
  const quote = only(
    differences(QUIET_SERVER, { "q.yml": "command: echo don't\n" }),
    "command-split",
  );
  assert.equal(quote.refused, true);
  assert.match(quote.covers!.message, /cannot be split: unterminated single quote/);
  assert.match(quote.fix, /command: \["echo", "don't"\]/);
});

Deno.test("no listener_addr: 0.0.0.0 then, 127.0.0.1 now; ipv6 words read differently", () => {
  const addr = only(differences("loadpaths: []\n"), "listener-addr");
  assert.match(addr.message, /listened on 0\.0\.0\.0.*listens on 127\.0\.0\.1/);
  assert.match(addr.fix, /listener_addr: 0\.0\.0\.0/);
  assert.deepEqual(differences("loadpaths: []\nipv6: true\n"), []);
  const word = only(differences("loadpaths: []\nipv6: on\n"), "ipv6-word");
  assert.match(word.message, /0\.0\.0\.0 .*listens on ::/);
});

Deno.test("encrypt: words supervisor-rs took as off, and the supervisor-rs dialect under encrypt: on", () => {
  const on = differences("listener_addr: 127.0.0.1\nencrypt: on\npub_keys_path: [/k]\n");
  const legacy = only(on, "encrypt-legacy");
  assert.match(legacy.fix, /legacy: on/);
  const withLegacy = differences(
    "listener_addr: 127.0.0.1\nencrypt: on\nlegacy: on\npub_keys_path: [/k]\n",
  );
  assert.deepEqual(topics(withLegacy), ["ignored-key"]);
  assert.match(withLegacy[0]!.message, /supervisor-ts uses it \(legacy: "on"\)/);
  const word = only(
    differences("listener_addr: 127.0.0.1\nencrypt: true\npub_keys_path: [/k]\n"),
    "encrypt-word",
  );
  assert.match(word.message, /took unsigned commands; supervisor-ts reads it as on/);
  assert.match(word.fix, /encrypt: off/);
});

Deno.test("mode words other than full and half were quiet to supervisor-rs", () => {
  const mode = only(differences("listener_addr: 127.0.0.1\nmode: Full\n"), "mode-word");
  assert.equal(mode.refused, true);
  assert.match(mode.fix, /mode: quiet/);
});

Deno.test("several prehooks, and hooks and repeat timers at startup", () => {
  const found = differences(
    "loadpaths: [/etc/sv/children]\nlistener_addr: 127.0.0.1\nmode: full\n",
    {
      "app.yml": [
        "command: app",
        "repeat:",
        "  seconds: 60",
        "hooks:",
        "  - prehook: start db",
        "  - prehook: start cache",
        "",
      ].join("\n"),
      "db.yml": "command: db\n",
      "cache.yml": "command: cache\n",
    },
  );
  assert.deepEqual(topics(found).sort(), [
    "prehooks-at-startup",
    "repeat-at-startup",
    "several-hooks",
  ]);
  assert.match(only(found, "several-hooks").message, /the last one \("start cache"\)/);
  assert.match(only(found, "repeat-at-startup").message, /"restart app" runs every 60 s/);
});
