import { chromium } from "playwright-core";
import { createSite } from "./app.ts";
const site = await createSite({ capture: "wait" });
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, site.handler);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
for (const arg of Deno.args) {
  const [path, name, ...steps] = arg.split("=");
  await page.goto(`http://127.0.0.1:${server.addr.port}${path}`);
  await page.screenshot({ path: `out/${name}.png` });
  for (const step of steps) {
    await page.locator(`#step-${step}`).screenshot({ path: `out/${name}-step${step}.png` });
  }
}
await browser.close();
await server.shutdown();
await site.close();
