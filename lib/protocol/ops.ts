/**
 * The operations a server runs, in one list: the protocol, the reserved child names and the
 * permission lists of server.yml all derive from it.
 *
 * @module
 */

/** Operations of protocol v2. */
export const OPS = [
  "start",
  "stop",
  "restart",
  "trystart",
  "check",
  "info",
  "kill",
  "log",
  "signal",
  "update",
  "events",
] as const;

/** One of {@link OPS}. */
export type Op = typeof OPS[number];

/** Operations that need a child name. */
export const OPS_NEEDING_CHILD: readonly Op[] = [
  "start",
  "stop",
  "restart",
  "trystart",
  "log",
  "signal",
];

/** Operations that take `all` for every child. */
export const OPS_TAKING_ALL: readonly Op[] = ["start", "stop", "restart", "signal"];
