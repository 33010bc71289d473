/**
 * How long a child's run has been up when a status is shown: worked out from when the run
 * started at the time it is shown, so a status made once can be shown again later.
 *
 * On its own so that what shows a status (the protocol's encoders, which the client loads)
 * does not load the process layer.
 *
 * @module
 */

/** The uptime a status shows at time `at`: since its run started; null without a run. */
export function uptimeAt(status: { readonly startedAt: number | null }, at: number): number | null {
  return status.startedAt === null ? null : at - status.startedAt;
}
