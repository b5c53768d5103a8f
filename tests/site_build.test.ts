/**
 * The static build (`deno task build`): it writes every page, and every link and asset reference
 * of the site's own pages is relative and points at a file of the build, so the copy works from
 * any sub-path of any static host.
 *
 * @module
 */
import assert from "node:assert/strict";
import { buildSite } from "../site/build.ts";
import { katexDir } from "../site/app.ts";
import { copy } from "../site/copy.ts";

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

Deno.test("KaTeX's stylesheet is found where Deno installs it, and its absence is an error", async () => {
  const version = /^npm:\/?(katex@[^/]+)/.exec(import.meta.resolve("katex"))?.[1];
  assert.ok(version, "the import map names no KaTeX version");
  const root = await Deno.makeTempDir({ prefix: "gradlab-katex-" });
  try {
    const rootUrl = new URL(`file://${root}/`);
    // A fresh clone: KaTeX only under node_modules/.deno, with no node_modules/katex link.
    assert.throws(() => katexDir(rootUrl), /KaTeX's stylesheet/);
    const dist = new URL(`node_modules/.deno/${version}/node_modules/katex/dist/`, rootUrl);
    await Deno.mkdir(dist, { recursive: true });
    await Deno.writeTextFile(new URL("katex.min.css", dist), ".katex{}");
    assert.equal(katexDir(rootUrl).href, dist.href);
    // The repository's own install has the stylesheet too.
    assert.ok((await Deno.stat(new URL("katex.min.css", katexDir()))).isFile);
    // Copying a folder that is not there fails instead of copying nothing.
    await assert.rejects(
      copy(new URL("missing/", rootUrl), new URL("out/", rootUrl)),
      /cannot read/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
