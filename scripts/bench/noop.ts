/**
 * The floor of a command-line run: a Deno program that does nothing.
 *
 * @module
 */
export {};
