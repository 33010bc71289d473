import assert from "node:assert/strict";
import { parseChildConfig } from "./child_config.ts";
import { ConfigError } from "../errors.ts";
import { parseSize } from "./memory_limit.ts";

Deno.test("sizes: bytes, or K, M, G, T in powers of 1024, any case, with or without B/iB", () => {
  assert.equal(parseSize(1048576), 1048576);
  assert.equal(parseSize("512M"), 512 * 2 ** 20);
  assert.equal(parseSize("1.5G"), 1.5 * 2 ** 30);
  assert.equal(parseSize("64kb"), 64 * 1024);
  assert.equal(parseSize("2 MiB"), 2 * 2 ** 20);
  assert.equal(parseSize("1T"), 2 ** 40);
  for (const bad of ["", "M", "-1M", "12X", "1.2.3M", null, true, Number.NaN]) {
    assert.equal(parseSize(bad), undefined, String(bad));
  }
});

function limitOf(yaml: string) {
  return parseChildConfig("/srv/children/api.yml", `command: sleep 1\n${yaml}`, {}).maxMemory;
}

function problemOf(yaml: string): string {
  try {
    limitOf(yaml);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems.map((p) => `${p.line}: ${p.message}`).join("\n");
  }
  assert.fail(`expected ${yaml} to be refused`);
}

Deno.test("max_memory: a size (3 samples), or a limit and a number of samples", () => {
  assert.equal(limitOf(""), undefined);
  assert.deepEqual(limitOf("max_memory: 512M"), { bytes: 512 * 2 ** 20, samples: 3 });
  assert.deepEqual(limitOf("max_memory: { limit: 1G, samples: 5 }"), {
    bytes: 2 ** 30,
    samples: 5,
  });
});

Deno.test("max_memory refuses what is not a size of at least 1M, at its line", () => {
  assert.match(problemOf("max_memory: 512"), /^2: max_memory must be a size of at least 1M/);
  assert.match(problemOf("max_memory: lots"), /found "lots"/);
  assert.match(
    problemOf("max_memory: { limit: 1G, samples: 0 }"),
    /max_memory.samples must be a whole number from 1 to 1000/,
  );
  assert.match(problemOf("max_memory: { limit: 1G, sample: 2 }"), /unknown key "sample"/);
});
