import assert from "node:assert/strict";
import { editDistance, suggest } from "./suggest.ts";

Deno.test("edit distance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("start", "start"), 0);
  assert.equal(editDistance("", "log"), 3);
  assert.equal(editDistance("stop", "stp"), 1);
  assert.equal(editDistance("stop", "stops"), 1);
  assert.equal(editDistance("kill", "bill"), 1);
  // A swap of two letters is two edits.
  assert.equal(editDistance("strat", "start"), 2);
});

Deno.test("suggest picks the closest word, ignoring case, within a third of the word", () => {
  assert.equal(suggest("comand", ["command", "cwd", "env"]), "command");
  assert.equal(suggest("COMMAND", ["command", "cwd"]), "command");
  assert.equal(suggest("xyz", ["command", "cwd"]), undefined);
  // "strat" is 2 edits from "start": too far by default for a 5-letter word.
  assert.equal(suggest("strat", ["start", "stop"]), undefined);
});

Deno.test("suggest takes a larger distance when asked", () => {
  assert.equal(suggest("strat", ["stop", "start", "restart"], 2), "start");
  assert.equal(suggest("anything", [], 2), undefined);
});

Deno.test("of equally close words, suggest takes the one of the nearest length, then the first", () => {
  // Two edits from both: a swap in "status", a wrong and a missing letter in "start".
  assert.equal(suggest("stauts", ["start", "status"], 2), "status");
  assert.equal(suggest("stat", ["start", "stats"], 2), "start");
});
