/**
 * The test seams of supervisor-ts, for unit tests: a clock that moves only when told to, a
 * spawner of in-memory processes, a process table of them, a logger that keeps its lines,
 * config files in memory, and a gate of synchronous writes the test opens and closes.
 *
 * Owns: nothing of its own; each seam lives in its own module. Does not own: the real clock,
 * spawner and logger (see `lib/process/clock.ts`, `lib/process/spawner.ts`, `lib/log.ts`), or
 * the black-box test harness (see `tests/harness.ts`).
 *
 * @module
 */
export { FakeClock } from "./fake_clock.ts";
export { FakeProcess, FakeSpawner, settle } from "./fake_spawner.ts";
export { FakeProcessTable } from "./fake_process_table.ts";
export { MemoryLogger } from "./memory_logger.ts";
export { MemoryConfigSource } from "./memory_config_source.ts";
export { childData } from "./wire_fixtures.ts";
export { TestGate } from "./test_gate.ts";
