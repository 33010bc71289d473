/**
 * supervisor-ts-client <op> [child] [on HOST]... [--json] [--timeout S]
 *
 * Entry point of the client: parses arguments, asks the servers, prints what they said and
 * exits 0 when every host succeeded, 1 when any failed, 2 on a usage error.
 *
 * @module
 */
import { DEFAULT_TIMEOUT_S, parseClientArgs, UsageError } from "./lib/client/args.ts";
import type { SigningKey } from "./lib/auth/signed_request.ts";
import { DEFAULT_PARALLEL, fanOut, followAll } from "./lib/client/fanout.ts";
import type { Followed } from "./lib/client/fanout.ts";
import { logLines, renderResults } from "./lib/client/render.ts";
import { checkSshCommand } from "./lib/client/transport.ts";
import { VERSION } from "./lib/version.ts";

const HELP = `supervisor-ts-client ${VERSION}: drives supervisor-ts servers

Usage: supervisor-ts-client <op> [child] [on HOST]... [with KEY.pem] [--json] [--timeout S]

Operations:
  start NAME       start a child that is not running
  stop NAME|all    stop a running child (its whole process group), or every child
  restart NAME     stop a running child and start it again
  trystart NAME    start a child, restarting it if it runs (for deploy scripts)
  check [NAME]     list every child with its state, or show one in detail
  info             show the server's version, pid, config, address
  kill             stop every child gracefully, then the server
  log NAME         the last lines a child wrote: --stderr for stderr, --lines N (default 20),
                   --follow (-f) to keep printing new lines until Ctrl-C

Hosts (default 127.0.0.1:33889; several are asked in parallel):
  on 127.0.0.1   on localhost:4000   on ::1   on [::1]:4000   on "h1, h2"
  on ssh://user@host[:SSHPORT][/PORT]   through the system's ssh (-W 127.0.0.1:PORT);
                   ${"$"}SUPERVISOR_TS_SSH replaces the ssh command, e.g. "ssh -i key"

Signing (servers with encrypt: on):
  with KEY.pem     sign with this private key (Ed25519 or RSA PEM); the key's name is the
                   file stem, and the server checks it against pub_keys_path/NAME.pem

Options:
  --json           print one JSON array, one object per host
  --timeout S      seconds to wait for each host (default ${DEFAULT_TIMEOUT_S})
  --parallel N     hosts asked at once, at most (default ${DEFAULT_PARALLEL})
  -h, --help       print this help;  -V, --version  print the version

Exit status: 0 every host succeeded, 1 any host failed, 2 usage error.`;

async function main(args: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseClientArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\n\nRun "supervisor-ts-client --help" for usage.`);
    return error.exitCode;
  }
  if (command.kind === "help") {
    console.log(HELP);
    return 0;
  }
  if (command.kind === "version") {
    console.log(`supervisor-ts-client ${VERSION}`);
    return 0;
  }
  const badSsh = command.hosts.some((h) => h.ssh) ? checkSshCommand() : undefined;
  if (badSsh) {
    console.error(`error: ${badSsh}\n\nRun "supervisor-ts-client --help" for usage.`);
    return 2;
  }
  let signer: SigningKey | undefined;
  if (command.keyPath !== undefined) {
    try {
      const { loadSigningKey } = await import("./lib/auth/signed_request.ts");
      signer = loadSigningKey(command.keyPath);
    } catch (error) {
      console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
  }
  const options = {
    timeoutMs: command.timeoutMs,
    parallel: command.parallel,
    signer,
    args: command.op === "log" ? { ...command.log } : undefined,
  };
  if (command.op === "log" && command.log.follow) {
    return await follow(
      command.hosts.map((h) => h.label),
      await followAll(command.hosts, command.child!, options),
    );
  }
  const results = await fanOut(command.hosts, command.op, command.child, options);
  if (command.op === "log" && !command.json && results.length === 1 && results[0]!.ok) {
    // One host: just the lines, like tail, so they can be piped.
    for (const line of logLines(results[0]!)) console.log(line);
    return 0;
  }
  if (command.json) console.log(JSON.stringify(results, null, 2));
  else console.log(renderResults(command.op, command.child, results).trimEnd());
  return results.every((r) => r.ok) ? 0 : 1;
}

/**
 * `log --follow`: the lines each host has, then new lines as they come, prefixed with the host
 * when there are several, until Ctrl-C (exit 0) or every server ends the stream.
 */
async function follow(hosts: readonly string[], followed: readonly Followed[]): Promise<number> {
  const prefix = (host: string) => (hosts.length > 1 ? `${host} | ` : "");
  for (const { result } of followed) {
    if (!result.ok) console.error(renderResults("log", undefined, [result]).trimEnd());
    else for (const line of logLines(result)) console.log(prefix(result.host) + line);
  }
  const open = followed.filter((f) => f.exchange !== undefined);
  const stop = () => {
    for (const f of open) f.exchange!.close();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await Promise.all(open.map(async ({ result, exchange }) => {
    for await (const event of exchange!.events()) {
      const data = event.data as Record<string, unknown> | undefined;
      if (event.event === "line") console.log(prefix(result.host) + String(data?.line ?? ""));
      else if (event.event === "dropped") {
        console.error(
          `${prefix(result.host)}(${data?.count} lines dropped: this client read too slowly)`,
        );
      }
    }
  }));
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  return followed.every((f) => f.result.ok) ? 0 : 1;
}

Deno.exit(await main(Deno.args));
