/**
 * Lesson 8, reference solutions. Same exports as `exercises.ts`; `deno task test` checks them.
 *
 * @module
 */
import { nn, noGrad, type Tensor } from "../../mod.ts";

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
 * Task 8.1: the learning rate of `epoch` (from 0) under a linear warm-up from
 * `startFactor * baseLr` to `baseLr` over `warmupEpochs`, then a half cosine from `baseLr` down
 * to 0 over the remaining `totalEpochs - warmupEpochs` epochs: what
 * `SequentialLR(LinearLR, CosineAnnealingLR)` gives.
 */
export function warmupCosineLr(epoch: number, options: WarmupCosineOptions): number {
  const { baseLr, startFactor, warmupEpochs, totalEpochs } = options;
  if (epoch < warmupEpochs) {
    return baseLr * (startFactor + (1 - startFactor) * epoch / warmupEpochs);
  }
  const t = epoch - warmupEpochs;
  const span = totalEpochs - warmupEpochs;
  return baseLr * (1 + Math.cos(Math.PI * t / span)) / 2;
}

/**
 * Task 8.2: gradient clipping by the joint norm, as `nn.utils.clipGradNorm_`: the norm of all
 * gradient entries of all parameters together; when it is above `maxNorm`, every gradient is
 * scaled by `maxNorm / norm` (in place: `p.grad.assign(...)` under `noGrad()`). Parameters
 * without a gradient are skipped.
 *
 * @returns the joint norm before clipping
 */
export async function clipGradNorm(parameters: Tensor[], maxNorm: number): Promise<number> {
  const grads = parameters.filter((p) => p.grad !== null).map((p) => p.grad!);
  let sumOfSquares = 0;
  for (const g of grads) sumOfSquares += await g.square().sum().item();
  const norm = Math.sqrt(sumOfSquares);
  if (norm > maxNorm) {
    using _ = noGrad();
    for (const g of grads) g.assign(g.mul(maxNorm / norm));
  }
  return norm;
}

/** The settings of one RMSprop step (task 8.3). */
export interface RMSpropStepOptions {
  lr: number;
  alpha: number;
  eps: number;
}

/**
 * Task 8.3: one RMSprop step, as `optim.RMSprop` without momentum or weight decay: the running
 * average of the squared gradient `squareAvg = alpha * squareAvg + (1 - alpha) * grad^2`, then
 * `param - lr * grad / (sqrt(squareAvg) + eps)`. Returns both new tensors (no in-place change).
 */
export function rmspropStep(
  param: Tensor,
  grad: Tensor,
  squareAvg: Tensor,
  options: RMSpropStepOptions,
): { param: Tensor; squareAvg: Tensor } {
  const { lr, alpha, eps } = options;
  const newSquareAvg = squareAvg.mul(alpha).add(grad.square().mul(1 - alpha));
  const step = grad.div(newSquareAvg.sqrt().add(eps)).mul(lr);
  return { param: param.sub(step), squareAvg: newSquareAvg };
}

/**
 * Task 8.4: Kaiming (He) initialization for a ReLU network: every `nn.Linear` of `model` gets
 * weights from a normal distribution with standard deviation `sqrt(2 / fanIn)` (`fanIn`: the
 * layer's number of inputs) and biases of 0.
 */
export function initKaiming(model: nn.Sequential): void {
  for (const layer of model) {
    if (!(layer instanceof nn.Linear)) continue;
    const fanIn = layer.weight.shape[1];
    nn.init.normal(layer.weight, 0, Math.sqrt(2 / fanIn));
    if (layer.bias) nn.init.zeros(layer.bias);
  }
}

/**
 * Task 8.5: a learning rate drawn log-uniformly between `low` and `high` from a uniform number
 * `u` in [0, 1): every power of ten in the range is as likely. `u = 0` gives `low`, `u = 1`
 * would give `high`, `u = 0.5` their geometric mean.
 */
export function logUniform(low: number, high: number, u: number): number {
  const logLow = Math.log10(low);
  const logHigh = Math.log10(high);
  return 10 ** (logLow + u * (logHigh - logLow));
}
