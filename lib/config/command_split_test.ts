import assert from "node:assert/strict";
import { CommandSyntaxError } from "../errors.ts";
import { splitCommand } from "./command_split.ts";

function assertSyntaxError(command: string, message: string, offset: number): void {
  assert.throws(
    () => splitCommand(command),
    (error: unknown) => {
      assert.ok(error instanceof CommandSyntaxError, `expected CommandSyntaxError, got ${error}`);
      assert.ok(error instanceof SyntaxError);
      assert.equal(error.name, "CommandSyntaxError");
      assert.equal(error.message, message);
      assert.equal(error.offset, offset);
      return true;
    },
  );
}

Deno.test("plain words are split on single spaces", () => {
  assert.deepEqual(splitCommand("sleep 30"), ["sleep", "30"]);
  assert.deepEqual(splitCommand("/usr/bin/env"), ["/usr/bin/env"]);
});

Deno.test("runs of spaces, tabs and newlines separate words and leave no empty words", () => {
  assert.deepEqual(splitCommand("  a   b\t\tc \t d\ne  "), ["a", "b", "c", "d", "e"]);
});

Deno.test("an empty or blank command has no words", () => {
  assert.deepEqual(splitCommand(""), []);
  assert.deepEqual(splitCommand(" \t "), []);
});

Deno.test("single quotes keep everything literally, backslashes and double quotes included", () => {
  assert.deepEqual(splitCommand(`echo 'a  b'`), ["echo", "a  b"]);
  assert.deepEqual(splitCommand(String.raw`printf 'a\nb\\c\'`), ["printf", "a\\nb\\\\c\\"]);
  assert.deepEqual(splitCommand(`echo 'say "hi"'`), ["echo", `say "hi"`]);
});

Deno.test("double quotes keep spaces and single quotes", () => {
  assert.deepEqual(splitCommand(`sh -c "echo it's  fine"`), ["sh", "-c", "echo it's  fine"]);
});

Deno.test('inside double quotes a backslash escapes only $ ` " \\ and newline', () => {
  assert.deepEqual(splitCommand(String.raw`"\$ \` \" \\"`), ['$ ` " \\']);
  // Before any other character the backslash stays.
  assert.deepEqual(splitCommand(String.raw`"a\nb\tc\'d"`), [String.raw`a\nb\tc\'d`]);
  // A backslash before a newline removes both (line continuation).
  assert.deepEqual(splitCommand('"a\\\nb"'), ["ab"]);
});

Deno.test("outside quotes a backslash makes the next character literal", () => {
  assert.deepEqual(splitCommand(String.raw`a\ b c`), ["a b", "c"]);
  assert.deepEqual(splitCommand(String.raw`\'x\' \"y\"`), ["'x'", '"y"']);
  assert.deepEqual(splitCommand(String.raw`a\\b`), [String.raw`a\b`]);
  assert.deepEqual(splitCommand(String.raw`\n`), ["n"]);
});

Deno.test("a backslash before a newline outside quotes joins the lines", () => {
  assert.deepEqual(splitCommand("ab\\\ncd ef"), ["abcd", "ef"]);
  assert.deepEqual(splitCommand("a \\\n b"), ["a", "b"]);
});

Deno.test("an empty quoted word is an argument of its own", () => {
  assert.deepEqual(splitCommand(`prog '' ""`), ["prog", "", ""]);
  assert.deepEqual(splitCommand(`''`), [""]);
});

Deno.test("adjacent quoted and unquoted pieces join into one word", () => {
  assert.deepEqual(splitCommand(`a'b'"c"`), ["abc"]);
  assert.deepEqual(splitCommand(`--name="my app" x`), ["--name=my app", "x"]);
  assert.deepEqual(splitCommand(`'a'' b'`), ["a b"]);
});

Deno.test("nothing is expanded: variables, globs, tilde and command substitution stay as written", () => {
  assert.deepEqual(
    splitCommand("echo $HOME ${USER} *.txt ~ $(id) `id`"),
    ["echo", "$HOME", "${USER}", "*.txt", "~", "$(id)", "`id`"],
  );
  assert.deepEqual(splitCommand(`"$HOME/*"`), ["$HOME/*"]);
});

Deno.test("shell operators are ordinary characters", () => {
  assert.deepEqual(splitCommand("a | b; c && d > f"), ["a", "|", "b;", "c", "&&", "d", ">", "f"]);
});

Deno.test("an unterminated single quote is an error at the opening quote", () => {
  assertSyntaxError("echo 'abc", "unterminated single quote", 5);
  assertSyntaxError("'", "unterminated single quote", 0);
});

Deno.test("an unterminated double quote is an error at the opening quote", () => {
  assertSyntaxError(`echo "abc`, "unterminated double quote", 5);
  assertSyntaxError(`ab "c\\"`, "unterminated double quote", 3);
});

Deno.test("a trailing backslash is an error at the backslash", () => {
  assertSyntaxError("echo abc\\", "trailing backslash", 8);
  assertSyntaxError("\\", "trailing backslash", 0);
});
