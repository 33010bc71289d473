/**
 * The system's users and groups as /etc/passwd and /etc/group list them, and what running a
 * child as one of them means: a uid, a primary gid, the supplementary groups a login would get,
 * and the login variables HOME, USER, LOGNAME and SHELL.
 *
 * Owns: the form of a child's `user` and `group` values, parsing /etc/passwd, /etc/group and
 * /proc/self/status (pure functions on their text), reading them without blocking, resolving
 * `user` and `group` into numbers, and the rule that a server not running as root may start
 * children only as itself. Does not own: switching to that user (see
 * `lib/process/spawner.ts`, which chains util-linux `setpriv`). Only the two files are read:
 * users known only to LDAP, sssd or another NSS source are not found.
 *
 * @module
 */
import { UnknownAccountError } from "../errors.ts";

/** One line of /etc/passwd. */
export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** One line of /etc/group. */
export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  /** User names listed as members (the fourth field). */
  readonly members: readonly string[];
}

/** The contents of /etc/passwd and /etc/group. */
export interface Accounts {
  readonly users: readonly Account[];
  readonly groups: readonly GroupEntry[];
}

/** The effective user and group ids of a process. */
export interface ProcessIds {
  readonly uid: number;
  readonly gid: number;
  /**
   * Whether it holds CAP_SETUID and CAP_SETGID (root does, unless a bounding set such as
   * systemd's `CapabilityBoundingSet=` took them away); undefined when unknown.
   */
  readonly canSetIds?: boolean | undefined;
}

/** The server's identity, with its user and group names when they are known. */
export interface ServerIdentity extends ProcessIds {
  readonly user?: string | undefined;
  readonly group?: string | undefined;
}

/** Who a child runs as, in numbers, and the variables a login as that user would set. */
export interface RunAs {
  /** The uid; undefined when only `group` was given: the child keeps the server's user. */
  readonly uid: number | undefined;
  /** The primary (real and effective) gid. */
  readonly gid: number;
  /** Every group of the child, the primary one first, as `initgroups` would make them. */
  readonly groups: readonly number[];
  /** HOME, USER, LOGNAME and SHELL of the user; empty when only `group` was given. */
  readonly env: Readonly<Record<string, string>>;
}

/** The largest id a `user` or `group` may give: 2^32 - 2 (2^32 - 1 means "no id" to the kernel). */
export const MAX_ID = 4_294_967_294;

const NAME = /^[A-Za-z_][A-Za-z0-9._-]*\$?$/;
const NUMBER = /^[0-9]+$/;

/**
 * The canonical text of a `user` or `group` value: a name, or a whole number as digits; undefined
 * when `value` is neither (the caller reports it). Names are at most 256 characters.
 */
export function accountRef(value: unknown): string | undefined {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0 && value <= MAX_ID ? String(value) : undefined;
  }
  if (typeof value !== "string" || value.length === 0 || value.length > 256) return undefined;
  if (NUMBER.test(value)) {
    const id = Number(value);
    return id <= MAX_ID ? String(id) : undefined;
  }
  return NAME.test(value) ? value : undefined;
}

/** The entries of /etc/passwd; comments, NIS lines (`+`, `-`) and malformed lines are skipped. */
export function parsePasswd(text: string): Account[] {
  const users: Account[] = [];
  for (const fields of colonLines(text)) {
    if (fields.length < 7) continue;
    const [name, , uidText, gidText, , home, shell] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const uid = idOf(uidText);
    const gid = idOf(gidText);
    if (uid === undefined || gid === undefined || name === "") continue;
    users.push({ name, uid, gid, home, shell });
  }
  return users;
}

/** The entries of /etc/group; comments, NIS lines (`+`, `-`) and malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const groups: GroupEntry[] = [];
  for (const fields of colonLines(text)) {
    if (fields.length < 4) continue;
    const [name, , gidText, memberText] = fields as [string, string, string, string];
    const gid = idOf(gidText);
    if (gid === undefined || name === "") continue;
    const members = memberText.split(",").map((m) => m.trim()).filter((m) => m !== "");
    groups.push({ name, gid, members });
  }
  return groups;
}

/** CAP_SETGID (6) and CAP_SETUID (7), as bits of a capability set. */
const SET_IDS = (1n << 6n) | (1n << 7n);

/**
 * The effective uid and gid in the text of /proc/PID/status, and whether its effective
 * capabilities allow changing them; undefined when it has no Uid or Gid line.
 */
export function identityFromStatus(text: string): ProcessIds | undefined {
  // "Uid:\treal\teffective\tsaved\tfilesystem": what the process may do is the effective one.
  const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(text)?.[1]);
  const gid = Number(/^Gid:\s+\d+\s+(\d+)/m.exec(text)?.[1]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  const caps = /^CapEff:\s+([0-9a-fA-F]+)\s*$/m.exec(text)?.[1];
  const canSetIds = caps === undefined ? undefined : (BigInt(`0x${caps}`) & SET_IDS) === SET_IDS;
  return { uid, gid, canSetIds };
}

/** Whether a process with `identity` can start children as any user: root, with its powers. */
export function canRunAsAnyone(identity: ProcessIds): boolean {
  return identity.uid === 0 && identity.canSetIds !== false;
}

/** The server's identity with its names looked up in `accounts`. */
export function namedIdentity(identity: ProcessIds, accounts: Accounts): ServerIdentity {
  return {
    uid: identity.uid,
    gid: identity.gid,
    canSetIds: identity.canSetIds,
    user: accounts.users.find((u) => u.uid === identity.uid)?.name,
    group: accounts.groups.find((g) => g.gid === identity.gid)?.name,
  };
}

/** Why a server that is not root cannot run a child with `user` or `group`, by key. */
export interface RunAsRefusal {
  readonly key: "user" | "group";
  readonly message: string;
}

/**
 * What a server running as `server` must refuse of a child's `user` and `group` (canonical
 * values, see {@link accountRef}): nothing when it is root (with CAP_SETUID and CAP_SETGID);
 * otherwise every value that is not the server's own uid or gid (by number, or by name when
 * `server` carries its names). Pure: the config check and the start both call it.
 */
export function runAsRefusals(
  server: ServerIdentity,
  user: string | undefined,
  group: string | undefined,
): RunAsRefusal[] {
  if (canRunAsAnyone(server)) return [];
  const why = server.uid === 0
    ? "the server runs as root without CAP_SETUID and CAP_SETGID (a capability bounding set, " +
      "such as systemd's CapabilityBoundingSet=, removed them)"
    : `the server runs as uid ${server.uid}, not root`;
  const own = (value: string, id: number, name: string | undefined) =>
    NUMBER.test(value) ? Number(value) === id : value === name;
  const refusals: RunAsRefusal[] = [];
  if (user !== undefined && !own(user, server.uid, server.user)) {
    refusals.push({
      key: "user",
      message: `user ${JSON.stringify(user)}: ${why}: it cannot start children as another user`,
    });
  }
  if (group !== undefined && !own(group, server.gid, server.group)) {
    refusals.push({
      key: "group",
      message: `group ${JSON.stringify(group)}: ${why}: it cannot start children in another group`,
    });
  }
  return refusals;
}

/**
 * Who a child with these `user` and `group` values (canonical, see {@link accountRef}) runs
 * as. The primary gid is `group` when given, else the user's from /etc/passwd; the groups are
 * that gid and every /etc/group entry listing the user, as a login gets them (`initgroups`).
 * With `group` alone the child keeps the server's user, with that one group. A numeric `user`
 * must be in /etc/passwd (its home and groups come from there); a numeric `group` need not be
 * in /etc/group. Throws {@link UnknownAccountError}.
 */
export function resolveRunAs(
  user: string | undefined,
  group: string | undefined,
  accounts: Accounts,
): RunAs {
  const account = user === undefined ? undefined : findUser(user, accounts);
  const gid = group === undefined ? account?.gid : findGroup(group, accounts);
  if (gid === undefined) throw new TypeError("resolveRunAs needs a user or a group");
  if (account === undefined) return { uid: undefined, gid, groups: [gid], env: {} };
  const groups = [gid];
  for (const entry of accounts.groups) {
    if (entry.members.includes(account.name) && !groups.includes(entry.gid)) {
      groups.push(entry.gid);
    }
  }
  return {
    uid: account.uid,
    gid,
    groups,
    env: {
      HOME: account.home === "" ? "/" : account.home,
      USER: account.name,
      LOGNAME: account.name,
      SHELL: account.shell === "" ? "/bin/sh" : account.shell,
    },
  };
}

/** Reads /etc/passwd and /etc/group, asynchronously. */
export async function readAccounts(
  read: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<Accounts> {
  const [passwd, group] = await Promise.all([
    readSystemFile("/etc/passwd", read),
    readSystemFile("/etc/group", read),
  ]);
  return { users: parsePasswd(passwd), groups: parseGroup(group) };
}

/**
 * The server's effective uid and gid, from /proc/self/status: `Deno.uid()` would need the `sys`
 * permission, which the compiled server does not have.
 */
export async function readServerIdentity(
  read: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<ProcessIds> {
  const identity = identityFromStatus(await readSystemFile("/proc/self/status", read));
  if (!identity) {
    throw new Error(`cannot tell which user the server runs as: /proc/self/status has no Uid line`);
  }
  return identity;
}

function findUser(user: string, accounts: Accounts): Account {
  const found = NUMBER.test(user)
    ? accounts.users.find((u) => u.uid === Number(user))
    : accounts.users.find((u) => u.name === user);
  if (found) return found;
  throw new UnknownAccountError(
    "user",
    user,
    NUMBER.test(user)
      ? `user ${user} is not in /etc/passwd: a child's user must have an entry there (for its home and groups)`
      : `user ${JSON.stringify(user)} was not found in /etc/passwd`,
  );
}

function findGroup(group: string, accounts: Accounts): number {
  if (NUMBER.test(group)) return Number(group);
  const found = accounts.groups.find((g) => g.name === group);
  if (found) return found.gid;
  throw new UnknownAccountError(
    "group",
    group,
    `group ${JSON.stringify(group)} was not found in /etc/group`,
  );
}

async function readSystemFile(
  path: string,
  read: (path: string) => Promise<string>,
): Promise<string> {
  try {
    return await read(path);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    // Not a Deno.errors.NotFound: a start reports that one as "command not found".
    throw new Error(`cannot read ${path}: ${why}`, { cause: error });
  }
}

function* colonLines(text: string): Generator<string[]> {
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) {
      continue;
    }
    yield line.split(":");
  }
}

function idOf(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const id = Number(text);
  return id <= MAX_ID ? id : undefined;
}
