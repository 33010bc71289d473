/**
 * Nothing a client sends can crash or wedge the server: random and truncated frames in both
 * dialects, and a thousand clients at once.
 */
import assert from "node:assert/strict";
import { exchange, isAlive, startServer } from "./harness.ts";

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encoder = new TextEncoder();

/** Frames that look almost right, cut anywhere, or are noise. Never a kill or a stop. */
function frames(count: number, seed: number): Uint8Array[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const valid = [
    `{"v":2,"id":1,"op":"check"}\n`,
    `{"v":2,"id":"x","op":"info"}\n`,
    `{"v":2,"id":2,"op":"start","child":"ghost"}\n`,
    `{"v":2,"id":3,"op":"check","child":"sleeper"}\n`,
    `{"v":2,"signed":"{\\"v\\":2,\\"op\\":\\"check\\",\\"ts\\":1,\\"nonce\\":\\"abcdefgh\\"}","key":"k","alg":"ed25519","sig":"AAAA"}\n`,
    "check",
    "info on 127.0.0.1",
    "start ghost",
    "help",
  ];
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const kind = random();
    if (kind < 0.4) {
      const text = encoder.encode(pick(valid));
      out.push(text.slice(0, Math.floor(random() * (text.length + 1))));
    } else if (kind < 0.7) {
      const bytes = new Uint8Array(1 + Math.floor(random() * 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      out.push(bytes);
    } else if (kind < 0.9) {
      const text = encoder.encode(pick(valid));
      const bytes = text.slice();
      for (let j = 0; j < 3; j++) {
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      out.push(bytes);
    } else {
      out.push(encoder.encode("{" + '"a":'.repeat(Math.floor(random() * 2000)) + "\n"));
    }
  }
  return out;
}

Deno.test("2,000 random and truncated frames in both dialects leave the server answering check correctly", async () => {
  await using server = await startServer({
    serverYaml: "limits:\n  read_timeout: 0.5\n  max_request_bytes: 4096\n",
    children: { sleeper: "command: sleep 1000\n" },
  });
  await server.json("start", "sleeper");
  const { pid } = await server.child("sleeper");
  const all = frames(2000, 20261125);
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const frame = all[next++]!;
      await exchange(server.port, frame, { ms: 3000, halfClose: true });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const check = await server.request({ op: "check" });
  assert.equal(check.ok, true);
  const children = (check.data as { children: { name: string; pid: number | null }[] }).children;
  assert.deepEqual(children.map((c) => [c.name, c.pid]), [["sleeper", pid]]);
  assert.ok(isAlive(pid!), "the child was not touched");
  assert.equal(server.process.pid, server.pid);
  const info = await server.json("info");
  assert.equal(info.ok, true);
});

Deno.test("1,000 concurrent clients are all answered", async () => {
  await using server = await startServer({
    serverYaml: "limits:\n  max_connections: 1100\n",
    children: { a: "command: sleep 1000\n" },
  });
  const conns = await Promise.all(
    Array.from({ length: 1000 }, () => Deno.connect({ hostname: "127.0.0.1", port: server.port })),
  );
  // Every connection is open before any request is sent.
  const answers = await Promise.all(conns.map(async (conn, i) => {
    const request = encoder.encode(JSON.stringify({ v: 2, id: i, op: "check" }) + "\n");
    await conn.write(request);
    const buffer = new Uint8Array(64 * 1024);
    let text = "";
    while (!text.includes("\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    conn.close();
    return JSON.parse(text.split("\n")[0]!) as { id: number; ok: boolean };
  }));
  assert.equal(answers.length, 1000);
  assert.ok(answers.every((a, i) => a.ok && a.id === i));
});
