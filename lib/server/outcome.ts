/**
 * What a request comes to: a reply; a reply and then a stream of events (`log --follow`,
 * `events --follow`); or a
 * reply and then the server shuts down (`kill`). One union, handled in one place per dialect.
 *
 * @module
 */
import type { Feed } from "../process/feed.ts";
import type { LogLine } from "../process/log_bus.ts";
import type { Response } from "../protocol/messages.ts";
import type { ChildChange, OpResult } from "./results.ts";

/** What a stream carries after its response: a child's lines, or every change of state. */
export type Stream = Feed<LogLine> | Feed<ChildChange>;

/** One item of a {@link Stream}. */
export type StreamItem = LogLine | ChildChange | { readonly dropped: number };

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
    readonly follow: Stream;
    readonly result?: OpResult;
  }
  | { readonly kind: "shutdown"; readonly response: Response; readonly result?: OpResult };

/** A plain reply. */
export function reply(response: Response): Outcome {
  return { kind: "reply", response };
}
