/**
 * Log throughput: a child writes 200 MB of 100-byte lines through capture to a file; the floor
 * is the same command with the shell redirecting straight to a file. Also the server's peak
 * RSS while it pumps.
 *
 * @module
 */
import { join } from "node:path";
import { LineConn } from "./lines.ts";
import { benchEnv, delay, rssKiB, startLogged } from "./procs.ts";
import { SERVER_ENTRY } from "./servers.ts";
import { mib } from "./stats.ts";
import type { Row } from "./stats.ts";

/** Bytes written, rounds (the best of each side counts), and the target ratio to the floor. */
export const LOG_THROUGHPUT = { bytes: 200_000_000, rounds: 3, targetRatio: 0.7 } as const;

const LINE = "x".repeat(99);
const WRITER = `yes ${LINE} | head -c ${LOG_THROUGHPUT.bytes}`;

function size(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** Measures MB/s through supervisor-ts and through a shell redirect. */
export async function logThroughput(
  tmp: string,
  log: (line: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const dir = join(tmp, "logs");
  await Deno.mkdir(join(dir, "children"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "server.yml"),
    "loadpaths: [children]\nlistener_addr: 127.0.0.1\nlistener_port: 0\n",
  );
  await Deno.writeTextFile(
    join(dir, "children", "writer.yml"),
    `command: [sh, -c, ${JSON.stringify(WRITER)}]\noutput:\n  - stdout: writer.log\n`,
  );
  log(
    `[5] log throughput: ${
      LOG_THROUGHPUT.bytes / 1e6
    } MB through capture, and through a shell redirect`,
  );

  const floorPath = join(dir, "floor.log");
  const server = startLogged(
    "logs",
    [Deno.execPath(), "run", "-A", "--quiet", SERVER_ENTRY, join(dir, "server.yml")],
    tmp,
    dir,
  );
  const conn = await LineConn.open(await server.listeningPort());
  const out = join(dir, "children", "writer.log");
  const baseline = rssKiB(server.pid) ?? 0;
  let peak = baseline;
  let seconds = Infinity;
  let floorS = Infinity;
  try {
    for (let round = 1; round <= LOG_THROUGHPUT.rounds; round++) {
      const f0 = performance.now();
      await new Deno.Command("sh", { args: ["-c", `${WRITER} > ${floorPath}`], env: benchEnv() })
        .output();
      floorS = Math.min(floorS, (performance.now() - f0) / 1000);
      await Deno.remove(floorPath);

      const t0 = performance.now();
      await conn.ask({ id: round, op: "start", child: "writer" });
      const deadline = t0 + 300_000;
      while (size(out) < LOG_THROUGHPUT.bytes) {
        peak = Math.max(peak, rssKiB(server.pid) ?? 0);
        if (performance.now() > deadline) throw new Error("the writer did not finish in 300 s");
        await delay(5);
      }
      seconds = Math.min(seconds, (performance.now() - t0) / 1000);
      await delay(200); // let the child exit before the next round truncates its file
    }
  } finally {
    conn.close();
    await server.stop();
  }
  const mbps = LOG_THROUGHPUT.bytes / 1e6 / seconds;
  const floorMbps = LOG_THROUGHPUT.bytes / 1e6 / floorS;
  const share = mbps / floorMbps;
  return {
    rows: [
      {
        measurement: `log throughput, ${
          LOG_THROUGHPUT.bytes / 1e6
        } MB of 100-byte lines to a file (best of ${LOG_THROUGHPUT.rounds})`,
        value: `${mbps.toFixed(0)} MB/s`,
        floor: `${floorMbps.toFixed(0)} MB/s`,
        floorIs: "the same command, shell redirect to a file",
        ratio: `${share.toFixed(2)} of the floor`,
        target: `≥ ${LOG_THROUGHPUT.targetRatio} of the floor`,
        met: share >= LOG_THROUGHPUT.targetRatio ? "yes" : "**no**",
      },
      {
        measurement: "server RSS while pumping 200 MB (peak, growth over idle)",
        value: `${mib(peak)} (+${mib(peak - baseline)})`,
        floor: mib(baseline),
        floorIs: "the same server, idle",
        ratio: `${(peak / Math.max(1, baseline)).toFixed(2)}×`,
        target: "bounded",
        met: "–",
      },
    ],
    notes: [],
  };
}
