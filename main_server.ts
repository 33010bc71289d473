/**
 * supervisor-ts-server [CONFIG]
 * supervisor-ts-server --check [--from-supervisor-rs] [CONFIG]
 *
 * Entry point of the server: reads its arguments, wires the terminal and signals, boots the
 * server and exits with its status; or, with `--check`, prints the config check's report and
 * exits with its status. Everything else lives in `lib/`.
 *
 * @module
 */
import { DEFAULT_SERVER_CONFIG_PATH } from "./lib/config/server_config.ts";
import { describeError } from "./lib/errors.ts";
import { lineLogger } from "./lib/log.ts";
import { SerialSink } from "./lib/process/sinks.ts";
import { checkConfig, checkExitCode, renderCheck } from "./lib/server/config_check.ts";
import { Server } from "./lib/server/server.ts";
import { VERSION } from "./lib/version.ts";

const USAGE = `supervisor-ts-server ${VERSION}: supervises child programs, one YAML file each

Usage: supervisor-ts-server [CONFIG]
       supervisor-ts-server --check [--from-supervisor-rs] [CONFIG]

  CONFIG                path of server.yml (default: ${DEFAULT_SERVER_CONFIG_PATH})
  --check               check server.yml and every child file of its loadpaths, then exit:
                        starts nothing, binds no port, writes nothing. Prints each problem as
                        FILE:LINE:COL: MESSAGE; exit 0 when all is valid, 1 when any is not
  --from-supervisor-rs  with --check: also list where the files behave differently than
                        under supervisor-rs 0.8.5, each with its fix (see docs/migration.md)
  -h, --help            print this help
  -V, --version         print the version

Prints "listening on ADDR:PORT" once it accepts commands. SIGTERM or SIGINT stops every
child gracefully, then the server exits 0. See docs/configuration.md.`;

/** The flags besides help and version. */
const FLAGS = ["--check", "--from-supervisor-rs"];

const encoder = new TextEncoder();
const stdout = new SerialSink(Deno.stdout);
const stderr = new SerialSink(Deno.stderr);
const say = (line: string) => void stdout.write(encoder.encode(line + "\n"));
const complain = (line: string) => void stderr.write(encoder.encode(line + "\n"));

async function main(args: readonly string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help") || args[0] === "help") {
    say(USAGE);
    return 0;
  }
  if (args.includes("-V") || args.includes("--version")) {
    say(`supervisor-ts-server ${VERSION}`);
    return 0;
  }
  const unknown = args.find((a) => a.startsWith("-") && !FLAGS.includes(a));
  const paths = args.filter((a) => !a.startsWith("-"));
  if (unknown !== undefined || paths.length > 1) {
    complain(`error: unexpected argument "${unknown ?? paths[1]}"\n\n${USAGE}`);
    return 2;
  }
  const check = args.includes("--check");
  const fromSupervisorRs = args.includes("--from-supervisor-rs");
  if (fromSupervisorRs && !check) {
    complain(`error: --from-supervisor-rs goes with --check\n\n${USAGE}`);
    return 2;
  }
  const configPath = paths[0] ?? DEFAULT_SERVER_CONFIG_PATH;
  if (check) {
    const report = await checkConfig(configPath, { fromSupervisorRs });
    for (const line of renderCheck(report)) say(line);
    return checkExitCode(report);
  }
  const logger = lineLogger(complain, {
    now: Date.now,
    journalStream: Deno.env.get("JOURNAL_STREAM"),
  });
  let server: Server;
  try {
    server = await Server.boot(configPath, { logger, terminal: { stdout, stderr } });
  } catch (error) {
    complain(`error: cannot start the server: ${describeError(error)}`);
    return 1;
  }
  // Handlers go in before the first child is spawned: a SIGTERM during startup stops what was
  // started instead of killing the server by the default action and orphaning children.
  const stopOn = (signal: Deno.Signal) => {
    Deno.addSignalListener(signal, () => void server.shutdown(`received ${signal}`));
  };
  stopOn("SIGTERM");
  stopOn("SIGINT");
  Deno.addSignalListener("SIGHUP", async () => {
    try {
      const changes = await server.reload();
      logger.info(
        `SIGHUP: log files reopened; server config re-read: ${
          changes.length === 0 ? "no change" : changes.join("; ")
        }`,
      );
    } catch (error) {
      logger.error(
        `SIGHUP: server config is invalid (operations report it until it is fixed; children keep running): ${
          describeError(error)
        }`,
      );
    }
  });
  await server.startChildren();
  if (server.shuttingDown) {
    await server.serve();
    return 0;
  }
  say(`listening on ${server.address}`);
  if (server.localAddress !== undefined) say(`listening on ${server.localAddress}`);
  if (server.http !== undefined) say(`serving http on ${server.http}`);
  await server.serve();
  return 0;
}

const code = await main(Deno.args);
// Let the last lines reach the terminal before exiting.
await Promise.all([stdout.write(new Uint8Array(0)), stderr.write(new Uint8Array(0))]);
Deno.exit(code);
