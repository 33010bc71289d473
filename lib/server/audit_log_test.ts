import assert from "node:assert/strict";
import { join } from "node:path";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { AuditLog } from "./audit_log.ts";
import type { AuditEntry } from "./audit_log.ts";

type Facts = Omit<AuditEntry, "time">;

function refusal(port: number, overrides: Partial<Facts> = {}): Facts {
  return {
    peer: `203.0.113.7:${port}`,
    dialect: "v2",
    key: null,
    op: null,
    child: null,
    ok: false,
    code: "SIGNATURE_REQUIRED",
    ...overrides,
  };
}

function success(port: number): Facts {
  return { ...refusal(port), key: "ops", op: "check", ok: true, code: null };
}

/** Runs `body` with an audit log on a fake clock writing to a fresh file. */
async function withAudit(
  body: (audit: AuditLog, clock: FakeClock, path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "audit_log_test_" });
  const clock = new FakeClock();
  const audit = new AuditLog(new MemoryLogger(), clock);
  try {
    await body(audit, clock, join(dir, "audit.jsonl"));
  } finally {
    await audit.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function lines(path: string): Record<string, unknown>[] {
  return Deno.readTextFileSync(path).trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("5,000 identical refusals write one line and one summary with their count, under 2 KB", async () => {
  await withAudit(async (audit, clock, path) => {
    for (let i = 0; i < 5000; i++) await audit.record(path, refusal(40_000 + (i % 20_000)));
    await clock.advance(10_000);
    await audit.close();
    const size = Deno.statSync(path).size;
    assert.ok(size < 2048, `${size} bytes written for 5,000 refusals`);
    const written = lines(path);
    assert.equal(written.length, 2);
    assert.equal(written[0]!.peer, "203.0.113.7:40000");
    assert.equal(written[0]!.code, "SIGNATURE_REQUIRED");
    assert.equal(written[1]!.peer, "203.0.113.7");
    assert.equal(written[1]!.dialect, "v2");
    assert.equal(written[1]!.code, "SIGNATURE_REQUIRED");
    assert.equal(written[1]!.ok, false);
    assert.equal(written[1]!.repeated, 4999);
  });
});

Deno.test("the summary is written when the window closes, and the next refusal is written in full", async () => {
  await withAudit(async (audit, clock, path) => {
    await audit.record(path, refusal(1));
    await audit.record(path, refusal(2));
    await audit.record(path, refusal(3));
    await clock.advance(9_999);
    assert.equal(lines(path).length, 1);
    await clock.advance(1);
    await audit.record(path, refusal(4));
    await audit.close();
    assert.deepEqual(lines(path).map((l) => [l.peer, l.repeated]), [
      ["203.0.113.7:1", undefined],
      ["203.0.113.7", 2],
      ["203.0.113.7:4", undefined],
    ]);
  });
});

Deno.test("a success between refusals is written, after the count of the refusals before it", async () => {
  await withAudit(async (audit, _clock, path) => {
    for (let i = 0; i < 100; i++) await audit.record(path, refusal(i));
    await audit.record(path, success(7));
    for (let i = 0; i < 50; i++) await audit.record(path, refusal(i));
    await audit.close();
    assert.deepEqual(lines(path).map((l) => [l.ok, l.op ?? null, l.repeated ?? null]), [
      [false, null, null],
      [false, null, 99],
      [true, "check", null],
      [false, null, 50],
    ]);
  });
});

Deno.test("refusals that differ in address, dialect or code are each written", async () => {
  await withAudit(async (audit, _clock, path) => {
    const kinds: Facts[] = [
      refusal(1),
      refusal(1, { peer: "203.0.113.8:1" }),
      refusal(1, { peer: "[2001:db8::1]:5" }),
      refusal(1, { dialect: "legacy" }),
      refusal(1, { code: "UNKNOWN_KEY" }),
    ];
    for (let round = 0; round < 10; round++) {
      for (const kind of kinds) await audit.record(path, kind);
    }
    await audit.close();
    const written = lines(path);
    assert.equal(written.filter((l) => l.repeated === undefined).length, kinds.length);
    assert.deepEqual(
      written.filter((l) => l.repeated !== undefined).map((l) => [l.peer, l.repeated]),
      [
        ["203.0.113.7", 9],
        ["203.0.113.8", 9],
        ["2001:db8::1", 9],
        ["203.0.113.7", 9],
        ["203.0.113.7", 9],
      ],
    );
  });
});

Deno.test("reopen writes the pending count to the file before closing it", async () => {
  await withAudit(async (audit, _clock, path) => {
    await audit.record(path, refusal(1));
    await audit.record(path, refusal(2));
    await audit.reopen();
    const rotated = `${path}.1`;
    Deno.renameSync(path, rotated);
    await audit.record(path, refusal(3));
    await audit.close();
    assert.deepEqual(lines(rotated).map((l) => l.repeated ?? null), [null, 1]);
    assert.deepEqual(lines(path).map((l) => l.peer), ["203.0.113.7:3"]);
  });
});

Deno.test("successful operations are always written in full", async () => {
  await withAudit(async (audit, _clock, path) => {
    for (let i = 0; i < 20; i++) await audit.record(path, success(i));
    await audit.close();
    assert.equal(lines(path).length, 20);
  });
});
