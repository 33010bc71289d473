/**
 * node:crypto for the server, loaded at the first signed request: a server that takes none never
 * holds it (it costs a few MiB of resident memory). Loading is asynchronous; what verifies a
 * signature afterwards gets the module synchronously. Only the built-in module is imported on
 * demand, never one of this program's own files: those are all loaded at startup, so a running
 * server never mixes code from two versions of a checkout.
 *
 * @module
 */

/** The node:crypto module. */
export type NodeCrypto = typeof import("node:crypto");

let loaded: NodeCrypto | undefined;

/** Loads node:crypto once; later calls resolve with the same module. */
export async function loadNodeCrypto(): Promise<NodeCrypto> {
  return loaded ??= await import("node:crypto");
}

/**
 * node:crypto, once {@link loadNodeCrypto} has resolved. Throws before: a key is only ever at
 * hand after a lookup that loaded it (`KeyStore.find`), so this is a bug, not a runtime state.
 */
export function nodeCrypto(): NodeCrypto {
  if (loaded === undefined) {
    throw new Error("node:crypto is used before loadNodeCrypto() loaded it");
  }
  return loaded;
}
