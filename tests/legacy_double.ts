/**
 * A test double of a supervisor-rs 0.8.5 server, as it behaves on the wire
 * (shared/LEGACY.md, shared/legacy-replies): a TCP server on 127.0.0.1 and an ephemeral port
 * that does one read of at most 4196 bytes per connection, strips trailing NUL bytes from a
 * plain request, answers with the original's exact reply text in one write, adds no newline,
 * and closes.
 *
 * With `keys`, it runs "on encrypt mode": every reply starts with the original's banner, and a
 * request must be `NAME;` followed by an RSA PKCS#1 type-1 block of the request text, opened
 * with `publicDecrypt` and the public key of NAME. Unlike the original, it keeps a block's
 * trailing NUL bytes: the original refuses the one signed command in 256 whose block ends in
 * 0x00, and tests signed with a fresh key must not fail by that chance.
 *
 * It keeps the little state its replies need (which children run, with made-up pids) and
 * records every request it received, so tests can tell what a client sent it. It runs no
 * program.
 *
 * @module
 */
import { constants, publicDecrypt } from "node:crypto";
import type { KeyObject } from "node:crypto";

/** The first line of every reply in encrypt mode, spelling included. */
export const BANNER = "Running on encrypt mode, need to dencrypt your command.";

/** The original's single read. */
const READ_SIZE = 4196;

/** The separator that ends a check or info block. */
const FOOTER = "=======================";

/** A request the double received. */
export interface ReceivedRequest {
  /** The bytes as they came (a plain request's trailing NULs stripped). */
  readonly raw: Uint8Array;
  /** The key name of a signed request. */
  readonly key?: string;
  /** The request text (decrypted, when signed); undefined when it could not be read. */
  readonly text?: string;
}

/** How to start a double. */
export interface LegacyDoubleOptions {
  /** The children its load path holds (file stems), each with its command. */
  readonly children: Readonly<Record<string, string>>;
  /** Public keys by name: encrypt mode on. */
  readonly keys?: Readonly<Record<string, KeyObject>>;
  /** The folder shown as `<DIR>` in `check` and `info`. */
  readonly dir?: string;
}

/** A running double. */
export interface LegacyDouble {
  readonly port: number;
  /** `127.0.0.1:PORT`, as a client's `on` takes it. */
  readonly address: string;
  /** Every request received, in order. */
  readonly received: ReceivedRequest[];
  /** The children running now, by name, with their pids. */
  readonly running: ReadonlyMap<string, number>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Operation words as the original accepted them. */
const OPERATIONS: Readonly<Record<string, string>> = {
  restart: "restart",
  Restart: "restart",
  start: "start",
  Start: "start",
  stop: "stop",
  Stop: "stop",
  check: "check",
  Check: "check",
  kill: "kill",
  Kill: "kill",
  trystart: "trystart",
  TryStart: "trystart",
  Trystart: "trystart",
  info: "info",
  Info: "info",
  INFO: "info",
  InFo: "info",
};

/** Starts a double on an ephemeral loopback port. */
export function startLegacyDouble(options: LegacyDoubleOptions): LegacyDouble {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  const port = (listener.addr as Deno.NetAddr).port;
  const dir = options.dir ?? "/srv/legacy-double";
  const received: ReceivedRequest[] = [];
  const running = new Map<string, number>();
  let nextPid = 40_000;
  const encrypt = options.keys !== undefined;

  /** The reply to one request's text, with the state changed as the original would. */
  function answer(text: string): string {
    const words = text.split(" ");
    const op = OPERATIONS[words[0] ?? ""];
    const name = words[1];
    if (op === undefined) return "no legal operations input";
    if ((op === "start" || op === "restart" || op === "trystart") && name === undefined) {
      // The original panics here with its lock held; the double just refuses.
      return "no legal operations input";
    }
    if (op === "check") return checkBlock();
    if (op === "info") {
      return name === undefined ? infoBlock() : `==Server Info Below==\n${FOOTER}\n`;
    }
    if (op === "kill") {
      running.clear();
      return "I am dying. last error: \n";
    }
    const child = name!;
    if (op === "stop") {
      if (child === "all") {
        running.clear();
        return "stop all success";
      }
      if (!running.delete(child)) return `${child} not exsit, cannot stop`;
      return `stop ${child} success`;
    }
    if (child === "all" || child === "on") {
      return `"${child}" is reserved keywords, cannot run child named "${child}"`;
    }
    if (op === "restart") {
      if (!running.has(child)) return `${child} not exsit, cannot stop`;
      running.set(child, nextPid++);
      return `restart ${child} success`;
    }
    if (!(child in options.children)) return `Cannot found '${child}' file in load path`;
    if (op === "start") {
      if (running.has(child)) return `Cannot start this child ${child}, it already exsits`;
      running.set(child, nextPid++);
      return `start ${child} success`;
    }
    // trystart
    const wasRunning = running.has(child);
    running.set(child, nextPid++);
    return wasRunning
      ? `This child already start, stop it first. Stop ${child} success, start it again. Start ${child} success `
      : `Start ${child} success `;
  }

  function checkBlock(): string {
    let out = "==Check Results Below==\n";
    for (const [name, pid] of running) {
      out += [
        `child name: ${name}`,
        `processing id: ${pid}`,
        "config detail:",
        `  config location is: ${dir}/children`,
        `  command is: ${options.children[name]}`,
        "  stdout is: none",
        "  stderr is: none",
        `  child id is: ${pid}`,
        `  start time: "2026-12-01 08:00:00"`,
        "  repeat is: false",
        "  hooks are:",
        "    none",
        FOOTER,
      ].join("\n") + "\n";
    }
    return out;
  }

  function infoBlock(): string {
    return [
      "==Server Info Below==",
      "Server config path:",
      `${dir}/server.yml`,
      "Children are running (use 'check' command to see child detail):",
      `[${[...running.keys()].map((n) => `${n} `).join("")}]`,
      "Server configs:",
      `Load paths: ["${dir}/children"]`,
      `Encrypt mode: "${encrypt ? "on" : "off"}"`,
      FOOTER,
    ].join("\n") + "\n";
  }

  /** Reads a request as the original did, records it, and gives the reply. */
  function serve(raw: Uint8Array): string {
    if (!encrypt) {
      const text = new TextDecoder().decode(raw);
      received.push({ raw, text });
      return answer(text);
    }
    const semicolon = raw.indexOf(0x3b);
    if (semicolon < 0) {
      received.push({ raw });
      return `${BANNER}\nCannot parse encrypt data`;
    }
    const key = new TextDecoder().decode(raw.subarray(0, semicolon));
    const publicKey = options.keys![key];
    if (publicKey === undefined) {
      received.push({ raw, key });
      return `${BANNER}\nCannot found '${key}' file in keys path`;
    }
    let text: string;
    try {
      text = publicDecrypt(
        { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
        raw.subarray(semicolon + 1),
      ).toString("utf8");
    } catch {
      received.push({ raw, key });
      return `${BANNER}\nCannot parse encrypt data`;
    }
    received.push({ raw, key, text });
    return `${BANNER}\n${answer(text)}`;
  }

  async function handle(conn: Deno.Conn): Promise<void> {
    try {
      const buffer = new Uint8Array(READ_SIZE);
      const n = await conn.read(buffer) ?? 0;
      let end = n;
      while (!encrypt && end > 0 && buffer[end - 1] === 0) end--;
      const reply = new TextEncoder().encode(serve(buffer.slice(0, end)));
      let offset = 0;
      while (offset < reply.length) offset += await conn.write(reply.subarray(offset));
    } catch {
      // the client went away
    } finally {
      try {
        conn.close();
      } catch {
        // closed already
      }
    }
  }

  const connections = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      const served = handle(conn);
      connections.add(served);
      served.finally(() => connections.delete(served));
    }
  })().catch(() => {});

  async function close(): Promise<void> {
    try {
      listener.close();
    } catch {
      // closed already
    }
    await accepting;
    await Promise.all(connections);
  }

  return {
    port,
    address: `127.0.0.1:${port}`,
    received,
    running,
    close,
    [Symbol.asyncDispose]: close,
  };
}
