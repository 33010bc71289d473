/**
 * The physical floor of a control round trip: a trivial Deno TCP server on 127.0.0.1 that
 * answers every line it receives with one fixed JSON line, doing no other work.
 *
 * Usage: deno run --allow-net echo_server.ts [BYTES]
 *
 * BYTES (default: as small as it gets) pads the answer to that many bytes, newline included,
 * so a round trip with an answer as large as the real server's can be measured too. Prints
 * `listening on 127.0.0.1:PORT` once bound.
 *
 * @module
 */

const NEWLINE = 0x0a;

/** The answer line for a requested size. */
export function answerLine(bytes: number): Uint8Array {
  const small = '{"id":1,"ok":true,"message":"ok"}';
  if (bytes <= small.length + 1) return new TextEncoder().encode(small + "\n");
  const padding = "x".repeat(bytes - small.length - 1 - ',"pad":""'.length);
  return new TextEncoder().encode(`${small.slice(0, -1)},"pad":"${padding}"}\n`);
}

async function serve(conn: Deno.Conn, answer: Uint8Array): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const chunk = buffer.subarray(0, n);
      let lines = 0;
      for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, i + 1)) lines++;
      for (let i = 0; i < lines; i++) {
        let offset = 0;
        while (offset < answer.length) offset += await conn.write(answer.subarray(offset));
      }
    }
  } catch {
    // the peer went away
  } finally {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}

if (import.meta.main) {
  const answer = answerLine(Number(Deno.args[0] ?? 0));
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  console.log(`listening on 127.0.0.1:${listener.addr.port}`);
  for await (const conn of listener) void serve(conn, answer);
}
