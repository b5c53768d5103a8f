/**
 * Where things are: the repository root, the site's folders, and conversions between file URLs
 * and paths relative to the repository.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { relative } from "node:path";

/** The repository root, as a file URL ending in `/`. */
export const repoRoot: URL = new URL("../", import.meta.url);
/** The site's folder. */
export const siteDir: URL = new URL("./", import.meta.url);
/** Files served as they are. */
export const staticDir: URL = new URL("static/", siteDir);
/** The default output folder of `deno task build`. */
export const distDir: URL = new URL("dist/", siteDir);
/** Captured lesson outputs and generated API docs, kept between runs. */
export const cacheDir: URL = new URL("out/site-cache/", repoRoot);
/** The data files the lessons read (served to the browser for live runs). */
export const lessonDataDir: URL = new URL("lessons/data/", repoRoot);

/** A file URL as a path of this machine. */
export function fromFileUrl(url: URL): string {
  return fileURLToPath(url);
}

/** A file URL as a path relative to the repository root, with `/` separators. */
export function toRepoPath(url: URL): string {
  return relative(fromFileUrl(repoRoot), fromFileUrl(url)).split("\\").join("/");
}

/** A path relative to the repository root as a file URL. */
export function repoUrl(path: string): URL {
  return new URL(path, repoRoot);
}
