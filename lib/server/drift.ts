/**
 * Config drift: how a child's config file now differs from the config its run started with —
 * `changed`, `removed`, or `invalid` (with the error) — for `check` to show and `update` to
 * apply.
 *
 * @module
 */
import type { ChildConfig } from "../config/child_config.ts";
import type { ConfigSnapshot } from "../config/store.ts";
import { SupervisorError } from "../errors.ts";
import type { Child } from "../process/child.ts";

/** How a child's config file stands against its run's config. */
export type Drift =
  | { readonly kind: "none" }
  | { readonly kind: "changed" }
  | { readonly kind: "removed" }
  | { readonly kind: "invalid"; readonly error: string };

/** The drift of `child`: `changed` only for a live child (the next start reads the file anyway). */
export async function driftOf(child: Child, snap: ConfigSnapshot): Promise<Drift> {
  const running = child.config;
  if (running === undefined) return { kind: "none" };
  let now: ChildConfig;
  try {
    now = await snap.child(child.name);
  } catch (error) {
    if (error instanceof SupervisorError && error.code === "NOT_FOUND") return { kind: "removed" };
    if (error instanceof SupervisorError && error.code === "CONFIG_INVALID") {
      return { kind: "invalid", error: error.message };
    }
    return { kind: "none" };
  }
  if (child.isLive && !sameConfig(running, now)) return { kind: "changed" };
  return { kind: "none" };
}

/** Whether two readings of a child's config describe the same run. */
export function sameConfig(a: ChildConfig, b: ChildConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
