/**
 * The list of lessons the site shows: the real ones from `lessons/registry.ts`, or the fixture
 * lessons of the tests while the registry does not exist yet.
 *
 * @module
 */
import type { Lesson } from "../lessons/format.ts";
import { fromFileUrl, repoRoot, repoUrl, toRepoPath } from "./paths.ts";

/** One task of a lesson's exercises. */
export interface SiteTask {
  id: string;
  title: string;
  hint: string;
}

/** A lesson as the site knows it before running it. */
export interface SiteLesson {
  number: number;
  slug: string;
  title: string;
  description: string;
  /** The lesson module's path, relative to the repository root (`lessons/01-regression/lesson.ts`). */
  modulePath: string;
  /** The exercises file a student edits, relative to the repository root, when there is one. */
  exercisesPath?: string;
  /** The exercise tasks, in order. */
  tasks: SiteTask[];
  /** Imports the lesson module. */
  load(): Promise<Lesson>;
}

/** Where the list came from. */
export type LessonListSource = "registry" | "fixtures";

/** The registry module of the real lessons. */
export const REGISTRY_URL: URL = new URL("lessons/registry.ts", repoRoot);
/** The fixture list used by the tests, and by the site until the registry exists. */
export const FIXTURES_URL: URL = new URL("tests/fixtures/site_lessons.ts", repoRoot);

/**
 * Loads the lesson list. With `source: "auto"` (the default) the registry is used when
 * `lessons/registry.ts` exists, else the fixture list.
 */
export async function loadLessonList(
  source: LessonListSource | "auto" = "auto",
): Promise<{ source: LessonListSource; lessons: SiteLesson[] }> {
  let requested = source;
  if (requested === "auto") {
    // The registry once it lists a lesson; the fixtures until then.
    const registry = (await exists(REGISTRY_URL))
      ? findEntries(await import(REGISTRY_URL.href))
      : [];
    requested = registry && registry.length > 0 ? "registry" : "fixtures";
  }
  const url = requested === "registry" ? REGISTRY_URL : FIXTURES_URL;
  const module = await import(url.href);
  const entries = findEntries(module);
  if (!entries) {
    throw new Error(
      `loadLessonList: ${toRepoPath(url)} exports no array of lessons ` +
        "(expected `export const lessons = [...]` or a default-exported array)",
    );
  }
  const lessons = await Promise.all(entries.map((entry) => normalizeEntry(entry, url)));
  lessons.sort((a, b) => a.number - b.number);
  return { source: requested, lessons };
}

/** Finds the array of lesson entries among a module's exports. */
function findEntries(module: Record<string, unknown>): Record<string, unknown>[] | undefined {
  for (const name of ["lessons", "registry", "default"]) {
    if (Array.isArray(module[name])) return module[name] as Record<string, unknown>[];
  }
  for (const value of Object.values(module)) {
    if (Array.isArray(value) && value.every((v) => typeof v?.load === "function")) return value;
  }
  return undefined;
}

/** Reads a registry entry, filling what it leaves out from the lesson module and its folder. */
async function normalizeEntry(
  entry: Record<string, unknown>,
  listUrl: URL,
): Promise<SiteLesson> {
  const rawLoad = entry.load as (() => Promise<unknown>) | undefined;
  if (typeof rawLoad !== "function") {
    throw new Error(`loadLessonList: an entry of ${toRepoPath(listUrl)} has no load() function`);
  }
  const load = async (): Promise<Lesson> => {
    const loaded = await rawLoad();
    const lesson = (loaded as { default?: Lesson }).default ?? loaded;
    return lesson as Lesson;
  };
  const number = Number(entry.number);
  const slug = String(entry.slug ?? "");
  let title = entry.title as string | undefined;
  let description = entry.description as string | undefined;
  if (title === undefined || description === undefined || !slug) {
    const lesson = await load();
    title ??= lesson.title;
    description ??= lesson.description;
  }
  const folder = typeof entry.folder === "string" ? `lessons/${entry.folder}/` : undefined;
  const modulePath = resolvePath(entry, ["module", "file", "path", "url"], listUrl) ??
    `${folder ?? `lessons/${slug}/`}lesson.ts`;
  let exercisesPath = resolvePath(entry, ["exercises", "exercisesFile", "exercisesPath"], listUrl);
  let tasks = readTasks(entry.tasks);
  if (folder) {
    // The registry's layout: `exercises.ts` and `tasks.ts` beside `lesson.ts`.
    if (!exercisesPath && (await exists(repoUrl(`${folder}exercises.ts`)))) {
      exercisesPath = `${folder}exercises.ts`;
    }
    if (tasks.length === 0 && (await exists(repoUrl(`${folder}tasks.ts`)))) {
      tasks = readTasks((await import(repoUrl(`${folder}tasks.ts`).href)).default);
    }
  }
  return {
    number,
    slug: slug || (await load()).slug,
    title: title ?? `Lesson ${number}`,
    description: description ?? "",
    modulePath,
    exercisesPath,
    tasks,
    load,
  };
}

/** The first of `keys` that holds a URL or path, as a path relative to the repository root. */
function resolvePath(
  entry: Record<string, unknown>,
  keys: string[],
  base: URL,
): string | undefined {
  for (const key of keys) {
    const value = entry[key];
    if (value instanceof URL) return toRepoPath(value);
    if (typeof value === "string" && /\.(ts|js)$/.test(value)) {
      return toRepoPath(new URL(value, value.startsWith("lessons/") ? repoRoot : base));
    }
  }
  return undefined;
}

/** Reads a task list, whatever the names of its fields. */
function readTasks(value: unknown): SiteTask[] {
  if (!Array.isArray(value)) return [];
  return value.map((task) => ({
    id: String(task.id ?? ""),
    title: String(task.title ?? task.name ?? ""),
    hint: String(task.hint ?? ""),
  }));
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(fromFileUrl(url));
    return true;
  } catch {
    return false;
  }
}
