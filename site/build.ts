/**
 * `deno task build`: writes the whole site as static files that any static host can serve, from
 * its root or from a sub-path (every link is relative).
 *
 * Flags: `--out DIR` (default `site/dist`), `--base /path/` (where the site will live, used only
 * by `404.html`, which a host serves at any depth; default `/`), `--refresh` (capture every
 * lesson again instead of using the cache), `--fixtures` (build the test fixtures' site),
 * `--only slug,slug` (some lessons only).
 *
 * @module
 */
import { copy } from "./copy.ts";
import { createSite, katexDir, notebookBytes, type SiteOptions } from "./app.ts";
import { distDir, fromFileUrl, lessonDataDir, staticDir } from "./paths.ts";
import { headersFile } from "./csp.ts";

/** Options of {@link buildSite}. */
export interface BuildOptions extends SiteOptions {
  /** The folder to write (default `site/dist/`). */
  outDir?: URL;
  /** The absolute URL path the site will be served from, for `404.html` (default "/"). */
  base?: string;
}

/** What a build wrote. */
export interface BuildResult {
  outDir: URL;
  /** The HTML pages written (the site's own pages and the API reference's). */
  pages: number;
  /** Pages of the site itself (not counting the API reference's). */
  sitePages: number;
  files: number;
  /** Lessons whose capture failed. */
  failed: string[];
}

/** A marker file: a folder that has it was written by a build and may be replaced. */
const MARKER = ".site-build";

/** Builds the site into `outDir`. */
export async function buildSite(options: BuildOptions = {}): Promise<BuildResult> {
  const outDir = options.outDir ?? distDir;
  const base = normalizeBase(options.base ?? "/");
  await prepareOutDir(outDir);
  const site = await createSite({ ...options, capture: "wait" });
  try {
    let files = 0;
    let pages = 0;
    const write = async (path: string, content: string | Uint8Array) => {
      const target = new URL(path.replace(/^\//, ""), outDir);
      await Deno.mkdir(new URL("./", target), { recursive: true });
      if (typeof content === "string") await Deno.writeTextFile(target, content);
      else await Deno.writeFile(target, content);
      files++;
      if (path.endsWith(".html")) pages++;
    };
    for (const path of site.pagePaths()) {
      const page = await site.renderPage(path);
      if (page.status !== 200) {
        throw new Error(`build: ${path} rendered with status ${page.status}`);
      }
      await write(`${path}index.html`, page.html);
    }
    await write("/404.html", site.renderNotFound("this address", base));
    // The static files' Content-Security-Policy, for hosts that read a _headers file.
    await write("/_headers", headersFile());
    const sitePages = pages;
    for (const [path, bytes] of site.assets) await write(`/assets/${path}`, bytes);
    for (const lesson of site.data.lessons) {
      await write(`/notebooks/${lesson.notebookFile}`, await notebookBytes(lesson));
    }
    files += await copy(staticDir, new URL("static/", outDir));
    files += await copy(
      katexDir(),
      new URL("assets/katex/", outDir),
      (name) => name === "katex.min.css" || name === "fonts" || name.endsWith(".woff2"),
    );
    files += await copy(lessonDataDir, new URL("data/", outDir), (name) => !name.endsWith(".ts"));
    if (site.data.api.htmlDir) {
      const counted = await copy(site.data.api.htmlDir, new URL("api/doc/", outDir));
      files += counted;
      pages += await countHtml(new URL("api/doc/", outDir));
    }
    await Deno.writeTextFile(new URL(MARKER, outDir), "written by deno task build\n");
    const failed = [...site.data.captures.values()].filter((c) => c.error).map((c) => c.slug);
    return { outDir, pages, sitePages, files, failed };
  } finally {
    await site.close();
  }
}

/** Empties the output folder, refusing to touch a folder that a build did not write. */
async function prepareOutDir(outDir: URL): Promise<void> {
  let names: string[] = [];
  try {
    for await (const entry of Deno.readDir(outDir)) names.push(entry.name);
  } catch {
    names = [];
  }
  if (names.length > 0 && !names.includes(MARKER)) {
    throw new Error(
      `build: ${fromFileUrl(outDir)} is not empty and was not written by a build; ` +
        "choose another --out folder or empty it",
    );
  }
  if (names.length > 0) await Deno.remove(outDir, { recursive: true });
  await Deno.mkdir(outDir, { recursive: true });
}

async function countHtml(dir: URL): Promise<number> {
  let count = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) count += await countHtml(new URL(`${entry.name}/`, dir));
    else if (entry.name.endsWith(".html")) count++;
  }
  return count;
}

function normalizeBase(base: string): string {
  let path = base.startsWith("/") ? base : `/${base}`;
  if (!path.endsWith("/")) path += "/";
  return path;
}

if (import.meta.main) {
  const args = Deno.args;
  const option = (name: string) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const out = option("out");
  const started = performance.now();
  const result = await buildSite({
    outDir: out ? new URL(out.endsWith("/") ? out : `${out}/`, `file://${Deno.cwd()}/`) : undefined,
    base: option("base"),
    refresh: args.includes("--refresh"),
    lessons: args.includes("--fixtures") ? "fixtures" : "registry",
    only: option("only")?.split(","),
    log: (line) => console.log(`build: ${line}`),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `build: wrote ${result.pages} pages (${result.sitePages} site pages, ` +
      `${result.pages - result.sitePages} API reference pages), ${result.files} files, ` +
      `to ${fromFileUrl(result.outDir)} in ${seconds} s`,
  );
  if (result.failed.length > 0) {
    console.error(`build: these lessons failed while capturing: ${result.failed.join(", ")}`);
    Deno.exit(1);
  }
}
