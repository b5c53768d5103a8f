/**
 * The error an unfinished exercise throws.
 *
 * Every stub in a lesson's `exercises.ts` throws a `Todo` naming its task and giving a hint, so
 * that `deno task check N` can say "not yet" with the hint instead of showing a stack trace:
 *
 * ```ts
 * import { Todo } from "../todo.ts";
 *
 * export function conv2dByLoops(input: Tensor, weight: Tensor): Tensor {
 *   throw new Todo("3.1", "one loop per output position; sum input * weight over the window");
 * }
 * ```
 *
 * @module
 */

/** Thrown by an exercise stub that the student has not written yet. */
export class Todo extends Error {
  /** The task, e.g. "3.1". */
  readonly task: string;
  /** What to do, in a sentence. */
  readonly hint: string;

  /**
   * Makes the error of an unfinished task.
   *
   * @param task The task's number, e.g. "3.1".
   * @param hint A hint shown by `deno task check`.
   */
  constructor(task: string, hint: string) {
    super(`Task ${task} is not done yet: ${hint}`);
    this.name = "Todo";
    this.task = task;
    this.hint = hint;
  }
}

/**
 * True when `error` is a {@link Todo}. Also recognises one made by another copy of this module
 * (a student's file imported through a different URL), by its name and fields.
 */
export function isTodo(error: unknown): error is Todo {
  if (error instanceof Todo) return true;
  return error instanceof Error && error.name === "Todo" &&
    typeof (error as Partial<Todo>).task === "string" &&
    typeof (error as Partial<Todo>).hint === "string";
}
