/**
 * Rewrites bundled JavaScript so that V8 compiles its functions when it compiles the file, not
 * when each is first called (`scripts/bundle_client.ts` applies it to the client's bundle).
 *
 * Why: Deno keeps a V8 code cache for local modules, made right after a module is compiled, so
 * it holds only what was compiled then. V8 compiles a function declaration lazily, on its first
 * call, and does so again in every process: for a `check` that is some ninety functions, about
 * 2 ms of its run. A function expression in parentheses is compiled with the code around it
 * (V8's heuristic for functions called at once), so it lands in the cache, and later runs only
 * deserialize it. (V8's `//# allFunctionsCalledOnLoad` comment would say the same, but Deno 2.9
 * does not ask V8 to follow it: the cache stays as small as without it.)
 *
 * The rewrite: every top-level `function f(…) {…}` of a module not listed as lazy becomes
 * `var f = (function f(…) {…});`, moved to just after the file's imports. A declaration is
 * hoisted to the top of its module; the moved assignments run before any other statement of
 * the file, so every call sees the same function as before. Only whole declarations at the top
 * level are touched: the scanner below follows strings, template literals, comments and regular
 * expressions, so text in a template literal that looks like a declaration is left alone.
 *
 * @module
 */

/** Where each line of `source` starts, seen from the outside of the code. */
export interface LineStates {
  /** Whether the line starts at the top level: depth 0, outside any string, comment or template. */
  readonly startsAtTop: readonly boolean[];
  /** Whether the line ends at the top level (its newline is at depth 0 in plain code). */
  readonly endsAtTop: readonly boolean[];
}

/** Keywords after which a `/` starts a regular expression rather than dividing. */
const BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/** Characters after which a `/` starts a regular expression. */
const PUNCTUATION_BEFORE_REGEX = "(,=:[!&|?{};+-*%<>~^";

/**
 * Follows `source` character by character and tells, for each line, whether it starts and ends
 * at the top level. Throws when the text does not close what it opens (then it is not code this
 * scanner understands, and nothing should be rewritten).
 */
export function scanLines(source: string): LineStates {
  const startsAtTop: boolean[] = [true];
  const endsAtTop: boolean[] = [];
  // Each entry is a context: a code context counts its open brackets; a template context is
  // the literal text of a template between `${…}` parts.
  const stack: ({ kind: "code"; depth: number } | { kind: "template" })[] = [{
    kind: "code",
    depth: 0,
  }];
  let last = ""; // the last significant character or word in code, to tell regex from division
  let i = 0;
  const atTop = () => stack.length === 1 && (stack[0] as { depth: number }).depth === 0;
  const newline = (top: boolean) => {
    endsAtTop.push(top);
    startsAtTop.push(top);
  };
  while (i < source.length) {
    const top = stack[stack.length - 1]!;
    const c = source[i]!;
    if (top.kind === "template") {
      if (c === "\\") i += 2;
      else if (c === "`") {
        stack.pop();
        last = ")";
        i++;
      } else if (c === "$" && source[i + 1] === "{") {
        stack.push({ kind: "code", depth: 0 });
        last = "{";
        i += 2;
      } else {
        if (c === "\n") newline(false);
        i++;
      }
      continue;
    }
    if (c === "\n") {
      newline(atTop());
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "/" && source[i + 1] === "/") {
      const end = source.indexOf("\n", i);
      i = end === -1 ? source.length : end;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end === -1) throw new SyntaxError("unclosed comment");
      for (let k = i; k < end; k++) if (source[k] === "\n") newline(false);
      i = end + 2;
    } else if (
      c === "/" &&
      (last === "" || PUNCTUATION_BEFORE_REGEX.includes(last) || BEFORE_REGEX.has(last))
    ) {
      i = skipRegex(source, i);
      last = ")";
    } else if (c === '"' || c === "'") {
      i = skipString(source, i, c);
      last = ")";
    } else if (c === "`") {
      stack.push({ kind: "template" });
      i++;
    } else if (c === "{" || c === "(" || c === "[") {
      top.depth++;
      last = c;
      i++;
    } else if (c === "}" || c === ")" || c === "]") {
      if (top.depth === 0) {
        if (c !== "}" || stack.length === 1) throw new SyntaxError(`unbalanced "${c}"`);
        stack.pop(); // the end of a template's `${…}`
      } else {
        top.depth--;
      }
      last = c === "}" ? "}" : ")";
      i++;
    } else if (/[\w$]/.test(c)) {
      let end = i + 1;
      while (end < source.length && /[\w$]/.test(source[end]!)) end++;
      last = source.slice(i, end);
      if (!BEFORE_REGEX.has(last)) last = "x";
      i = end;
    } else {
      last = c;
      i++;
    }
  }
  if (!atTop()) throw new SyntaxError("the text ends inside a bracket, string or template");
  endsAtTop.push(true);
  return { startsAtTop, endsAtTop };
}

/** The index after the string literal that starts at `start` with `quote`. */
function skipString(source: string, start: number, quote: string): number {
  for (let i = start + 1; i < source.length; i++) {
    if (source[i] === "\\") i++;
    else if (source[i] === quote) return i + 1;
    else if (source[i] === "\n") break;
  }
  throw new SyntaxError("unclosed string");
}

/** The index after the regular expression (and its flags) that starts at `start`. */
function skipRegex(source: string, start: number): number {
  let inClass = false;
  for (let i = start + 1; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") i++;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "/" && !inClass) {
      let end = i + 1;
      while (end < source.length && /[a-z]/.test(source[end]!)) end++;
      return end;
    } else if (c === "\n") break;
  }
  throw new SyntaxError("unclosed regular expression");
}

/** A top-level function declaration as esbuild prints it: `[async ]function[*] name(`. */
const DECLARATION = /^(async )?function(\*?) ([\w$]+)\(/;

/** esbuild's comment before each bundled module: `// lib/client/args.ts`. */
const MODULE_COMMENT = /^\/\/ (\S+\.[jt]sx?)$/;

/**
 * `source` (one file of a `deno bundle` output) with the top-level function declarations of
 * every module not in `lazyModules` turned into parenthesized function expressions, moved after
 * the imports. Returns `source` unchanged when it has none.
 */
export function compileEagerly(source: string, lazyModules: readonly string[] = []): string {
  const lines = source.split("\n");
  const { startsAtTop, endsAtTop } = scanLines(source);
  const kept: string[] = [];
  const moved: string[] = [];
  let module: string | undefined;
  let afterImports = 0; // how many kept lines the imports (and blank lines among them) take
  let inImports = true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (inImports && startsAtTop[i]) {
      if (line.startsWith("import ") || line === "") {
        // an import, perhaps over several lines; it ends where a line ends at the top level
      } else inImports = false;
    }
    const comment = startsAtTop[i] ? MODULE_COMMENT.exec(line) : null;
    if (comment) module = comment[1];
    const declaration = startsAtTop[i] && !inImports ? DECLARATION.exec(line) : null;
    if (declaration && !(module !== undefined && lazyModules.includes(module))) {
      let end = i;
      while (!endsAtTop[end]) end++;
      if (lines[end] === "}") {
        const block = lines.slice(i, end + 1);
        block[0] = `var ${declaration[3]} = (${line}`;
        block[block.length - 1] = "});";
        moved.push(...block);
        i = end;
        continue;
      }
    }
    kept.push(line);
    if (inImports) afterImports = kept.length;
  }
  if (moved.length === 0) return source;
  return [...kept.slice(0, afterImports), ...moved, ...kept.slice(afterImports)].join("\n");
}
