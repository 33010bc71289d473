/**
 * Wire payloads for unit tests of the client: a child with the declared shape and plausible
 * values of a stopped child, to override field by field.
 *
 * @module
 */
import type { ChildData } from "../protocol/payloads.ts";

/** A child with the declared shape: `fields` over plausible values of a stopped child. */
export function childData(fields: Partial<ChildData> & { name: string }): ChildData {
  return {
    state: "STOPPED",
    since: "2026-01-01T00:00:00.000Z",
    pid: null,
    started_at: null,
    uptime_ms: null,
    restarts: 0,
    crashes: 0,
    last_exit: null,
    history: [],
    config_path: null,
    command: null,
    error: null,
    failures: 0,
    next_attempt_at: null,
    repeat_at: null,
    adopted: false,
    ready: null,
    ready_since: null,
    drift: null,
    config_error: null,
    resources: null,
    ...fields,
  };
}
