/**
 * The signals an operator may send a child with `signal NAME SIG`: by name, with or without
 * `SIG`, in any case (`HUP`, `sighup`, `SIGHUP`).
 *
 * @module
 */

/** Signals `signal` sends (those a program may want to catch, and the unstoppable ones). */
export const SENDABLE_SIGNALS: readonly Deno.Signal[] = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGABRT",
  "SIGKILL",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
  "SIGTERM",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGWINCH",
  "SIGPWR",
];

/** The signal `text` names, or undefined. */
export function signalNamed(text: string): Deno.Signal | undefined {
  const upper = text.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  return SENDABLE_SIGNALS.find((s) => s === name);
}
