/**
 * Splitting a command string into argv the way a POSIX shell splits words.
 *
 * Quotes and backslashes work as in `sh`; nothing is expanded (no `$VAR`, no globs, no `~`) and
 * no shell ever runs. Users who want a shell write `sh -c '…'`.
 *
 * @module
 */
import { CommandSyntaxError } from "../errors.ts";

/** Characters a backslash escapes inside double quotes; before others it stays literal. */
const DOUBLE_QUOTE_ESCAPES = new Set(["$", "`", '"', "\\", "\n"]);

/** Splits `command` into words; throws {@link CommandSyntaxError} on unbalanced quoting. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < command.length) {
    const c = command[i]!;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new CommandSyntaxError("unterminated single quote", i);
      word += command.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= command.length) throw new CommandSyntaxError("unterminated double quote", start);
        const d = command[i]!;
        if (d === '"') break;
        if (d === "\\" && i + 1 < command.length && DOUBLE_QUOTE_ESCAPES.has(command[i + 1]!)) {
          if (command[i + 1] !== "\n") word += command[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (c === "\\") {
      if (i + 1 >= command.length) throw new CommandSyntaxError("trailing backslash", i);
      if (command[i + 1] !== "\n") {
        word += command[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
