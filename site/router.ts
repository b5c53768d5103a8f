/**
 * The site's routes, in the shape of Fresh's file routes: each module under `routes/` exports a
 * URL `pattern`, the concrete `paths` it has (for the static build), a `load` function that
 * gathers its data (or `null` for "not found"), a `title`, and the page component as default.
 *
 * @module
 */
import type { VNode } from "preact";
import type { ApiDocs } from "./apidoc.ts";
import type { Capture } from "./capture.ts";
import type { LessonListSource, SiteLesson } from "./lessons.ts";
import type { ReadmeInfo } from "./readme.ts";

/** A step of a lesson, ready to render. */
export interface PreparedStep {
  title: string;
  /** The prose as HTML (Markdown and math rendered). */
  proseHtml: string;
  /** The step's code exactly as written in the lesson file. */
  code: string;
  /** The code, highlighted. */
  codeHtml: string;
}

/** A lesson with everything its pages show, except the captured outputs. */
export interface PreparedLesson {
  entry: SiteLesson;
  steps: PreparedStep[];
  /** The name of the lesson's notebook under `notebooks/` (`01-regression.ipynb`). */
  notebookFile: string;
  /** The lesson file's code before its first step (imports, `lesson(...)`), highlighted. */
  preambleHtml: string;
  /** The whole exercises file, highlighted, when the lesson has one. */
  exercisesHtml?: string;
}

/** What every route can read. */
export interface SiteData {
  lessons: PreparedLesson[];
  listSource: LessonListSource;
  readme: ReadmeInfo;
  api: ApiDocs;
  /** The captured outputs by lesson slug (missing while a capture runs). */
  captures: Map<string, Capture>;
  /** Slugs whose capture is running or waiting. */
  capturing: Set<string>;
}

/** Props every page component gets. */
export interface PageProps<T> {
  data: T;
  site: SiteData;
  /** The relative path from this page to the site root: "./", "../", "../../". */
  base: string;
  /** The page's path ("/lessons/01-regression/"). */
  path: string;
}

/** A route module. */
export interface RouteModule<T> {
  pattern: string;
  paths(site: SiteData): string[];
  load(site: SiteData, params: Record<string, string>): T | null | Promise<T | null>;
  title(data: T, site: SiteData): string;
  /** True when the page has islands (it then loads the island script). */
  islands?: boolean;
  default: (props: PageProps<T>) => VNode;
}

/** Matches a path against a pattern such as `/lessons/:slug/`; returns the parameters. */
export function matchPattern(pattern: string, path: string): Record<string, string> | null {
  const patternParts = pattern.split("/");
  const pathParts = path.split("/");
  if (patternParts.length !== pathParts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < patternParts.length; i++) {
    const expected = patternParts[i];
    const actual = pathParts[i];
    if (expected.startsWith(":")) {
      if (!/^[A-Za-z0-9_-]+$/.test(actual)) return null;
      params[expected.slice(1)] = actual;
    } else if (expected !== actual) {
      return null;
    }
  }
  return params;
}

/** The relative path from a page's path to the site root. */
export function basePath(path: string): string {
  const depth = path.split("/").length - 2;
  return depth <= 0 ? "./" : "../".repeat(depth);
}
