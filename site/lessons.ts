/**
 * The list of lessons the site shows: the lesson folders of `lessons/` (read by
 * `lessons/registry.ts`), or, for the site's tests, the fixture lessons in the same layout under
 * `tests/fixtures/site_lessons/`.
 *
 * @module
 */
import { discoverLessons } from "../lessons/registry.ts";
import { fromFileUrl, repoUrl, toRepoPath } from "./paths.ts";
import { readTaskLists } from "./task_list.ts";

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
}

/** Where the list comes from: the real lessons, or the fixture lessons of the site's tests. */
export type LessonListSource = "registry" | "fixtures";

/** The folder of the real lessons. */
export const LESSONS_URL: URL = repoUrl("lessons/");
/** The folder of the fixture lessons used by the site's tests. */
export const FIXTURES_URL: URL = repoUrl("tests/fixtures/site_lessons/");

/** Reads the lesson list: each `NN-slug/lesson.ts` with its exercises and tasks beside it. */
export async function loadLessonList(
  source: LessonListSource = "registry",
): Promise<{ source: LessonListSource; lessons: SiteLesson[] }> {
  const root = source === "registry" ? LESSONS_URL : FIXTURES_URL;
  const lessons: SiteLesson[] = [];
  const taskFiles: URL[] = [];
  for (const entry of discoverLessons(root)) {
    const folder = new URL(`${entry.folder}/`, root);
    const exercises = new URL("exercises.ts", folder);
    const tasksFile = new URL("tasks.ts", folder);
    lessons.push({
      number: entry.number,
      slug: entry.slug,
      title: entry.title,
      description: entry.description,
      modulePath: toRepoPath(entry.moduleUrl),
      exercisesPath: (await exists(exercises)) ? toRepoPath(exercises) : undefined,
      tasks: [],
    });
    taskFiles.push(tasksFile);
  }
  // A lesson's tasks.ts is lesson code: it is read in a child process, not imported here.
  const present = await Promise.all(taskFiles.map(exists));
  const lists = await readTaskLists(taskFiles.filter((_, i) => present[i]));
  let next = 0;
  lessons.forEach((lesson, i) => {
    if (present[i]) lesson.tasks = lists[next++];
  });
  return { source, lessons };
}

/** Reads a task list, whatever the names of its fields. */
export function readTasks(value: unknown): SiteTask[] {
  const list = Array.isArray(value)
    ? value
    : Array.isArray((value as { tasks?: unknown })?.tasks)
    ? (value as { tasks: unknown[] }).tasks
    : [];
  return list.map((task) => ({
    id: String(task.id ?? ""),
    title: String(task.title ?? task.name ?? ""),
    hint: String(Array.isArray(task.hint) ? task.hint[0] : task.hint ?? task.hints?.[0] ?? ""),
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
