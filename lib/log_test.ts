import assert from "node:assert/strict";
import { lineLogger } from "./log.ts";

/** 2026-12-01T07:17:07.123Z */
const AT = Date.UTC(2026, 11, 1, 7, 17, 7, 123);

function capture(
  journalStream: string | undefined,
): { lines: string[]; log: ReturnType<typeof lineLogger> } {
  const lines: string[] = [];
  const log = lineLogger((line) => lines.push(line), { now: () => AT, journalStream });
  return { lines, log };
}

Deno.test("each line starts with its UTC time to the millisecond and a level word of one width", () => {
  const { lines, log } = capture(undefined);
  log.info("listening");
  log.warn("state file cannot be used");
  log.error("startup: cannot start");
  assert.deepEqual(lines, [
    "2026-12-01T07:17:07.123Z info  listening",
    "2026-12-01T07:17:07.123Z warn  state file cannot be used",
    "2026-12-01T07:17:07.123Z error startup: cannot start",
  ]);
});

Deno.test("each line takes the clock's time when it is written", () => {
  let now = AT;
  const lines: string[] = [];
  const log = lineLogger((line) => lines.push(line), { now: () => now, journalStream: undefined });
  log.info("one");
  now += 61_000;
  log.info("two");
  assert.deepEqual(lines, [
    "2026-12-01T07:17:07.123Z info  one",
    "2026-12-01T07:18:08.123Z info  two",
  ]);
});

Deno.test("under the journal (JOURNAL_STREAM set): syslog priority prefixes and no time", () => {
  const { lines, log } = capture("8:123456");
  log.info("listening");
  log.warn("state file cannot be used");
  log.error("startup: cannot start");
  assert.deepEqual(lines, [
    "<6>info  listening",
    "<4>warn  state file cannot be used",
    "<3>error startup: cannot start",
  ]);
});

Deno.test("an empty JOURNAL_STREAM is not the journal", () => {
  const { lines, log } = capture("");
  log.info("x");
  assert.deepEqual(lines, ["2026-12-01T07:17:07.123Z info  x"]);
});

Deno.test("every line of a message of several lines carries the time and level, in one write", () => {
  const plain = capture(undefined);
  plain.log.error("cannot start:\n  line 1\n  line 2");
  assert.deepEqual(plain.lines, [
    "2026-12-01T07:17:07.123Z error cannot start:\n" +
    "2026-12-01T07:17:07.123Z error   line 1\n" +
    "2026-12-01T07:17:07.123Z error   line 2",
  ]);
  const journal = capture("8:1");
  journal.log.warn("a\nb");
  assert.deepEqual(journal.lines, ["<4>warn  a\n<4>warn  b"]);
});
