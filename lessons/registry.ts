/**
 * The list of lessons, in order. The terminal runner (`deno task lesson N`), the exercise checker
 * (`deno task check N`) and the site all read it.
 *
 * Each lesson lives in its own folder, `lessons/NN-name/`, with:
 * - `lesson.ts`: the lesson, `export default defineLesson({...})` (see `format.ts`);
 * - `exercises.ts`: the student's file, stubs that `throw new Todo("N.k", "hint")`;
 * - `solutions.ts`: the same exports, solved;
 * - `tasks.ts`: `export default defineTasks([...])`, the check of each task (see `tasks.ts`);
 * - `exercises.test.ts`: `testTasks(tasks, solutions, exercises)`.
 *
 * To add a lesson, append an entry below. `load` is a function, not an import at the top, so that
 * listing the lessons does not load them all; its import is a literal path so that bundlers and
 * `deno check` can follow it.
 *
 * @module
 */

import type { Lesson } from "./format.ts";

/** One lesson of the course. */
export interface LessonEntry {
  /** 1, 2, ...: what `deno task lesson N` takes. */
  number: number;
  /** Short name used in URLs of the site, e.g. "regression". */
  slug: string;
  /** The lesson's folder under `lessons/`, e.g. "01-regression". */
  folder: string;
  /** Title shown in lists. */
  title: string;
  /** Loads the lesson module. */
  load: () => Promise<Lesson>;
}

/** All lessons, in order. Lesson authors append their entry here. */
export const lessons: LessonEntry[] = [
  {
    number: 1,
    slug: "regression",
    folder: "01-regression",
    title: "Regression: tensors, gradients and a first training loop",
    load: async () => (await import("./01-regression/lesson.ts")).default,
  },
  {
    number: 2,
    slug: "interpolation",
    folder: "02-interpolation",
    title: "Interpolation vs extrapolation: what a network learns",
    load: async () => (await import("./02-interpolation/lesson.ts")).default,
  },
  {
    number: 3,
    slug: "cnn",
    folder: "03-cnn",
    title: "CNN forward and backward",
    load: async () => (await import("./03-cnn/lesson.ts")).default,
  },
  {
    number: 4,
    slug: "batchnorm",
    folder: "04-batchnorm",
    title: "Batch normalization",
    load: async () => (await import("./04-batchnorm/lesson.ts")).default,
  },
  {
    number: 5,
    slug: "transfer",
    folder: "05-transfer",
    title: "Transfer learning",
    load: async () => (await import("./05-transfer/lesson.ts")).default,
  },
];

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
