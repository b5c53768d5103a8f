/**
 * Lesson 2, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 2` to see which tasks are done.
 *
 * @module
 */
import type { nn, Tensor } from "../../mod.ts";
import { Todo } from "../todo.ts";

/** The indices of the training and the held-out points of one split. */
export interface SplitIndices {
  trainIdx: number[];
  testIdx: number[];
}

/**
 * Task 2.1: the lesson's curve without its noise,
 * `f(x) = ln(x)/x + 0.65 * |ln(x + x^2 - log10(x + 1))|`, elementwise on a tensor of `x > 0`.
 * Tensor methods: `log()` (natural), `abs()`, `square()`, `add`, `sub`, `mul`, `div`.
 */
export function targetFunction(_x: Tensor): Tensor {
  throw new Todo("2.1", "log10(t) is t.log().div(Math.LN10); build f from x.log(), .abs(), ...");
}

/**
 * Task 2.2: the extrapolation split of `n` points ordered by `x`: the first `trainCount` train,
 * the rest are held out. Both lists ascending.
 */
export function extrapolationSplit(_n: number, _trainCount: number): SplitIndices {
  throw new Todo("2.2", "trainIdx = 0..trainCount-1, testIdx = trainCount..n-1");
}

/**
 * Task 2.3: the interpolation split: `trainCount` points chosen at random train, the others are
 * held out; the two end points `0` and `n - 1` always train, so that every held-out point lies
 * between training points. Both lists ascending. Use the seeded `randperm` from `mod.ts`.
 */
export function interpolationSplit(_n: number, _trainCount: number): SplitIndices {
  throw new Todo(
    "2.3",
    "shuffle the inner points 1..n-2 with randperm(n - 2), keep 0 and n-1 in training, sort",
  );
}

/**
 * Task 2.4: the held-out error: the mean squared error of the model's predictions on the points
 * `testIdx` of `X` (shape `[n, 1]`) against the same rows of `y`, computed under `noGrad()`.
 */
export function heldOutError(
  _model: nn.Module,
  _X: Tensor,
  _y: Tensor,
  _testIdx: number[],
): Promise<number> {
  throw new Todo(
    "2.4",
    "pick the rows with X.indexSelect(0, tensor(testIdx, { dtype: 'int32' })), then F.mseLoss",
  );
}
