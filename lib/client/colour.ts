/**
 * Colour in the client's text output: the escape codes, the colour of each child state, and the
 * rule for when colour is wanted at all.
 *
 * Owns: {@link colourWanted} (a terminal, no `NO_COLOR`, no `--json`, a terminal that is not
 * `dumb`), {@link paint} and {@link stateColour}. Does not own asking the terminal or the
 * environment — the entry point does that and passes the answer down as a flag, so everything
 * that renders stays a pure function of its arguments.
 *
 * @module
 */
import type { ExitData } from "../protocol/payloads.ts";

/** The colours the client uses. */
export type Colour = "red" | "green" | "yellow";

const CODES: Readonly<Record<Colour, number>> = { red: 31, green: 32, yellow: 33 };

/** What decides whether output is coloured; the entry point gathers these facts. */
export interface ColourFacts {
  /** The output stream is a terminal. */
  readonly terminal: boolean;
  /** `NO_COLOR` from the environment (https://no-color.org: any non-empty value turns colour off). */
  readonly noColor: string | undefined;
  /** `TERM` from the environment; `dumb` terminals get no escape codes. */
  readonly term?: string | undefined;
  /** The output is JSON for programs. */
  readonly json: boolean;
}

/** Whether to colour: only on a terminal, never with NO_COLOR set or for JSON. */
export function colourWanted(facts: ColourFacts): boolean {
  if (!facts.terminal || facts.json) return false;
  if (facts.noColor !== undefined && facts.noColor !== "") return false;
  return facts.term !== "dumb";
}

/** `text` in `colour` when `on`; unchanged otherwise. */
export function paint(text: string, colour: Colour | undefined, on: boolean): string {
  if (!on || colour === undefined || text === "") return text;
  return `\x1b[${CODES[colour]}m${text}\x1b[39m`;
}

/** How a run ended, as much of it as the colour depends on. */
type ExitFacts = Pick<ExitData, "code" | "signal" | "requested"> & { readonly expected?: boolean };

/** Whether a last exit is a failure: not asked for, and not one of the child's exit_codes. */
function failedExit(exit: ExitFacts | null): boolean {
  if (exit === null || exit.requested) return false;
  if (exit.expected !== undefined) return !exit.expected;
  return exit.signal !== null || exit.code !== 0;
}

/**
 * The colour of a child's state: RUNNING green; FATAL, and EXITED after a failure, red; the
 * states on the way somewhere (STARTING, BACKOFF, STOPPING) yellow; the rest plain.
 */
export function stateColour(state: string, lastExit: ExitFacts | null): Colour | undefined {
  switch (state) {
    case "RUNNING":
      return "green";
    case "FATAL":
      return "red";
    case "EXITED":
      return failedExit(lastExit) ? "red" : undefined;
    case "STARTING":
    case "BACKOFF":
    case "STOPPING":
      return "yellow";
    default:
      return undefined;
  }
}
