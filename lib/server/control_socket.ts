/**
 * The local control socket (`control_socket: PATH`): a Unix socket, mode 0600, so that the
 * server's own user (and root) can control it whatever happens on the TCP port.
 *
 * Owns: binding it without a moment where it has looser permissions (bound in a private
 * directory, made 0600, then renamed into place), refusing to take over the socket of a live
 * server, replacing a stale one, and removing it at shutdown. Does not own: serving it (the
 * listener does, with slots of its own).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { errorMessage } from "../errors.ts";

/** Mode of the control socket: owner only. */
export const CONTROL_SOCKET_MODE = 0o600;

/** Binds the control socket at `path`; throws an Error saying why it cannot. */
export async function bindControlSocket(path: string): Promise<Deno.UnixListener> {
  await clearStale(path);
  let dir: string;
  try {
    dir = await Deno.makeTempDir({ dir: dirname(path), prefix: ".supervisor-ts-" });
  } catch (error) {
    throw new Error(
      `cannot create control socket "${path}": its directory is not writable: ${
        errorMessage(error)
      }`,
      { cause: error },
    );
  }
  const staging = join(dir, "control.sock");
  try {
    const listener = Deno.listen({ transport: "unix", path: staging });
    try {
      await Deno.chmod(staging, CONTROL_SOCKET_MODE);
      await Deno.rename(staging, path);
    } catch (error) {
      listener.close();
      throw error;
    }
    return listener;
  } catch (error) {
    throw new Error(`cannot create control socket "${path}": ${errorMessage(error)}`, {
      cause: error,
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Removes what is at `path` when it is a socket nobody listens on; throws otherwise. */
async function clearStale(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return; // nothing there
  }
  if (!info.isSocket) {
    throw new Error(
      `cannot create control socket "${path}": a file that is not a socket is there; remove it or choose another path`,
    );
  }
  let live = false;
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    live = true;
  } catch {
    // Nobody answers: a server that died left it behind.
  }
  if (live) {
    throw new Error(
      `cannot create control socket "${path}": another server is listening on it; stop that server first`,
    );
  }
  await Deno.remove(path);
}

/** Removes the control socket at shutdown (only if it is still ours: a socket at `path`). */
export async function removeControlSocket(path: string): Promise<void> {
  try {
    if ((await Deno.lstat(path)).isSocket) await Deno.remove(path);
  } catch {
    // gone already
  }
}
