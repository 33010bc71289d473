/**
 * The client's standard output: whole lines, written at once.
 *
 * Owns: {@link printLine}. `console.log` would do, but its first call costs a `check` about
 * 0.3 ms (the console's formatting code is compiled on first use), a tenth of what a `check`
 * may add to Deno's own start (issue 15, row 7); one synchronous write of the encoded text
 * costs a fraction of that.
 *
 * @module
 */

/** Where lines go: `Deno.stdout`, or a stand-in in tests. */
export interface LineSink {
  writeSync(bytes: Uint8Array): number;
}

const encoder = new TextEncoder();

/**
 * Writes `text` and a newline to `sink`, all of it (a write may take only part). A reader that
 * went away (`check | head -1`) is not an error, as it is not for `console.log`; any other
 * failure to write is thrown.
 */
export function printLine(text: string, sink: LineSink = Deno.stdout): void {
  const bytes = encoder.encode(text + "\n");
  try {
    for (let done = 0; done < bytes.length;) done += sink.writeSync(bytes.subarray(done));
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}
