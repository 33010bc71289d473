/**
 * The legacy dialect against the contract: supervisor-rs 0.8.5's replies, recorded byte for
 * byte request by request (`../shared/legacy-replies/`), replayed on a fresh supervisor-ts
 * server with the same configuration and compared byte for byte after the recordings'
 * placeholders (`<PID>`, `<TIME>`, `<DIR>`) are put in.
 *
 * Where the original crashed or misread a file, the expected reply is what it meant to answer,
 * and the test says why (see {@link MEANT}).
 */
import assert from "node:assert/strict";
import { constants, generateKeyPairSync, privateEncrypt } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchServer } from "./harness.ts";

/** The recordings, copied from ../shared/legacy-replies (README.md there says how they were made). */
const RECORDINGS = fileURLToPath(new URL("./fixtures/legacy-replies/", import.meta.url));

/** The children every scenario's folder held (README of the recordings). */
const CHILDREN: Record<string, string> = {
  web: "command: sleep 7001\n",
  rep: "command: sleep 7002\nrepeat: {action: restart, seconds: 300}\n",
  dep: "command: sleep 7003\n",
  hooked: "command: sleep 7004\nhooks: [{prehook: start dep}]\n",
  post: "command: sleep 7005\nhooks: [{posthook: start after}]\n",
  after: "command: sleep 7006\n",
  logger: [
    "command: sh -c 'echo out; echo err >&2; sleep 7007'",
    "output:",
    "  - stdout: logger.out",
    "    mode: create",
    "  - stderr: logger.err",
    "    mode: append",
    "",
  ].join("\n"),
};

const CHECK_BLOCK = (name: string, command: string, tail = "  hooks are:\n    none\n") =>
  `child name: ${name}\nprocessing id: <PID>\nconfig detail:\n  config location is: <DIR>/children\n  command is: ${command}\n  stdout is: none\n  stderr is: none\n  child id is: <PID>\n  start time: "<TIME>"\n  repeat is: false\n${tail}=======================\n`;

/**
 * Replies that differ on purpose: the recording, and what supervisor-ts answers instead.
 * - plain-prehook/02-03: `stop` of a child with a prehook and no posthook panicked the original
 *   while it held its lock (empty reply, every later request empty too).
 * - plain/22-23: the original split `sh -c '…'` on single spaces, so `logger` failed at once
 *   (after "start logger success"); supervisor-ts runs it, so check and info list it.
 */
const MEANT: Record<string, string> = {
  "plain-prehook/02_stop_hooked": "stop hooked success",
  "plain-prehook/03_check": `==Check Results Below==\n${CHECK_BLOCK("dep", "sleep 7003")}`,
  "plain/22_check": "==Check Results Below==\n" +
    CHECK_BLOCK("logger", "sh -c echo out; echo err >&2; sleep 7007").replace(
      "  stdout is: none\n  stderr is: none\n",
      "  stdout is: <DIR>/children/logger.out\n  stderr is: <DIR>/children/logger.err\n",
    ) + CHECK_BLOCK("web", "sleep 7001"),
  "plain/23_info":
    '==Server Info Below==\nServer config path:\n<DIR>/server.yml\nChildren are running (use \'check\' command to see child detail):\n[logger web ]\nServer configs:\nLoad paths: ["<DIR>/children"]\nEncrypt mode: "off"\n=======================\n',
};

const SCENARIOS = [
  "plain",
  "plain-prehook",
  "plain-posthook",
  "plain-repeat",
  "signed",
  "signed-refusals",
];

/** The requests of a scenario, in file-name order. */
function requestsOf(scenario: string): string[] {
  return [...Deno.readDirSync(join(RECORDINGS, scenario))]
    .filter((e) => e.name.endsWith(".request"))
    .map((e) => e.name.slice(0, -".request".length))
    .sort();
}

/** One raw request, no terminator, read to EOF. */
async function send(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let written = 0;
    while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the server
    }
  }
}

/** A reply with the recordings' placeholders in place of pids, times and the folder. */
function normalized(reply: string, dir: string): string {
  return reply
    .replaceAll(dir, "<DIR>")
    .replace(/^(processing id: | {2}child id is: )\d+$/gm, "$1<PID>")
    .replace(/^ {2}start time: "[^"]*"$/gm, '  start time: "<TIME>"');
}

/**
 * The original kept its children in a hash map: `check` lists them in no set order. Compared
 * as a set of blocks.
 */
function blocks(reply: string): string {
  const [head, ...rest] = reply.split(/(?<========================\n)/);
  if (!head?.startsWith("==Check Results Below==\n")) return reply;
  const first = head.slice("==Check Results Below==\n".length);
  return ["==Check Results Below==\n", ...[first, ...rest].filter((b) => b !== "").sort()].join(
    "|",
  );
}

for (const scenario of SCENARIOS) {
  Deno.test(`legacy replies: ${scenario}, byte for byte as supervisor-rs 0.8.5`, async () => {
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "supervisor-ts-rs-" }));
    await Deno.mkdir(join(dir, "children"));
    for (const [name, body] of Object.entries(CHILDREN)) {
      await Deno.writeTextFile(join(dir, "children", `${name}.yml`), body);
    }
    const signed = scenario.startsWith("signed");
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    if (signed) {
      await Deno.mkdir(join(dir, "keys"));
      await Deno.writeTextFile(
        join(dir, "keys", "ops.pem"),
        publicKey.export({ type: "spki", format: "pem" }) as string,
      );
    }
    await Deno.writeTextFile(
      join(dir, "server.yml"),
      [
        `loadpaths: [${dir}/children]`,
        "mode: quiet",
        "listener_addr: 127.0.0.1",
        "listener_port: 0",
        "state_file: server.state",
        // supervisor-ts refuses the original's signed commands unless told to accept them.
        ...(signed ? [`encrypt: on`, `pub_keys_path: [${dir}/keys]`, "legacy: on"] : []),
        "",
      ].join("\n"),
    );
    const server = await launchServer(dir);
    try {
      for (const request of requestsOf(scenario)) {
        const text = await Deno.readTextFile(join(RECORDINGS, scenario, `${request}.request`));
        const recorded = await Deno.readTextFile(join(RECORDINGS, scenario, `${request}.reply`));
        let bytes = new TextEncoder().encode(text);
        if (signed && !(scenario === "signed-refusals" && request.startsWith("00"))) {
          const key = scenario === "signed-refusals" ? "nokey" : "ops";
          const block = privateEncrypt(
            { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
            bytes,
          );
          bytes = new Uint8Array([...new TextEncoder().encode(`${key};`), ...block]);
        }
        const reply = normalized(new TextDecoder().decode(await send(server.port, bytes)), dir);
        const expected = MEANT[`${scenario}/${request}`] ?? recorded;
        assert.equal(
          blocks(reply),
          blocks(expected),
          `${scenario}/${request}: ${JSON.stringify(text)}\nrecorded: ${
            JSON.stringify(recorded)
          }\ngot:      ${JSON.stringify(reply)}`,
        );
      }
    } finally {
      await server[Symbol.asyncDispose]();
    }
  });
}
