/**
 * Lesson 2, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 2` to see which tasks are done (`deno task check 2 --hint 2` for more help).
 *
 * @module
 */
// Everything the tasks need; the linter notes what you have not used yet.
// deno-lint-ignore no-unused-vars
import { F, nn, noGrad, rand, randperm, type Tensor, tensor } from "../../mod.ts";
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
  throw new Todo("2.1", "build f(x) from tensor methods, one piece of the formula at a time");
}

/**
 * Task 2.2: the extrapolation split of `n` points ordered by `x`: the first `trainCount` train,
 * the rest are held out. Both lists ascending.
 */
export function extrapolationSplit(_n: number, _trainCount: number): SplitIndices {
  throw new Todo("2.2", "the points on the left train; the ones on the right are held out");
}

/**
 * Task 2.3: the interpolation split: `trainCount` points chosen at random train, the others are
 * held out; the two end points `0` and `n - 1` always train, so that every held-out point lies
 * between training points. Both lists ascending. Use the seeded `randperm` from `mod.ts`.
 */
export function interpolationSplit(_n: number, _trainCount: number): SplitIndices {
  throw new Todo("2.3", "hold out points chosen at random among the inner ones");
}

/**
 * Task 2.4: the held-out error: the mean squared error of the model's predictions on the points
 * `testIdx` of `X` (shape `[n, 1]`) against the same rows of `y`, computed under `noGrad()`.
 *
 * @returns the error, as a number
 */
export function heldOutError(
  _model: nn.Module,
  _X: Tensor,
  _y: Tensor,
  _testIdx: number[],
): Promise<number> {
  throw new Todo("2.4", "predict only the held-out rows, then their mean squared error");
}

/**
 * Task 2.5: a fully connected layer of your own, as `nn.Linear(inFeatures, outFeatures)`:
 *
 * - `weight`, shape `[outFeatures, inFeatures]`, and `bias`, shape `[outFeatures]`, are
 *   parameters: wrap each tensor in `nn.Parameter(...)`, so that `parameters()` finds them and
 *   autograd computes their gradients;
 * - both start uniform in `[-bound, bound]` with `bound = 1 / sqrt(inFeatures)` (`rand` draws
 *   uniform numbers in [0, 1));
 * - `forward(x)` maps `x` of shape `[N, inFeatures]` to `x W^T + b`, shape `[N, outFeatures]`,
 *   with tensor ops (`matmul`, `transpose`, `add`); do not call `F.linear` or `nn.Linear`.
 */
export class MyLinear extends nn.Module {
  weight: Tensor;
  bias: Tensor;

  constructor(_inFeatures: number, _outFeatures: number) {
    super();
    throw new Todo("2.5", "two parameters, drawn small and uniform around 0");
  }

  forward(_x: Tensor): Tensor {
    throw new Todo("2.5", "a matrix product with the weight, then the bias on every row");
  }
}

/** Where a one-input ReLU network bends, and the slopes it extrapolates with. */
export interface Kinks {
  /** The inputs x where a hidden unit switches on or off, ascending. */
  kinks: number[];
  /** The slope of f beyond the largest kink (x to +infinity). */
  rightSlope: number;
  /** The slope of f before the smallest kink (x to -infinity). */
  leftSlope: number;
}

/**
 * Task 2.6: why extrapolation fails. The network `hidden -> ReLU -> output`, with
 * `hidden = nn.Linear(1, H)` and `output = nn.Linear(H, 1)`, computes
 * `f(x) = c + sum over i of v[i] * relu(w[i] * x + b[i])`: a broken line. Hidden unit `i` bends
 * it where `w[i] * x + b[i] = 0`. Find those points (skip units with `w[i] = 0`), and the slope of
 * `f` to the right of all of them and to the left of all of them: the straight lines the network
 * follows, whatever the data did, once it leaves the training range. Read the weights with
 * `await layer.weight.data()` (`w` is `hidden.weight`, `b` is `hidden.bias`, `v` is
 * `output.weight`).
 */
export function reluKinks(_hidden: nn.Linear, _output: nn.Linear): Promise<Kinks> {
  throw new Todo("2.6", "a ReLU unit bends the line where its input crosses zero");
}
