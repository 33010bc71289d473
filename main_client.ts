/**
 * supervisor-ts-client <op> [child] [on HOST]... [--json] [--timeout S]
 *
 * Entry point of the client. Its code is `lib/client/` (the run: `lib/client/main.ts`); what
 * runs is that code bundled from `lib/client/cli.ts` into `bundle/client/` by
 * `deno task bundle`, because loading one file instead of some thirty modules is most of a
 * `check`'s start-up (issue 15). tests/client_bundle_test.ts fails when the bundle is not the
 * one the sources give.
 *
 * @module
 */
import "./bundle/client/cli.js";
