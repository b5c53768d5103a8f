/**
 * Checks a student's exercises: `deno task check 3` checks `lessons/03-cnn/exercises.ts` and
 * prints one line a task; `deno task check` checks every lesson.
 *
 * ```
 * Lesson 3: CNN forward and backward (lessons/03-cnn/exercises.ts)
 *   ✔ 3.1 convolution forward by loops
 *   ✘ 3.2 weight gradient by loops: not yet: correlate the input with the output gradient
 *   ✘ 3.3 max pooling forward: output at [0, 0, 1, 1]: expected 0.93, received 0.41
 *   1 of 3 tasks done.
 * ```
 *
 * Exit status: 0 when every checked task is done, 1 otherwise.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { lessonFileUrl, lessons } from "./registry.ts";
import { formatResult, runTask, type Task } from "./tasks.ts";
import { type Paint, painter } from "./terminal/style.ts";

/** What to check: a lesson's tasks and the module holding the student's answers. */
export interface CheckTarget {
  /** Heading, e.g. "Lesson 3: CNN forward and backward". */
  title: string;
  /** The lesson's `tasks.ts`. */
  tasksUrl: URL;
  /** The module checked, normally the lesson's `exercises.ts`. */
  exercisesUrl: URL;
}

/** How many tasks were checked and how many are done. */
export interface CheckCount {
  /** Tasks whose check passed. */
  done: number;
  /** Tasks checked. */
  total: number;
}

/** A path as the student would type it: relative to the working directory when inside it. */
function shortPath(url: URL): string {
  const path = fileURLToPath(url);
  try {
    const inside = relative(Deno.cwd(), path);
    return inside.startsWith("..") ? path : inside;
  } catch {
    return path; // no permission to read the working directory's name
  }
}

/** The first line of an error, without a stack. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "unknown error";
}

/**
 * Checks one lesson and writes its lines. Never throws: a module that does not load is reported
 * in one line too.
 */
export async function checkLesson(
  target: CheckTarget,
  write: (line: string) => void,
  paint: Paint,
): Promise<CheckCount> {
  write(`${paint(target.title, "bold")} ${paint(`(${shortPath(target.exercisesUrl)})`, "dim")}`);
  let tasks: Task<unknown>[];
  try {
    const module = await import(target.tasksUrl.href);
    tasks = module.default ?? module.tasks;
    if (!Array.isArray(tasks)) {
      throw new Error("tasks.ts has no default export of defineTasks([...])");
    }
  } catch (error) {
    write(`  ${paint("✘", "red")} could not load ${shortPath(target.tasksUrl)}: ${oneLine(error)}`);
    return { done: 0, total: 0 };
  }
  let exercises: unknown;
  try {
    exercises = await import(target.exercisesUrl.href);
  } catch (error) {
    write(
      `  ${paint("✘", "red")} could not load ${shortPath(target.exercisesUrl)}: ${oneLine(error)}`,
    );
    return { done: 0, total: tasks.length };
  }
  let done = 0;
  for (const task of tasks) {
    const result = await runTask(task, exercises, { moduleUrl: target.exercisesUrl.href });
    if (result.status === "done") done++;
    write(`  ${formatResult(result, paint)}`);
  }
  const summary = `${done} of ${tasks.length} task${tasks.length === 1 ? "" : "s"} done.`;
  write(`  ${done === tasks.length ? paint(summary, "green") : summary}`);
  return { done, total: tasks.length };
}

const USAGE = `Usage: deno task check [N]
  Checks lesson N's exercises.ts, one line a task; without N, every lesson.`;

/**
 * The command line: checks and prints, then returns the exit status (0 all done, 1 not all done,
 * 2 bad arguments).
 */
export async function main(
  args: string[],
  write: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        help: { type: "boolean", short: "h" },
        // For tests and lesson authors: check a folder outside the registry, or another file.
        folder: { type: "string" },
        exercises: { type: "string" },
      },
    });
  } catch (error) {
    write(`${oneLine(error)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    write(USAGE);
    return 0;
  }
  const paint = painter(Deno.stdout.isTerminal() && !Deno.noColor);
  const targets: CheckTarget[] = [];
  const exercisesFile = values.exercises ?? "exercises.ts";

  if (values.folder) {
    const folder = pathToFileURL(values.folder.replace(/\/?$/, "/"));
    targets.push({
      title: `Exercises in ${values.folder}`,
      tasksUrl: new URL("tasks.ts", folder),
      exercisesUrl: new URL(exercisesFile, folder),
    });
  } else {
    let chosen = lessons;
    if (positionals.length > 0) {
      const number = Number(positionals[0]);
      chosen = lessons.filter((entry) => entry.number === number);
      if (chosen.length === 0) {
        const known = lessons.map((entry) => entry.number).join(", ") || "none yet";
        write(`There is no lesson ${positionals[0]}. Lessons: ${known}.`);
        return 2;
      }
    }
    if (chosen.length === 0) {
      write("There are no lessons yet.");
      return 0;
    }
    for (const entry of chosen) {
      targets.push({
        title: `Lesson ${entry.number}: ${entry.title}`,
        tasksUrl: lessonFileUrl(entry, "tasks.ts"),
        exercisesUrl: lessonFileUrl(entry, exercisesFile),
      });
    }
  }

  let done = 0;
  let total = 0;
  for (const [i, target] of targets.entries()) {
    if (i > 0) write("");
    const count = await checkLesson(target, write, paint);
    done += count.done;
    total += count.total;
  }
  if (targets.length > 1) {
    write(`\n${done} of ${total} tasks done in ${targets.length} lessons.`);
  }
  return done === total && total > 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
