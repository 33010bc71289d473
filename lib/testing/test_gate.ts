/**
 * A SyncWriteGate for unit tests: every file counts as local, and synchronous writes are
 * allowed or refused as the test says, whatever the machine's dirty pages; it counts the
 * synchronous writes made.
 *
 * Owns: nothing but its switches and counts. Does not own: the real gate (see
 * `lib/process/sync_writes.ts`).
 *
 * @module
 */
import { SyncWriteGate } from "../process/sync_writes.ts";

/** A gate the test opens and closes; counts the synchronous writes. */
export class TestGate extends SyncWriteGate {
  /** Whether synchronous writes are allowed now. */
  open = true;
  /** Whether files opened from now on count as local (decided at open). */
  isLocal = true;
  /** Called before each answer of {@link allows}: a test may flip {@link open} there. */
  onAsk: (() => void) | undefined;
  /** Synchronous writes made, and their bytes. */
  writes = 0;
  bytes = 0;

  override local(): boolean {
    return this.isLocal;
  }

  override allows(): boolean {
    this.onAsk?.();
    return this.open;
  }

  override took(_ms: number, bytes: number): void {
    this.writes++;
    this.bytes += bytes;
  }
}
