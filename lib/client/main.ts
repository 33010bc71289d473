/**
 * The client's run, from its arguments to its exit code: parses them, asks the servers, prints
 * what they said; 0 when every host succeeded, 1 when any failed, 2 on a usage error. It alone
 * looks at the terminal and the environment to decide on colour, and passes the answer down.
 *
 * Owns: the order of those steps and `log --follow` / `events --follow`'s printing loop. Does
 * not own: exiting (`cli.ts`) or how the code is loaded (`main_client.ts` runs the bundle built
 * from `cli.ts`, see docs/architecture.md).
 *
 * @module
 */
import { errorMessage, UsageError } from "../errors.ts";
import { parseClientArgs, requestArgs } from "./args.ts";
import type { ClientCommand } from "./args.ts";
import type { SigningKey } from "../auth/signed_request.ts";
import { colourWanted } from "./colour.ts";
import { childNamesOf, completionScript } from "./completions.ts";
import { fanOut, followAll } from "./fanout.ts";
import type { Followed } from "./fanout.ts";
import { helpText } from "./help.ts";
import { keyFileHint, withHint } from "./hints.ts";
import { printLine } from "./output.ts";
import { changeLine, errorLine, logLines, renderResults } from "./render.ts";
import type { ChildEventData } from "../protocol/payloads.ts";
import { checkSshCommand } from "./transport.ts";
import { VERSION } from "../version.ts";

/** Whether to colour what goes to `stream`: a terminal, no NO_COLOR, no --json. */
function colourFor(stream: { isTerminal(): boolean }, json: boolean): boolean {
  return colourWanted({
    terminal: stream.isTerminal(),
    noColor: Deno.env.get("NO_COLOR"),
    term: Deno.env.get("TERM"),
    json,
  });
}

const USAGE_POINTER = `Run "supervisor-ts-client --help" for usage.`;

/** Runs the client with `args` (the words after the program); resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let command: ClientCommand;
  try {
    command = parseClientArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const colour = colourFor(Deno.stderr, args.includes("--json"));
    console.error(`${errorLine(error.message, colour)}\n\n${USAGE_POINTER}`);
    return error.exitCode;
  }
  if (command.kind === "help") {
    console.log(helpText());
    return 0;
  }
  if (command.kind === "version") {
    console.log(`supervisor-ts-client ${VERSION}`);
    return 0;
  }
  if (command.kind === "completions") {
    console.log(completionScript(command.shell).trimEnd());
    return 0;
  }
  const json = command.kind === "op" && command.json;
  const colourOut = colourFor(Deno.stdout, json);
  const colourErr = colourFor(Deno.stderr, json);
  const quiet = command.kind === "complete-children";
  const badSsh = command.hosts.some((h) => h.ssh) ? checkSshCommand() : undefined;
  if (badSsh) {
    if (quiet) return 0;
    console.error(`${errorLine(badSsh, colourErr)}\n\n${USAGE_POINTER}`);
    return 2;
  }
  let signer: SigningKey | undefined;
  if (command.keyPath !== undefined) {
    try {
      const { loadSigningKey } = await import("../auth/signed_request.ts");
      signer = loadSigningKey(command.keyPath);
    } catch (error) {
      if (quiet) return 0;
      console.error(errorLine(withHint(errorMessage(error), keyFileHint(error)), colourErr));
      return 1;
    }
  }
  if (command.kind === "complete-children") {
    // For a shell's TAB: the names, or nothing and success when no server answers.
    const results = await fanOut(command.hosts, "check", undefined, {
      timeoutMs: command.timeoutMs,
      parallel: command.parallel,
      signer,
    });
    const names = childNamesOf(results);
    if (names.length > 0) printLine(names.join("\n"));
    return 0;
  }
  const options = {
    timeoutMs: command.timeoutMs,
    parallel: command.parallel,
    signer,
    args: requestArgs(command),
    rolling: command.rolling,
  };
  if ((command.op === "log" || command.op === "events") && command.log.follow) {
    return await follow(
      { op: command.op, json: command.json, hosts: command.hosts.map((h) => h.label) },
      await followAll(command.hosts, command.op, command.child, options),
      colourErr,
    );
  }
  const results = await fanOut(command.hosts, command.op, command.child, options);
  if (command.op === "log" && !command.json && results.length === 1 && results[0]!.ok) {
    // One host: just the lines, like tail, so they can be piped.
    for (const line of logLines(results[0]!)) printLine(line);
    return 0;
  }
  if (command.json) {
    printLine(JSON.stringify(results, null, 2));
  } else {
    // Only the last block's line end goes: a supervisor-rs reply keeps its trailing space.
    const text = renderResults(command.op, command.child, results, colourOut);
    printLine(text.replace(/\n+$/, ""));
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

/**
 * `log --follow`: the lines each host has, then new lines as they come, prefixed with the host
 * when there are several, until Ctrl-C (exit 0) or every server ends the stream. `events
 * --follow`: the same with changes of state, one line each (one JSON object a line with --json,
 * with its host).
 */
async function follow(
  how: { readonly op: "log" | "events"; readonly json: boolean; readonly hosts: readonly string[] },
  followed: readonly Followed[],
  colourErr: boolean,
): Promise<number> {
  const prefix = (host: string) => (how.hosts.length > 1 ? `${host} | ` : "");
  const change = (host: string, data: ChildEventData) =>
    how.json ? JSON.stringify({ host, ...data }) : prefix(host) + changeLine(data);
  for (const { result } of followed) {
    if (!result.ok) {
      console.error(renderResults(how.op, undefined, [result], colourErr).trimEnd());
    } else if (how.op === "log") {
      for (const line of logLines(result)) console.log(prefix(result.host) + line);
    }
  }
  const open = followed.filter((f) => f.exchange !== undefined);
  const stop = () => {
    for (const f of open) f.exchange!.close();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await Promise.all(open.map(async ({ result, exchange }) => {
    for await (const event of exchange!.events()) {
      if (event.event === "line") console.log(prefix(result.host) + event.data.line);
      else if (event.event === "change") console.log(change(result.host, event.data));
      else if (event.event === "dropped") {
        const what = how.op === "log" ? "lines" : "changes";
        console.error(
          `${
            prefix(result.host)
          }(${event.data.count} ${what} dropped: this client read too slowly)`,
        );
      }
    }
  }));
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  return followed.every((f) => f.result.ok) ? 0 : 1;
}
