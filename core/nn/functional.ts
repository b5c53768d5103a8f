/**
 * `F`: the functions behind the layers, written with tensor ops so that autograd derives their
 * gradients. The names and semantics are PyTorch's `torch.nn.functional` in camelCase:
 * `F.linear`, `F.conv2d`, `F.batchNorm`, `F.crossEntropy`, ...
 *
 * @example
 * ```ts
 * import { F, tensor } from "../../mod.ts";
 * const logits = tensor([[2, 0.5, -1], [0, 3, 0]]);
 * const targets = tensor([0, 1], { dtype: "int32" });
 * const loss = F.crossEntropy(logits, targets);
 * console.assert(Math.abs((await loss.item()) - 0.1681) < 1e-3);
 * ```
 * @module
 */
import { ownedByGraph, withNoGrad } from "../autograd.ts";
import { findKernel, type FusedKernels, getBackend, type Storage } from "../backend.ts";
import { rand } from "../creation.ts";
import { isFloat } from "../dtype.ts";
import { fmtShape, sameShape } from "../shape.ts";
import { expectTensor, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import * as ew from "../ops/elementwise.ts";
import * as red from "../ops/reduce.ts";

import { matmulRaw, matmulTransposed } from "../ops/matmul.ts";
import { checkArgCount, checkOptions } from "../options.ts";
import { checkBias } from "../ops/conv.ts";
import { checkIndicesOnDevice } from "../device_checks.ts";
export { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d } from "../ops/conv.ts";
export type { Conv2dOptions, Pair, PoolOptions, WindowOptions } from "../ops/conv.ts";

/** How a loss combines the losses of the examples: their mean, their sum, or none (each one). */
export type Reduction = "mean" | "sum" | "none";

function reduce(op: string, losses: Tensor, reduction: Reduction): Tensor {
  if (reduction === "mean") return losses.mean();
  if (reduction === "sum") return losses.sum();
  if (reduction === "none") return losses;
  throw new Error(`${op}: reduction must be "mean", "sum" or "none", got "${reduction}"`);
}

function checkSameDevice(op: string, a: Tensor, b: Tensor, what: string): void {
  if (a.device !== b.device) {
    throw new Error(
      `${op}: the input is on "${a.device}" but the ${what} is on "${b.device}"; move one ` +
        `with .to("${a.device}")`,
    );
  }
}

// ---- layers ------------------------------------------------------------------------------------

/**
 * The affine map of a fully connected layer: `input @ weight^T + bias`, with `weight` of shape
 * `[outFeatures, inFeatures]` (PyTorch's layout) and `bias` of shape `[outFeatures]`. The input
 * is `[..., inFeatures]`; the output is `[..., outFeatures]`.
 *
 * @example
 * ```ts
 * import { F, tensor } from "../../mod.ts";
 * const x = tensor([[1, 2]]);
 * const weight = tensor([[1, 0], [0, 1], [1, 1]]); // 3 outputs, 2 inputs
 * const y = F.linear(x, weight, tensor([0, 0, 10]));
 * console.assert((await y.toArray()).toString() === "1,2,13");
 * ```
 */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  expectTensor("linear", "input", input);
  expectTensor("linear", "weight", weight);
  checkBias("linear", bias);
  checkArgCount("linear", arguments, 3);
  if (weight.ndim !== 2) {
    throw new Error(
      `linear: the weight must be 2-D [outFeatures, inFeatures], got shape ` +
        `${fmtShape(weight.shape)}`,
    );
  }
  const [outFeatures, inFeatures] = weight.shape;
  if (input.ndim === 0 || input.shape[input.ndim - 1] !== inFeatures) {
    throw new Error(
      `linear: the input of shape ${fmtShape(input.shape)} has ` +
        `${input.shape[input.ndim - 1] ?? 0} features in its last dimension, but the weight of ` +
        `shape ${fmtShape(weight.shape)} expects ${inFeatures} ([outFeatures, inFeatures]); ` +
        `flatten the input (x.flatten(1)) or fix inFeatures`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outFeatures)) {
    throw new Error(
      `linear: the bias must have shape [${outFeatures}], got ${fmtShape(bias.shape)}`,
    );
  }
  checkSameDevice("linear", input, weight, "weight");
  const fused = bias ? findKernel("linear", input.device, input.dtype) : undefined;
  const sameKind = bias?.dtype === input.dtype && bias?.device === input.device;
  if (fused && bias && sameKind && weight.dtype === input.dtype) {
    return linearFused(fused, input, weight, bias);
  }
  // The weight is read transposed in place: no copy of W^T is made.
  const out = matmulTransposed(input, weight);
  if (!bias) return out;
  return ownedByGraph(out.add(bias), out);
}

/**
 * A linear layer with its bias as one kernel from the registry (one pass instead of a product
 * and an addition). With `X` the input as `[rows, inFeatures]` and `G` the gradient as
 * `[rows, outFeatures]`: `dX = G @ W`, `dW = G^T @ X`, `dBias = G` summed over the rows.
 */
function linearFused(
  kernel: FusedKernels["linear"],
  input: Tensor,
  weight: Tensor,
  bias: Tensor,
): Tensor {
  const [outFeatures, inFeatures] = weight.shape;
  const rows = input.numel() / inFeatures;
  const geom = { rows, inFeatures, outFeatures };
  const storage = kernel(input.storage, weight.storage, bias.storage, input.dtype, geom);
  const out = new Tensor(storage, [...input.shape.slice(0, -1), outFeatures], input.dtype);
  return record("linear", out, [input, weight, bias], (grad) => {
    const grad2 = grad.reshape([rows, outFeatures]);
    return [
      input.requiresGrad ? matmulRaw(grad2, weight).reshape(input.shape) : null,
      weight.requiresGrad ? matmulRaw(grad2, input.reshape([rows, inFeatures]), true, false) : null,
      bias.requiresGrad ? grad2.sum(0) : null,
    ];
  });
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Scale of each channel (`gamma`), shape `[channels]`. */
  weight?: Tensor | null;
  /** Shift of each channel (`beta`), shape `[channels]`. */
  bias?: Tensor | null;
  /** Normalize with the batch's statistics (and update the running ones). Default false. */
  training?: boolean;
  /** Weight of the new batch in the running averages (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root, so that a constant channel is not 0/0. */
  eps?: number;
}

/**
 * Batch normalization over the channel dimension (dimension 1) of `[N, C]`, `[N, C, L]` or
 * `[N, C, H, W]` inputs: `y = (x - mean) / sqrt(var + eps) * weight + bias`, per channel.
 *
 * In training the mean and variance are those of the batch (over every dimension but the
 * channels), and the variance is the biased one (divided by n, not n - 1): it describes this
 * batch exactly, which is what normalizing needs. The running averages (when given) are updated
 * in place, `running = (1 - momentum) * running + momentum * batchStat`, with the unbiased
 * variance (divided by n - 1), because they estimate the statistics of the whole data set.
 * In evaluation the running averages are used instead of the batch's.
 *
 * In training with float32 on a backend that offers fused batch-norm kernels (the WebAssembly
 * CPU kernels do), the same numbers come from one kernel forward and one backward; everything
 * else runs the composed ops written out below.
 */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  checkOptions("batchNorm", arguments, 3, ["weight", "bias", "training", "momentum", "eps"]);
  expectTensor("batchNorm", "input", input);
  const { weight = null, bias = null, training = false, momentum = 0.1, eps = 1e-5 } = options;
  if (input.ndim < 2) {
    throw new Error(
      `batchNorm: expected an input of shape [batch, channels, ...], got ${fmtShape(input.shape)}`,
    );
  }
  const channels = input.shape[1];
  const perChannel: [string, Tensor | null][] = [
    ["runningMean", runningMean],
    ["runningVar", runningVar],
    ["weight", weight],
    ["bias", bias],
  ];
  for (const [name, t] of perChannel) {
    if (t && (t.ndim !== 1 || t.shape[0] !== channels)) {
      throw new Error(
        `batchNorm: ${name} has shape ${fmtShape(t.shape)} but the input of shape ` +
          `${fmtShape(input.shape)} has ${channels} channels (expected [${channels}])`,
      );
    }
  }
  // Statistics are taken over every dimension but the channels: [0] for [N, C], [0, 2, 3] for
  // images. They are kept as [1, C, 1, 1] so that they broadcast against the input.
  const dims = input.shape.map((_, i) => i).filter((i) => i !== 1);
  const statShape = input.shape.map((d, i) => (i === 1 ? d : 1));
  const count = input.numel() / channels;
  let mean: Tensor;
  let variance: Tensor;
  let fused: ReturnType<typeof batchNormTrainFused> = null;
  if (training) {
    if (count <= 1) {
      throw new Error(
        `batchNorm: expected more than 1 value per channel when training, got input of shape ` +
          `${fmtShape(input.shape)} (use a batch of 2 or more, or call model.eval())`,
      );
    }
    fused = batchNormTrainFused(input, weight, bias, eps);
    if (fused) {
      mean = fused.mean.reshape(statShape);
      variance = fused.variance.reshape(statShape);
    } else {
      mean = input.mean(dims, true);
      variance = input.var(dims, { keepdim: true, correction: 0 });
    }
    if (runningMean && runningVar) {
      withNoGrad(() => {
        const batchMean = mean.reshape([channels]);
        const unbiasedVar = variance.reshape([channels]).mul(count / (count - 1));
        runningMean.assign(runningMean.mul(1 - momentum).add(batchMean.mul(momentum)));
        runningVar.assign(runningVar.mul(1 - momentum).add(unbiasedVar.mul(momentum)));
      });
    }
  } else {
    if (!runningMean || !runningVar) {
      throw new Error(
        `batchNorm: evaluation mode needs runningMean and runningVar (or pass training: true ` +
          `to normalize with the batch's own statistics)`,
      );
    }
    mean = runningMean.reshape(statShape);
    variance = runningVar.reshape(statShape);
  }
  if (fused) return fused.out;
  let out = input.sub(mean).div(variance.add(eps).sqrt());
  if (weight) out = out.mul(weight.reshape(statShape));
  if (bias) out = out.add(bias.reshape(statShape));
  return out;
}

/**
 * Training-mode batch norm as one fused kernel from the kernel registry (the reference loops of
 * `core/cpu/fused.ts`, the WebAssembly kernels for float32), recorded as one op whose backward is
 * one kernel too. It computes the
 * same formulas as the composed path of {@link batchNorm}, with the gradients worked out by
 * hand: with m values per channel and xHat = (x - mean) / sqrt(var + eps),
 *
 *   dBias = sum(dy),  dWeight = sum(dy * xHat),
 *   dx = weight / sqrt(var + eps) / m * (m * dy - sum(dy) - xHat * sum(dy * xHat)).
 *
 * Returns null (and the composed path runs) where no such kernel is registered (WebGPU), and
 * for mixed devices or dtypes, which the composed ops report.
 */
function batchNormTrainFused(
  input: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): { out: Tensor; mean: Tensor; variance: Tensor } | null {
  const forward = findKernel("batchNormTrain", input.device, input.dtype);
  const backward = findKernel("batchNormTrainBackward", input.device, input.dtype);
  if (!forward || !backward) return null;
  const params = [weight, bias].filter((p): p is Tensor => p !== null);
  const sameKind = (p: Tensor) => p.dtype === input.dtype && p.device === input.device;
  if (input.numel() === 0 || !params.every(sameKind)) return null;
  const [n, c] = input.shape;
  const geom = { n, c, spatial: input.numel() / (n * c), eps };
  const result = forward(
    input.storage,
    weight?.storage ?? null,
    bias?.storage ?? null,
    input.dtype,
    geom,
  );
  const out = new Tensor(result.out, input.shape, input.dtype);
  const mean = new Tensor(result.mean, [c], input.dtype);
  const variance = new Tensor(result.variance, [c], input.dtype);
  // 1 / sqrt(var + eps) per channel, kept (with the mean) for the backward pass.
  const invStd = new Tensor(result.invStd, [c], input.dtype);
  const recorded = record("batchNorm", out, [input, ...params], (grad) => {
    const wanted = { weight: !!weight?.requiresGrad, bias: !!bias?.requiresGrad };
    const grads = backward(
      grad.storage,
      input.storage,
      weight?.storage ?? null,
      mean.storage,
      invStd.storage,
      grad.dtype,
      geom,
      wanted,
    );
    const perChannel = (storage: Storage | null) =>
      storage ? new Tensor(storage, [c], grad.dtype) : null;
    return [
      new Tensor(grads.dx, input.shape, grad.dtype),
      ...(weight ? [perChannel(grads.dWeight)] : []),
      ...(bias ? [perChannel(grads.dBias)] : []),
    ];
  });
  return { out: recorded, mean, variance };
}

/**
 * Dropout: zeroes each element with probability `p` and scales the survivors by `1 / (1 - p)`,
 * so that the expected value is unchanged and evaluation needs no rescaling. Does nothing when
 * `training` is false. The mask comes from the seeded generator (`manualSeed`).
 *
 * @example
 * ```ts
 * import { F, manualSeed, ones } from "../../mod.ts";
 * manualSeed(0);
 * const y = F.dropout(ones([1000]), 0.5);
 * const kept = Array.from(await y.data()).filter((v) => v !== 0);
 * console.assert(kept.every((v) => v === 2) && Math.abs(kept.length - 500) < 60);
 * ```
 */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  checkArgCount("dropout", arguments, 3, "there is no in-place dropout: write x = F.dropout(x)");
  if (!(p >= 0 && p <= 1)) {
    throw new Error(`dropout: probability has to be between 0 and 1, but got ${p}`);
  }
  if (!training || p === 0) return input;
  if (p === 1) return input.mul(0);
  // keep = 1 where a uniform draw in [0, 1) is >= p, which happens with probability 1 - p.
  const scaledMask = withNoGrad(() =>
    rand(input.shape, { dtype: input.dtype, device: input.device }).ge(p).mul(1 / (1 - p))
  );
  return input.mul(scaledMask);
}

// ---- activations -------------------------------------------------------------------------------

/** `max(x, 0)`. */
export function relu(input: Tensor): Tensor {
  checkArgCount("relu", arguments, 1, "there is no in-place relu: write x = F.relu(x)");
  return ew.relu(input);
}

/** `x` where positive, `negativeSlope * x` elsewhere. */
export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  return ew.leakyRelu(input, negativeSlope);
}

/** The logistic function `1 / (1 + e^-x)`. */
export function sigmoid(input: Tensor): Tensor {
  return ew.sigmoid(input);
}

/** Hyperbolic tangent. */
export function tanh(input: Tensor): Tensor {
  return ew.tanh(input);
}

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** `"none"` (the default): the exact `x * Phi(x)`; `"tanh"`: the tanh approximation. */
  approximate?: "none" | "tanh";
}

/**
 * GELU, `x * Phi(x)` with the exact normal CDF (PyTorch's default), or with
 * `{ approximate: "tanh" }` the approximation `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715
 * x^3)))` that GPT-2 and BERT used.
 *
 * @example
 * ```ts
 * import { F, tensor } from "../../mod.ts";
 * const y = F.gelu(tensor([1]), { approximate: "tanh" });
 * console.assert(Math.abs((await y.item()) - 0.8412) < 1e-4);
 * ```
 */
export function gelu(input: Tensor, options: GeluOptions = {}): Tensor {
  checkOptions("gelu", arguments, 1, ["approximate"]);
  const { approximate = "none" } = options;
  if (approximate === "tanh") return ew.geluTanh(input);
  if (approximate !== "none") {
    throw new Error(
      `gelu: approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`,
    );
  }
  return ew.gelu(input);
}

/** Options of {@link elu}. */
export interface EluOptions {
  /** The value `alpha * (exp(x) - 1)` tends to for very negative x (default 1). */
  alpha?: number;
}

/**
 * ELU: `x` where `x > 0`, `alpha * (exp(x) - 1)` elsewhere: smooth at 0 (for alpha 1), and its
 * negative outputs pull the mean activation towards 0.
 *
 * @example
 * ```ts
 * import { F, tensor } from "../../mod.ts";
 * const y = F.elu(tensor([-1, 2]));
 * console.assert(Math.abs((await y.toArray() as number[])[0] - (Math.exp(-1) - 1)) < 1e-6);
 * ```
 */
export function elu(input: Tensor, options: EluOptions = {}): Tensor {
  checkOptions("elu", arguments, 1, ["alpha"]);
  const { alpha = 1 } = options;
  if (typeof alpha !== "number" || !Number.isFinite(alpha)) {
    throw new TypeError(`elu: alpha must be a finite number, got ${alpha}`);
  }
  return ew.elu(input, alpha);
}

/** `exp(x) / sum(exp(x))` along `dim`: probabilities that sum to 1. */
export function softmax(input: Tensor, dim: number): Tensor {
  return red.softmax(input, dim);
}

/** `log(softmax(x))` along `dim`, computed stably as `x - logsumexp(x)`. */
export function logSoftmax(input: Tensor, dim: number): Tensor {
  return red.logSoftmax(input, dim);
}

// ---- regression losses -------------------------------------------------------------------------

/** Options of the losses. */
export interface LossOptions {
  /** `"mean"` (the default), `"sum"`, or `"none"` for one loss per element. */
  reduction?: Reduction;
}

function checkSameShape(op: string, input: Tensor, target: Tensor): void {
  expectTensor(op, "input", input);
  expectTensor(op, "target", target);
  checkSameDevice(op, input, target, "target");
  if (!sameShape(input.shape, target.shape)) {
    throw new Error(
      `${op}: the input of shape ${fmtShape(input.shape)} and the target of shape ` +
        `${fmtShape(target.shape)} differ; broadcasting them would compare every prediction ` +
        `with every target, which is almost always a bug: reshape one to match the other ` +
        `(e.g. target.reshape(${JSON.stringify(input.shape)}))`,
    );
  }
  if (!isFloat(target.dtype)) {
    throw new TypeError(`${op}: expected a float target, got ${target.dtype} (use .float())`);
  }
}

/**
 * Mean squared error, `mean((input - target)^2)`. Shapes must match exactly.
 *
 * @example
 * ```ts
 * import { F, tensor } from "../../mod.ts";
 * const loss = F.mseLoss(tensor([1, 2, 3]), tensor([1, 2, 5]));
 * console.assert(Math.abs((await loss.item()) - 4 / 3) < 1e-6);
 * ```
 */
export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  checkOptions("mseLoss", arguments, 2, ["reduction"]);
  checkSameShape("mseLoss", input, target);
  const diff = input.sub(target);
  return reduce("mseLoss", diff.mul(diff), options.reduction ?? "mean");
}

/** Mean absolute error, `mean(|input - target|)`. Shapes must match exactly. */
export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  checkOptions("l1Loss", arguments, 2, ["reduction"]);
  checkSameShape("l1Loss", input, target);
  return reduce("l1Loss", input.sub(target).abs(), options.reduction ?? "mean");
}

// ---- classification losses ---------------------------------------------------------------------

/** Options of {@link nllLoss}. */
export interface NllLossOptions extends LossOptions {
  /**
   * A weight per class, shape `[classes]`: each example's loss is multiplied by the weight of
   * its class, and the mean divides by the sum of those weights (PyTorch's definition).
   */
  weight?: Tensor | null;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions extends NllLossOptions {
  /**
   * Label smoothing in [0, 1]: the target becomes `1 - labelSmoothing` on the true class plus
   * `labelSmoothing / classes` spread over all classes.
   */
  labelSmoothing?: number;
}

/**
 * Checks scores `[N, C, ...]` against class indices `[N, ...]` and returns the class count.
 * The indices are read back to check their range on devices that allow a synchronous read.
 */
function checkClassTargets(
  op: string,
  scores: Tensor,
  targets: Tensor,
  weight: Tensor | null,
): number {
  if (!(scores instanceof Tensor) || !(targets instanceof Tensor)) {
    throw new TypeError(`${op}: expected two tensors (scores and class indices)`);
  }
  if (scores.ndim < 2) {
    throw new Error(
      `${op}: expected scores of shape [batch, classes] (or [batch, classes, ...]), got ` +
        `${fmtShape(scores.shape)}; for a single example use x.unsqueeze(0)`,
    );
  }
  if (!isFloat(scores.dtype)) {
    throw new TypeError(`${op}: expected float scores, got ${scores.dtype}`);
  }
  if (targets.dtype !== "int32") {
    throw new TypeError(
      `${op}: expected class indices of dtype int32, got ${targets.dtype}; make the targets ` +
        `with { dtype: "int32" } or convert them with .int()`,
    );
  }
  checkSameDevice(op, scores, targets, "targets");
  const [batch, classes, ...rest] = scores.shape;
  if (targets.ndim === 0 || targets.shape[0] !== batch) {
    throw new Error(
      `${op}: the scores of shape ${fmtShape(scores.shape)} and the targets of shape ` +
        `${fmtShape(targets.shape)} have different batch sizes (${batch} vs ` +
        `${targets.shape[0] ?? "none"})`,
    );
  }
  const expected = [batch, ...rest];
  if (!sameShape(targets.shape, expected)) {
    throw new Error(
      `${op}: the targets should have shape ${fmtShape(expected)} (one class index per ` +
        `example) to match scores of shape ${fmtShape(scores.shape)}, got ` +
        `${fmtShape(targets.shape)}`,
    );
  }
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== classes)) {
    throw new Error(
      `${op}: the class weight should have shape [${classes}], got ${fmtShape(weight.shape)}`,
    );
  }
  const backend = getBackend(targets.device);
  const message = (target: number) =>
    `${op}: target ${target} is out of range for ${classes} classes (class indices go from 0 ` +
    `to ${classes - 1})`;
  if (backend.readSync) {
    for (const target of backend.readSync(targets.storage, "int32")) {
      if (target < 0 || target >= classes) throw new RangeError(message(target));
    }
  } else {
    // On a GPU the check runs on the device; the next read back reports it.
    checkIndicesOnDevice(targets, classes, message);
  }
  return classes;
}

/**
 * The loss of each example before reduction, `-weight[y] * logProbs[y]`, and the weight of
 * each example (null without class weights).
 */
function pickedLosses(
  logProbs: Tensor,
  targets: Tensor,
  weight: Tensor | null,
): { losses: Tensor; exampleWeights: Tensor | null } {
  const picked = logProbs.gather(1, targets.unsqueeze(1)).squeeze(1);
  if (!weight) return { losses: picked.neg(), exampleWeights: null };
  const exampleWeights = weight.indexSelect(0, targets.flatten()).reshape(targets.shape);
  return { losses: picked.neg().mul(exampleWeights), exampleWeights };
}

/** Sums or averages per-example losses; with class weights the mean divides by their sum. */
function reduceWeighted(
  op: string,
  losses: Tensor,
  exampleWeights: Tensor | null,
  reduction: Reduction,
): Tensor {
  if (reduction === "mean" && exampleWeights) return losses.sum().div(exampleWeights.sum());
  return reduce(op, losses, reduction);
}

/**
 * Negative log likelihood: `-logProbs[i, targets[i]]`, averaged. Takes log-probabilities (the
 * output of `logSoftmax`) and int32 class indices; `crossEntropy` does both steps at once.
 */
export function nllLoss(
  logProbs: Tensor,
  targets: Tensor,
  options: NllLossOptions = {},
): Tensor {
  checkOptions("nllLoss", arguments, 2, ["weight", "reduction"]);
  const weight = options.weight ?? null;
  checkClassTargets("nllLoss", logProbs, targets, weight);
  const { losses, exampleWeights } = pickedLosses(logProbs, targets, weight);
  return reduceWeighted("nllLoss", losses, exampleWeights, options.reduction ?? "mean");
}

/**
 * Cross entropy between logits (raw scores, `[N, C]` or `[N, C, ...]`) and int32 class indices
 * (`[N]` or `[N, ...]`): `-log(softmax(logits)[target])`, averaged over the batch. Computed as
 * `logSoftmax` followed by picking the target's entry with `gather`, which stays finite for any
 * logits.
 *
 * With `labelSmoothing` = e the target distribution is `(1 - e)` on the true class plus `e / C`
 * on every class, so the loss is `(1 - e) * nll + e / C * sum_c(-logProbs[c])`.
 *
 * @example
 * ```ts
 * import { F, tensor } from "../../mod.ts";
 * const logits = tensor([[2, 0.5, -1]]);
 * const loss = F.crossEntropy(logits, tensor([0], { dtype: "int32" }));
 * // -log(e^2 / (e^2 + e^0.5 + e^-1)) = 0.2413
 * console.assert(Math.abs((await loss.item()) - 0.2413) < 1e-3);
 * ```
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  checkOptions("crossEntropy", arguments, 2, ["weight", "reduction", "labelSmoothing"]);
  const weight = options.weight ?? null;
  const smoothing = options.labelSmoothing ?? 0;
  const reduction = options.reduction ?? "mean";
  const classes = checkClassTargets("crossEntropy", logits, targets, weight);
  if (!(smoothing >= 0 && smoothing <= 1)) {
    throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${smoothing}`);
  }
  const logProbs = logits.logSoftmax(1);
  const { losses, exampleWeights } = pickedLosses(logProbs, targets, weight);
  const nll = reduceWeighted("crossEntropy", losses, exampleWeights, reduction);
  if (smoothing === 0) return nll;
  // The smoothing term: minus the (class-weighted) sum of all log-probabilities of an example.
  const weighted = weight
    ? logProbs.mul(weight.reshape(logits.shape.map((d, i) => (i === 1 ? d : 1))))
    : logProbs;
  const spread = reduceWeighted(
    "crossEntropy",
    weighted.sum(1).neg(),
    exampleWeights,
    reduction,
  );
  return nll.mul(1 - smoothing).add(spread.mul(smoothing / classes));
}

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BceWithLogitsOptions extends LossOptions {
  /** A weight for each element (broadcast against the input). */
  weight?: Tensor | null;
  /** A weight for the positive examples of each class (broadcast), to balance rare positives. */
  posWeight?: Tensor | null;
}

/**
 * Binary cross entropy of logits `x` against targets `y` in [0, 1] (same shape), the loss for
 * yes/no and multi-label outputs: `-(y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x)))`.
 *
 * It is computed in the stable form `max(x, 0) - x * y + log(1 + exp(-|x|))`, which never takes
 * the log of 0 nor overflows `exp`, and its gradient is written directly as
 * `sigmoid(x) - y` (the formula's pieces have kinks at x = 0 that would give a wrong gradient
 * there, where untrained models often start).
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  targets: Tensor,
  options: BceWithLogitsOptions = {},
): Tensor {
  const op = "binaryCrossEntropyWithLogits";
  checkOptions(op, arguments, 2, ["weight", "reduction", "posWeight"]);
  checkSameShape(op, logits, targets);
  const posWeight = options.posWeight ?? null;
  const losses = bceWithLogitsElementwise(logits, targets, posWeight);
  const weighted = options.weight ? losses.mul(options.weight) : losses;
  return reduce(op, weighted, options.reduction ?? "mean");
}

/**
 * One loss per element, as its own op. With `p = posWeight` (1 when absent) and
 * `L = 1 + (p - 1) * y`: `loss = (1 - y) * x + L * softplus(-x)`, where
 * `softplus(-x) = log(1 + exp(-|x|)) + max(-x, 0)` is `-log(sigmoid(x))` computed stably.
 * Derivatives: `d/dx = (1 - y) - L * sigmoid(-x)` and `d/dy = -x + (p - 1) * softplus(-x)`.
 */
function bceWithLogitsElementwise(x: Tensor, y: Tensor, posWeight: Tensor | null): Tensor {
  const { out, softplusNeg, scale } = withNoGrad(() => {
    const softplusNeg = x.abs().neg().exp().add(1).log().add(x.neg().relu());
    const scale = posWeight ? y.mul(posWeight.sub(1)).add(1) : null;
    const positive = scale ? softplusNeg.mul(scale) : softplusNeg;
    const out = y.neg().add(1).mul(x).add(positive);
    return { out, softplusNeg, scale };
  });
  const inputs = posWeight ? [x, y, posWeight] : [x, y];
  return record("binaryCrossEntropyWithLogits", out, inputs, (grad) => {
    const sigmoidNeg = x.neg().sigmoid();
    const dx = y.neg().add(1).sub(scale ? sigmoidNeg.mul(scale) : sigmoidNeg);
    const dy = posWeight ? x.neg().add(softplusNeg.mul(posWeight.sub(1))) : x.neg();
    const grads: (Tensor | null)[] = [
      x.requiresGrad ? grad.mul(dx) : null,
      y.requiresGrad ? grad.mul(dy) : null,
    ];
    if (posWeight) {
      // d/dp = y * softplus(-x), summed over the dimensions p was broadcast along.
      grads.push(
        posWeight.requiresGrad
          ? ew.sumToShape(grad.mul(y).mul(softplusNeg), posWeight.shape)
          : null,
      );
    }
    return grads;
  });
}

// ---- distributions -----------------------------------------------------------------------------

/** Options of {@link klDiv}. */
export interface KlDivOptions {
  /**
   * `"mean"` (the default, PyTorch's: the mean over every element, which is NOT the KL
   * divergence per example), `"batchmean"` (the sum divided by the batch size: the true KL
   * divergence per example, what distillation wants), `"sum"`, or `"none"`.
   */
  reduction?: Reduction | "batchmean";
  /** The target holds log-probabilities instead of probabilities. */
  logTarget?: boolean;
}

/**
 * The Kullback-Leibler divergence `KL(target || input)` as PyTorch's `F.kl_div` defines it: the
 * input is LOG-probabilities (a `logSoftmax`), the target probabilities (or log-probabilities
 * with `logTarget`). Per element: `target * (log(target) - input)`, with 0 where the target is
 * 0 (as `0 * log 0 = 0`).
 *
 * Knowledge distillation matches a student to a teacher's softened outputs with it:
 * `F.klDiv(F.logSoftmax(student.div(T), 1), F.softmax(teacher.div(T), 1), { reduction:
 * "batchmean" }).mul(T * T)`.
 *
 * @param input log-probabilities, e.g. `F.logSoftmax(logits, 1)`
 * @param target probabilities of the same shape (log-probabilities with `logTarget: true`)
 * @param options `reduction` (default "mean"; use "batchmean" for the true divergence),
 *   `logTarget` (default false)
 *
 * @example
 * ```ts
 * import { F, tensor } from "../../mod.ts";
 * const input = F.logSoftmax(tensor([[1, 2, 3]]), 1);
 * const same = F.klDiv(input, F.softmax(tensor([[1, 2, 3]]), 1), { reduction: "batchmean" });
 * console.assert(Math.abs(await same.item()) < 1e-6); // identical distributions: 0
 * ```
 */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  checkOptions("klDiv", arguments, 2, ["reduction", "logTarget"]);
  checkSameShape("klDiv", input, target);
  if (!isFloat(input.dtype)) {
    throw new TypeError(`klDiv: expected float log-probabilities, got ${input.dtype}`);
  }
  const reduction = options.reduction ?? "mean";
  const losses = options.logTarget
    ? target.exp().mul(target.sub(input))
    // xlogy: log(1) = 0 stands in where the target is 0, so that 0 * log 0 is 0, not NaN.
    : target.mul(ew.where(target.gt(0), target, 1).log().sub(input));
  if (reduction === "batchmean") {
    if (input.ndim === 0) return losses.sum();
    return losses.sum().div(input.shape[0]);
  }
  if (!["mean", "sum", "none"].includes(reduction)) {
    throw new Error(
      `klDiv: reduction must be "mean", "batchmean", "sum" or "none", got "${reduction}" ` +
        `("batchmean" gives the KL divergence per example)`,
    );
  }
  return reduce("klDiv", losses, reduction as Reduction);
}
