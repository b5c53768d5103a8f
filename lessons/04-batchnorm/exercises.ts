/**
 * Lesson 4, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 4` to see which tasks are done (`deno task check 4 --hint 2` for more help).
 *
 * Inputs are feature maps `[N, C, H, W]`; `gamma`, `beta`, `runningMean` and `runningVar` have
 * shape `[C]`. Tensor ops are enough for every task: `x.mean([0, 2, 3], true)` is the mean of
 * each channel with shape `[1, C, 1, 1]` (it broadcasts against `x`),
 * `x.var([0, 2, 3], { keepdim: true, correction: 0 })` the biased variance, and
 * `gamma.reshape([1, C, 1, 1])` lines a per-channel tensor up with `x`. Do not call
 * `F.batchNorm` or `nn.BatchNorm2d`: they are what your answers are checked against.
 *
 * @module
 */
// Everything the tasks need; the linter notes what you have not used yet.
// deno-lint-ignore no-unused-vars
import { nn, ones, type Tensor, zeros } from "../../mod.ts";
import { Todo } from "../todo.ts";

/** The gradients of a loss with respect to batch norm's input and parameters. */
export interface BatchNormGrads {
  /** `[N, C, H, W]`, like the input. */
  gradInput: Tensor;
  /** `[C]`. */
  gradGamma: Tensor;
  /** `[C]`. */
  gradBeta: Tensor;
}

/** Running statistics of a batch norm layer, each of shape `[C]`. */
export interface RunningStats {
  runningMean: Tensor;
  runningVar: Tensor;
}

/**
 * Task 4.1: batch normalization in training mode, as
 * `F.batchNorm(input, null, null, { weight: gamma, bias: beta, training: true, eps })`:
 * `y = gamma * (x - mean) / sqrt(var + eps) + beta`, with the mean and the biased variance of
 * each channel over the batch and the pixels.
 *
 * @param input `[N, C, H, W]`
 * @param gamma `[C]`, the scale
 * @param beta `[C]`, the shift
 * @returns `[N, C, H, W]`
 */
export function batchNormForward(
  _input: Tensor,
  _gamma: Tensor,
  _beta: Tensor,
  _eps = 1e-5,
): Tensor {
  throw new Todo(
    "4.1",
    "normalize each channel with the statistics of this batch, then scale and shift",
  );
}

/**
 * Task 4.2: the backward pass of batch normalization in training mode, by hand: given the
 * gradient `gradOutput` of a loss with respect to the output `y` of task 4.1, the gradients with
 * respect to the input, `gamma` and `beta`. With `xHat = (x - mean) / s`, `s = sqrt(var + eps)`
 * and sums and means over the `m = N * H * W` values of a channel:
 *
 * - `gradBeta = sum(gradOutput)`, `gradGamma = sum(gradOutput * xHat)`;
 * - `gradInput = gamma / s * (gradOutput - mean(gradOutput) - xHat * mean(gradOutput * xHat))`
 *   (the two subtracted terms are what flows back through the batch's mean and variance).
 *
 * @param input `[N, C, H, W]`, the input of the forward pass
 * @param gamma `[C]`
 * @param gradOutput `[N, C, H, W]`
 */
export function batchNormBackward(
  _input: Tensor,
  _gamma: Tensor,
  _gradOutput: Tensor,
  _eps = 1e-5,
): BatchNormGrads {
  throw new Todo(
    "4.2",
    "the chain rule through xHat, and through the mean and variance every xHat depends on",
  );
}

/**
 * Task 4.3: the running statistics after one training batch, as a `BatchNorm2d` layer updates
 * them: `running = (1 - momentum) * running + momentum * batchStatistic`, where the batch's
 * variance is the *unbiased* one (divided by `m - 1`, with `m = N * H * W` values a channel).
 * Return new tensors; leave the arguments unchanged.
 *
 * @param runningMean `[C]`
 * @param runningVar `[C]`
 * @param input `[N, C, H, W]`, the training batch
 */
export function updateRunningStats(
  _runningMean: Tensor,
  _runningVar: Tensor,
  _input: Tensor,
  _momentum = 0.1,
): RunningStats {
  throw new Todo("4.3", "blend each running statistic with the batch's, weighted by momentum");
}

/**
 * Task 4.4: batch normalization in evaluation mode, as
 * `F.batchNorm(input, runningMean, runningVar, { weight: gamma, bias: beta, eps })`: the same
 * formula as task 4.1, with the running statistics in place of the batch's.
 *
 * @param input `[N, C, H, W]`
 * @param runningMean `[C]`
 * @param runningVar `[C]`
 * @param gamma `[C]`
 * @param beta `[C]`
 */
export function batchNormEval(
  _input: Tensor,
  _runningMean: Tensor,
  _runningVar: Tensor,
  _gamma: Tensor,
  _beta: Tensor,
  _eps = 1e-5,
): Tensor {
  throw new Todo("4.4", "the formula of 4.1, with the running statistics in place of the batch's");
}

/**
 * Task 4.5: a batch norm layer of your own, as `nn.BatchNorm2d(numFeatures)` with its defaults
 * (`momentum` 0.1, `eps` 1e-5):
 *
 * - parameters `weight` (gamma, starting at ones) and `bias` (beta, starting at zeros), shape
 *   `[numFeatures]`, wrapped in `nn.Parameter`;
 * - buffers `runningMean` (zeros) and `runningVar` (ones), registered with
 *   `this.registerBuffer("runningMean", ...)` so that they are saved with the model;
 * - `forward(input)`: in training mode (`this.training`, true until `eval()`), normalize with
 *   the batch's statistics (task 4.1) and update the running ones (task 4.3); in evaluation
 *   mode, normalize with the running statistics (task 4.4) and change nothing.
 *
 * Your functions of tasks 4.1, 4.3 and 4.4 do the work.
 */
export class MyBatchNorm2d extends nn.Module {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  momentum = 0.1;
  eps = 1e-5;

  constructor(_numFeatures: number) {
    super();
    throw new Todo("4.5", "two parameters and two buffers, one value a channel each");
  }

  forward(_input: Tensor): Tensor {
    throw new Todo("4.5", "two modes: this.training chooses the batch's or the running statistics");
  }
}
