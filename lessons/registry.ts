/**
 * The list of lessons, read from the lesson folders: every `lessons/NN-slug/lesson.ts` is a
 * lesson, number NN, slug "slug", with the title and description of its
 * `lesson(import.meta, {...})` call. The terminal runner (`deno task lesson N`), the exercise
 * checker (`deno task check N`), the site and the notebook export all read it, so a new lesson
 * needs no entry anywhere: make its folder (see `format.ts`).
 *
 * Each lesson folder holds:
 * - `lesson.ts`: the lesson (see `format.ts`) and `lesson.test.ts`, its outcome test;
 * - `exercises.ts`: the student's file, stubs that `throw new Todo("N.k", "hint")`;
 * - `solutions.ts`: the same exports, solved;
 * - `tasks.ts`: `export default defineTasks([...])`, the check of each task (see `tasks.ts`);
 * - `exercises.test.ts`: `testTasks(tasks, solutions, exercises)`.
 *
 * Reading the folders needs permission to read `lessons/` (every task that uses this has it).
 *
 * @module
 */

import { parseLessonSource } from "./source.ts";

/** One lesson of the course. */
export interface LessonEntry {
  /** 1, 2, ...: what `deno task lesson N` takes (the folder's two digits). */
  number: number;
  /** Short name used in URLs of the site and in file names, e.g. "regression". */
  slug: string;
  /** The lesson's folder under `lessons/`, e.g. "01-regression". */
  folder: string;
  /** Title shown in lists. */
  title: string;
  /** What the lesson does, in a sentence or two. */
  description: string;
  /** The lesson module, `lessons/NN-slug/lesson.ts`. */
  moduleUrl: URL;
  /** Why the lesson file could not be read, when it could not (the entry is still listed). */
  problem?: string;
}

/** The folder name of a lesson: two digits, a dash, a slug. */
const FOLDER = /^(\d\d)-([a-z0-9][a-z0-9-]*)$/;

/** Reads the lesson folders under `root` (default: this folder), in order of their numbers. */
export function discoverLessons(root: URL = new URL("./", import.meta.url)): LessonEntry[] {
  const found: LessonEntry[] = [];
  for (const item of Deno.readDirSync(root)) {
    const match = FOLDER.exec(item.name);
    if (!item.isDirectory || !match) continue;
    const moduleUrl = new URL(`${item.name}/lesson.ts`, root);
    let text: string;
    try {
      text = Deno.readTextFileSync(moduleUrl);
    } catch {
      continue; // a folder without a lesson.ts (yet)
    }
    const entry: LessonEntry = {
      number: Number(match[1]),
      slug: match[2],
      folder: item.name,
      title: match[2],
      description: "",
      moduleUrl,
    };
    try {
      const source = parseLessonSource(text, `lessons/${item.name}/lesson.ts`);
      entry.title = source.title;
      entry.description = source.description;
      if (source.number !== entry.number) {
        entry.problem = `its lesson() call says number ${source.number}, its folder ${match[1]}`;
      }
    } catch (error) {
      entry.problem = error instanceof Error ? error.message : String(error);
    }
    found.push(entry);
  }
  return found.sort((a, b) => a.number - b.number || a.folder.localeCompare(b.folder));
}

/** All lessons, in order. */
export const lessons: LessonEntry[] = discoverLessons();

/** The lesson with this number, or undefined. */
export function findLesson(number: number): LessonEntry | undefined {
  return lessons.find((entry) => entry.number === number);
}

/** The URL of a file in a lesson's folder, e.g. `lessonFileUrl(entry, "exercises.ts")`. */
export function lessonFileUrl(entry: Pick<LessonEntry, "folder">, file: string): URL {
  return new URL(`./${entry.folder}/${file}`, import.meta.url);
}

/** Two digits for folder and file names: 3 -> "03". */
export function twoDigits(number: number): string {
  return String(number).padStart(2, "0");
}
