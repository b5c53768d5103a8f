/**
 * Lesson 4, reference solutions. Same exports as `exercises.ts`; `deno task test` checks them.
 *
 * @module
 */
import { nn, ones, type Tensor, zeros } from "../../mod.ts";

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

/** The dimensions a channel's statistics are taken over: batch, height, width. */
const STAT_DIMS = [0, 2, 3];

/** A `[C]` tensor as `[1, C, 1, 1]`, to broadcast against `[N, C, H, W]`. */
function perChannel(values: Tensor): Tensor {
  return values.reshape([1, values.shape[0], 1, 1]);
}

/**
 * Task 4.1: batch normalization in training mode:
 * `y = gamma * (x - mean) / sqrt(var + eps) + beta`, with the mean and the biased variance of
 * each channel over the batch and the pixels.
 */
export function batchNormForward(input: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const mean = input.mean(STAT_DIMS, true);
  const variance = input.var(STAT_DIMS, { keepdim: true, correction: 0 });
  const xHat = input.sub(mean).div(variance.add(eps).sqrt());
  return xHat.mul(perChannel(gamma)).add(perChannel(beta));
}

/**
 * Task 4.2: the backward pass of batch normalization in training mode, by hand.
 *
 * Every output of a channel depends on every input of that channel through the mean and the
 * variance, which is where the two subtracted terms of `gradInput` come from:
 * `gradInput = gamma / s * (g - mean(g) - xHat * mean(g * xHat))`.
 */
export function batchNormBackward(
  input: Tensor,
  gamma: Tensor,
  gradOutput: Tensor,
  eps = 1e-5,
): BatchNormGrads {
  const mean = input.mean(STAT_DIMS, true);
  const variance = input.var(STAT_DIMS, { keepdim: true, correction: 0 });
  const s = variance.add(eps).sqrt();
  const xHat = input.sub(mean).div(s);

  const gradBeta = gradOutput.sum(STAT_DIMS);
  const gradGamma = gradOutput.mul(xHat).sum(STAT_DIMS);
  const meanGrad = gradOutput.mean(STAT_DIMS, true);
  const meanGradXHat = gradOutput.mul(xHat).mean(STAT_DIMS, true);
  const gradInput = gradOutput.sub(meanGrad).sub(xHat.mul(meanGradXHat))
    .mul(perChannel(gamma)).div(s);
  return { gradInput, gradGamma, gradBeta };
}

/**
 * Task 4.3: the running statistics after one training batch:
 * `running = (1 - momentum) * running + momentum * batchStatistic`, with the unbiased variance.
 */
export function updateRunningStats(
  runningMean: Tensor,
  runningVar: Tensor,
  input: Tensor,
  momentum = 0.1,
): RunningStats {
  const batchMean = input.mean(STAT_DIMS);
  const batchVar = input.var(STAT_DIMS, { correction: 1 }); // unbiased: divided by m - 1
  return {
    runningMean: runningMean.mul(1 - momentum).add(batchMean.mul(momentum)),
    runningVar: runningVar.mul(1 - momentum).add(batchVar.mul(momentum)),
  };
}

/** Task 4.4: batch normalization in evaluation mode, with the running statistics. */
export function batchNormEval(
  input: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  gamma: Tensor,
  beta: Tensor,
  eps = 1e-5,
): Tensor {
  const xHat = input.sub(perChannel(runningMean)).div(perChannel(runningVar).add(eps).sqrt());
  return xHat.mul(perChannel(gamma)).add(perChannel(beta));
}

/**
 * Task 4.5: a batch norm layer of your own: gamma and beta are parameters, the running
 * statistics are buffers; training mode normalizes with the batch's statistics and updates the
 * running ones, evaluation mode uses the running ones.
 */
export class MyBatchNorm2d extends nn.Module {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  momentum = 0.1;
  eps = 1e-5;

  constructor(numFeatures: number) {
    super();
    this.weight = nn.Parameter(ones([numFeatures]));
    this.bias = nn.Parameter(zeros([numFeatures]));
    this.runningMean = zeros([numFeatures]);
    this.runningVar = ones([numFeatures]);
    this.registerBuffer("runningMean", this.runningMean);
    this.registerBuffer("runningVar", this.runningVar);
  }

  forward(input: Tensor): Tensor {
    if (!this.training) {
      return batchNormEval(
        input,
        this.runningMean,
        this.runningVar,
        this.weight,
        this.bias,
        this.eps,
      );
    }
    // The running statistics are bookkeeping, not part of the graph.
    const stats = updateRunningStats(
      this.runningMean,
      this.runningVar,
      input.detach(),
      this.momentum,
    );
    this.runningMean = stats.runningMean;
    this.runningVar = stats.runningVar;
    return batchNormForward(input, this.weight, this.bias, this.eps);
  }
}
