/**
 * What one start of a child runs: its config, with the files it names read at that moment.
 *
 * Owns: reading the child's `env_file`s, /etc/passwd and /etc/group (asynchronously, at each
 * start, so edits take effect at the next start), the child's environment in layers (the
 * server's, then HOME, USER, LOGNAME and SHELL of its `user`, then its env files in order,
 * then its `env`), its credentials, its umask, and refusing `user` and `group` at start when
 * the server is not root. Does not own: the meaning of those files (see `lib/config/users.ts`,
 * `lib/config/env_file.ts`) or running the program (see `spawner.ts`).
 *
 * @module
 */
import type { ChildConfig } from "../config/child_config.ts";
import { readEnvFiles } from "../config/env_file.ts";
import {
  canRunAsAnyone,
  namedIdentity,
  readAccounts,
  readServerIdentity,
  resolveRunAs,
  runAsRefusals,
} from "../config/users.ts";
import type { Accounts, ProcessIds } from "../config/users.ts";
import type { Credentials, SpawnSpec } from "./spawner.ts";

/** What a start reads besides the child's config; the real files by default. */
export interface SpecSources {
  readonly envFiles: (paths: readonly string[]) => Promise<Record<string, string>>;
  readonly accounts: () => Promise<Accounts>;
  readonly server: () => Promise<ProcessIds>;
}

/** The server's ids do not change while it runs: read once, when a child first needs them. */
let serverIdentity: Promise<ProcessIds> | undefined;

/** The real files: env files, /etc/passwd and /etc/group, /proc/self/status. */
export const systemSources: SpecSources = {
  envFiles: (paths) => readEnvFiles(paths),
  accounts: () => readAccounts(),
  server: () => {
    if (!serverIdentity) {
      serverIdentity = readServerIdentity();
      // A failed read is tried again at the next start.
      serverIdentity.catch(() => (serverIdentity = undefined));
    }
    return serverIdentity;
  },
};

/**
 * The spawn spec of one start of `config`. Nothing is read for a child without `env_file`,
 * `user` or `group`. Rejects, naming the file, the user or the group, when an env file is
 * missing or malformed, the user or group is unknown, or the server is not root and `user` or
 * `group` is not its own.
 */
export async function spawnSpecFor(
  config: ChildConfig,
  sources: SpecSources = systemSources,
): Promise<SpawnSpec> {
  const runAs = config.user !== undefined || config.group !== undefined;
  const [fromFiles, who] = await Promise.all([
    config.envFiles.length > 0 ? sources.envFiles(config.envFiles) : {},
    runAs ? credentialsFor(config, sources) : undefined,
  ]);
  const env = { ...who?.env, ...fromFiles, ...config.env };
  const spec: SpawnSpec = { argv: config.argv, cwd: config.cwd, env };
  return {
    ...spec,
    ...(who?.credentials ? { credentials: who.credentials } : {}),
    ...(config.umask !== undefined ? { umask: config.umask } : {}),
  };
}

/**
 * The credentials and login variables of `config`'s `user` and `group`. A server that is not
 * root (or is root without CAP_SETUID and CAP_SETGID) may name only itself: the child then runs as the server does (it could not change its
 * groups anyway), with the login variables of that user.
 */
async function credentialsFor(
  config: ChildConfig,
  sources: SpecSources,
): Promise<{ credentials: Credentials | undefined; env: Record<string, string> }> {
  const [accounts, server] = await Promise.all([sources.accounts(), sources.server()]);
  const refusal = runAsRefusals(namedIdentity(server, accounts), config.user, config.group)[0];
  if (refusal) throw new Error(refusal.message);
  const runAs = resolveRunAs(config.user, config.group, accounts);
  const { uid, gid, groups } = runAs;
  const credentials = canRunAsAnyone(server) ? { uid, gid, groups } : undefined;
  return { credentials, env: runAs.env };
}
