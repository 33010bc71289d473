/**
 * The client as a program: runs {@link main} with the process's arguments and exits with its
 * code. This is the entry `scripts/bundle_client.ts` bundles into `bundle/client/`, which
 * `main_client.ts` loads: one file to read and compile instead of some thirty modules.
 *
 * @module
 */
import { main } from "./main.ts";

Deno.exit(await main(Deno.args));
