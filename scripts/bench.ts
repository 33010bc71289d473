/**
 * `deno task bench` (SPEC §8, issue 6 item 8, issue 15): the same workloads against
 * supervisor-ts, every peer found on PATH (supervisord, pm2; supervisor-rs is detected and
 * reported), and the physical floors, side by side as ratios. Prints one markdown table and
 * writes it to bench/RESULTS.md with the machine, the date, each peer's version and the
 * command. Not pass/fail, and it installs nothing: a peer that is not on PATH is reported as not
 * found.
 *
 * Issue 15's table comes first (rows `15.N`), each row with its floors and the issue's target:
 * server RSS with 500 children piped and writing to files; starting 500 until all run (against
 * Deno's own posix_spawn and C's, with a new session); crash → respawn with zero backoff
 * (against a shell loop and C); 200 MB of lines to a file, without and with rotation; the
 * client's `check` against an empty `deno run`; `check` p99 over a raw socket with 500 children
 * and with one; RSS after 1,000 concurrent clients and 5 s later. The C floors are built from
 * scripts/bench/floor_spawn.c when cc or gcc is on PATH, and skipped with a note otherwise.
 *
 * Workloads, each written once against the interface of scripts/bench/peers/peer.ts:
 * 1. control latency: status round trips over each system's API (one child; 50 children: p50,
 *    p99, one connection and a fresh one each) and its status CLI's wall time;
 * 2. start 500 `sleep 1000` until all are running, in rounds paired with the floors;
 * 3. RSS of the supervisor process with none and with 500 running, piped or writing to files;
 * 4. crash → respawn latency with zero delay, from timestamps the child writes;
 * 5. idle CPU of the supervisor over 60 s with 500 children (`--quick`: 10 s);
 * 6. log throughput: 200 MB of lines captured to a file, without and with rotation, against a
 *    shell redirect;
 * 7. 1,000 concurrent clients asking for status, and the memory they leave;
 * 8. the CPU cost of sampling CPU and memory of 500 children at the default period (ours only).
 *
 * Options: `--quick` (10 s idle windows, one fleet round), `--only=NAME,…` (measure only these peers besides
 * supervisor-ts), `--workloads=control,fleet,respawn,logs,sampling` (run only these; for
 * development). Only a full run (every workload, without `--quick`) writes bench/RESULTS.md.
 *
 * Every process started carries a run marker in its environment (peers' daemons and children
 * inherit it); at the end, and on an error or Ctrl-C, peers' supervisors are killed first, then
 * whatever still carries the marker, and the run checks that no `sleep 1000` of it remains.
 *
 * @module
 */
import { join } from "node:path";
import { buildCFloor } from "./bench/c_floor.ts";
import { controlLatency } from "./bench/control.ts";
import { logThroughput } from "./bench/log_throughput.ts";
import { describeMachine, loadAverage } from "./bench/machine.ts";
import type { Machine } from "./bench/machine.ts";
import type { Peer } from "./bench/peers/peer.ts";
import { pm2 } from "./bench/peers/pm2.ts";
import { detectSupervisorRs } from "./bench/peers/supervisor_rs.ts";
import { supervisorTs } from "./bench/peers/supervisor_ts.ts";
import { supervisord } from "./bench/peers/supervisord.ts";
import { cleanupAll, isBenchSleep, taggedProcesses } from "./bench/procs.ts";
import { respawnLatency } from "./bench/respawn.ts";
import { resourceSampling } from "./bench/sampling.ts";
import { ROOT } from "./bench/servers.ts";
import { FLEET, startMany } from "./bench/start_many.ts";
import { markdownTable } from "./bench/stats.ts";
import type { Row } from "./bench/stats.ts";
import { messageOf } from "./bench/workload.ts";
import type { Context } from "./bench/workload.ts";

/** Peers with an adapter, in column order after supervisor-ts. */
const PEERS: readonly Peer[] = [supervisord, pm2];
const RESULTS_PATH = join(ROOT, "bench", "RESULTS.md");

function log(line: string): void {
  console.error(line);
}

/** The workloads in the order they run, by the name `--workloads` takes. */
const WORKLOADS = {
  control: controlLatency,
  fleet: startMany,
  respawn: respawnLatency,
  logs: logThroughput,
  sampling: resourceSampling,
} as const;
type WorkloadName = keyof typeof WORKLOADS;

interface Options {
  readonly quick: boolean;
  readonly only: readonly string[] | undefined;
  readonly workloads: readonly WorkloadName[];
  readonly command: string;
}

const USAGE =
  "usage: deno task bench [--quick] [--only=supervisord,pm2] [--workloads=control,fleet,respawn,logs,sampling]";

function parseOptions(args: readonly string[]): Options {
  let quick = false;
  let only: string[] | undefined;
  let workloads = Object.keys(WORKLOADS) as WorkloadName[];
  for (const arg of args) {
    if (arg === "--quick") quick = true;
    else if (arg.startsWith("--only=")) {
      only = arg.slice("--only=".length).split(",").filter(Boolean);
    } else if (arg.startsWith("--workloads=")) {
      const asked = arg.slice("--workloads=".length).split(",").filter(Boolean);
      const unknown = asked.filter((w) => !(w in WORKLOADS));
      if (unknown.length > 0) throw new Error(`unknown workload ${unknown.join(", ")}; ${USAGE}`);
      workloads = workloads.filter((w) => asked.includes(w));
    } else throw new Error(`unknown argument ${arg}; ${USAGE}`);
  }
  return { quick, only, workloads, command: ["deno task bench", ...args].join(" ") };
}

let cleaning: Promise<string> | undefined;
let interrupted = false;

/** Stops everything this run started; says what the sweep found. Runs once. */
function cleanup(): Promise<string> {
  cleaning ??= (async () => {
    const swept = await cleanupAll();
    const left = taggedProcesses();
    const sleepsLeft = left.filter((p) => isBenchSleep(p.cmdline)).length;
    const sleeps = swept.filter((p) => isBenchSleep(p.cmdline)).length;
    const lines = [
      swept.length === 0
        ? "Cleanup: every process of this run had exited before the final sweep."
        : `Cleanup: the final sweep killed ${swept.length} leftover processes (${sleeps} \`sleep 1000\`): ${
          swept.slice(0, 5).map((p) => `${p.pid} ${p.cmdline}`).join("; ")
        }.`,
      left.length === 0
        ? "No process of this run remains: no `sleep 1000` of the bench is left."
        : `${left.length} processes of this run remain, ${sleepsLeft} of them \`sleep 1000\`!`,
    ];
    return lines.join(" ");
  })();
  return cleaning;
}

function resultsMarkdown(
  machine: Machine,
  options: Options,
  versions: readonly string[],
  load: { start: string; end: string },
  table: string,
  notes: readonly string[],
): string {
  return [
    "# supervisor-ts benchmark results",
    "",
    `- Date: ${machine.date}`,
    `- Command: \`${options.command}\``,
    `- CPU: ${machine.cpu} (nproc ${machine.nproc}); ulimit -n ${machine.fdLimit}`,
    `- Load average (1, 5, 15 min) at start: ${load.start}; at end: ${load.end}`,
    `- Deno: ${machine.deno}`,
    ...versions.map((v) => `- ${v}`),
    "",
    "Each cell is the value, then its ratio to the floor (supervisor-ts: to each floor) and, " +
    "for a peer, to supervisor-ts (`2.00× ours`: twice supervisor-ts's value). Lower is " +
    "better, except MB/s. Rows `15.N` are issue 15's table, with its targets.",
    "",
    table,
    "",
    ...notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
}

async function run(
  ctx: Context,
  machine: Machine,
  workloads: readonly WorkloadName[],
): Promise<{ rows: Row[]; notes: string[] }> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const fdsNeeded = 4 * FLEET.children + 1200;
  if (Number.isFinite(machine.fdLimit) && machine.fdLimit < fdsNeeded) {
    const note = `ulimit -n is ${machine.fdLimit}; ${FLEET.children} children with piped ` +
      `output and 1,000 concurrent clients need about ${fdsNeeded}: some workloads may fail.`;
    log(note);
    notes.push(note);
  }
  const took: string[] = [];
  for (const name of workloads) {
    if (interrupted) break;
    const t0 = performance.now();
    const result = await WORKLOADS[name](ctx);
    took.push(`${name} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    rows.push(...result.rows);
    notes.push(...result.notes);
  }
  notes.push(`Time per workload: ${took.join(", ")}.`);
  return { rows, notes };
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    log(messageOf(error));
    return 2;
  }
  const machine = await describeMachine();
  const loadStart = loadAverage();
  const tmp = await Deno.makeTempDir({ prefix: "supervisor-ts-bench-" });
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log("interrupted: cleaning up");
    void cleanup()
      .then((line) => log(line))
      .finally(() => Deno.remove(tmp, { recursive: true }).catch(() => {}))
      .finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const started = performance.now();
  let code = 0;
  try {
    const found: Peer[] = [];
    const detection: string[] = [];
    for (const peer of PEERS) {
      const path = peer.found();
      if (!path) detection.push(`${peer.name}: not found on PATH, not measured.`);
      else if (options.only && !options.only.includes(peer.name)) {
        detection.push(`${peer.name}: found at ${path}, left out by --only.`);
      } else {
        found.push(peer);
        detection.push(`${peer.name}: found at ${path}.`);
      }
    }
    const rs = detectSupervisorRs();
    detection.push(
      rs.size === 0
        ? "supervisor-rs: not found on PATH (supervisor-rs-server, supervisor-rs-client), not measured."
        : `supervisor-rs: found (${
          [...rs].map(([n, p]) => `${n} at ${p}`).join(", ")
        }), but this benchmark has no adapter for it yet: not measured.`,
    );
    for (const line of detection) log(`peer ${line}`);
    const systems = [supervisorTs, ...found];
    const versions: string[] = [];
    for (const peer of systems) versions.push(`${peer.name}: ${await peer.version()}`);

    const cFloor = await buildCFloor(tmp);
    log("path" in cFloor ? `C floor built: ${cFloor.path}` : cFloor.skipped);
    const ctx: Context = { tmp, log, systems, quick: options.quick, cFloor };
    const { rows, notes } = await run(ctx, machine, options.workloads);
    notes.unshift(...detection.map((d) => `Peer ${d}`), ...systems.flatMap((s) => s.notes));
    notes.push(`Total benchmark time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
    const cleaned = await cleanup();
    notes.push(cleaned);
    const table = markdownTable(rows, [...systems.map((s) => s.name)]);
    console.log(`\nsupervisor-ts benchmark — ${machine.cpu}, nproc ${machine.nproc}\n`);
    console.log(table);
    console.log("");
    for (const note of notes) console.log(`- ${note}`);
    const load = { start: loadStart, end: loadAverage() };
    if (options.workloads.length === Object.keys(WORKLOADS).length && !options.quick) {
      await Deno.mkdir(join(ROOT, "bench"), { recursive: true });
      await Deno.writeTextFile(
        RESULTS_PATH,
        resultsMarkdown(machine, options, versions, load, table, notes),
      );
      log(`\nwritten to ${RESULTS_PATH}`);
    } else {
      log(
        `\nnot written to ${RESULTS_PATH}: ${
          options.quick ? "--quick" : "only some workloads ran"
        }`,
      );
    }
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
