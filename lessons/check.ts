/**
 * Checks a student's exercises: `deno task check 3` checks `lessons/03-cnn/exercises.ts` and
 * prints one line a task; `deno task check` checks every lesson; `--hint 2` gives the second,
 * fuller hint.
 *
 * ```
 * Lesson 3 (lessons/03-cnn/exercises.ts)
 *   ✔ 3.1 convolution forward by loops
 *   ✘ 3.2 convolution backward by loops: not yet: each weight meets every output position
 *   ✘ 3.3 max pooling backward: the gradient went to every tied maximum (...)
 *   1 of 3 tasks done.
 * ```
 *
 * The student's file runs in a sandbox (see `sandbox.ts`): a subprocess without permissions,
 * a time limit a task, and the verdicts computed here, where the student's code never runs.
 * Lessons are found from their folders, `lessons/NN-slug/` with a `tasks.ts`.
 *
 * Exit status: 0 when every checked task is done, 1 otherwise, 2 for bad arguments.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { checkInSandbox } from "./sandbox.ts";
import { formatResult, type Task } from "./tasks.ts";
import { type Paint, painter } from "./terminal/style.ts";

/** How many lines a task's own prints may take under its line. */
const MAX_PRINTED = 5;

/** What to check: a lesson's tasks and the module holding the student's answers. */
export interface CheckTarget {
  /** Heading, e.g. "Lesson 3". */
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

/** Options of {@link checkLesson}. */
export interface CheckOptions {
  /** Which hint an unfinished task shows: 1, the concept (default), or 2, more. */
  hint?: 1 | 2;
  /** A time limit for every task in seconds, overriding the tasks' own (for tests). */
  seconds?: number;
}

/** A lesson found in `lessons/`: its number and folder. */
export interface LessonFolder {
  /** 3 for `03-cnn`. */
  number: number;
  /** "03-cnn". */
  folder: string;
  /** The folder's URL, ending in "/". */
  url: URL;
}

/** The lessons with exercises: every folder `NN-slug/` of `lessons/` that has a `tasks.ts`. */
export async function lessonFolders(
  root: URL = new URL("./", import.meta.url),
): Promise<LessonFolder[]> {
  const found: LessonFolder[] = [];
  for await (const entry of Deno.readDir(root)) {
    const match = /^(\d+)-[a-z0-9-]+$/.exec(entry.name);
    if (!entry.isDirectory || !match) continue;
    const url = new URL(`${entry.name}/`, root);
    try {
      await Deno.stat(new URL("tasks.ts", url));
    } catch {
      continue; // a lesson without exercises (yet)
    }
    found.push({ number: Number(match[1]), folder: entry.name, url });
  }
  return found.sort((a, b) => a.number - b.number);
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
  options: CheckOptions = {},
): Promise<CheckCount> {
  write(`${paint(target.title, "bold")} ${paint(`(${shortPath(target.exercisesUrl)})`, "dim")}`);
  let tasks: Task<unknown>[];
  try {
    const module = await import(target.tasksUrl.href);
    tasks = module.default;
    if (!Array.isArray(tasks)) {
      throw new Error("tasks.ts has no default export of defineTasks([...])");
    }
  } catch (error) {
    const file = shortPath(target.tasksUrl);
    write(`  ${paint("✘", "red")} could not load ${file}: ${oneLine(error)}`);
    return { done: 0, total: 0 };
  }
  const level = options.hint ?? 1;
  let done = 0;
  let stuck = false;
  const report = await checkInSandbox(tasks, target.tasksUrl, target.exercisesUrl, {
    seconds: options.seconds,
    onResult: (result) => {
      if (result.status === "done") done++;
      else stuck = true;
      const hints = tasks.find((task) => task.id === result.id)?.hints;
      write(`  ${formatResult(result, paint, { level, hints })}`);
      // The student's own prints, as a debugger would show them: a few, dimmed, indented.
      const printed = result.printed ?? [];
      for (const line of printed.slice(0, MAX_PRINTED)) write(paint(`      │ ${line}`, "dim"));
      if (printed.length > MAX_PRINTED) {
        write(paint(`      │ … ${printed.length - MAX_PRINTED} more lines`, "dim"));
      }
    },
  });
  if (!report.loaded) {
    const file = shortPath(target.exercisesUrl);
    write(`  ${paint("✘", "red")} could not load ${file}: ${report.message}`);
    return { done: 0, total: tasks.length };
  }
  const summary = `${done} of ${tasks.length} task${tasks.length === 1 ? "" : "s"} done.`;
  write(`  ${done === tasks.length ? paint(summary, "green") : summary}`);
  if (stuck && level === 1) {
    write(paint(`  Stuck? Add --hint 2 for a second hint.`, "dim"));
  }
  return { done, total: tasks.length };
}

const USAGE = `Usage: deno task check [N] [--hint 2]
  Checks lesson N's exercises.ts, one line a task; without N, every lesson.
  --hint 2 shows a second, fuller hint for the tasks not done.`;

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
        hint: { type: "string" },
        // For tests and lesson authors: check a folder outside lessons/, or another file.
        folder: { type: "string" },
        exercises: { type: "string" },
        seconds: { type: "string" },
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
  if (values.hint !== undefined && values.hint !== "1" && values.hint !== "2") {
    write(`--hint takes 1 or 2, not "${values.hint}".\n${USAGE}`);
    return 2;
  }
  const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
  if (seconds !== undefined && !(seconds > 0)) {
    write(`--seconds takes a positive number, not "${values.seconds}".`);
    return 2;
  }
  const options: CheckOptions = { hint: values.hint === "2" ? 2 : 1, seconds };
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
    let chosen = await lessonFolders();
    if (positionals.length > 0) {
      const number = Number(positionals[0]);
      const all = chosen;
      chosen = all.filter((entry) => entry.number === number);
      if (chosen.length === 0) {
        const known = all.map((entry) => entry.number).join(", ") || "none yet";
        write(`There is no lesson ${positionals[0]} with exercises. Lessons: ${known}.`);
        return 2;
      }
    }
    if (chosen.length === 0) {
      write("There are no lessons with exercises yet.");
      return 0;
    }
    for (const entry of chosen) {
      targets.push({
        title: `Lesson ${entry.number}`,
        tasksUrl: new URL("tasks.ts", entry.url),
        exercisesUrl: new URL(exercisesFile, entry.url),
      });
    }
  }

  let done = 0;
  let total = 0;
  for (const [i, target] of targets.entries()) {
    if (i > 0) write("");
    const count = await checkLesson(target, write, paint, options);
    done += count.done;
    total += count.total;
  }
  if (targets.length > 1) {
    write(`\n${done} of ${total} tasks done in ${targets.length} lessons.`);
  }
  return done === total && total > 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
