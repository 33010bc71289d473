/**
 * Finding the program of a start the way exec would, and finding it again cheaply.
 *
 * Owns: the lookup on PATH and the cache of its answers. Does not own: running the program
 * (see `spawner.ts`).
 *
 * The rule that keeps a cached answer from ever naming the wrong program: a program named
 * without a slash is looked up once per (name, PATH, and the working directory when PATH has a
 * relative entry); the answer is kept with a stamp (modification time, device and inode) of
 * everything that decided it: each PATH directory searched before the one that holds the
 * program (for one that does not exist, its nearest existing ancestor, whose time changes when
 * the missing part is created). A later start stats each stamped place once, in parallel with
 * the program itself (still an executable regular file; exec runs whatever is at that path);
 * the answer is used only when every stamp is unchanged, else the program is looked up again.
 * Installing, removing or renaming a program in any directory that comes before it on PATH
 * changes that directory's time, so a newly shadowing program is found at the next start.
 * Timestamps are coarse, so a place changed less than {@link SETTLE_MS} ago is never trusted:
 * its answer is not kept. While nothing changes, no stat fails and no exception is thrown.
 * An automatic restart passes a trust (`trustMs`): an answer whose stamps were found unchanged
 * that recently is used without a look, so a crash loop stats nothing between its runs and a
 * program installed or removed meanwhile is seen within the trust.
 *
 * @module
 */
import { dirname, join } from "node:path";

/** How old a directory's last change must be before an answer that depends on it is kept. */
export const SETTLE_MS = 1000;

/** Answers kept; the oldest goes first. */
const MAX_ENTRIES = 512;

/** PATH when the server's environment has none. */
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

/** One place an answer depends on, as it was when the answer was found. */
interface Stamp {
  readonly path: string;
  readonly mtime: number;
  readonly dev: number;
  readonly ino: number | null;
}

interface Entry {
  readonly resolved: string;
  readonly stamps: readonly Stamp[];
  /** When the stamps were last found unchanged (performance.now()). */
  verifiedAt: number;
}

/** A lookup's answer, with its stamps when it may be kept. */
interface Found {
  readonly resolved: string;
  readonly stamps: readonly Stamp[] | undefined;
  /** When the lookup began (performance.now()): its stamps are as they were then or later. */
  readonly at: number;
}

const cache = new Map<string, Entry>();

/** What a stat found: the info, or why there is none. */
type Looked =
  | { readonly info: Deno.FileInfo }
  | { readonly info: undefined; readonly failure: "missing" | "denied" | "other" };

/** Stats of the same path asked for while one is in flight share it. */
const inFlight = new Map<string, Promise<Looked>>();

/** Lookups of the same program asked for while one is in flight share it. */
const lookups = new Map<string, Promise<Found>>();

/** Stats `path`, sharing a stat in flight; never rejects. */
function look(path: string): Promise<Looked> {
  let pending = inFlight.get(path);
  if (pending === undefined) {
    pending = Deno.stat(path).then(
      (info): Looked => ({ info }),
      (error): Looked => ({
        info: undefined,
        failure: error instanceof Deno.errors.NotFound
          ? "missing"
          : error instanceof Deno.errors.PermissionDenied
          ? "denied"
          : "other",
      }),
    );
    inFlight.set(path, pending);
    void pending.then(() => inFlight.delete(path));
  }
  return pending;
}

/** The file info of `path`, or undefined when it cannot be read (missing, no access). */
async function statShared(path: string): Promise<Deno.FileInfo | undefined> {
  return (await look(path)).info;
}

function isExecutableFile(info: Deno.FileInfo | undefined): boolean {
  return info !== undefined && info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
}

function stampOf(path: string, info: Deno.FileInfo): Stamp | undefined {
  const mtime = info.mtime?.getTime();
  if (mtime === undefined) return undefined;
  return { path, mtime, dev: info.dev, ino: info.ino };
}

function sameStamp(stamp: Stamp, info: Deno.FileInfo | undefined): boolean {
  return info !== undefined && info.mtime?.getTime() === stamp.mtime && info.dev === stamp.dev &&
    info.ino === stamp.ino;
}

/**
 * Finds `program` the way exec would: a path as given (against `cwd`), else on `path` (the
 * PATH of the child). Rejects with Deno.errors.NotFound, or PermissionDenied for a path that
 * is not executable. Without a synchronous call: a slow file system delays this start only,
 * never the control port. With `trustMs` (an automatic restart), a kept answer whose stamps
 * were found unchanged within it is given without a look.
 */
export async function resolveProgram(
  program: string,
  cwd: string,
  path: string | undefined,
  trustMs = 0,
): Promise<string> {
  if (program.includes("/")) return await checkPath(program, cwd);
  const search = path ?? DEFAULT_PATH;
  const dirs = search.split(":").filter((dir) => dir !== "");
  const relative = dirs.some((dir) => !dir.startsWith("/"));
  const key = `${program}\0${search}${relative ? `\0${cwd}` : ""}`;
  const entry = cache.get(key);
  if (entry !== undefined) {
    const now = performance.now();
    if (now - entry.verifiedAt < trustMs) return entry.resolved;
    const [file, ...places] = await Promise.all([
      statShared(entry.resolved),
      ...entry.stamps.map((stamp) => statShared(stamp.path)),
    ]);
    if (isExecutableFile(file) && entry.stamps.every((stamp, i) => sameStamp(stamp, places[i]))) {
      entry.verifiedAt = Math.max(entry.verifiedAt, now);
      return entry.resolved;
    }
    cache.delete(key);
  }
  let lookup = lookups.get(key);
  if (lookup === undefined) {
    const absolute = dirs.map((dir) => (dir.startsWith("/") ? dir : join(cwd, dir)));
    lookup = lookUp(program, absolute);
    lookups.set(key, lookup);
    lookup.then(() => lookups.delete(key), () => lookups.delete(key));
  }
  const found = await lookup;
  if (found.stamps !== undefined && !cache.has(key)) {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, { resolved: found.resolved, stamps: found.stamps, verifiedAt: found.at });
  }
  return found.resolved;
}

/** A program named by a path: as given, against `cwd` when relative. */
async function checkPath(program: string, cwd: string): Promise<string> {
  const full = program.startsWith("/") ? program : join(cwd, program);
  const looked = await look(full);
  if (looked.info === undefined) {
    if (looked.failure === "denied") {
      throw new Deno.errors.PermissionDenied(`"${program}" cannot be reached: permission denied`);
    }
    throw new Deno.errors.NotFound(`"${program}" was not found`);
  }
  const info = looked.info;
  if (info.isFile && info.mode !== null && (info.mode & 0o111) === 0) {
    throw new Deno.errors.PermissionDenied(`"${program}" is not executable`);
  }
  return full;
}

/**
 * The first executable `program` in `dirs`, with the stamps that decide it (undefined when the
 * answer must not be kept: a place changed too recently or could not be stamped).
 */
async function lookUp(
  program: string,
  dirs: readonly string[],
): Promise<Found> {
  const at = performance.now();
  const stamps: Stamp[] = [];
  let keep = true;
  const stampPlace = (place: string, info: Deno.FileInfo) => {
    const stamp = stampOf(place, info);
    if (stamp === undefined || Date.now() - stamp.mtime < SETTLE_MS) keep = false;
    else if (!stamps.some((s) => s.path === stamp.path)) stamps.push(stamp);
  };
  for (const dir of dirs) {
    const looked = await look(dir);
    if (looked.info === undefined) {
      // A directory that cannot be searched for a reason a stamp does not see (no access):
      // the answer is not kept.
      const ancestor = looked.failure === "missing" ? await existingAncestor(dir) : undefined;
      if (ancestor === undefined) keep = false;
      else stampPlace(ancestor.path, ancestor.info);
      continue;
    }
    if (looked.info.isDirectory) {
      const candidate = join(dir, program);
      if (isExecutableFile(await statShared(candidate))) {
        return { resolved: candidate, stamps: keep ? stamps : undefined, at };
      }
    }
    stampPlace(dir, looked.info);
  }
  throw new Deno.errors.NotFound(`"${program}" was not found on PATH`);
}

/** The nearest ancestor of `path` that can be stat-ed (its time changes when `path` appears). */
async function existingAncestor(
  path: string,
): Promise<{ path: string; info: Deno.FileInfo } | undefined> {
  let current = path;
  while (current !== dirname(current)) {
    current = dirname(current);
    const info = await statShared(current);
    if (info !== undefined) return { path: current, info };
  }
  return undefined;
}

/** Forgets every answer (tests). */
export function forgetPrograms(): void {
  cache.clear();
}
