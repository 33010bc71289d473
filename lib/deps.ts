/**
 * Third-party modules, pinned in one place.
 *
 * Every specifier here is a full `npm:` specifier with a version, so the library resolves when
 * it is run from a URL (no import map is seen then). Nothing else in the project imports a
 * third-party package directly.
 *
 * @module
 */
export { isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from "npm:yaml@2.9.1";
export type { Document, Pair, YAMLMap } from "npm:yaml@2.9.1";
