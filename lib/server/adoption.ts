/**
 * What a server does at boot with the runs a killed predecessor left (read from the state
 * file): a run still alive (same pid, same start time, same boot) is adopted — shown as
 * RUNNING, its exit watched, stoppable by its group — unless its config says `adopt: off` or
 * is gone, and then it is stopped (stop signal to its group, SIGKILL after the stop timeout),
 * to be started afresh by the startup plan. Never two copies of a child.
 *
 * Owns: the decision per record and stopping orphans. Does not own: reading the file, or the
 * run itself once adopted (`lib/process/adopted_process.ts`, `child.ts`).
 *
 * @module
 */
import type { ConfigSnapshot } from "../config/store.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { AdoptionWatch } from "../process/adopted_process.ts";
import type { Clock } from "../process/clock.ts";
import { stillAlive } from "../process/proc_identity.ts";
import type { ProcessIdentity } from "../process/proc_identity.ts";
import { signalProcess, signalProcessGroup } from "../process/spawner.ts";
import type { ServerState } from "./state_file.ts";
import type { Supervisor } from "./supervisor.ts";

/** Stop timeout for an orphan whose config cannot be read. */
const ORPHAN_STOP_MS = 10_000;

/** How often a stopping orphan is looked at. */
const ORPHAN_POLL_MS = 50;

/** What adoption needs. */
export interface AdoptionParts {
  readonly supervisor: Supervisor;
  readonly snap: ConfigSnapshot;
  readonly watch: AdoptionWatch;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Adopts or stops every run of `state` that is still alive; returns the names adopted. */
export async function adoptRuns(state: ServerState, parts: AdoptionParts): Promise<string[]> {
  const { supervisor, snap, logger } = parts;
  const adopted: string[] = [];
  await Promise.all(state.children.map(async (record) => {
    const { name, identity } = record;
    if (identity.pid === Deno.pid || !(await stillAlive(identity))) return;
    const config = await snap.childOr(name, undefined);
    if (!config || !config.adopt) {
      const why = config ? "its config says adopt: off" : "its config cannot be read";
      logger.warn(
        `child "${name}" (pid ${identity.pid}) outlived the previous server; ${why}: stopping it`,
      );
      await stopOrphan(identity, {
        signal: config?.stopSignal ?? "SIGTERM",
        timeoutMs: config?.stopTimeoutMs ?? ORPHAN_STOP_MS,
        clock: parts.clock,
      });
      return;
    }
    try {
      await supervisor.adopt(name, { identity, startedAt: record.startedAt }, { snap });
      adopted.push(name);
      logger.info(
        `child "${name}" (pid ${identity.pid}) outlived the previous server: adopted (its output is not captured until it is restarted)`,
      );
    } catch (error) {
      logger.error(`cannot adopt child "${name}" (pid ${identity.pid}): ${describeError(error)}`);
    }
  }));
  return adopted.sort();
}

/** Stops a process this server did not start: its group, then SIGKILL after the timeout. */
export async function stopOrphan(
  identity: ProcessIdentity,
  how: { readonly signal: Deno.Signal; readonly timeoutMs: number; readonly clock: Clock },
): Promise<void> {
  const { pid } = identity;
  const signal = (sig: Deno.Signal) => signalProcessGroup(pid, sig) || signalProcess(pid, sig);
  signal(how.signal);
  const deadline = how.clock.now() + how.timeoutMs;
  while (await stillAlive(identity)) {
    if (how.clock.now() >= deadline) {
      signal("SIGKILL");
      break;
    }
    await how.clock.sleep(ORPHAN_POLL_MS);
  }
  // What else was in its group follows it.
  signalProcessGroup(pid, "SIGKILL");
}
