/**
 * Facts about the machine a benchmark ran on, for the results file.
 *
 * @module
 */

const decoder = new TextDecoder();

async function firstLineOf(program: string, args: readonly string[]): Promise<string> {
  try {
    const out = await new Deno.Command(program, {
      args: [...args],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return decoder.decode(out.stdout).split("\n")[0]?.trim() || "unknown";
  } catch {
    return "unknown";
  }
}

/** The machine's facts. */
export interface Machine {
  readonly date: string;
  readonly deno: string;
  readonly nproc: string;
  readonly cpu: string;
  readonly fdLimit: number;
}

/** Reads the date, `deno --version`, `nproc`, the CPU model and `ulimit -n`. */
export async function describeMachine(): Promise<Machine> {
  let cpu = "unknown";
  try {
    const match = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m);
    if (match) cpu = match[1]!.trim();
  } catch {
    // no /proc
  }
  const nproc = await firstLineOf("nproc", []);
  return {
    date: new Date().toISOString(),
    deno: await firstLineOf(Deno.execPath(), ["--version"]),
    nproc: nproc === "unknown" ? String(navigator.hardwareConcurrency) : nproc,
    cpu,
    fdLimit: Number(await firstLineOf("/bin/sh", ["-c", "ulimit -n"])),
  };
}

/** The 1, 5 and 15 minute load averages from /proc/loadavg, or `unknown`. */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}
