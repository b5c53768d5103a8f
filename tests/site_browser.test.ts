/**
 * The site in a real browser: Debian's Chromium driven by playwright-core. The static build of
 * every lesson is served from a sub-path (`/course/`) to prove its links are relative; the home
 * page and every lesson page are opened (each at a phone's width too, where no plot may overflow
 * and a table wider than the screen must scroll with a visible cue), the first lesson is run live
 * in the browser on WebGPU (SwiftShader) and, in a browser without WebGPU, on the CPU; stop,
 * re-run and a failing step are exercised through the fixture lessons. Screenshots go to
 * `out/screenshots/`. No page may log a console error.
 *
 * Skipped, with the reason printed, when `/usr/bin/chromium` is not installed.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Browser, BrowserType, Page } from "playwright-core";
import { checkRequestPath, contentType, createSite, resolveInside } from "../site/app.ts";
import { buildSite } from "../site/build.ts";
import { loadLessonList } from "../site/lessons.ts";
import { parseLessonSource } from "../lessons/source.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = new URL("../out/screenshots/", import.meta.url);
const BUILD_DIR = new URL("../out/site-test/dist/", import.meta.url);
/** The longest a live run of a lesson in quick mode may take in the browser. */
const RUN_TIMEOUT_MS = 8 * 60_000;

const BASE_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
/** WebGPU on SwiftShader (a CPU implementation of Vulkan), as on a machine without a GPU. */
const WEBGPU_ARGS = [
  ...BASE_ARGS,
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-vulkan=swiftshader",
  "--use-angle=vulkan",
];
const NO_WEBGPU_ARGS = [...BASE_ARGS, "--disable-features=WebGPU"];

const options = { sanitizeResources: false, sanitizeOps: false };

async function chromiumInstalled(): Promise<boolean> {
  try {
    return (await Deno.stat(CHROMIUM)).isFile;
  } catch {
    return false;
  }
}

/** Whether this process has every permission (playwright-core's import checks /proc/sys). */
function hasAllPermissions(): boolean {
  const names = ["read", "write", "net", "env", "run", "sys", "ffi"] as const;
  return names.every((name) => Deno.permissions.querySync({ name }).state === "granted");
}

let chromium: BrowserType;

if (!(await chromiumInstalled())) {
  const reason = `${CHROMIUM} is not installed (apt-get install chromium; CI installs it)`;
  console.log(`site browser tests skipped: ${reason}`);
  Deno.test({ name: `site in a browser (skipped: ${reason})`, ignore: true, fn() {} });
} else if (!hasAllPermissions()) {
  // playwright-core reads files under /proc/sys when it loads, which Deno allows only with
  // --allow-all: run this file again in a child process that has it.
  Deno.test("site in a browser (run in a child process with --allow-all)", async () => {
    const file = new URL(import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "--import-map",
        "tests/imports.json",
        "--lock=tests/deno.lock",
        "--allow-all",
        file,
      ],
      cwd: new URL("../", import.meta.url).pathname,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    });
    const { code } = await child.output();
    assert.equal(code, 0, `the browser tests failed (exit code ${code}); see their output above`);
  });
} else {
  chromium = (await import("playwright-core")).chromium;
  defineBrowserTests();
}

/** Serves a static build from `prefix`, the way a static host would. */
function serveStatic(root: URL, prefix: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const checked = checkRequestPath(request.url);
    if (!checked.ok) return new Response("refused", { status: checked.status });
    if (!checked.path.startsWith(prefix)) return new Response("not here", { status: 404 });
    const segments = checked.path.slice(prefix.length).split("/");
    if (segments[segments.length - 1] === "") segments[segments.length - 1] = "index.html";
    const file = await resolveInside(root, segments);
    if (!file) {
      return new Response(await Deno.readFile(new URL("404.html", root)), {
        status: 404,
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    return new Response(await Deno.readFile(file), {
      headers: { "content-type": contentType(file) },
    });
  });
}

/** Opens a page and records its console errors and uncaught exceptions. */
async function open(browser: Browser, url: string, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  const response = await page.goto(url);
  assert.equal(response?.status(), 200, `GET ${url}`);
  return { page, errors, close: () => context.close() };
}

async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: new URL(name, SCREENSHOTS).pathname, fullPage });
}

/** Clicks "Run in your browser" and waits until the run is done; returns the status line. */
async function runLive(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Run in your browser" }).click();
  await page.waitForSelector('.live-runner[data-state="done"], .live-runner[data-state="error"]', {
    timeout: RUN_TIMEOUT_MS,
  });
  const state = await page.getAttribute(".live-runner", "data-state");
  const status = (await page.textContent(".live-status")) ?? "";
  const error = (await page.locator(".live-error").count()) > 0
    ? await page.textContent(".live-error")
    : "";
  assert.equal(state, "done", `the live run failed: ${status} ${error}`);
  return status;
}

/** Checks that every step's output box was redrawn live and holds output. */
async function assertLiveOutputs(page: Page, steps: number): Promise<void> {
  assert.equal(await page.locator(".output.live").count(), steps, "every step's output is live");
  for (let i = 0; i < steps; i++) {
    const box = page.locator(`[data-step-output="${i}"] .output-body`);
    const children = await box.locator(":scope > *").count();
    assert.ok(children > 0, `step ${i + 1} shows no live output`);
    assert.equal(await box.locator(".out-error").count(), 0, `step ${i + 1} shows an error`);
  }
  const lastNote = await page.textContent(`[data-step-output="${steps - 1}"] .output-note`);
  assert.ok(lastNote?.startsWith("live"), `the last step's note says "${lastNote}"`);
}

function defineBrowserTests(): void {
  const prefix = "/course/";
  let setup: Promise<{
    url: string;
    steps: number;
    firstSlug: string;
    slugs: string[];
    fixturesUrl: string;
  }>;
  let closers: (() => Promise<void>)[] = [];

  /** Builds the static site (every lesson, served from a sub-path) and a fixture server. */
  function prepare() {
    setup ??= (async () => {
      const list = await loadLessonList("registry");
      const first = list.lessons[0];
      const result = await buildSite({ outDir: BUILD_DIR, base: prefix, lessons: "registry" });
      assert.deepEqual(result.failed, [], "the build's captures failed");
      const staticServer = serveStatic(BUILD_DIR, prefix);
      const fixtures = await createSite({ lessons: "fixtures", capture: "wait" });
      const fixtureServer = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        fixtures.handler,
      );
      closers = [
        () => staticServer.shutdown(),
        () => fixtureServer.shutdown(),
        () => fixtures.close(),
      ];
      const source = parseLessonSource(
        await Deno.readTextFile(new URL(`../${first.modulePath}`, import.meta.url)),
      );
      return {
        url: `http://127.0.0.1:${staticServer.addr.port}${prefix}`,
        steps: source.steps.length,
        firstSlug: first.slug,
        slugs: list.lessons.map((lesson) => lesson.slug),
        fixturesUrl: `http://127.0.0.1:${fixtureServer.addr.port}/`,
      };
    })();
    return setup;
  }

  let webgpuBrowser: Promise<Browser> | undefined;
  const browserWithWebGpu = () =>
    webgpuBrowser ??= chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_ARGS });

  Deno.test("home page in Chromium: lessons, quick start, no console errors", options, async () => {
    const { url } = await prepare();
    const browser = await browserWithWebGpu();
    const { page, errors, close } = await open(browser, url);
    assert.ok((await page.locator(".lesson-card").count()) >= 1, "no lessons on the home page");
    assert.ok(await page.locator("pre.commands").isVisible(), "no quick-start commands");
    await screenshot(page, "home.png");
    await close();
    const phone = await open(browser, url, { width: 390, height: 844 });
    await screenshot(phone.page, "home-phone.png");
    await phone.close();
    assert.deepEqual([...errors, ...phone.errors], []);
  });

  Deno.test(
    "lesson page in Chromium: code and captured outputs, on a phone too",
    options,
    async () => {
      const { url, steps, firstSlug } = await prepare();
      const browser = await browserWithWebGpu();
      const { page, errors, close } = await open(browser, `${url}lessons/${firstSlug}/`);
      assert.equal(await page.locator("section.step").count(), steps);
      assert.equal(
        await page.locator("section.step pre.shiki").count(),
        steps,
        "code of each step",
      );
      const outputs = await page.locator("[data-step-output] .output-body > *").count();
      assert.ok(outputs >= steps, `only ${outputs} captured output blocks for ${steps} steps`);
      assert.ok(
        await page.locator("[data-step-output] svg").count() >= 1,
        "at least one plot drawn as SVG",
      );
      // At a desktop width each step's code and its output are side by side.
      const sideBySide = await page.evaluate(() => {
        const cell = document.querySelector("section.step .cell")!;
        const code = cell.querySelector(".code")!.getBoundingClientRect();
        const output = cell.querySelector(".output")!.getBoundingClientRect();
        return output.left >= code.right - 1 && Math.abs(output.top - code.top) <= 1;
      });
      assert.ok(sideBySide, "code and output side by side at 1280px");
      // The island is hydrated: its button becomes enabled.
      await page.getByRole("button", { name: "Run in your browser" }).isEnabled();
      await screenshot(page, "lesson.png");
      await page.locator("#step-2").scrollIntoViewIfNeeded();
      await screenshot(page, "lesson-step.png", false);
      await close();

      const phone = await open(browser, `${url}lessons/${firstSlug}/`, { width: 390, height: 844 });
      const overflow = await phone.page.evaluate(() =>
        document.documentElement.scrollWidth - globalThis.innerWidth
      );
      assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone's screen`);
      const stacked = await phone.page.evaluate(() => {
        const cell = document.querySelector("section.step .cell")!;
        const code = cell.querySelector(".code")!.getBoundingClientRect();
        return cell.querySelector(".output")!.getBoundingClientRect().top >= code.bottom - 1;
      });
      assert.ok(stacked, "on a phone the output is under the code");
      await screenshot(phone.page, "lesson-phone.png", false);
      await phone.close();
      assert.deepEqual([...errors, ...phone.errors], []);
    },
  );

  Deno.test(
    "every lesson page at a phone's width: plots fit, wide tables scroll with a cue",
    options,
    async () => {
      const { url, slugs } = await prepare();
      const browser = await browserWithWebGpu();
      const errors: string[] = [];
      for (const slug of slugs) {
        const phone = await open(browser, `${url}lessons/${slug}/`, { width: 390, height: 844 });
        const report = await phone.page.evaluate(() => {
          const width = globalThis.innerWidth;
          const plots = [...document.querySelectorAll(".out-plot svg")].map((svg) => {
            const box = svg.getBoundingClientRect();
            const frame = (svg.closest(".output-body") ?? document.body).getBoundingClientRect();
            const title = svg.closest("figure")?.querySelector("figcaption")?.textContent ?? "";
            return { title, left: box.left - frame.left, right: box.right - frame.right };
          });
          const tables = [...document.querySelectorAll(".table-scroll")].map((scroller) => ({
            wide: scroller.scrollWidth > scroller.clientWidth + 1,
            scrolls: getComputedStyle(scroller).overflowX === "auto",
            cue: getComputedStyle(scroller).backgroundImage.includes("gradient"),
          }));
          return {
            overflow: document.documentElement.scrollWidth - width,
            plots,
            tables,
          };
        });
        assert.ok(
          report.overflow <= 1,
          `lesson ${slug}: the page is ${report.overflow}px wider than a phone's screen`,
        );
        for (const plot of report.plots) {
          assert.ok(
            plot.left >= -1 && plot.right <= 1,
            `lesson ${slug}: the plot "${plot.title}" overflows its output box by ` +
              `${Math.max(-plot.left, plot.right).toFixed(0)}px`,
          );
        }
        for (const table of report.tables.filter((t) => t.wide)) {
          assert.ok(table.scrolls && table.cue, `lesson ${slug}: a wide table without a cue`);
        }
        await screenshot(phone.page, `phone-${slug}.png`);
        await phone.close();
        errors.push(...phone.errors);
      }
      assert.deepEqual(errors, []);
    },
  );

  Deno.test(
    "lesson page without JavaScript still shows the captured outputs",
    options,
    async () => {
      const { url, firstSlug } = await prepare();
      const browser = await browserWithWebGpu();
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto(`${url}lessons/${firstSlug}/`);
      assert.ok((await page.locator("[data-step-output] .output-body > *").count()) > 0);
      assert.ok(await page.getByRole("button", { name: "Run in your browser" }).isDisabled());
      assert.match((await page.textContent(".live-status")) ?? "", /needs JavaScript/);
      await context.close();
    },
  );

  Deno.test("live run in the browser on WebGPU (SwiftShader)", options, async () => {
    const { url, steps, firstSlug } = await prepare();
    const browser = await browserWithWebGpu();
    const { page, errors, close } = await open(browser, `${url}lessons/${firstSlug}/`);
    // SwiftShader is a software adapter, which "Best available" passes over for the CPU: ask
    // for WebGPU by name, so that the lesson really trains on the browser's WebGPU.
    await page.selectOption(".device-choice select", "webgpu");
    const status = await runLive(page);
    assert.match(status, /on WebGPU on /, status);
    await assertLiveOutputs(page, steps);
    await screenshot(page, "lesson-live-webgpu.png");
    await page.locator(`[data-step-output="${steps - 1}"]`).scrollIntoViewIfNeeded();
    await screenshot(page, "lesson-live-webgpu-end.png", false);
    await close();
    assert.deepEqual(errors, []);
  });

  Deno.test("live run falls back to the CPU in a browser without WebGPU", options, async () => {
    const { url, steps, firstSlug } = await prepare();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: NO_WEBGPU_ARGS });
    try {
      const { page, errors, close } = await open(browser, `${url}lessons/${firstSlug}/`);
      const status = await runLive(page);
      assert.match(
        status,
        /on CPU \(WebGPU is unavailable: .+; using the CPU\)/,
        status,
      );
      await assertLiveOutputs(page, steps);
      await screenshot(page, "lesson-live-cpu.png");
      await close();
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  Deno.test("stop, then re-run, of a live run", options, async () => {
    const { fixturesUrl } = await prepare();
    const browser = await browserWithWebGpu();
    const { page, errors, close } = await open(browser, `${fixturesUrl}lessons/fixture-line/`);
    await page.selectOption(".device-choice select", "cpu");
    await page.getByRole("button", { name: "Run in your browser" }).click();
    // The loss curve grows while it trains: wait for a live plot, then stop.
    await page.waitForSelector('[data-step-output="1"].live svg', { timeout: 30_000 });
    await page.getByRole("button", { name: "Stop" }).click();
    await page.waitForSelector('.live-runner[data-state="stopped"]');
    assert.match((await page.textContent(".live-status")) ?? "", /^Stopped after/);
    await screenshot(page, "lesson-stopped.png", false);
    await page.getByRole("button", { name: "Re-run" }).click();
    await page.waitForSelector('.live-runner[data-state="done"]', { timeout: 60_000 });
    assert.match((await page.textContent(".live-status")) ?? "", /^Done in .* on CPU \(chosen\)/);
    // The boxes are redrawn on the next animation frame after the last events.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-step-output="3"] .output-body')?.textContent?.includes(
          "What this lesson showed",
        ),
      undefined,
      { timeout: 10_000 },
    );
    await close();
    assert.deepEqual(errors, []);
  });

  Deno.test("a step that fails in the browser shows its error in the page", options, async () => {
    const { fixturesUrl } = await prepare();
    const browser = await browserWithWebGpu();
    const { page, errors, close } = await open(browser, `${fixturesUrl}lessons/fixture-failure/`);
    await page.getByRole("button", { name: "Run in your browser" }).click();
    await page.waitForSelector('.live-runner[data-state="error"]', { timeout: 60_000 });
    assert.match((await page.textContent(".live-error")) ?? "", /fixture failure/);
    const stepError = page.locator('[data-step-output="1"] .out-error');
    assert.match((await stepError.textContent()) ?? "", /this step always fails in a browser/);
    assert.match((await page.textContent('[data-step-output="0"]')) ?? "", /k squared/);
    await screenshot(page, "lesson-error.png", false);
    await close();
    assert.deepEqual(errors, []);
  });

  Deno.test("browser tests: close the browser and servers", options, async () => {
    if (webgpuBrowser) await (await webgpuBrowser).close();
    for (const closeOne of closers) await closeOne();
  });
}
