/**
 * The site: loads the lessons, captures their outputs, bundles the browser code, and answers
 * requests (for `site/main.ts`) or lists its pages (for `site/build.ts`). Pages are rendered
 * with Preact on the server, as Fresh does; only the live runner is hydrated in the browser.
 *
 * @module
 */
import { renderToString } from "preact-render-to-string";
import { h } from "preact";
import { generateApiDocs } from "./apidoc.ts";
import { type AssetFiles, bundleAssets, stopBundler } from "./bundle.ts";
import { type Capture, captureLesson } from "./capture.ts";
import { renderMarkdown } from "./components/markdown.ts";
import { highlight } from "./highlight.ts";
import { type LessonListSource, loadLessonList, type SiteLesson } from "./lessons.ts";
import { fromFileUrl, lessonDataDir, repoRoot, repoUrl, staticDir } from "./paths.ts";
import { readReadme } from "./readme.ts";
import { CONTENT_SECURITY_POLICY } from "./csp.ts";
import {
  basePath,
  matchPattern,
  type PreparedLesson,
  type RouteModule,
  type SiteData,
} from "./router.ts";
import { parseLessonSource } from "../lessons/source.ts";
import { lessonNotebook } from "../lessons/notebook.ts";
import * as apiRoute from "./routes/api.tsx";
import * as homeRoute from "./routes/index.tsx";
import * as lessonRoute from "./routes/lessons/[slug].tsx";
import * as exercisesRoute from "./routes/lessons/[slug]/exercises.tsx";
import NotFound from "./routes/_404.tsx";

/** The routes of the site, like Fresh's generated manifest. */
// deno-lint-ignore no-explicit-any
export const ROUTES: RouteModule<any>[] = [homeRoute, lessonRoute, exercisesRoute, apiRoute];

/** Options of {@link createSite}. */
export interface SiteOptions {
  /** Which lessons to show: the course's (default) or the fixture lessons of the site's tests. */
  lessons?: LessonListSource;
  /** Show only these lessons (by slug). */
  only?: string[];
  /**
   * When to capture outputs: "wait" before returning (the build), "background" while already
   * serving (the dev server), "none" to show pages without outputs.
   */
  capture?: "wait" | "background" | "none";
  /** Run every lesson again, ignoring cached captures. */
  refresh?: boolean;
  /** The module the API reference documents (default `mod.ts`). */
  apiEntry?: string;
  /** Minify the browser bundles (default true). */
  minify?: boolean;
  /** Progress messages (default: none). */
  log?: (line: string) => void;
}

/** A loaded site. */
export interface Site {
  data: SiteData;
  /** The bundled browser code, by path under `assets/`. */
  assets: AssetFiles;
  /** Resolves when every capture has finished. */
  captured: Promise<void>;
  /** The paths of every page (`/`, `/lessons/01-regression/`, ...). */
  pagePaths(): string[];
  /** Renders a page; unknown paths give the 404 page. */
  renderPage(path: string): Promise<{ status: number; html: string }>;
  /** Renders the 404 page for a path, with links relative to `base`. */
  renderNotFound(path: string, base: string): string;
  /** Answers an HTTP request (pages, static files, bundles, data, API docs). */
  handler(request: Request): Promise<Response>;
  /** Stops the bundler's service process. */
  close(): Promise<void>;
}

/** Loads everything and returns the site. */
export async function createSite(options: SiteOptions = {}): Promise<Site> {
  const log = options.log ?? (() => {});
  const list = await loadLessonList(options.lessons ?? "registry");
  const entries = options.only
    ? list.lessons.filter((lesson) => options.only!.includes(lesson.slug))
    : list.lessons;
  const [lessons, readme, api, assets] = await Promise.all([
    Promise.all(entries.map(prepareLesson)),
    readReadme(),
    generateApiDocs(options.apiEntry ?? "mod.ts"),
    bundleAssets(entries, { minify: options.minify }),
  ]);
  if (!api.available) log(`API reference not generated: ${api.reason}`);
  const data: SiteData = {
    lessons,
    listSource: list.source,
    readme,
    api,
    captures: new Map<string, Capture>(),
    capturing: new Set(entries.map((entry) => entry.slug)),
  };
  const captureAll = async () => {
    for (const entry of entries) {
      const capture = await captureLesson(entry, {
        source: list.source,
        refresh: options.refresh,
        log,
      });
      data.captures.set(entry.slug, capture);
      data.capturing.delete(entry.slug);
    }
  };
  let captured: Promise<void>;
  if (options.capture === "none") {
    data.capturing.clear();
    captured = Promise.resolve();
  } else {
    captured = captureAll();
    if (options.capture !== "background") await captured;
  }
  return makeSite(data, assets, captured);
}

/** Reads a lesson file and its exercises: each step's prose rendered, its code highlighted. */
async function prepareLesson(entry: SiteLesson): Promise<PreparedLesson> {
  const text = await Deno.readTextFile(repoUrl(entry.modulePath));
  const source = parseLessonSource(text, entry.modulePath);
  const steps = await Promise.all(source.steps.map(async (step) => ({
    title: step.title,
    proseHtml: renderMarkdown(step.prose),
    code: step.code,
    codeHtml: await highlight(step.code),
  })));
  let exercisesHtml: string | undefined;
  if (entry.exercisesPath) {
    try {
      exercisesHtml = await highlight(await Deno.readTextFile(repoUrl(entry.exercisesPath)));
    } catch {
      exercisesHtml = undefined;
    }
  }
  return {
    entry,
    steps,
    notebookFile: `${entry.modulePath.split("/").at(-2)}.ipynb`,
    preambleHtml: source.prelude ? await highlight(source.prelude) : "",
    exercisesHtml,
  };
}

function makeSite(data: SiteData, assets: AssetFiles, captured: Promise<void>): Site {
  const renderNotFound = (path: string, base: string) =>
    "<!DOCTYPE html>" + renderToString(h(NotFound, { site: data, base, path }));

  const renderPage = async (path: string) => {
    for (const route of ROUTES) {
      const params = matchPattern(route.pattern, path);
      if (!params) continue;
      const pageData = await route.load(data, params);
      if (pageData === null) break;
      const base = basePath(path);
      const page = h(route.default, { data: pageData, site: data, base, path });
      return { status: 200, html: "<!DOCTYPE html>" + renderToString(page) };
    }
    return { status: 404, html: renderNotFound(path, basePath(directoryOf(path))) };
  };

  const pagePaths = () => ROUTES.flatMap((route) => route.paths(data));

  const handler = async (request: Request): Promise<Response> => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD", ...SECURITY_HEADERS },
      });
    }
    const checked = checkRequestPath(request.url);
    if (!checked.ok) {
      return new Response(`Bad request: ${checked.reason}\n`, {
        status: checked.status,
        headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS },
      });
    }
    const response = await answer(checked.path, checked.segments);
    return request.method === "HEAD" ? new Response(null, response) : response;
  };

  const answer = async (path: string, segments: string[]): Promise<Response> => {
    const [top, ...rest] = segments;
    if (top === "static") return await fileResponse(staticDir, rest, path);
    if (top === "notebooks" && rest.length === 1) {
      const notebook = data.lessons.find((lesson) => lesson.notebookFile === rest[0]);
      if (!notebook) return notFound(path);
      return bytesResponse(await notebookBytes(notebook), rest[0]);
    }
    if (top === "data") {
      // The lessons' data files, not the scripts that made them.
      if (rest.some((name) => name.endsWith(".ts"))) return notFound(path);
      return await fileResponse(lessonDataDir, rest, path);
    }
    if (top === "assets" && rest[0] === "katex") {
      return await fileResponse(katexDir(), rest.slice(1), path);
    }
    if (top === "assets") {
      const bytes = assets.get(rest.join("/"));
      return bytes ? bytesResponse(bytes, rest.join("/")) : notFound(path);
    }
    if (top === "api" && rest[0] === "doc" && data.api.htmlDir) {
      const inner = rest.slice(1);
      if (inner.length === 0 || inner[inner.length - 1] === "") inner.splice(-1, 1, "index.html");
      return await fileResponse(data.api.htmlDir, inner, path);
    }
    // A page: `/lessons/x/index.html` is `/lessons/x/`; `/lessons/x` redirects to `/lessons/x/`.
    let pagePath = path.endsWith("/index.html") ? path.slice(0, -"index.html".length) : path;
    if (!pagePath.endsWith("/")) {
      const withSlash = `${pagePath}/`;
      if (ROUTES.some((route) => matchPattern(route.pattern, withSlash))) {
        const name = pagePath.slice(pagePath.lastIndexOf("/") + 1);
        return new Response(null, {
          status: 301,
          headers: { location: `./${name}/`, ...SECURITY_HEADERS },
        });
      }
      pagePath = path;
    }
    const page = await renderPage(pagePath);
    return new Response(page.html, {
      status: page.status,
      headers: { "content-type": "text/html; charset=utf-8", ...PAGE_HEADERS },
    });
  };

  const notFound = (path: string) =>
    new Response(renderNotFound(path, basePath(directoryOf(path))), {
      status: 404,
      headers: { "content-type": "text/html; charset=utf-8", ...PAGE_HEADERS },
    });

  const fileResponse = async (root: URL, segments: string[], path: string) => {
    const file = await resolveInside(root, segments);
    if (!file) return notFound(path);
    return bytesResponse(await Deno.readFile(file), file);
  };

  return {
    data,
    assets,
    captured,
    pagePaths,
    renderPage,
    renderNotFound,
    handler,
    close: stopBundler,
  };
}

/**
 * The folder of KaTeX's stylesheet and fonts under `root`'s `node_modules`: the version that the
 * site's import map names, where Deno installs it (`node_modules/.deno/katex@<version>/`), else
 * `node_modules/katex/` when Deno linked it there. Throws when neither has the stylesheet, so a
 * build never goes out without it.
 */
export function katexDir(root: URL = repoRoot): URL {
  let named: string | undefined;
  try {
    named = /^npm:\/?(katex@[^/]+)/.exec(import.meta.resolve("katex"))?.[1];
  } catch {
    named = undefined;
  }
  const installed = new URL("node_modules/.deno/", root);
  const candidates: URL[] = [];
  if (named) {
    let folders: string[] = [];
    try {
      folders = [...Deno.readDirSync(installed)].map((entry) => entry.name).sort();
    } catch {
      folders = [];
    }
    for (const folder of folders) {
      if (folder === named || folder.startsWith(`${named}_`)) {
        candidates.push(new URL(`${folder}/node_modules/katex/dist/`, installed));
      }
    }
  }
  candidates.push(new URL("node_modules/katex/dist/", root));
  for (const dir of candidates) {
    try {
      if (Deno.statSync(new URL("katex.min.css", dir)).isFile) return dir;
    } catch {
      // not installed here; try the next place
    }
  }
  throw new Error(
    `KaTeX's stylesheet (${named ?? "katex"}) is in none of: ` +
      candidates.map((dir) => fromFileUrl(dir)).join(", ") +
      "; run `deno task build` once with network access so Deno installs it",
  );
}

/**
 * A lesson's Jupyter notebook, the file `deno task notebook N` writes to `out/notebooks/` (its
 * imports are relative to that folder of the repository).
 */
export async function notebookBytes(prepared: PreparedLesson): Promise<Uint8Array> {
  const moduleUrl = repoUrl(prepared.entry.modulePath);
  const notebook = lessonNotebook(
    await Deno.readTextFile(moduleUrl),
    moduleUrl,
    fromFileUrl(repoUrl("out/notebooks/")),
  );
  return new TextEncoder().encode(JSON.stringify(notebook, null, 1) + "\n");
}

function directoryOf(path: string): string {
  return path.endsWith("/") ? path : path.slice(0, path.lastIndexOf("/") + 1);
}

/** Headers of every response. */
const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // Cross-origin isolation: lets the core's WebAssembly kernels share memory with a second
  // thread in the browser (everything the site loads is its own, so nothing breaks).
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
};

/** Headers of pages: what they may load (see csp.ts). */
const PAGE_HEADERS: Record<string, string> = {
  ...SECURITY_HEADERS,
  "cache-control": "no-cache",
  "content-security-policy": CONTENT_SECURITY_POLICY,
};

/** Content types of the files the site serves. */
const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  ipynb: "application/x-ipynb+json",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  woff2: "font/woff2",
  woff: "font/woff",
  ttf: "font/ttf",
  wasm: "application/wasm",
  csv: "text/csv; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  md: "text/plain; charset=utf-8",
  gz: "application/gzip",
  safetensors: "application/octet-stream",
};

/** The content type of a file, by its extension. */
export function contentType(name: string): string {
  const extension = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  return CONTENT_TYPES[extension] ?? "application/octet-stream";
}

function bytesResponse(bytes: Uint8Array, name: string): Response {
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: {
      "content-type": contentType(name),
      "cache-control": "no-cache",
      ...SECURITY_HEADERS,
      // Static files get the pages' policy too (a worker script or an SVG obeys its own).
      "content-security-policy": CONTENT_SECURITY_POLICY,
    },
  });
}

/** The result of checking a request's path. */
export type PathCheck =
  | { ok: true; path: string; segments: string[] }
  | { ok: false; status: 400 | 404; reason: string };

/** Characters allowed in a decoded path segment. */
const SEGMENT = /^[A-Za-z0-9_~@+,=-][A-Za-z0-9_~@+,=.-]*$/;

/**
 * Checks the path of a request URL before anything is looked up: no `..` or `.` segments, no
 * encoded dots, slashes, backslashes or NUL, no hidden files, only plain characters. The check
 * reads the raw URL text, so `%2e%2e` is refused even where a URL parser would resolve it.
 */
export function checkRequestPath(url: string): PathCheck {
  const afterScheme = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "");
  const rawPath = afterScheme.split(/[?#]/)[0] || "/";
  if (!rawPath.startsWith("/")) {
    return { ok: false, status: 400, reason: "the path must start with /" };
  }
  if (/%(2e|2f|5c|00)/i.test(rawPath) || rawPath.includes("\\") || rawPath.includes("\0")) {
    return {
      ok: false,
      status: 400,
      reason: "encoded dots, slashes and backslashes are not allowed",
    };
  }
  const rawSegments = rawPath.split("/").slice(1);
  if (rawSegments.some((segment) => segment === ".." || segment === ".")) {
    return { ok: false, status: 400, reason: "`..` and `.` are not allowed in paths" };
  }
  let segments: string[];
  try {
    segments = rawSegments.map((segment) => decodeURIComponent(segment));
  } catch {
    return { ok: false, status: 400, reason: "the path is not valid percent-encoding" };
  }
  // Every segment but a trailing empty one must be a plain name.
  const names = segments[segments.length - 1] === "" ? segments.slice(0, -1) : segments;
  if (names.some((segment) => !SEGMENT.test(segment))) {
    return { ok: false, status: 404, reason: "no such file" };
  }
  return { ok: true, path: "/" + segments.join("/"), segments };
}

/**
 * The file at `segments` under `root`, when it is a regular file whose real path (links
 * followed) is still inside `root`; `undefined` otherwise.
 */
export async function resolveInside(root: URL, segments: string[]): Promise<string | undefined> {
  if (segments.length === 0 || segments.some((segment) => !SEGMENT.test(segment))) return undefined;
  try {
    const realRoot = await Deno.realPath(fromFileUrl(root));
    const candidate = await Deno.realPath(fromFileUrl(new URL(segments.join("/"), root)));
    if (!candidate.startsWith(realRoot.endsWith("/") ? realRoot : `${realRoot}/`)) return undefined;
    const info = await Deno.stat(candidate);
    return info.isFile ? candidate : undefined;
  } catch {
    return undefined;
  }
}
