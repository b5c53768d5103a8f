/**
 * The static build (`deno task build`): it writes every page, and every link and asset reference
 * of the site's own pages is relative and points at a file of the build, so the copy works from
 * any sub-path of any static host.
 *
 * @module
 */
import assert from "node:assert/strict";
import { buildSite } from "../site/build.ts";

const OUT = new URL("../out/site-test/build/", import.meta.url);

/** Every file under a folder, as paths relative to it. */
async function listFiles(dir: URL, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      files.push(...await listFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`));
    } else {
      files.push(`${prefix}${entry.name}`);
    }
  }
  return files;
}

Deno.test(
  "the static build writes every page, with relative links that all resolve",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    const result = await buildSite({ outDir: OUT, lessons: "fixtures", base: "/course/" });
    assert.deepEqual(result.failed, []);
    const files = new Set(await listFiles(OUT));
    for (
      const page of [
        "index.html",
        "404.html",
        "lessons/fixture-line/index.html",
        "lessons/fixture-failure/index.html",
        "lessons/fixture-line/exercises/index.html",
        "api/index.html",
        "static/style.css",
        "assets/islands.js",
        "assets/workers/fixture-line.js",
        "assets/katex/katex.min.css",
      ]
    ) {
      assert.ok(files.has(page), `the build has no ${page}`);
    }
    assert.ok(result.sitePages >= 5, `only ${result.sitePages} site pages`);

    const sitePages = [...files].filter((f) => f.endsWith(".html") && !f.startsWith("api/doc/"));
    let checked = 0;
    for (const page of sitePages.filter((p) => p !== "404.html")) {
      const html = await Deno.readTextFile(new URL(page, OUT));
      for (const [, reference] of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
        if (/^(https?:|mailto:|data:|#)/.test(reference)) continue;
        assert.ok(!reference.startsWith("/"), `${page}: link "${reference}" is not relative`);
        const target = new URL(reference.split("#")[0], new URL(page, OUT));
        let path = decodeURIComponent(target.pathname.slice(OUT.pathname.length));
        if (path === "" || path.endsWith("/")) path += "index.html";
        assert.ok(files.has(path), `${page}: link "${reference}" points at a missing ${path}`);
        checked++;
      }
    }
    assert.ok(checked > 30, `only ${checked} links checked`);
    // The 404 page is served at any depth, so it links from the configured base.
    const notFound = await Deno.readTextFile(new URL("404.html", OUT));
    assert.ok(notFound.includes('href="/course/static/style.css"'));
  },
);
