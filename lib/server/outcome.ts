/**
 * What a request comes to: a reply; a reply and then a stream of events (`log --follow`); or a
 * reply and then the server shuts down (`kill`). One union, handled in one place per dialect.
 *
 * @module
 */
import type { Follower } from "../process/log_bus.ts";
import type { Response } from "../protocol/messages.ts";
import type { OpResult } from "./results.ts";

/**
 * The outcome of one request. `result` is the operation's own answer when it succeeded;
 * `refused` marks a request that was not admitted (no or a bad signature, a bad frame).
 */
export type Outcome =
  | {
    readonly kind: "reply";
    readonly response: Response;
    readonly result?: OpResult;
    readonly refused?: boolean;
  }
  | {
    readonly kind: "stream";
    readonly response: Response;
    readonly follow: Follower;
    readonly result?: OpResult;
  }
  | { readonly kind: "shutdown"; readonly response: Response; readonly result?: OpResult };

/** A plain reply. */
export function reply(response: Response): Outcome {
  return { kind: "reply", response };
}
