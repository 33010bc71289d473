/**
 * Instances: `instances: N` in a child's file runs N copies of it, `NAME:0` … `NAME:N-1`
 * (supervisord's `numprocs`, pm2's `-i`), each with `{instance}` replaced by its number in its
 * arguments, environment values and output paths.
 *
 * Owns: instance names and making one copy's config from the file's. Does not own: acting on
 * every copy (see `lib/server/supervisor.ts`).
 *
 * @module
 */
import type { ChildConfig, OutputTarget } from "./child_config.ts";

/** Most copies one file may ask for. */
export const MAX_INSTANCES = 1000;

const INSTANCE_NAME = /^(.+):(\d{1,4})$/;

/** `{ base: "web", index: 1 }` for `web:1`; undefined for a name without a copy number. */
export function splitInstance(name: string): { base: string; index: number } | undefined {
  const match = INSTANCE_NAME.exec(name);
  return match ? { base: match[1]!, index: Number(match[2]) } : undefined;
}

/** The names of the copies `config` asks for: `web:0` … `web:N-1`, or just `web`. */
export function instanceNames(config: ChildConfig): string[] {
  if (config.instances <= 1) return [config.name];
  return Array.from({ length: config.instances }, (_, i) => `${config.name}:${i}`);
}

/** Replaces `{instance}` with `index` in every place it may stand. */
function fill(text: string, index: number): string {
  return text.replaceAll("{instance}", String(index));
}

function fillTarget(target: OutputTarget | undefined, index: number): OutputTarget | undefined {
  return target === undefined ? undefined : { ...target, path: fill(target.path, index) };
}

/** The config of copy `index` of `config` (the file's config, with `instances` > 1). */
export function instantiate(config: ChildConfig, index: number): ChildConfig {
  return {
    ...config,
    name: `${config.name}:${index}`,
    argv: config.argv.map((arg) => fill(arg, index)),
    env: Object.fromEntries(Object.entries(config.env).map(([k, v]) => [k, fill(v, index)])),
    stdout: fillTarget(config.stdout, index),
    stderr: fillTarget(config.stderr, index),
    instances: 1,
  };
}
