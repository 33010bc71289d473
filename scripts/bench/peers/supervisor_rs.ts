/**
 * supervisor-rs, the project supervisor-ts grew from: detected only. Its binaries
 * (`supervisor-rs-server`, `supervisor-rs-client`) are looked for on PATH and reported; there
 * is no adapter to measure them yet, so a machine that has them gets a note, not a column.
 *
 * @module
 */
import { findOnPath } from "../procs.ts";

/** The binaries of supervisor-rs on PATH, by name; empty when none is there. */
export function detectSupervisorRs(): Map<string, string> {
  const found = new Map<string, string>();
  for (const name of ["supervisor-rs-server", "supervisor-rs-client"]) {
    const path = findOnPath(name);
    if (path) found.set(name, path);
  }
  return found;
}
