/**
 * The lesson-10 page's model demo (`site/islands/ModelDemo.tsx`) in a real browser: the island
 * is bundled on its own, served with the lesson data, and driven in Debian's Chromium (on the
 * CPU, WebGPU off). The reader loads the model, picks a test image, and the page shows the same
 * prediction as the framework gives for that image.
 *
 * Skipped when `/usr/bin/chromium` is not installed, unless REQUIRE_BROWSER=1 (as in CI).
 *
 * @module
 */
import assert from "node:assert/strict";
import { loadFashionMnist, tensor, withNoGrad } from "../mod.ts";
import { loadServedModel } from "../lessons/serve/model.ts";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = new URL("../", import.meta.url);
const ARGS = ["--headless", "--no-sandbox", "--no-first-run", "--disable-features=WebGPU"];

function chromiumInstalled(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Whether this process has every permission (playwright-core's import reads /proc/sys). */
function hasAllPermissions(): boolean {
  const names = ["read", "write", "net", "env", "run", "sys", "ffi"] as const;
  return names.every((name) => Deno.permissions.querySync({ name }).state === "granted");
}

if (!chromiumInstalled()) {
  const required = Deno.env.get("REQUIRE_BROWSER") === "1";
  Deno.test({
    name: `model demo in a browser (${CHROMIUM} is not installed)`,
    ignore: !required,
    fn() {
      assert.fail(`REQUIRE_BROWSER=1 but ${CHROMIUM} is not installed (apt-get install chromium)`);
    },
  });
} else if (!hasAllPermissions()) {
  Deno.test("model demo in a browser (run in a child process with --allow-all)", async () => {
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "--import-map",
        "tests/imports.json",
        "--lock=tests/deno.lock",
        "--allow-all",
        new URL(import.meta.url).pathname,
      ],
      cwd: ROOT.pathname,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    assert.equal(code, 0, `the model demo's browser test failed (exit code ${code})`);
  });
} else {
  Deno.test({
    name: "model demo: the served model predicts a picked test image in the browser",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: modelDemoTest,
  });
}

/** Bundles the island alone into `dir`, with a page that renders it. */
async function bundleDemo(dir: string): Promise<void> {
  const esbuild = await import("esbuild");
  try {
    await esbuild.build({
      stdin: {
        contents: `import { h, render } from "preact";\n` +
          `import ModelDemo from "./ModelDemo.tsx";\n` +
          `render(h(ModelDemo, { base: "./" }), document.getElementById("app"));\n`,
        resolveDir: new URL("site/islands/", ROOT).pathname,
        loader: "tsx",
      },
      bundle: true,
      format: "esm",
      splitting: true,
      platform: "browser",
      target: "es2022",
      outdir: dir,
      entryNames: "demo",
      jsx: "automatic",
      jsxImportSource: "preact",
      absWorkingDir: ROOT.pathname,
      logLevel: "error",
    });
  } finally {
    await esbuild.stop();
  }
  await Deno.writeTextFile(
    `${dir}/index.html`,
    `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">` +
      `</head><body><div id="app"></div><script type="module" src="demo.js"></script>` +
      `</body></html>`,
  );
}

async function modelDemoTest() {
  const dir = await Deno.makeTempDir({ prefix: "model-demo-" });
  const dataDir = new URL("lessons/data/", ROOT).pathname;
  await bundleDemo(dir);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (path.includes("..")) return new Response("refused", { status: 400 });
    const file = path.startsWith("/data/")
      ? dataDir + path.slice("/data/".length)
      : dir + (path === "/" ? "/index.html" : path);
    const types: Record<string, string> = {
      html: "text/html",
      js: "text/javascript",
      json: "application/json",
    };
    try {
      const type = types[file.split(".").pop()!] ?? "application/octet-stream";
      return new Response(await Deno.readFile(file), { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    await page.goto(`http://127.0.0.1:${server.addr.port}/`);
    await page.click("text=Load the model");
    await page.waitForSelector(".model-demo-images button", { timeout: 120_000 });
    const buttons = await page.$$(".model-demo-images button");
    assert.equal(buttons.length, 12, "twelve test images to pick from");
    await buttons[3].click();
    await page.waitForSelector(".model-demo-result", { timeout: 60_000 });
    const text = await page.textContent(".model-demo-result p") ?? "";
    assert.match(await page.textContent(".device") ?? "", /Running on the CPU/);

    // The framework's own prediction for the image the island shows fourth (index 3 * 166 + 3).
    const served = await loadServedModel(new URL("lessons/data/serve/fashion-cnn.json", ROOT));
    const test = await loadFashionMnist(new URL("lessons/data/fashion-mnist/", ROOT), {
      train: false,
    });
    const index = 3 * Math.floor(2000 / 12) + 3;
    const pixels = (await test.images.data()).slice(index * 784, (index + 1) * 784);
    const input = tensor(pixels, { shape: [1, 1, 28, 28] });
    const probabilities = await withNoGrad(() => served.model.forward(input).softmax(1)).data();
    const best = probabilities.indexOf(Math.max(...probabilities));
    const expected = `Predicted ${served.config.classes[best]} (${
      (probabilities[best] * 100).toFixed(1)
    }%)`;
    assert.ok(text.startsWith(expected), `the page says "${text}", expected "${expected}..."`);
    assert.deepEqual(errors, [], "no errors in the page");
    const screenshots = new URL("out/screenshots/", ROOT).pathname;
    await Deno.mkdir(screenshots, { recursive: true });
    await page.screenshot({ path: `${screenshots}model-demo.png`, fullPage: true });
  } finally {
    await browser.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}
