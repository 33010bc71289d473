/**
 * `deno task bench`: the first-cut benchmark of supervisor-ts (SPEC §8). Prints a markdown table
 * of measurements next to their physical floor, and writes it to bench/RESULTS.md. Not
 * pass/fail: targets are printed with whether they were met.
 *
 * 1. Control latency: raw `check` round trips against a server with 50 running children,
 *    persistent and fresh connections, against a trivial echo server.
 * 2. Client wall time: the real client's `check` against an empty `deno run`.
 * 3. Start 500 children over 20 connections, RSS, and stopping them, against spawning and
 *    killing 500 `sleep 1000` directly.
 * 4. Crash → respawn latency with zero backoff, against the same child in a bash loop.
 * 5. Log throughput: 200 MB through capture to a file, against a shell redirect; peak RSS.
 *
 * Every process started carries a run marker in its environment; whatever carries it at the end
 * is killed, so nothing is left behind even after an error or Ctrl-C.
 *
 * @module
 */
import { join } from "node:path";
import { clientWallTime, findOnPath } from "./bench/client_wall.ts";
import { CONTROL, controlLatency } from "./bench/control.ts";
import { describeMachine } from "./bench/machine.ts";
import type { Machine } from "./bench/machine.ts";
import { cleanupAll, taggedProcesses } from "./bench/procs.ts";
import { ROOT } from "./bench/servers.ts";
import { logThroughput } from "./bench/log_throughput.ts";
import { respawnLatency } from "./bench/respawn.ts";
import { START_MANY, startMany } from "./bench/start_many.ts";
import { markdownTable } from "./bench/stats.ts";
import type { Row } from "./bench/stats.ts";

const PEERS = ["supervisor-rs-server", "supervisord", "pm2"];
const RESULTS_PATH = join(ROOT, "bench", "RESULTS.md");

function log(line: string): void {
  console.error(line);
}

let cleaning: Promise<string> | undefined;
let interrupted = false;

/** Stops everything this run started; says what the sweep found. Runs once. */
function cleanup(): Promise<string> {
  cleaning ??= (async () => {
    const swept = await cleanupAll();
    const left = taggedProcesses();
    const sleeps = swept.filter((p) => p.cmdline === "sleep 1000").length;
    const lines = [
      swept.length === 0
        ? "cleanup: every process of this run had exited; no `sleep 1000` of the bench remains"
        : `cleanup: killed ${swept.length} leftover processes (${sleeps} \`sleep 1000\`): ${
          swept.slice(0, 5).map((p) => `${p.pid} ${p.cmdline}`).join("; ")
        }`,
    ];
    if (left.length > 0) lines.push(`cleanup: ${left.length} processes of this run remain!`);
    return lines.join("\n");
  })();
  return cleaning;
}

function resultsMarkdown(machine: Machine, table: string, notes: readonly string[]): string {
  return [
    "# supervisor-ts benchmark results",
    "",
    `- Date: ${machine.date}`,
    `- Deno: ${machine.deno}`,
    `- CPU: ${machine.cpu} (nproc ${machine.nproc})`,
    `- ulimit -n: ${machine.fdLimit}`,
    "- Command: `deno task bench`",
    "",
    table,
    "",
    ...notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
}

async function run(tmp: string, machine: Machine): Promise<{ rows: Row[]; notes: string[] }> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const peers = PEERS.map((p) => [p, findOnPath(p)] as const).filter(([, path]) => path);
  for (const [name, path] of peers) {
    const note = `Peer \`${name}\` found at ${path}; side-by-side comparisons come later.`;
    log(note);
    notes.push(note);
  }
  if (peers.length === 0) notes.push(`No peer (${PEERS.join(", ")}) found on PATH.`);
  const fdsNeeded = 4 * START_MANY.children + 200;
  if (Number.isFinite(machine.fdLimit) && machine.fdLimit < fdsNeeded) {
    const note = `ulimit -n is ${machine.fdLimit}; starting ${START_MANY.children} children ` +
      `with piped output needs about ${fdsNeeded}: section 3 may fail.`;
    log(note);
    notes.push(note);
  }

  const control = await controlLatency(tmp, log);
  rows.push(...control.rows);
  notes.push(...control.notes);
  const wall = await clientWallTime(control.server.port, log);
  rows.push(...wall.rows);
  notes.push(...wall.notes);
  log("[1] stopping the 50-children server (SIGTERM)");
  const t0 = performance.now();
  await control.server.proc.stop();
  notes.push(
    `The ${CONTROL.children}-children server stopped on SIGTERM in ${
      (performance.now() - t0).toFixed(0)
    } ms.`,
  );

  const many = await startMany(tmp, log, control.echoFreshRssKiB);
  rows.push(...many.rows);
  notes.push(...many.notes);

  const respawn = await respawnLatency(tmp, log);
  rows.push(...respawn.rows);
  notes.push(...respawn.notes);

  const logs = await logThroughput(tmp, log);
  rows.push(...logs.rows);
  notes.push(...logs.notes);
  return { rows, notes };
}

async function main(): Promise<number> {
  const machine = await describeMachine();
  const tmp = await Deno.makeTempDir({ prefix: "supervisor-ts-bench-" });
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log("interrupted: cleaning up");
    void cleanup().then((line) => log(line)).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const started = performance.now();
  let code = 0;
  try {
    const { rows, notes } = await run(tmp, machine);
    notes.push(`Total benchmark time ${((performance.now() - started) / 1000).toFixed(1)} s.`);
    const table = markdownTable(rows);
    console.log(
      `\nsupervisor-ts benchmark — ${machine.deno}, ${machine.cpu}, nproc ${machine.nproc}\n`,
    );
    console.log(table);
    console.log("");
    for (const note of notes) console.log(`- ${note}`);
    await Deno.mkdir(join(ROOT, "bench"), { recursive: true });
    await Deno.writeTextFile(RESULTS_PATH, resultsMarkdown(machine, table, notes));
    log(`\nwritten to ${RESULTS_PATH}`);
  } catch (error) {
    // After Ctrl-C the servers are being stopped under the benchmark's feet: not a failure.
    if (!interrupted) {
      log(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    }
    code = 1;
  } finally {
    const line = await cleanup();
    if (!interrupted) log(line);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return code;
}

Deno.exit(await main());
