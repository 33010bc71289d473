import assert from "node:assert/strict";
import { colourWanted, paint, stateColour } from "./colour.ts";

const TTY = { terminal: true, noColor: undefined, json: false };

Deno.test("colour is wanted on a terminal when nothing says otherwise", () => {
  assert.equal(colourWanted(TTY), true);
  assert.equal(colourWanted({ ...TTY, noColor: "" }), true, "an empty NO_COLOR does not count");
  assert.equal(colourWanted({ ...TTY, term: "xterm-256color" }), true);
});

Deno.test("colour is off when the output is not a terminal", () => {
  assert.equal(colourWanted({ ...TTY, terminal: false }), false);
});

Deno.test("any non-empty NO_COLOR turns colour off", () => {
  for (const value of ["1", "0", "false", "yes"]) {
    assert.equal(colourWanted({ ...TTY, noColor: value }), false, value);
  }
});

Deno.test("--json output is never coloured, and neither is a dumb terminal", () => {
  assert.equal(colourWanted({ ...TTY, json: true }), false);
  assert.equal(colourWanted({ ...TTY, term: "dumb" }), false);
});

Deno.test("paint wraps text in the colour's escape codes only when on", () => {
  assert.equal(paint("RUNNING", "green", true), "\x1b[32mRUNNING\x1b[39m");
  assert.equal(paint("FATAL", "red", true), "\x1b[31mFATAL\x1b[39m");
  assert.equal(paint("BACKOFF", "yellow", true), "\x1b[33mBACKOFF\x1b[39m");
  assert.equal(paint("RUNNING", "green", false), "RUNNING");
  assert.equal(paint("STOPPED", undefined, true), "STOPPED");
  assert.equal(paint("", "red", true), "");
});

Deno.test("states are green when running, red when failed, yellow on the way, plain at rest", () => {
  assert.equal(stateColour("RUNNING", null), "green");
  assert.equal(stateColour("FATAL", null), "red");
  assert.equal(stateColour("STARTING", null), "yellow");
  assert.equal(stateColour("BACKOFF", null), "yellow");
  assert.equal(stateColour("STOPPING", null), "yellow");
  assert.equal(stateColour("STOPPED", null), undefined);
  assert.equal(stateColour("SOMETHING NEW", null), undefined);
});

Deno.test("EXITED is red after a failure and plain after a clean or requested exit", () => {
  assert.equal(stateColour("EXITED", { code: 1, signal: null, requested: false }), "red");
  assert.equal(stateColour("EXITED", { code: null, signal: "SIGSEGV", requested: false }), "red");
  assert.equal(stateColour("EXITED", { code: 0, signal: null, requested: false }), undefined);
  assert.equal(
    stateColour("EXITED", { code: null, signal: "SIGTERM", requested: true }),
    undefined,
  );
  assert.equal(stateColour("EXITED", null), undefined);
});
