import assert from "node:assert/strict";
import { TransportError } from "../errors.ts";
import { bulkDataOf, checkDataOf, fromResponse } from "./fanout.ts";

const ITEMS = {
  results: [
    { child: "db", ok: false, code: "EXITED_EARLY", message: 'Cannot start child "db": …' },
    { child: "web", ok: true, message: "start web success" },
  ],
};

Deno.test("a failed bulk answer keeps its items, and stays a failure", () => {
  const result = fromResponse("h", "start", "all", {
    id: 1,
    ok: false,
    code: "SOME_FAILED",
    message: "start all: 1 done, 1 failed: db (EXITED_EARLY)",
    data: ITEMS,
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "SOME_FAILED");
  assert.deepEqual(bulkDataOf(result), ITEMS);
});

Deno.test("update and signal all answer in bulk, failed or not", () => {
  for (
    const [op, child] of [["update", undefined], ["signal", "all"], ["restart", "all"]] as const
  ) {
    const failed = fromResponse("h", op, child, {
      id: 1,
      ok: false,
      code: "SOME_FAILED",
      message: "x",
      data: ITEMS,
    });
    assert.deepEqual(bulkDataOf(failed)?.results.map((r) => r.child), ["db", "web"], op);
    const ok = fromResponse("h", op, child, { id: 1, ok: true, message: "x", data: ITEMS });
    assert.equal(ok.ok, true);
    assert.equal(bulkDataOf(ok)?.results.length, 2, op);
  }
});

Deno.test("a refusal of a whole bulk operation has no items", () => {
  const result = fromResponse("h", "signal", "all", {
    id: 1,
    ok: false,
    code: "BAD_SIGNAL",
    message: 'Unknown signal "NOPE"',
  });
  assert.deepEqual(result, {
    host: "h",
    ok: false,
    code: "BAD_SIGNAL",
    message: 'Unknown signal "NOPE"',
  });
});

Deno.test("the data of a failed answer of another operation is not read", () => {
  const result = fromResponse("h", "check", "web", {
    id: 1,
    ok: false,
    code: "NOT_FOUND",
    message: "gone",
    data: { anything: 1 },
  });
  assert.equal(result.data, undefined);
  assert.equal(checkDataOf(result), undefined);
});

Deno.test("a failed bulk answer whose items are not of the declared shape is a bad answer", () => {
  assert.throws(
    () =>
      fromResponse("h", "update", undefined, {
        id: 1,
        ok: false,
        code: "SOME_FAILED",
        message: "x",
        data: { results: [{ child: "web" }] },
      }),
    (error: unknown) => error instanceof TransportError && error.code === "BAD_ANSWER",
  );
});
