/**
 * Black-box tests of the status page in a real browser: a real server with `http_listen` and
 * real children, and Debian's Chromium driven by playwright-core. The page must follow what
 * happens (a crash, its exit, new log lines) without ever being reloaded, and sign in with the
 * token before it offers any action. Every wait is bounded.
 *
 * With `SUPERVISOR_TS_SCREENSHOT=PATH` the first test also saves its screenshot there (the
 * README's docs/status-page.png is made so).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium } from "npm:playwright-core@1.65.1";
import type { Browser, Page } from "npm:playwright-core@1.65.1";
import { startServer, waitUntil } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { requirePrograms } from "./requires.ts";

const programs = requirePrograms(import.meta, ["chromium"]);

/** Debian's Chromium: /usr/bin/chromium, or the first `chromium` on PATH. */
function chromiumPath(): string {
  const dirs = ["/usr/bin", ...(Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "")];
  for (const dir of dirs) {
    try {
      const path = join(dir, "chromium");
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there
    }
  }
  throw new Error("chromium is not installed");
}

function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ["--no-sandbox", "--disable-background-networking"],
  });
}

/** A child file: `command` as a YAML list (JSON is YAML), then more lines. */
function childYaml(command: readonly string[], ...more: string[]): string {
  return [`command: ${JSON.stringify(command)}`, ...more, ""].join("\n");
}

/** The port of the server's HTTP listener, from the line it prints (on stdout or its log). */
async function httpPort(server: TestServer): Promise<number> {
  const line = /serving http on http:\/\/127\.0\.0\.1:(\d+)/;
  const find = () => server.stdout.text.match(line) ?? server.stderr.text.match(line);
  await waitUntil(() => find() !== null, 10_000, "the line serving http on …");
  return Number(find()![1]);
}

/** The little of the page's DOM these tests read in the browser (the type check has no DOM). */
interface PageGlobals {
  readonly document: {
    querySelector(selector: string): { readonly textContent: string | null } | null;
    readonly activeElement: { blur(): void } | null;
  };
}

/** Waits until the text of the first element matching `selector` matches `pattern`. */
async function waitForText(
  page: Page,
  selector: string,
  pattern: RegExp,
  timeout = 10_000,
): Promise<string> {
  try {
    await page.waitForFunction(
      ([sel, source, flags]) =>
        new RegExp(source!, flags).test(
          (globalThis as unknown as PageGlobals).document.querySelector(sel!)?.textContent ?? "",
        ),
      [selector, pattern.source, pattern.flags],
      { timeout, polling: 50 },
    );
  } catch (error) {
    const text = await page.locator(selector).first().textContent({ timeout: 500 }).catch(() =>
      "(absent)"
    );
    throw new Error(`${selector} never matched ${pattern}; it says ${JSON.stringify(text)}`, {
      cause: error,
    });
  }
  return (await page.locator(selector).first().textContent()) ?? "";
}

/** The state badge of a child's row. */
const badge = (name: string) => `tr[data-child="${name}"] .badge`;

/** The worker prints a numbered line every 100 ms. */
const WORKER = childYaml(
  ["sh", "-c", 'i=0; while true; do i=$((i+1)); echo "job $i done"; sleep 0.1; done'],
  "start_seconds: 0.2",
);
/** The crasher fails with exit code 3 and a line on stderr once the file `crash-now` exists. */
const CRASHER = childYaml(
  [
    "sh",
    "-c",
    "echo waiting; while [ ! -e crash-now ]; do sleep 0.05; done; " +
    "echo 'fatal: the database is gone' >&2; exit 3",
  ],
  "restart: never",
  "start_seconds: 0.2",
);

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

Deno.test({
  name: "the status page shows every child and follows a crash, its exit and a log live",
  ignore: programs.skip(),
  async fn() {
    programs.check();
    const server = await startServer({
      serverYaml: "http_listen: 127.0.0.1:0\nsample_interval: 0.5",
      children: {
        web: "command: sleep 1000\nstart_seconds: 0.2\n",
        worker: WORKER,
        crasher: CRASHER,
        flaky: childYaml(
          ["sh", "-c", "echo 'cannot bind 127.0.0.1:8080: address in use' >&2; exit 1"],
          "restart: on-failure",
          "start_seconds: 1",
          "backoff: { initial: 600 }",
        ),
        idle: "command: sleep 1000\n",
      },
    });
    let browser: Browser | undefined;
    const shot = await Deno.makeTempFile({ prefix: "status-page-", suffix: ".png" });
    try {
      for (const name of ["web", "worker", "crasher"]) {
        const started = await server.json("start", name);
        assert.equal(started.ok, true, started.message);
      }
      await server.json("start", "flaky", "--no-wait");
      await server.waitChild("flaky", (c) => c.state === "BACKOFF");
      const port = await httpPort(server);

      browser = await launch();
      const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      // The page's event handlers catch their errors and warn in the console.
      page.on("console", (message) => {
        if (["warning", "error"].includes(message.type())) errors.push(message.text());
      });
      await page.goto(`http://127.0.0.1:${port}/`);

      // Every child has its row, with its state written in the badge.
      const expected = {
        web: "RUNNING",
        worker: "RUNNING",
        crasher: "RUNNING",
        flaky: "BACKOFF",
        idle: "STOPPED",
      };
      for (const [name, state] of Object.entries(expected)) {
        await waitForText(page, badge(name), new RegExp(`^${state}$`));
        assert.ok(await page.locator(`tr[data-child="${name}"]`).isVisible(), name);
      }
      assert.equal(
        await page.locator("table#children tbody tr[data-child]").count(),
        5,
        "one row per child",
      );
      // The header tells which server this is; no actions without a token.
      await waitForText(page, "#info-version", /^\d+\.\d+\.\d+/);
      assert.equal(await page.locator("th.actions").isHidden(), true, "actions are off");
      await waitForText(page, "#counts", /3 RUNNING/);
      // Memory is sampled while the page looks, and shown in human units.
      await waitForText(page, `tr[data-child="web"] .memory`, /^\d+(\.\d+)? (B|KiB|MiB|GiB)$/);

      // From here on, the page must not be reloaded: a marker set now must survive.
      await page.evaluate(() => {
        (globalThis as unknown as { marker: string }).marker = "no reload";
      });

      // Choose the worker with the keyboard: its recent lines, then new ones as they come.
      await page.focus(`tr[data-child="worker"] .name-button`);
      await page.keyboard.press("Enter");
      await waitForText(page, "#log", /job \d+ done/);
      const seen = await page.locator("#log").textContent() ?? "";
      const last = Math.max(...[...seen.matchAll(/job (\d+) done/g)].map((m) => Number(m[1])));
      await page.waitForFunction(
        (after) =>
          [
            ...((globalThis as unknown as PageGlobals).document.querySelector("#log")
              ?.textContent ?? "").matchAll(/job (\d+) done/g),
          ]
            .some((m) => Number(m[1]) > after + 3),
        last,
        { timeout: 10_000, polling: 50 },
      );
      assert.equal(await page.locator("#log-child").inputValue(), "worker");
      // The recent lines and the followed ones join without a gap or a repeat.
      const jobs = [...(await page.locator("#log").textContent() ?? "").matchAll(/job (\d+) done/g)]
        .map((m) => Number(m[1]));
      assert.deepEqual(jobs, jobs.map((_, i) => jobs[0]! + i), "consecutive lines");

      // The crasher fails: its row turns EXITED and its exit shows with its stderr.
      await Deno.writeTextFile(join(server.childDir, "crash-now"), "");
      await waitForText(page, badge("crasher"), /^EXITED$/);
      const exit = `#exits li[data-child="crasher"]`;
      await waitForText(page, exit, /exit code 3/);
      await waitForText(page, exit, /fatal: the database is gone/);
      await waitForText(page, "#announcer", /crasher: RUNNING → EXITED/);
      await waitForText(page, "#counts", /2 RUNNING/);
      await waitForText(page, `#exits li[data-child="flaky"]`, /cannot bind/);
      // The pid goes with the child's fresh report, which follows its change within moments.
      await waitForText(page, `tr[data-child="crasher"] td:nth-child(3)`, /^—$/);

      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { marker?: string }).marker),
        "no reload",
      );
      assert.equal(
        await page.evaluate(() => performance.getEntriesByType("navigation").length),
        1,
      );
      assert.equal(await page.locator("#banner").isHidden(), true, "connected");
      assert.deepEqual(errors, [], "no script errors or warnings");

      // Let the charts draw a few samples (more for the README's picture).
      const keep = Deno.env.get("SUPERVISOR_TS_SCREENSHOT");
      await page.waitForTimeout(keep ? 6000 : 1000);
      await page.evaluate(() =>
        (globalThis as unknown as PageGlobals).document.activeElement?.blur()
      );
      await page.screenshot({ path: shot });
      const png = await Deno.readFile(shot);
      assert.deepEqual([...png.subarray(0, 8)], PNG, "a PNG");
      assert.ok(png.length > 20_000 && png.length < 2_000_000, `size ${png.length}`);
      if (keep) await Deno.copyFile(shot, keep);

      // The server goes away: the page says so, and keeps what it showed.
      await server.stop();
      await page.locator("#banner").waitFor({ state: "visible", timeout: 10_000 });
      assert.match(await page.locator("#banner").textContent() ?? "", /retrying/);
      await waitForText(page, badge("web"), /^RUNNING$/);
    } finally {
      await browser?.close();
      await Deno.remove(shot).catch(() => {});
      await server.stop();
      await Deno.remove(server.dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "the status page asks for the token, then offers start, stop and restart",
  ignore: programs.skip(),
  async fn() {
    programs.check();
    // The server reads its token file when it starts.
    const token = await Deno.makeTempFile({ prefix: "http-token-" });
    await Deno.writeTextFile(token, "s3cret-token-for-the-page-test\n");
    const server = await startServer({
      serverYaml: `http_listen: 127.0.0.1:0\nhttp_token_file: ${token}\nhttp_actions: on`,
      children: { web: "command: sleep 1000\nstart_seconds: 0.2\n" },
    }).catch(async (error) => {
      await Deno.remove(token);
      throw error;
    });
    let browser: Browser | undefined;
    try {
      const port = await httpPort(server);
      const started = await server.json("start", "web");
      assert.equal(started.ok, true, started.message);

      browser = await launch();
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.locator("#login").waitFor({ state: "visible", timeout: 10_000 });
      assert.equal(await page.locator("#banner").isHidden(), true);

      await page.fill("#login-token", "wrong");
      await page.press("#login-token", "Enter");
      await waitForText(page, "#login-error", /not right/);

      await page.fill("#login-token", "s3cret-token-for-the-page-test");
      await page.press("#login-token", "Enter");
      await waitForText(page, badge("web"), /^RUNNING$/);
      assert.equal(await page.locator("#login").isHidden(), true);
      const stop = page.locator(`tr[data-child="web"] button[data-op="stop"]`);
      await stop.waitFor({ state: "visible", timeout: 10_000 });
      assert.equal(
        await page.locator(`tr[data-child="web"] button[data-op="start"]`).isDisabled(),
        true,
        "a running child cannot be started",
      );

      await stop.click();
      await waitForText(page, badge("web"), /^STOPPED$/);
      await waitForText(page, "#action-result", /^stop web: .+/);
      assert.equal((await server.child("web")).state, "STOPPED");

      await page.click(`tr[data-child="web"] button[data-op="start"]`);
      await waitForText(page, badge("web"), /^RUNNING$/);
      await waitForText(page, "#action-result", /^start web: .+/);
      assert.equal(
        await page.evaluate(() => performance.getEntriesByType("navigation").length),
        1,
        "signing in and acting never reloaded the page",
      );
    } finally {
      await browser?.close();
      await server.stop();
      await Deno.remove(server.dir, { recursive: true }).catch(() => {});
      await Deno.remove(token);
    }
  },
});
