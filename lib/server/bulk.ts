/**
 * Bulk results: one item per child of an operation on several children (the copies of a child
 * with instances, `start all`, `update`, …), and the summary line that says how it went.
 *
 * @module
 */
import { errorMessage, SupervisorError } from "../errors.ts";
import type { Bulk, BulkItem, OpResult } from "./results.ts";

/** A bulk result: the items, and a summary line. */
export function bulk(what: string, results: readonly BulkItem[]): Bulk {
  const failed = results.filter((r) => !r.ok);
  const done = results.length - failed.length;
  const summary = failed.length === 0
    ? `${what} success: ${done} ${done === 1 ? "child" : "children"}`
    : `${what}: ${done} done, ${failed.length} failed: ${
      failed.map((f) => `${f.child} (${f.code ?? "error"})`).join(", ")
    }`;
  return { kind: "bulk", message: summary, results };
}

/** The item of a child whose part failed. */
export function failedItem(name: string, error: unknown): BulkItem {
  return error instanceof SupervisorError
    ? { child: name, ok: false, code: error.code, message: error.message }
    : { child: name, ok: false, code: "INTERNAL", message: errorMessage(error) };
}

/** One child's part of a bulk operation: its result's message, or why it failed. */
export async function itemOf(name: string, op: () => Promise<OpResult>): Promise<BulkItem> {
  try {
    return { child: name, ok: true, message: (await op()).message };
  } catch (error) {
    return failedItem(name, error);
  }
}
