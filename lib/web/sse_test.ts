import assert from "node:assert/strict";
import { EventStream, MAX_QUEUED_BYTES } from "./sse.ts";

Deno.test("an event stream hands events to its reader in order, then ends", async () => {
  const stream = new EventStream();
  stream.send("hello", { a: 1 });
  stream.send("check", [1, 2]);
  stream.close();
  const text = await stream.response.text();
  assert.equal(text, 'event: hello\ndata: {"a":1}\n\nevent: check\ndata: [1,2]\n\n');
});

Deno.test("a reader that stops reading is let go past the queue's bound, and nothing more is kept", () => {
  const stream = new EventStream();
  let ended = false;
  stream.onClose(() => (ended = true));
  const big = "x".repeat(64 * 1024);
  let sent = 0;
  while (!stream.closed && sent < 2 * MAX_QUEUED_BYTES) {
    stream.send("line", big);
    sent += big.length;
  }
  assert.ok(stream.closed && ended, "closed once over the bound");
  assert.ok(sent <= MAX_QUEUED_BYTES + big.length * 2, `closed after ${sent} bytes`);
  assert.equal(stream.queuedBytes, 0);
  stream.send("line", "after");
  assert.equal(stream.queuedBytes, 0);
  void stream.response.body?.cancel();
});
