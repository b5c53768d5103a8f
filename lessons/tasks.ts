/**
 * Exercise tasks: how each one is checked, and the checks' results as one readable line.
 *
 * A lesson folder has `tasks.ts`, which lists its tasks:
 *
 * ```ts
 * import { defineTasks, expectClose } from "../tasks.ts";
 * import type * as Solutions from "./solutions.ts";
 *
 * export default defineTasks<typeof Solutions>([
 *   {
 *     id: "3.1",
 *     title: "convolution forward by loops",
 *     hint: "one loop per output position; sum input * weight over the window",
 *     check: async (impl) => {
 *       const input = randn([1, 1, 5, 5]);
 *       const weight = randn([1, 1, 3, 3]);
 *       await expectClose("conv2dByLoops(input, weight)", impl.conv2dByLoops(input, weight),
 *         F.conv2d(input, weight));
 *     },
 *   },
 * ]);
 * ```
 *
 * `impl` is either the student's `exercises.ts` or the reference `solutions.ts` (same exports).
 * A check throws when the answer is wrong: {@link expectClose} and {@link expectEqual} throw a
 * {@link Mismatch} naming what was compared, the expected and the received value; a
 * `node:assert` failure works too. `deno task check N` prints one line a task
 * ({@link runTask}, {@link formatResult}); the lesson's `exercises.test.ts` calls
 * {@link testTasks} so that `deno task test` proves every solution passes and every stub says
 * it is not done.
 *
 * @module
 */

import { formatNumber } from "./render/format.ts";
import { isTodo } from "./todo.ts";

/** One exercise task. `M` is the type of the module being checked (exercises or solutions). */
export interface Task<M> {
  /** "3.1": lesson number, dot, task number. */
  id: string;
  /** What the task is, in a few words: "convolution forward by loops". */
  title: string;
  /** A hint for a student who is stuck (the stub's own hint is shown first). */
  hint: string;
  /** Throws if `impl` does not do the task right. */
  check: (impl: M) => void | Promise<void>;
}

/**
 * Declares a lesson's tasks. Checks that the ids are "N.1", "N.2", ... in order, with the same
 * lesson number N, and that titles and hints are there.
 */
export function defineTasks<M>(tasks: Task<M>[]): Task<M>[] {
  if (tasks.length === 0) throw new Error("defineTasks: a lesson needs at least one task");
  const lesson = tasks[0].id.split(".")[0];
  tasks.forEach((task, i) => {
    const expected = `${lesson}.${i + 1}`;
    if (!/^\d+\.\d+$/.test(task.id) || task.id !== expected) {
      throw new Error(
        `defineTasks: task ${i + 1} has id "${task.id}", expected "${expected}" ` +
          `(ids are numbered N.1, N.2, ... in order)`,
      );
    }
    if (!task.title.trim() || !task.hint.trim()) {
      throw new Error(`defineTasks: task ${task.id} needs a title and a hint`);
    }
  });
  return tasks;
}

/** A wrong answer: what was compared, what was expected, what came back. */
export class Mismatch extends Error {
  /** A mismatch of `what`: expected and received as text, and where they differ. */
  constructor(
    /** What was compared, e.g. "conv2dByLoops(input, weight)". */
    readonly what: string,
    /** The expected value, formatted. */
    readonly expected: string,
    /** The received value, formatted. */
    readonly received: string,
    /** More about where they differ, e.g. "at [0, 1]; 3 of 25 values differ". */
    readonly detail = "",
  ) {
    const where = what ? `${what}: ` : "";
    super(`${where}expected ${expected}, received ${received}${detail ? ` (${detail})` : ""}`);
    this.name = "Mismatch";
  }
}

/** Something with a shape whose values can be read: a Tensor, without importing core here. */
interface TensorLike {
  shape: number[];
  data(): Promise<ArrayLike<number>> | ArrayLike<number>;
}

function isTensorLike(value: unknown): value is TensorLike {
  return typeof value === "object" && value !== null &&
    Array.isArray((value as TensorLike).shape) &&
    typeof (value as TensorLike).data === "function";
}

function isNumberArray(value: unknown): value is ArrayLike<number> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** Formats any value short enough for one line: numbers, arrays (first few), tensors. */
export function describe(value: unknown, maxItems = 6): string {
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined || value === null || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return `a function ${value.name || "(anonymous)"}`;
  if (isTensorLike(value)) return `a tensor of shape [${value.shape.join(", ")}]`;
  if (Array.isArray(value) || isNumberArray(value)) {
    const items = Array.from(value as ArrayLike<unknown>);
    const shown = items.slice(0, maxItems).map((item) => describe(item, 3));
    const more = items.length > maxItems ? `, … (${items.length} values)` : "";
    return `[${shown.join(", ")}${more}]`;
  }
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? json.slice(0, 79) + "…" : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Values and shape of a number, a nested array, a typed array or a tensor. */
async function numbersOf(value: unknown): Promise<{ shape: number[]; values: number[] } | null> {
  if (typeof value === "number") return { shape: [], values: [value] };
  if (isTensorLike(value)) {
    return { shape: [...value.shape], values: Array.from(await value.data()) };
  }
  if (isNumberArray(value)) return { shape: [value.length], values: Array.from(value) };
  if (Array.isArray(value)) {
    if (value.length === 0) return { shape: [0], values: [] };
    const parts = await Promise.all(value.map(numbersOf));
    if (parts.some((part) => part === null)) return null;
    const inner = parts[0]!.shape;
    const ragged = parts.some((part) => part!.shape.join() !== inner.join());
    if (ragged) return null;
    return { shape: [value.length, ...inner], values: parts.flatMap((part) => part!.values) };
  }
  return null;
}

/** The multi-index of flat position `flat` in an array of `shape`: 5 in [2, 3] is [1, 2]. */
function unravel(flat: number, shape: number[]): number[] {
  const index: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

/** Tolerances of {@link expectClose}: `|received - expected| <= atol + rtol * |expected|`. */
export interface Tolerance {
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-4). */
  rtol?: number;
}

/**
 * Checks that `received` is close to `expected`, value by value. Both can be numbers, (nested)
 * arrays, typed arrays or tensors. Throws a {@link Mismatch} saying what differs: the shapes, or
 * the first value out of tolerance with its index and how many values are off.
 *
 * @example
 * ```ts
 * import { expectClose } from "./tasks.ts";
 * await expectClose("mean of [1, 2]", 1.5, 1.5);
 * ```
 */
export async function expectClose(
  what: string,
  received: unknown,
  expected: unknown,
  tolerance: Tolerance = {},
): Promise<void> {
  const { atol = 1e-5, rtol = 1e-4 } = tolerance;
  const want = await numbersOf(expected);
  if (!want) {
    throw new Error(
      `expectClose(${what}): the expected value ${describe(expected)} is not numeric`,
    );
  }
  const got = await numbersOf(received);
  if (!got) {
    throw new Mismatch(what, numericKind(want.shape), describe(received));
  }
  if (got.shape.join() !== want.shape.join()) {
    throw new Mismatch(what, `shape [${want.shape.join(", ")}]`, `shape [${got.shape.join(", ")}]`);
  }
  let first = -1;
  let wrong = 0;
  for (let i = 0; i < want.values.length; i++) {
    const [r, e] = [got.values[i], want.values[i]];
    const close = Number.isNaN(e) ? Number.isNaN(r) : Math.abs(r - e) <= atol + rtol * Math.abs(e);
    if (!close) {
      wrong++;
      if (first < 0) first = i;
    }
  }
  if (first < 0) return;
  const at = want.shape.length ? ` at [${unravel(first, want.shape).join(", ")}]` : "";
  const [e, r] = [want.values[first], got.values[first]];
  const details: string[] = [];
  if (want.values.length > 1) details.push(`${wrong} of ${want.values.length} values differ`);
  // The tolerance matters to a student only when the answer is nearly right.
  const allowed = atol + rtol * Math.abs(e);
  if (Math.abs(r - e) < 100 * allowed) details.push(`tolerance ${atol} + ${rtol}·|expected|`);
  throw new Mismatch(
    `${what}${at}`,
    formatNumber(e, 6),
    formatNumber(r, 6),
    details.join("; "),
  );
}

function numericKind(shape: number[]): string {
  return shape.length === 0 ? "a number" : `numbers of shape [${shape.join(", ")}]`;
}

/**
 * Checks that `received` equals `expected` exactly (deep equality for arrays and plain objects).
 * Throws a {@link Mismatch} otherwise.
 */
export function expectEqual(what: string, received: unknown, expected: unknown): void {
  if (!deepEqual(received, expected)) {
    throw new Mismatch(what, describe(expected), describe(received));
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
  );
}

/** How a task stands after its check ran. */
export type TaskStatus = "done" | "todo" | "wrong" | "error";

/** The outcome of one task's check. */
export interface TaskResult {
  /** The task's id, e.g. "3.1". */
  id: string;
  /** The task's title. */
  title: string;
  /** How the task stands. */
  status: TaskStatus;
  /** For "todo": the hint; for "wrong": expected against received; for "error": the error. */
  message: string;
  /** For "todo": the task whose stub was reached (another task's, when this one builds on it). */
  todoTask?: string;
  /** The error thrown by the check, if any (for tests; never printed whole). */
  error?: unknown;
}

/** The first line of the stack that lies in `file` (e.g. "exercises.ts:42:7"), if any. */
function locationIn(error: Error, file: string | undefined): string | undefined {
  if (!file || !error.stack) return undefined;
  const name = file.split("/").pop()!;
  for (const line of error.stack.split("\n").slice(1)) {
    const match = /([^/\s(]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (match && line.includes(file) && match[1] === name) return `${name}:${match[2]}`;
  }
  return undefined;
}

/** Options of {@link runTask}. */
export interface RunTaskOptions {
  /** The URL of the checked module: an error's location in it is shown ("exercises.ts:42"). */
  moduleUrl?: string;
}

/**
 * Runs one task's check against a module and says how it went. Never throws: an unfinished task,
 * a wrong answer and a crash each become a {@link TaskResult}.
 */
export async function runTask<M>(
  task: Task<M>,
  impl: M,
  options: RunTaskOptions = {},
): Promise<TaskResult> {
  const base = { id: task.id, title: task.title };
  try {
    await task.check(impl);
    return { ...base, status: "done", message: "" };
  } catch (error) {
    if (isTodo(error)) {
      const hint = error.hint || task.hint;
      const message = error.task === task.id
        ? hint
        : `needs task ${error.task} first (${error.hint || "see that task"})`;
      return { ...base, status: "todo", message, todoTask: error.task, error };
    }
    if (error instanceof Mismatch) {
      return { ...base, status: "wrong", message: error.message, error };
    }
    if (isAssertion(error)) {
      const own = error.generatedMessage ? "" : `${firstLine(error.message)}: `;
      const message = `${own}expected ${describe(error.expected)}, received ${
        describe(error.actual)
      }`;
      return { ...base, status: "wrong", message, error };
    }
    const text = error instanceof Error
      ? `${error.name}: ${firstLine(error.message)}`
      : `threw ${describe(error)}`;
    const where = error instanceof Error ? locationIn(error, options.moduleUrl) : undefined;
    return { ...base, status: "error", message: where ? `${text} (${where})` : text, error };
  }
}

interface AssertionLike extends Error {
  actual: unknown;
  expected: unknown;
  generatedMessage: boolean;
}

function isAssertion(error: unknown): error is AssertionLike {
  return error instanceof Error && error.name === "AssertionError" && "expected" in error;
}

function firstLine(text: string): string {
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "";
}

/** Styles for {@link formatResult}; the default leaves text plain. */
export type ResultPaint = (
  text: string,
  ...styles: ("green" | "red" | "yellow" | "dim")[]
) => string;

/**
 * One line for a task: `✔ 3.1 convolution forward by loops`, `✘ 3.2 ...: not yet: <hint>`, or
 * `✘ 3.2 ...: expected X, received Y`.
 */
export function formatResult(result: TaskResult, paint: ResultPaint = (text) => text): string {
  const name = `${result.id} ${result.title}`;
  switch (result.status) {
    case "done":
      return `${paint("✔", "green")} ${name}`;
    case "todo":
      return `${paint("✘", "yellow")} ${name}: ${paint("not yet:", "yellow")} ${result.message}`;
    default:
      return `${paint("✘", "red")} ${name}: ${result.message}`;
  }
}

/** Options of {@link testTasks}. */
export interface TestTasksOptions {
  /**
   * "reference" (the default): each solution passes and each stub throws its own `Todo`.
   * "student": each task of `exercises.ts` passes (a student checking their work with
   * `deno test`). The environment variable `LESSON_EXERCISES=student` chooses it too.
   */
  mode?: "reference" | "student";
  /** URL of the exercises module, to point at the line of an error. */
  exercisesUrl?: string;
}

function modeFromEnvironment(): "reference" | "student" {
  try {
    return Deno.env.get("LESSON_EXERCISES") === "student" ? "student" : "reference";
  } catch {
    return "reference"; // no permission to read the environment
  }
}

/**
 * Registers the Deno tests of a lesson's exercises; call it from the lesson's
 * `exercises.test.ts`:
 *
 * ```ts
 * import { testTasks } from "../tasks.ts";
 * import tasks from "./tasks.ts";
 * import * as exercises from "./exercises.ts";
 * import * as solutions from "./solutions.ts";
 *
 * testTasks(tasks, solutions, exercises);
 * ```
 *
 * It checks that both files export the same names, that every solution passes its check, and
 * that every stub throws the `Todo` of its own task (so `deno task check` shows its hint).
 */
export function testTasks<M>(
  tasks: Task<M>[],
  solutions: M,
  exercises: M,
  options: TestTasksOptions = {},
): void {
  const mode = options.mode ?? modeFromEnvironment();
  const lesson = tasks[0]?.id.split(".")[0] ?? "?";
  const names = (module: M) => Object.keys(module as object).sort();

  const sameNames =
    `lesson ${lesson} exercises: exercises.ts and solutions.ts export the same names`;
  Deno.test(sameNames, () => {
    const [a, b] = [names(exercises), names(solutions)];
    const missing = b.filter((name) => !a.includes(name));
    const extra = a.filter((name) => !b.includes(name));
    if (missing.length || extra.length) {
      throw new Error(
        `exports differ: missing in exercises.ts [${missing.join(", ")}], ` +
          `only in exercises.ts [${extra.join(", ")}]`,
      );
    }
  });

  for (const task of tasks) {
    const name = `task ${task.id} (${task.title})`;
    if (mode === "student") {
      Deno.test(`${name}: exercises.ts passes`, async () => {
        const result = await runTask(task, exercises, { moduleUrl: options.exercisesUrl });
        if (result.status !== "done") {
          throw new Error(formatResult(result), { cause: result.error });
        }
      });
      continue;
    }
    Deno.test(`${name}: the solution passes`, async () => {
      const result = await runTask(task, solutions);
      if (result.status !== "done") {
        throw new Error(`solutions.ts fails task ${task.id}: ${result.message}`, {
          cause: result.error,
        });
      }
    });
    Deno.test(`${name}: the stub throws Todo("${task.id}")`, async () => {
      const result = await runTask(task, exercises);
      if (result.status === "todo" && result.todoTask === task.id) return;
      const got = result.status === "done"
        ? "the check passed (exercises.ts holds a solution, not a stub)"
        : result.status === "todo"
        ? `it threw Todo("${result.todoTask}") of another task`
        : `the check ended with: ${result.message}`;
      throw new Error(
        `exercises.ts, task ${task.id}: expected the stub to throw new Todo("${task.id}", hint), ` +
          `but ${got}`,
        { cause: result.error },
      );
    });
  }
}
