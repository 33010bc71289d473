import assert from "node:assert/strict";
import { parseChildConfig } from "./child_config.ts";
import { instanceNames, instantiate, MAX_INSTANCES, splitInstance } from "./instances.ts";

const FILE = "/srv/children/web.yml";

Deno.test("a name with a copy number splits into the file's name and the number", () => {
  assert.deepEqual(splitInstance("web:0"), { base: "web", index: 0 });
  assert.deepEqual(splitInstance("api.v2:12"), { base: "api.v2", index: 12 });
  assert.equal(splitInstance("web"), undefined);
  assert.equal(splitInstance("web:"), undefined);
  assert.equal(splitInstance("web:x"), undefined);
});

Deno.test("instances: N names N copies; without it the child is itself", () => {
  const three = parseChildConfig(FILE, "command: sleep 1\ninstances: 3\n");
  assert.deepEqual(instanceNames(three), ["web:0", "web:1", "web:2"]);
  assert.deepEqual(instanceNames(parseChildConfig(FILE, "command: sleep 1\n")), ["web"]);
  assert.deepEqual(instanceNames(parseChildConfig(FILE, "command: sleep 1\ninstances: 1\n")), [
    "web",
  ]);
});

Deno.test("{instance} is replaced in args, env values and output paths of each copy", () => {
  const config = parseChildConfig(
    FILE,
    [
      "command: [server, --port, '80{instance}', --name, 'w{instance}x{instance}']",
      "env: { PORT: '80{instance}', KEEP: '{instanc}' }",
      "output:",
      "  - stdout: out-{instance}.log",
      "  - stderr: /var/log/err-{instance}.log",
      "instances: 2",
    ].join("\n"),
  );
  const one = instantiate(config, 1);
  assert.equal(one.name, "web:1");
  assert.deepEqual(one.argv, ["server", "--port", "801", "--name", "w1x1"]);
  assert.deepEqual(one.env, { PORT: "801", KEEP: "{instanc}" });
  assert.equal(one.stdout?.path, "/srv/children/out-1.log");
  assert.equal(one.stderr?.path, "/var/log/err-1.log");
  assert.equal(one.instances, 1, "a copy is one child");
  assert.equal(config.argv[2], "80{instance}", "the file's config is left as it was");
});

Deno.test("instances must be a whole number from 1 to the limit", () => {
  for (const bad of ["0", "-1", "1.5", "many", String(MAX_INSTANCES + 1)]) {
    assert.throws(
      () => parseChildConfig(FILE, `command: sleep 1\ninstances: ${bad}\n`),
      (error: unknown) => error instanceof Error && /instances must be/.test(error.message),
      bad,
    );
  }
});
