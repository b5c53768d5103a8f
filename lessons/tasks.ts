/**
 * Exercise tasks: how a lesson's exercises are written, run and judged.
 *
 * # Writing a lesson's exercises
 *
 * A lesson folder `lessons/NN-slug/` holds four files; `deno task check N` finds them by the
 * folder's number, with no list to edit.
 *
 * **`exercises.ts`**, the student's file: one export a task (or more), each a stub that throws
 * the {@link Todo} of its task with the first-level hint. It imports everything the tasks and
 * the hints use, so that writing the body is all a student does:
 *
 * ```ts
 * // deno-lint-ignore no-unused-vars
 * import { type Tensor, tensor } from "../../mod.ts";
 * import { Todo } from "../todo.ts";
 *
 * // Task 3.2: ...what to do, the shapes, what to return...
 * export function conv2dByLoops(input: Tensor, weight: Tensor, bias: Tensor): Promise<Tensor> {
 *   throw new Todo("3.2", "one output value per window position: a weighted sum, plus the bias");
 * }
 * ```
 *
 * **`solutions.ts`**: the same exports, solved; `deno task test` proves they pass.
 *
 * **`tasks.ts`**: `export default defineTasks<typeof Solutions>([...])`, one entry a task. A task
 * is checked in two halves, so that the student's code can never change its verdict:
 *
 * - `run(impl)` runs in a sandbox next to the student's module (a `deno` subprocess with no
 *   permissions: no files, no network, no environment; build inputs from seeded random numbers,
 *   not from data files; it runs without `deno.json`, so `tasks.ts` and `exercises.ts` import
 *   relative modules such as `../../mod.ts`, no npm packages). It calls the student's
 *   functions and returns what they produced. Tensors in the result are sent as their shape,
 *   dtype and values; numbers, arrays and plain objects as they are; anything else is described
 *   ("a Promise", "a function f").
 * - `judge(received)` runs in the checker's own process, where the student's module is never
 *   loaded. It computes the right answer with the framework (the oracle: `F.conv2d`, autograd,
 *   `optim.SGD`) from the same seeded inputs, compares, and throws {@link Wrong} naming the
 *   mistake. {@link expectClose} does the comparing; its `mistakes` option lists the values that
 *   the likely wrong answers give, so that a match says which mistake it was ("a sum instead of a
 *   mean: divide by the number of points") instead of two bare numbers. It also names a tensor
 *   returned where a number is expected, and a missing `await`.
 * - `hints`: two levels. `deno task check N` shows the first (the concept), `--hint 2` the
 *   second (more: the formula, the loop structure). Neither is the answer line: a hint that
 *   contains a line of `solutions.ts` fails the lesson's tests.
 * - `seconds`: the time limit of `run` (default 10 s); a task that takes longer is reported as
 *   "did not finish in N s".
 *
 * ```ts
 * import { F, manualSeed, randn } from "../../mod.ts";
 * import { defineTasks, expectClose } from "../tasks.ts";
 * import type * as Solutions from "./solutions.ts";
 *
 * // Both halves build the same inputs: they run in different processes, so seed here.
 * function inputs() {
 *   manualSeed(31);
 *   return { input: randn([1, 2, 6, 6]), weight: randn([3, 2, 3, 3]), bias: randn([3]) };
 * }
 *
 * export default defineTasks<typeof Solutions>([{
 *   id: "3.2",
 *   title: "convolution forward by loops",
 *   hints: [
 *     "one output value per window position: a weighted sum of the window, plus the bias",
 *     "loop over n, o, i, j; inside, sum weight[o, c, u, v] times the input at row i + u ...",
 *   ],
 *   run: async (impl) => {
 *     const { input, weight, bias } = inputs();
 *     return await impl.conv2dByLoops(input, weight, bias);
 *   },
 *   judge: async (received) => {
 *     const { input, weight, bias } = inputs();
 *     await expectClose("conv2dByLoops(input, weight, bias)", received,
 *       F.conv2d(input, weight, bias), {
 *         mistakes: [{ value: F.conv2d(input, weight), says: "the bias is missing" }],
 *       });
 *   },
 * }]);
 * ```
 *
 * What `run` returns must be data: tensors, numbers, strings, booleans, arrays and plain objects
 * of them. Read what the judge needs inside `run` (`p.requiresGrad`, `p.grad !== null`, a
 * module's `namedParameters()` names), not modules or functions. When a comparison cannot be a
 * value (a shape, a flag), throw `new Wrong("what is wrong: what to do")` yourself, or give
 * {@link expectEqual} its `mistake` argument. A judge can also reason from what passed: "right
 * with stride 1, wrong with stride 2" says more than a number (see lessons 1 and 3).
 *
 * **`exercises.test.ts`** calls {@link testTasks} with at least two plausible wrong answers a
 * task (a forgotten `zeroGrad`, a sum for a mean, a missing factor 2, a tensor where a number is
 * expected), each with the words its message must contain:
 *
 * ```ts
 * import { testTasks } from "../tasks.ts";
 * import tasks from "./tasks.ts";
 * import * as exercises from "./exercises.ts";
 * import * as solutions from "./solutions.ts";
 *
 * testTasks(tasks, solutions, exercises, {
 *   folder: new URL("./", import.meta.url),
 *   wrongAnswers: {
 *     "3.2": [
 *       { mistake: "a flipped kernel", says: "turned around", impl: { conv2dByLoops: flipped } },
 *       { mistake: "no bias", says: "the bias is missing", impl: { conv2dByLoops: noBias } },
 *     ],
 *   },
 * });
 * ```
 *
 * A wrong answer's `impl` replaces exports of `solutions.ts`; a wrong class can extend the
 * solution's and override one method. It proves that every solution passes, every stub throws
 * its own task's `Todo`, both files export the same names, no hint quotes a line of
 * `solutions.ts`, and each wrong answer fails with a message that names its mistake.
 * `tests/runner_check.test.ts` also runs every lesson's solutions through the sandbox, so a
 * `run` that needs a permission fails there.
 *
 * The stubs of `exercises.ts` throw `new Todo("N.k", "a hint")`: the checker shows the task's
 * first hint from `tasks.ts`; the stub's own is for a student who calls the function directly.
 * Stubs import what their hints name (`noGrad`, `tensor`, ...); a
 * `// deno-lint-ignore no-unused-vars` line above the import keeps the linter quiet.
 *
 * @module
 */

import { formatNumber } from "./render/format.ts";
import { isTodo } from "./todo.ts";

export { isTodo, Todo } from "./todo.ts";

// ---------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------

/**
 * What a task's `judge` receives: the value `run` returned, after its trip out of the sandbox.
 * Tensors arrive as {@link ReceivedTensor}, numbers, arrays and plain objects as they were.
 */
// deno-lint-ignore no-explicit-any
export type Received = any;

/** One exercise task. `M` is the type of the module checked (exercises or solutions). */
export interface Task<M> {
  /** "3.1": lesson number, dot, task number. */
  id: string;
  /** What the task is, in a few words: "convolution forward by loops". */
  title: string;
  /** Two hints: the concept (`deno task check N`), then more (`--hint 2`). Never the answer. */
  hints: [string, string];
  /** Time limit of `run`, in seconds (default {@link DEFAULT_SECONDS}). */
  seconds?: number;
  /** In the sandbox: calls the student's code and returns what it produced. */
  run: (impl: M) => unknown;
  /** In the checker's process: throws {@link Wrong} (or a {@link Mismatch}) when it is wrong. */
  judge: (received: Received) => void | Promise<void>;
}

/** The time limit of a task's `run` when it sets none, in seconds. */
export const DEFAULT_SECONDS = 10;

/**
 * Declares a lesson's tasks. Checks that the ids are "N.1", "N.2", ... in order, with the same
 * lesson number N, and that each has a title and two hints.
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
    const hints = Array.isArray(task.hints) ? task.hints : [];
    if (!task.title?.trim() || hints.length !== 2 || hints.some((hint) => !hint?.trim())) {
      throw new Error(`defineTasks: task ${task.id} needs a title and two hints`);
    }
    if (typeof task.run !== "function" || typeof task.judge !== "function") {
      throw new Error(`defineTasks: task ${task.id} needs run(impl) and judge(received)`);
    }
  });
  return tasks;
}

// ---------------------------------------------------------------------------------------------
// Wrong answers and their messages
// ---------------------------------------------------------------------------------------------

/**
 * A wrong answer, with a message that says what is wrong: `throw new Wrong("the gradients were
 * not cleared: ...")`. The checker prints the message as it is.
 */
export class Wrong extends Error {
  /** A wrong answer described by `message`. */
  constructor(message: string) {
    super(message);
    this.name = "Wrong";
  }
}

/** A wrong answer as what was compared, what was expected, what came back. */
export class Mismatch extends Wrong {
  /** A mismatch of `what`: expected and received as text, and where they differ. */
  constructor(
    /** What was compared, e.g. "conv2dByLoops(input, weight)". */
    readonly what: string,
    /** The expected value, formatted. */
    readonly expected: string,
    /** The received value, formatted. */
    readonly received: string,
    /** More about where they differ, e.g. "3 of 25 values differ". */
    readonly detail = "",
    /** The mistake this answer looks like, e.g. "a sum instead of a mean". */
    readonly mistake = "",
  ) {
    const where = what ? `${what}: ` : "";
    const numbers = `expected ${expected}, received ${received}${detail ? `; ${detail}` : ""}`;
    super(mistake ? `${where}${mistake} (${numbers})` : `${where}${numbers}`);
    this.name = "Mismatch";
  }
}

/** A tensor that came back from the sandbox: its shape, dtype and values. */
export class ReceivedTensor {
  /** A tensor of `shape` holding `values` (row-major). */
  constructor(
    /** The shape. */
    readonly shape: number[],
    /** "float32", "float64" or "int32". */
    readonly dtype: string,
    /** The values, row-major. */
    readonly values: number[],
  ) {}

  /** The values, as `Tensor.data()` gives them. */
  data(): number[] {
    return this.values;
  }
}

/** Something returned that is not data: a Promise, a function, a class instance's name. */
export class ReceivedOther {
  /** `description` says what it was, e.g. "a Promise". */
  constructor(readonly description: string) {}
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
  if (value instanceof ReceivedOther) return value.description;
  if (isTensorLike(value)) return `a tensor of shape [${value.shape.join(", ")}]`;
  if (value instanceof Promise) return "a Promise";
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

/** A likely wrong answer: the value it gives, and what to tell the student when it is seen. */
export interface Mistake {
  /** What the wrong answer computes (a number, an array or a tensor, like the expected value). */
  value: unknown;
  /** The mistake, in words a student acts on: "a sum instead of a mean: divide by N". */
  says: string;
}

/** Options of {@link expectClose}: `|received - expected| <= atol + rtol * |expected|`. */
export interface CloseOptions {
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-4). */
  rtol?: number;
  /** Likely wrong answers; a received value close to one of them is named by its `says`. */
  mistakes?: Mistake[];
}

interface Comparison {
  /** Empty when close; else what differs. */
  problem?: { at: number[]; expected: number; received: number; wrong: number; total: number };
  /** The shapes differ. */
  shapes?: { expected: number[]; received: number[] };
}

function compare(
  got: { shape: number[]; values: number[] },
  want: { shape: number[]; values: number[] },
  atol: number,
  rtol: number,
): Comparison {
  if (got.shape.join() !== want.shape.join()) {
    return { shapes: { expected: want.shape, received: got.shape } };
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
  if (first < 0) return {};
  return {
    problem: {
      at: unravel(first, want.shape),
      expected: want.values[first],
      received: got.values[first],
      wrong,
      total: want.values.length,
    },
  };
}

/** The dtype of a tensor (the framework's or a received one), else undefined. */
function dtypeOf(value: unknown): string | undefined {
  return isTensorLike(value) ? (value as { dtype?: string }).dtype : undefined;
}

/** The summed absolute difference of two arrays of the same shape (NaN where both are NaN: 0). */
function distance(a: { values: number[] }, b: { values: number[] }): number {
  let sum = 0;
  for (let i = 0; i < a.values.length; i++) {
    const [x, y] = [a.values[i], b.values[i]];
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    sum += Number.isNaN(x - y) ? Infinity : Math.abs(x - y);
  }
  return sum;
}

/** The kind of value a student should have returned, as a noun phrase. */
function kindOf(value: unknown, shape: number[]): string {
  if (isTensorLike(value)) return `a tensor of shape [${shape.join(", ")}]`;
  return shape.length === 0 ? "a number" : `numbers of shape [${shape.join(", ")}]`;
}

/** When a value of the wrong kind came back, what to say about it; else undefined. */
function wrongKind(received: unknown, expected: unknown, shape: number[]): string | undefined {
  const received_ = received instanceof ReceivedOther ? received.description : "";
  if (/^a Promise/.test(received_)) {
    return `received a Promise where ${kindOf(expected, shape)} is expected: a missing await?`;
  }
  if (isTensorLike(received) && !isTensorLike(expected)) {
    const read = shape.length === 0 ? "await t.item()" : "await t.data()";
    return `received a tensor where ${kindOf(expected, shape)} is expected: read its ` +
      `value${shape.length ? "s" : ""} with ${read}`;
  }
  if (!isTensorLike(received) && isTensorLike(expected)) {
    return `expected a tensor of shape [${shape.join(", ")}], received ${describe(received)}`;
  }
  return undefined;
}

/**
 * Checks that `received` is close to `expected`, value by value. Both can be numbers, (nested)
 * arrays, typed arrays or tensors; a tensor where a number is expected (or the other way) is a
 * wrong answer that says so. Throws a {@link Mismatch} saying what differs: the kind, the
 * shapes, or the first value out of tolerance with its index and how many values are off; when
 * the received value matches one of `options.mistakes`, the message names that mistake.
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
  options: CloseOptions = {},
): Promise<void> {
  const { atol = 1e-5, rtol = 1e-4, mistakes = [] } = options;
  const want = await numbersOf(expected);
  if (!want) {
    throw new Error(
      `expectClose(${what}): the expected value ${describe(expected)} is not numeric`,
    );
  }
  const kind = wrongKind(received, expected, want.shape);
  if (kind) throw new Wrong(`${what}: ${kind}`);
  const got = await numbersOf(received);
  if (!got) throw new Mismatch(what, kindOf(expected, want.shape), describe(received));

  const result = compare(got, want, atol, rtol);
  if (!result.shapes && !result.problem) return;

  // Right to float32's precision where float64 was asked for: say so, not "expected, received".
  const dtypes = [dtypeOf(received), dtypeOf(expected)];
  if (
    dtypes[0] === "float32" && dtypes[1] === "float64" && !compare(got, want, 1e-5, 1e-4).problem
  ) {
    throw new Wrong(
      `${what}: the values are right to float32's precision, but the inputs are float64: build ` +
        `the result with { dtype: input.dtype } (tensor() makes float32 by default)`,
    );
  }

  // A known wrong answer? Its own tolerance is looser: the point is to recognise it. It must also
  // be much nearer the answer than the right value is, so that an answer that is only imprecise
  // is never named as a mistake.
  let mistake = "";
  for (const candidate of mistakes) {
    const value = await numbersOf(candidate.value);
    if (!value || value.shape.join() !== got.shape.join()) continue;
    if (compare(got, value, Math.max(atol, 1e-4), Math.max(rtol, 1e-3)).problem) continue;
    if (!result.shapes && distance(got, value) >= distance(got, want) / 2) continue;
    mistake = candidate.says;
    break;
  }
  if (result.shapes) {
    const { expected: e, received: r } = result.shapes;
    throw new Mismatch(what, `shape [${e.join(", ")}]`, `shape [${r.join(", ")}]`, "", mistake);
  }
  const p = result.problem!;
  // A named mistake is about the whole answer, not about its first wrong value.
  const at = want.shape.length && !mistake ? ` at [${p.at.join(", ")}]` : "";
  const details: string[] = [];
  if (p.total > 1) details.push(`${p.wrong} of ${p.total} values differ`);
  // The tolerance matters to a student only when the answer is nearly right.
  const allowed = atol + rtol * Math.abs(p.expected);
  if (!mistake && Math.abs(p.received - p.expected) < 100 * allowed) {
    details.push(`tolerance ${atol} + ${rtol}·|expected|`);
  }
  throw new Mismatch(
    `${what}${at}`,
    formatNumber(p.expected, 6),
    formatNumber(p.received, 6),
    details.join("; "),
    mistake,
  );
}

/**
 * Checks that `received` equals `expected` exactly (deep equality for arrays and plain objects).
 * Throws a {@link Mismatch} otherwise, naming `mistake` when one is given.
 */
export function expectEqual(
  what: string,
  received: unknown,
  expected: unknown,
  mistake = "",
): void {
  if (!deepEqual(received, expected)) {
    throw new Mismatch(what, describe(expected), describe(received), "", mistake);
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

// ---------------------------------------------------------------------------------------------
// What crosses from the sandbox to the judge: plain JSON
// ---------------------------------------------------------------------------------------------

function plainNumber(value: number): number | { $number: string } {
  return Number.isFinite(value) ? value : { $number: String(value) };
}

/**
 * Turns what `run` returned into plain JSON: tensors become their shape, dtype and values;
 * numbers that JSON cannot hold (NaN, Infinity) and undefined are tagged; functions, Promises
 * and class instances other than tensors are described.
 */
export async function toPlain(
  value: unknown,
  depth = 0,
  seen = new Set<object>(),
): Promise<unknown> {
  if (typeof value === "number") {
    return Number.isFinite(value) ? value : { $number: String(value) };
  }
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (value === undefined) return { $undefined: true };
  if (typeof value === "bigint") return { $other: `the bigint ${value}n` };
  if (typeof value === "function") return { $other: `a function ${value.name || "(anonymous)"}` };
  if (typeof value !== "object") return { $other: `a ${typeof value}` };
  if (value instanceof Promise) return { $other: "a Promise" };
  if (depth > 12 || seen.has(value)) return { $other: "a value nested too deep (or a cycle)" };
  seen.add(value);
  try {
    if (isTensorLike(value)) {
      const t = value as TensorLike & { dtype?: string };
      const values = Array.from(await t.data(), plainNumber);
      return { $tensor: { shape: [...t.shape], dtype: String(t.dtype ?? "float32"), values } };
    }
    if (isNumberArray(value)) {
      return { $array: Array.from(value, plainNumber) };
    }
    if (Array.isArray(value)) {
      return await Promise.all(value.map((item) => toPlain(item, depth + 1, seen)));
    }
    if (value instanceof Error) return { $other: `the error ${value.name}: ${value.message}` };
    const proto = Object.getPrototypeOf(value);
    const fields: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      fields[key] = await toPlain(item, depth + 1, seen);
    }
    if (proto !== Object.prototype && proto !== null) {
      return { $object: proto?.constructor?.name ?? "object", fields };
    }
    return { $plain: fields };
  } finally {
    seen.delete(value);
  }
}

/** The inverse of {@link toPlain}: tensors come back as {@link ReceivedTensor}s. */
export function fromPlain(value: unknown): Received {
  if (Array.isArray(value)) return value.map(fromPlain);
  if (typeof value !== "object" || value === null) return value;
  const tagged = value as Record<string, unknown>;
  if ("$number" in tagged) return Number(tagged.$number);
  if ("$undefined" in tagged) return undefined;
  if ("$other" in tagged) return new ReceivedOther(String(tagged.$other));
  if ("$array" in tagged) return (tagged.$array as unknown[]).map(fromPlain);
  if ("$tensor" in tagged) {
    const t = tagged.$tensor as { shape: number[]; dtype: string; values: unknown[] };
    return new ReceivedTensor(t.shape, t.dtype, t.values.map(fromPlain));
  }
  const fields = ("$plain" in tagged ? tagged.$plain : (tagged.fields ?? {})) as Record<
    string,
    unknown
  >;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(fields)) out[key] = fromPlain(item);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running a task, and its one line
// ---------------------------------------------------------------------------------------------

/** How a task stands after its check ran. */
export type TaskStatus = "done" | "todo" | "wrong" | "error" | "timeout";

/** The outcome of one task's check. */
export interface TaskResult {
  /** The task's id, e.g. "3.1". */
  id: string;
  /** The task's title. */
  title: string;
  /** How the task stands. */
  status: TaskStatus;
  /** For "todo": the hint; for "wrong": what is wrong; for "error": the error; for "timeout". */
  message: string;
  /** For "todo": the task whose stub was reached (another task's, when this one builds on it). */
  todoTask?: string;
  /** The error thrown, if any (for tests; never printed whole). */
  error?: unknown;
  /** What the student's code printed while the task ran (the checker shows the first lines). */
  printed?: string[];
}

/** An error thrown by `run`, as plain JSON (what the sandbox sends). */
export interface RunError {
  /** The error's name ("Todo", "TypeError", ...). */
  name: string;
  /** Its message's first line. */
  message: string;
  /** For a Todo: its task and hint. */
  task?: string;
  /** For a Todo: its hint. */
  hint?: string;
  /** Where in the student's file it was thrown, e.g. "exercises.ts:42". */
  where?: string;
}

/** What `run` produced: a value, or an error. */
export type RunOutcome = { value: unknown } | { error: RunError };

/** The first line of the stack that lies in `file` (e.g. "exercises.ts:42"), if any. */
function locationIn(error: Error, file: string | undefined): string | undefined {
  if (!file || !error.stack) return undefined;
  const name = file.split("/").pop()!;
  for (const line of error.stack.split("\n").slice(1)) {
    const match = /([^/\s(]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (match && line.includes(file) && match[1] === name) return `${name}:${match[2]}`;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "";
}

/**
 * Runs a task's `run` against a module (in whatever process this is) and returns its outcome as
 * plain JSON. Never throws. The sandbox calls this; so does {@link runTask}.
 */
export async function runPart<M>(task: Task<M>, impl: M, moduleUrl?: string): Promise<RunOutcome> {
  try {
    return { value: await toPlain(await task.run(impl)) };
  } catch (error) {
    if (isTodo(error)) {
      return {
        error: { name: "Todo", message: error.message, task: error.task, hint: error.hint },
      };
    }
    if (error instanceof Error) {
      const where = locationIn(error, moduleUrl);
      return { error: { name: error.name, message: firstLine(error.message), where } };
    }
    return { error: { name: "", message: `threw ${describe(error)}` } };
  }
}

/**
 * Judges an outcome of `run` in this process: the verdict of a task. Never throws. The checker
 * calls it with what came back from the sandbox.
 */
export async function judgePart<M>(task: Task<M>, outcome: RunOutcome): Promise<TaskResult> {
  const base = { id: task.id, title: task.title };
  if ("error" in outcome) {
    const error = outcome.error;
    if (error.name === "Todo" && typeof error.task === "string") {
      const message = error.task === task.id
        ? task.hints[0]
        : `needs task ${error.task} first (${error.hint || "see that task"})`;
      return { ...base, status: "todo", message, todoTask: error.task, error };
    }
    const text = error.name ? `${error.name}: ${error.message}` : error.message;
    const message = error.where ? `${text} (${error.where})` : text;
    return { ...base, status: "error", message, error };
  }
  try {
    // The value crosses as JSON, even in one process, so that tests see what the checker sees.
    await task.judge(fromPlain(JSON.parse(JSON.stringify(outcome.value))));
    return { ...base, status: "done", message: "" };
  } catch (error) {
    if (error instanceof Wrong) return { ...base, status: "wrong", message: error.message, error };
    const text = error instanceof Error ? `${error.name}: ${firstLine(error.message)}` : "";
    return {
      ...base,
      status: "error",
      message: `the check of task ${task.id} failed: ${text || describe(error)}`,
      error,
    };
  }
}

/** Options of {@link runTask}. */
export interface RunTaskOptions {
  /** The URL of the checked module: an error's location in it is shown ("exercises.ts:42"). */
  moduleUrl?: string;
  /** Time limit for `run` in seconds (default: the task's). Only asynchronous waits stop. */
  seconds?: number;
}

/**
 * Runs and judges one task in this process, for tests (the checker runs `run` in a sandbox).
 * Never throws: an unfinished task, a wrong answer and a crash each become a {@link TaskResult}.
 */
export async function runTask<M>(
  task: Task<M>,
  impl: M,
  options: RunTaskOptions = {},
): Promise<TaskResult> {
  const seconds = options.seconds ?? task.seconds ?? DEFAULT_SECONDS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), seconds * 1000);
  });
  try {
    const outcome = await Promise.race([runPart(task, impl, options.moduleUrl), timeout]);
    if (outcome === "timeout") return timeoutResult(task, seconds);
    return await judgePart(task, outcome);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The result of a task whose `run` did not finish: in time (`"timeout"`), or at all because it
 * waits on a Promise that nothing will settle (`"never"`, which Deno detects).
 */
export function timeoutResult<M>(
  task: Task<M>,
  seconds: number,
  why: "timeout" | "never" = "timeout",
): TaskResult {
  const message = why === "never"
    ? "did not finish: it waits for a Promise that never settles (a missing resolve?)"
    : `did not finish in ${seconds} s (an endless loop, a wait that never ends, or very slow ` +
      `code?)`;
  return { id: task.id, title: task.title, status: "timeout", message };
}

/** Styles for {@link formatResult}; the default leaves text plain. */
export type ResultPaint = (
  text: string,
  ...styles: ("green" | "red" | "yellow" | "dim")[]
) => string;

/**
 * One line for a task: `✔ 3.1 convolution forward by loops`, `✘ 3.2 ...: not yet: <hint>`, or
 * `✘ 3.2 ...: <what is wrong>`. With `hint` 2, an unfinished task shows its second hint and a
 * wrong one adds it.
 */
export function formatResult(
  result: TaskResult,
  paint: ResultPaint = (text) => text,
  hint: { level: 1 | 2; hints?: [string, string] } = { level: 1 },
): string {
  const name = `${result.id} ${result.title}`;
  const second = hint.level === 2 ? hint.hints?.[1] : undefined;
  switch (result.status) {
    case "done":
      return `${paint("✔", "green")} ${name}`;
    case "todo": {
      const own = result.todoTask === result.id;
      const message = own && second ? second : result.message;
      return `${paint("✘", "yellow")} ${name}: ${paint("not yet:", "yellow")} ${message}`;
    }
    default: {
      const more = second ? ` ${paint(`(hint: ${second})`, "dim")}` : "";
      return `${paint("✘", "red")} ${name}: ${result.message}${more}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A lesson's exercise tests
// ---------------------------------------------------------------------------------------------

/** A plausible wrong answer to one task, and what its message must name. */
export interface WrongAnswer<M> {
  /** The mistake, for the test's name: "forgot zeroGrad". */
  mistake: string;
  /** Words the checker's message must contain (a RegExp, or a string to find). */
  says: RegExp | string;
  /** The wrong functions; the other exports are taken from `solutions.ts`. */
  impl: Partial<M>;
}

/** Options of {@link testTasks}. */
export interface TestTasksOptions<M> {
  /**
   * "reference" (the default): each solution passes, each stub throws its own `Todo`, each wrong
   * answer is named. "student": each task of `exercises.ts` passes (a student checking their work
   * with `deno test`). The environment variable `LESSON_EXERCISES=student` chooses it too.
   */
  mode?: "reference" | "student";
  /** The lesson's folder (`new URL("./", import.meta.url)`): hints are checked against
   * `solutions.ts` there, and errors point at lines of `exercises.ts`. */
  folder?: URL;
  /** At least two wrong answers a task, by task id. */
  wrongAnswers?: Record<string, WrongAnswer<M>[]>;
}

function modeFromEnvironment(): "reference" | "student" {
  try {
    return Deno.env.get("LESSON_EXERCISES") === "student" ? "student" : "reference";
  } catch {
    return "reference"; // no permission to read the environment
  }
}

/** Code lines of a file, without comments, spaces squeezed: what a hint must not contain. */
function codeLines(source: string): string[] {
  return source.split("\n")
    .map((line) => line.replace(/\/\/.*$/, "").replace(/\s+/g, " ").trim())
    .filter((line) => line.length >= 16 && !/^(\*|\/\*\*|import |export )/.test(line));
}

/** The first line of `solutions.ts` that `hint` contains, if any. */
export function answerLineIn(hint: string, solutionsSource: string): string | undefined {
  const squeezed = hint.replace(/\s+/g, " ");
  const bare = (text: string) => text.replace(/[\s;{}]/g, "");
  return codeLines(solutionsSource).find((line) => {
    const core = bare(line);
    return core.length >= 24 && bare(squeezed).includes(core);
  });
}

/**
 * Registers the Deno tests of a lesson's exercises; call it from the lesson's
 * `exercises.test.ts` (see the module's documentation). Checks that both files export the same
 * names, that every solution passes, that every stub throws the `Todo` of its own task, that no
 * hint quotes a line of `solutions.ts`, and that every task has at least two wrong answers, each
 * failing with a message that names it.
 */
export function testTasks<M>(
  tasks: Task<M>[],
  solutions: M,
  exercises: M,
  options: TestTasksOptions<M> = {},
): void {
  const mode = options.mode ?? modeFromEnvironment();
  const lesson = tasks[0]?.id.split(".")[0] ?? "?";
  const exercisesUrl = options.folder ? new URL("exercises.ts", options.folder).href : undefined;
  const names = (module: M) => Object.keys(module as object).sort();

  if (mode === "student") {
    for (const task of tasks) {
      Deno.test(`task ${task.id} (${task.title}): exercises.ts passes`, async () => {
        const result = await runTask(task, exercises, { moduleUrl: exercisesUrl });
        if (result.status !== "done") {
          throw new Error(formatResult(result), { cause: result.error });
        }
      });
    }
    return;
  }

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

  if (options.folder) {
    const folder = options.folder;
    Deno.test(`lesson ${lesson} exercises: no hint is a line of solutions.ts`, async () => {
      const source = await Deno.readTextFile(new URL("solutions.ts", folder));
      const stubs = await Deno.readTextFile(new URL("exercises.ts", folder));
      const stubHints = [...stubs.matchAll(/new Todo\(\s*"([\d.]+)",\s*((?:"[^"]*"\s*\+?\s*)+)/g)]
        .map((match) => ({ id: match[1], hint: match[2].replace(/"\s*\+\s*"/g, "") }));
      const hints = [
        ...tasks.flatMap((task) => task.hints.map((hint) => ({ id: task.id, hint }))),
        ...stubHints,
      ];
      for (const { id, hint } of hints) {
        const line = answerLineIn(hint, source);
        if (line) {
          throw new Error(`a hint of task ${id} gives away a line of solutions.ts: ${line}`);
        }
      }
    });
  }

  for (const task of tasks) {
    const name = `task ${task.id} (${task.title})`;
    Deno.test(`${name}: the solution passes`, async () => {
      const result = await runTask(task, solutions);
      if (result.status !== "done") {
        throw new Error(`solutions.ts fails task ${task.id}: ${result.message}`, {
          cause: result.error,
        });
      }
    });
    Deno.test(`${name}: the stub throws Todo("${task.id}")`, async () => {
      const result = await runTask(task, exercises, { moduleUrl: exercisesUrl });
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
    const wrongs = options.wrongAnswers?.[task.id] ?? [];
    if (wrongs.length < 2) {
      Deno.test(`${name}: has two wrong answers in the tests`, () => {
        throw new Error(
          `task ${task.id} has ${wrongs.length} wrong answer(s) in exercises.test.ts; ` +
            `every task needs at least two, each with the words its message must contain`,
        );
      });
    }
    for (const wrong of wrongs) {
      Deno.test(`${name}: a wrong answer (${wrong.mistake}) is named`, async () => {
        const impl = { ...solutions, ...wrong.impl } as M;
        const result = await runTask(task, impl);
        const says = wrong.says;
        const named = typeof says === "string"
          ? result.message.includes(says)
          : says.test(result.message);
        if (result.status !== "wrong" || !named) {
          throw new Error(
            `task ${task.id}, wrong answer "${wrong.mistake}": expected a "wrong" result whose ` +
              `message contains ${says}, got ${result.status}: ${result.message || "(passed)"}`,
            { cause: result.error },
          );
        }
      });
    }
  }
  const unknown = Object.keys(options.wrongAnswers ?? {}).filter((id) =>
    !tasks.some((task) => task.id === id)
  );
  if (unknown.length) {
    Deno.test(`lesson ${lesson} exercises: wrong answers name existing tasks`, () => {
      throw new Error(`wrongAnswers names tasks that do not exist: ${unknown.join(", ")}`);
    });
  }
}
