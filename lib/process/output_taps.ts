/**
 * What watches a child's output besides its sink: the in-memory tails of stdout and stderr and
 * the bus of live followers, kept across the child's runs.
 *
 * Owns: the shape of the taps and a fresh set for a new child. Does not own: feeding them
 * (see `child_outputs.ts`), the tail ring (see `byte_tail.ts`) or followers (see `log_bus.ts`).
 *
 * @module
 */
import { ByteTail } from "./byte_tail.ts";
import { LogBus } from "./log_bus.ts";

/** Where a run's lines go besides their sink: the child's tails and followers. */
export interface OutputTaps {
  readonly stdout: ByteTail;
  readonly stderr: ByteTail;
  readonly bus: LogBus;
  /**
   * For a stream that goes to a file: the file's size when its last chunk was published, so a
   * follower can be answered from the file up to exactly where its events begin.
   */
  readonly published: { stdout: number | undefined; stderr: number | undefined };
}

/** Taps for a child that has not run yet. */
export function newTaps(): OutputTaps {
  return {
    stdout: new ByteTail(),
    stderr: new ByteTail(),
    bus: new LogBus(),
    published: { stdout: undefined, stderr: undefined },
  };
}
