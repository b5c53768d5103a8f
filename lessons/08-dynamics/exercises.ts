/**
 * Lesson 8, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 8` to see which tasks are done (`deno task check 8 --hint 2` for more help).
 *
 * @module
 */
// `nn` and `noGrad` are for tasks 8.2 and 8.4 (the linter notes them unused until then).
// deno-lint-ignore no-unused-vars
import { nn, noGrad, type Tensor } from "../../mod.ts";
import { Todo } from "../todo.ts";

/** The settings of a warm-up followed by a cosine decay (task 8.1). */
export interface WarmupCosineOptions {
  /** The learning rate at the end of the warm-up, where the cosine starts. */
  baseLr: number;
  /** The warm-up starts at `startFactor * baseLr`. */
  startFactor: number;
  /** Epochs of linear warm-up. */
  warmupEpochs: number;
  /** Epochs in all; the cosine reaches 0 at the end. */
  totalEpochs: number;
}

/**
 * Task 8.1 (build a scheduler): the learning rate of `epoch` (counted from 0) under
 *
 * - a linear warm-up from `startFactor * baseLr` (epoch 0) up to `baseLr` (epoch
 *   `warmupEpochs`), then
 * - a half cosine from `baseLr` down to 0 over the remaining `totalEpochs - warmupEpochs`
 *   epochs.
 *
 * This is what `SequentialLR` gives with a `LinearLR` and a `CosineAnnealingLR` (the check
 * compares with them). With `baseLr 0.1, startFactor 0.1, warmupEpochs 2, totalEpochs 6` the
 * rates are 0.01, 0.055, 0.1, 0.085, 0.05, 0.015.
 */
export function warmupCosineLr(_epoch: number, _options: WarmupCosineOptions): number {
  throw new Todo("8.1", "two pieces: a straight line during the warm-up, then a half cosine");
}

/**
 * Task 8.2 (build gradient clipping): clip the gradients of `parameters` by their joint norm, as
 * `nn.utils.clipGradNorm_` does: compute the norm of all gradient entries of all parameters
 * together, `sqrt(sum of g^2 over every entry of every gradient)`; when it is above `maxNorm`,
 * scale every gradient by `maxNorm / norm`, in place (`g.assign(newValues)` inside
 * `{ using _ = noGrad(); ... }`). Skip parameters whose `grad` is null.
 *
 * @returns the joint norm **before** clipping, as a number
 */
export function clipGradNorm(_parameters: Tensor[], _maxNorm: number): Promise<number> {
  throw new Todo("8.2", "one norm for all the gradients together, then one factor for all");
}

/** The settings of one RMSprop step (task 8.3). */
export interface RMSpropStepOptions {
  lr: number;
  alpha: number;
  eps: number;
}

/**
 * Task 8.3 (build an optimizer step): one step of RMSprop (no momentum, no weight decay), with
 * tensor operations:
 *
 * - update the running average of the squared gradient with decay `alpha`;
 * - move the parameter against the gradient, divided by the square root of that average plus
 *   `eps`, times `lr`.
 *
 * Return the new parameter and the new average as new tensors (change nothing in place). The
 * check runs three steps and compares with `optim.RMSprop`.
 */
export function rmspropStep(
  _param: Tensor,
  _grad: Tensor,
  _squareAvg: Tensor,
  _options: RMSpropStepOptions,
): { param: Tensor; squareAvg: Tensor } {
  throw new Todo("8.3", "an exponential moving average of grad^2, then a step scaled by it");
}

/**
 * Task 8.4: Kaiming (He) initialization of a ReLU network: give every `nn.Linear` layer of
 * `model` (`for (const layer of model)`; `layer instanceof nn.Linear`) weights drawn from a
 * normal distribution with the standard deviation that keeps the activations' variance through a
 * ReLU, and biases of 0. Use `nn.init.normal(tensor, mean, std)` and `nn.init.zeros(tensor)`; a
 * Linear weight has shape `[outFeatures, inFeatures]`.
 */
export function initKaiming(_model: nn.Sequential): void {
  throw new Todo("8.4", "a ReLU layer multiplies the variance by n * var(w) / 2: make that 1");
}

/**
 * Task 8.5: a learning rate drawn **log-uniformly** between `low` and `high` (for example 1e-4
 * and 1e-1), from `u`, a number drawn uniformly in [0, 1): each power of ten in the range must
 * be equally likely. `u = 0` gives `low`; `u = 0.5` gives the geometric mean `sqrt(low * high)`.
 */
export function logUniform(_low: number, _high: number, _u: number): number {
  throw new Todo("8.5", "draw the exponent uniformly, not the number");
}
