/**
 * The layers: modules that wrap the functions of `F` with their parameters and settings.
 * Each initializes its parameters as its PyTorch namesake does, and has the same state dict
 * names, so weights move between the two.
 *
 * @module
 */
import { withNoGrad } from "../autograd.ts";
import { ones, zeros } from "../creation.ts";
import type { Pair } from "../ops/conv.ts";
import { fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import * as F from "./functional.ts";
import * as init from "./init.ts";
import { Module, Parameter } from "./module.ts";
import { checkArgCount, checkNotOptionsFirst, checkOptions } from "../options.ts";

// ---- fully connected and convolution -------------------------------------------------------

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Whether to add a learned bias (default true). */
  bias?: boolean;
}

/**
 * A fully connected layer: `y = x @ weight^T + bias`, with `weight` of shape
 * `[outFeatures, inFeatures]`. Weight and bias start uniform in `[-1/sqrt(inFeatures),
 * 1/sqrt(inFeatures)]`, as in PyTorch.
 *
 * @example
 * ```ts
 * import { nn, randn } from "../../mod.ts";
 * const fc = new nn.Linear(784, 10);
 * console.assert(fc.forward(randn([64, 784])).shape.join() === "64,10");
 * ```
 */
export class Linear extends Module {
  /** The size of each input sample. */
  readonly inFeatures: number;
  /** The size of each output sample. */
  readonly outFeatures: number;
  /** `[outFeatures, inFeatures]`. */
  weight: Tensor;
  /** `[outFeatures]`, or null without bias. */
  bias: Tensor | null;

  /**
   * Creates the layer.
   * @param inFeatures the size of each input sample
   * @param outFeatures the size of each output sample
   * @param options `bias: false` for a layer without bias
   */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkNotOptionsFirst(
      "Linear",
      inFeatures,
      "the input and output sizes are the first two arguments (numbers)",
      "new nn.Linear(",
      [["inFeatures", "784"], ["outFeatures", "10"]],
      ["bias"],
    );
    checkOptions("Linear", arguments, 2, ["bias"]);
    checkSizes("Linear", { inFeatures, outFeatures });
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = Parameter(zeros([outFeatures, inFeatures]));
    this.bias = (options.bias ?? true) ? Parameter(zeros([outFeatures])) : null;
    this.resetParameters();
  }

  /** Draws fresh starting values, as PyTorch's `reset_parameters`. */
  resetParameters(): void {
    resetWeightAndBias(this.weight, this.bias);
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.linear(input, this.weight, this.bias);
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, ` +
      `bias=${this.bias !== null}`;
  }
}

/**
 * PyTorch's default for Linear and Conv2d: `kaimingUniform(a = sqrt(5))` for the weight, i.e.
 * `U(-1/sqrt(fanIn), 1/sqrt(fanIn))`, and the same bound for the bias.
 */
function resetWeightAndBias(weight: Tensor, bias: Tensor | null): void {
  init.kaimingUniform(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = init.calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    init.uniform(bias, -bound, bound);
  }
}

function checkSizes(op: string, sizes: Record<string, number>): void {
  for (const [name, value] of Object.entries(sizes)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${op}: ${name} must be a positive integer, got ${value}`);
    }
  }
}

/** Options of {@link Conv2d}. */
export interface Conv2dLayerOptions extends F.Conv2dOptions {
  /** Whether to add a learned bias per output channel (default true). */
  bias?: boolean;
}

const asPair = (value: Pair): [number, number] =>
  typeof value === "number" ? [value, value] : [value[0], value[1]];

/**
 * A 2-D convolution layer over `[batch, inChannels, height, width]` images, with a weight of
 * shape `[outChannels, inChannels / groups, kernelH, kernelW]` initialized as in PyTorch.
 *
 * @example
 * ```ts
 * import { nn, randn } from "../../mod.ts";
 * const conv = new nn.Conv2d(1, 8, 3, { padding: 1 });
 * console.assert(conv.forward(randn([2, 1, 28, 28])).shape.join() === "2,8,28,28");
 * ```
 */
export class Conv2d extends Module {
  /** Channels of the input images. */
  readonly inChannels: number;
  /** Channels of the output (the number of filters). */
  readonly outChannels: number;
  /** `[height, width]` of each filter. */
  readonly kernelSize: [number, number];
  /** Step between two windows, `[vertical, horizontal]`. */
  readonly stride: [number, number];
  /** Zeros added on each side, `[vertical, horizontal]`. */
  readonly padding: [number, number];
  /** Spacing between the filter's taps, `[vertical, horizontal]`. */
  readonly dilation: [number, number];
  /** Channel groups convolved separately. */
  readonly groups: number;
  /** `[outChannels, inChannels / groups, kernelH, kernelW]`. */
  weight: Tensor;
  /** `[outChannels]`, or null without bias. */
  bias: Tensor | null;

  /**
   * Creates the layer.
   * @param inChannels channels of the input images
   * @param outChannels channels of the output (the number of filters)
   * @param kernelSize the filter size, one number for a square or `[height, width]`
   * @param options `stride`, `padding`, `dilation`, `groups`, and `bias: false`
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    checkNotOptionsFirst(
      "Conv2d",
      inChannels,
      "the input channels, output channels and kernel size are the first three arguments",
      "new nn.Conv2d(",
      [["inChannels", "3"], ["outChannels", "16"], ["kernelSize", "3"]],
      ["stride", "padding"],
    );
    checkOptions("Conv2d", arguments, 3, ["stride", "padding", "dilation", "groups", "bias"]);
    checkSizes("Conv2d", { inChannels, outChannels });
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = asPair(kernelSize);
    this.stride = asPair(options.stride ?? 1);
    this.padding = asPair(options.padding ?? 0);
    this.dilation = asPair(options.dilation ?? 1);
    this.groups = options.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups < 1) {
      throw new Error(`Conv2d: groups must be a positive integer, got ${this.groups}`);
    }
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(
        `Conv2d: groups (${this.groups}) must divide both inChannels (${inChannels}) and ` +
          `outChannels (${outChannels})`,
      );
    }
    checkSizes("Conv2d", { kernelSize: Math.min(...this.kernelSize) });
    this.weight = Parameter(
      zeros([outChannels, inChannels / this.groups, ...this.kernelSize]),
    );
    this.bias = (options.bias ?? true) ? Parameter(zeros([outChannels])) : null;
    this.resetParameters();
  }

  /** Draws fresh starting values, as PyTorch's `reset_parameters`. */
  resetParameters(): void {
    resetWeightAndBias(this.weight, this.bias);
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    if (input.ndim !== 4 || input.shape[1] !== this.inChannels) {
      throw new Error(
        `Conv2d: expected an input of shape [batch, ${this.inChannels}, height, width], got ` +
          `${fmtShape(input.shape)}` +
          (input.ndim === 3 ? ` (for a single image use x.unsqueeze(0))` : ""),
      );
    }
    return F.conv2d(input, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    let text = `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}]`;
    text += `, stride=[${this.stride}]`;
    if (this.padding.some((p) => p !== 0)) text += `, padding=[${this.padding}]`;
    if (this.dilation.some((d) => d !== 1)) text += `, dilation=[${this.dilation}]`;
    if (this.groups !== 1) text += `, groups=${this.groups}`;
    if (!this.bias) text += `, bias=false`;
    return text;
  }
}

// ---- pooling -------------------------------------------------------------------------------

/**
 * Max pooling over `kernelSize` windows (stride defaults to the kernel size). The gradient goes
 * to the first maximum of each window.
 */
export class MaxPool2d extends Module {
  /** The window size. */
  readonly kernelSize: Pair;
  /** `stride` (default: the window size), `padding`. */
  readonly options: F.PoolOptions;

  /**
   * Creates the layer.
   * @param kernelSize the window size, one number for a square or `[height, width]`
   * @param options `stride` (default: the window size) and `padding`
   */
  constructor(kernelSize: Pair, options: F.PoolOptions = {}) {
    super();
    checkNotOptionsFirst(
      "MaxPool2d",
      kernelSize,
      "the kernel size is the first argument (a number or [h, w])",
      "new nn.MaxPool2d(",
      [["kernelSize", "2"]],
      ["stride", "padding"],
    );
    checkOptions("MaxPool2d", arguments, 1, ["stride", "padding", "dilation"]);
    this.kernelSize = kernelSize;
    this.options = { ...options };
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.maxPool2d(input, this.kernelSize, this.options);
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}` + reprOptions(this.options);
  }
}

/** Average pooling over `kernelSize` windows (stride defaults to the kernel size). */
export class AvgPool2d extends Module {
  /** The window size. */
  readonly kernelSize: Pair;
  /** `stride` (default: the window size), `padding`. */
  readonly options: F.PoolOptions;

  /**
   * Creates the layer.
   * @param kernelSize the window size, one number for a square or `[height, width]`
   * @param options `stride` (default: the window size) and `padding`
   */
  constructor(kernelSize: Pair, options: F.PoolOptions = {}) {
    super();
    checkNotOptionsFirst(
      "AvgPool2d",
      kernelSize,
      "the kernel size is the first argument (a number or [h, w])",
      "new nn.AvgPool2d(",
      [["kernelSize", "2"]],
      ["stride", "padding"],
    );
    checkOptions("AvgPool2d", arguments, 1, ["stride", "padding", "dilation"]);
    this.kernelSize = kernelSize;
    this.options = { ...options };
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.avgPool2d(input, this.kernelSize, this.options);
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}` + reprOptions(this.options);
  }
}

function reprOptions(options: object): string {
  return Object.entries(options).map(([k, v]) => `, ${k}=${JSON.stringify(v)}`).join("");
}

/** Average pooling to a fixed output size whatever the input size (`1` for global pooling). */
export class AdaptiveAvgPool2d extends Module {
  /** The output's `[height, width]`. */
  readonly outputSize: Pair;

  /**

   * Creates the layer.

   * @param outputSize the output's size, one number for a square or `[height, width]`

   */
  constructor(outputSize: Pair) {
    super();
    this.outputSize = outputSize;
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.adaptiveAvgPool2d(input, this.outputSize);
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}

// ---- normalization -------------------------------------------------------------------------

/** Options of {@link BatchNorm1d} and {@link BatchNorm2d}. */
export interface BatchNormLayerOptions {
  /** Added to the variance for stability (default 1e-5). */
  eps?: number;
  /**
   * Weight of each new batch in the running statistics (default 0.1); null for a plain
   * cumulative average of all batches seen.
   */
  momentum?: number | null;
  /** Learn a scale (`weight`, starting at 1) and shift (`bias`, at 0) per channel. */
  affine?: boolean;
  /** Keep running statistics for evaluation (default true). */
  trackRunningStats?: boolean;
}

/**
 * Shared by the batch norm layers. Buffers `runningMean`, `runningVar` and `numBatchesTracked`
 * are saved as PyTorch's `running_mean`, `running_var` and `num_batches_tracked`. PyTorch
 * stores the last as int64; here it is int32 (enough for two billion batches), and a PyTorch
 * file's int64 loads into it.
 */
abstract class BatchNorm extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  /** Scale per channel (`gamma`), starts at 1. */
  weight: Tensor | null = null;
  /** Shift per channel (`beta`), starts at 0. */
  bias: Tensor | null = null;
  /** Running mean per channel (a buffer), starts at 0. */
  runningMean: Tensor | null = null;
  /** Running unbiased variance per channel (a buffer), starts at 1. */
  runningVar: Tensor | null = null;
  /** How many training batches updated the running statistics (an int32 buffer). */
  numBatchesTracked: Tensor | null = null;

  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super();
    checkNotOptionsFirst(
      this.constructor.name,
      numFeatures,
      "the number of features (channels) is the first argument",
      `new nn.${this.constructor.name}(`,
      [["numFeatures", "16"]],
      ["eps", "momentum"],
    );
    checkOptions(this.constructor.name, arguments, 1, [
      "eps",
      "momentum",
      "affine",
      "trackRunningStats",
    ]);
    checkSizes(this.constructor.name, { numFeatures });
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    if (this.affine) {
      this.weight = Parameter(ones([numFeatures]));
      this.bias = Parameter(zeros([numFeatures]));
    }
    const track = this.trackRunningStats;
    this.registerBuffer("runningMean", track ? zeros([numFeatures]) : null);
    this.registerBuffer("runningVar", track ? ones([numFeatures]) : null);
    this.registerBuffer("numBatchesTracked", track ? zeros([], { dtype: "int32" }) : null);
  }

  /** Throws unless the input has a rank this layer accepts. */
  protected abstract checkInput(input: Tensor): void;

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    this.checkInput(input);
    if (input.shape[1] !== this.numFeatures) {
      throw new Error(
        `${this.constructor.name}: expected ${this.numFeatures} channels (numFeatures), got ` +
          `an input of shape ${fmtShape(input.shape)} with ${input.shape[1]}`,
      );
    }
    let momentum = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      const tracked = this.numBatchesTracked;
      withNoGrad(() => tracked.assign(tracked.add(1)));
      // With momentum null the running statistics are the plain average of all batches.
      if (this.momentum === null) momentum = 1 / tracked.dataSync()[0];
    }
    // Batch statistics in training, and also in evaluation when no running ones are kept.
    const useBatchStats = this.training || this.runningMean === null;
    const updateRunning = this.training && this.trackRunningStats;
    return F.batchNorm(
      input,
      updateRunning || !useBatchStats ? this.runningMean : null,
      updateRunning || !useBatchStats ? this.runningVar : null,
      { weight: this.weight, bias: this.bias, training: useBatchStats, momentum, eps: this.eps },
    );
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, ` +
      `affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/**
 * Batch normalization of `[batch, features]` (or `[batch, features, length]`) inputs, for fully
 * connected networks. See `F.batchNorm` for what happens in training and evaluation.
 */
export class BatchNorm1d extends BatchNorm {
  /** Throws unless the input has a rank this layer takes. */
  protected checkInput(input: Tensor): void {
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new Error(
        `BatchNorm1d: expected a 2-D [batch, features] or 3-D [batch, features, length] ` +
          `input, got ${fmtShape(input.shape)}`,
      );
    }
  }
}

/**
 * Batch normalization of `[batch, channels, height, width]` images: each channel is normalized
 * over the batch and all pixels. See `F.batchNorm` for what happens in training and evaluation.
 *
 * @example
 * ```ts
 * import { nn, randn } from "../../mod.ts";
 * const bn = new nn.BatchNorm2d(8);
 * bn.forward(randn([4, 8, 5, 5]));
 * console.assert(Object.keys(bn.stateDict()).join() ===
 *   "weight,bias,running_mean,running_var,num_batches_tracked");
 * ```
 */
export class BatchNorm2d extends BatchNorm {
  /** Throws unless the input has a rank this layer takes. */
  protected checkInput(input: Tensor): void {
    if (input.ndim !== 4) {
      throw new Error(
        `BatchNorm2d: expected a 4-D input [batch, channels, height, width], got ` +
          `${fmtShape(input.shape)}`,
      );
    }
  }
}

// ---- dropout and activations ---------------------------------------------------------------

/**
 * Zeroes each element with probability `p` during training (scaling the rest by
 * `1 / (1 - p)`); does nothing in evaluation mode.
 */
export class Dropout extends Module {
  /** The probability of zeroing an element. */
  readonly p: number;

  /**

   * Creates the layer.

   * @param p the probability of zeroing an element (default 0.5)

   */
  constructor(p = 0.5) {
    super();
    checkArgCount("Dropout", arguments, 1, "new nn.Dropout(p) takes no inplace flag");
    if (!(p >= 0 && p <= 1)) {
      throw new Error(`Dropout: probability has to be between 0 and 1, but got ${p}`);
    }
    this.p = p;
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.dropout(input, this.p, this.training);
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** `max(x, 0)`. */
export class ReLU extends Module {
  /** Creates the layer (it has no settings: PyTorch's `inplace` has no use here). */
  constructor() {
    super();
    checkArgCount("ReLU", arguments, 0, "new nn.ReLU() takes no inplace flag: it is not needed");
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.relu(input);
  }
}

/** `x` where positive, `negativeSlope * x` elsewhere. */
export class LeakyReLU extends Module {
  /** The slope for negative inputs. */
  readonly negativeSlope: number;

  /**

   * Creates the layer.

   * @param negativeSlope the slope for negative inputs (default 0.01)

   */
  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = negativeSlope;
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.leakyRelu(input, this.negativeSlope);
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** The logistic function `1 / (1 + e^-x)`. */
export class Sigmoid extends Module {
  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.sigmoid(input);
  }
}

/** Hyperbolic tangent. */
export class Tanh extends Module {
  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.tanh(input);
  }
}

/** GELU, `x * Phi(x)`; `new nn.GELU({ approximate: "tanh" })` for the tanh approximation. */
export class GELU extends Module {
  /** `"none"` (exact) or `"tanh"`. */
  readonly approximate: "none" | "tanh";

  /**
   * Creates the layer.
   * @param options `approximate: "tanh"` for the tanh approximation (default `"none"`)
   */
  constructor(options: F.GeluOptions = {}) {
    super();
    checkOptions("GELU", arguments, 0, ["approximate"]);
    this.approximate = options.approximate ?? "none";
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.gelu(input, { approximate: this.approximate });
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return this.approximate === "none" ? "" : `approximate="${this.approximate}"`;
  }
}

/** ELU: `x` where positive, `alpha * (exp(x) - 1)` elsewhere. */
export class ELU extends Module {
  /** The scale of the negative part. */
  readonly alpha: number;

  /**
   * Creates the layer.
   * @param options `alpha`, the scale of the negative part (default 1)
   */
  constructor(options: F.EluOptions = {}) {
    super();
    checkOptions("ELU", arguments, 0, ["alpha"]);
    this.alpha = options.alpha ?? 1;
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.elu(input, { alpha: this.alpha });
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** Softmax along `dim`. */
export class Softmax extends Module {
  /** The dimension along which the values are normalized. */
  readonly dim: number;

  /**

   * Creates the layer.

   * @param dim the dimension along which the values are normalized (1 for [batch, classes])

   */
  constructor(dim: number) {
    super();
    this.dim = dim;
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.softmax(input, this.dim);
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** Log-softmax along `dim`. */
export class LogSoftmax extends Module {
  /** The dimension along which the values are normalized. */
  readonly dim: number;

  /**

   * Creates the layer.

   * @param dim the dimension along which the values are normalized (1 for [batch, classes])

   */
  constructor(dim: number) {
    super();
    this.dim = dim;
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return F.logSoftmax(input, this.dim);
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** Returns its input unchanged (a placeholder, e.g. to remove a layer from a model). */
export class Identity extends Module {
  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return input;
  }
}

/**
 * Merges dimensions `startDim..endDim` into one; by default everything but the batch dimension,
 * turning `[batch, channels, height, width]` into `[batch, channels * height * width]`.
 */
export class Flatten extends Module {
  /** The first dimension merged. */
  readonly startDim: number;
  /** The last dimension merged. */
  readonly endDim: number;

  /**
   * Creates the layer.
   * @param startDim the first dimension to merge (default 1, after the batch)
   * @param endDim the last dimension to merge (default -1, the last)
   */
  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = startDim;
    this.endDim = endDim;
  }

  /** Applies the layer to `input`. */
  forward(input: Tensor): Tensor {
    return input.flatten(this.startDim, this.endDim);
  }

  /** The settings that `toString()` shows. */
  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

// ---- losses --------------------------------------------------------------------------------

/** `F.crossEntropy` as a module: `lossFn.forward(logits, targets)`. */
export class CrossEntropyLoss extends Module {
  /** The options passed to the loss function on every call. */
  readonly options: F.CrossEntropyOptions;

  /**

   * Creates the layer.

   * @param options the loss's options (reduction, ...), as for the function in `F`

   */
  constructor(options: F.CrossEntropyOptions = {}) {
    super();
    checkOptions("CrossEntropyLoss", arguments, 0, ["weight", "reduction", "labelSmoothing"]);
    this.options = { ...options };
  }

  /** The loss of `logits` against the class indices `targets`. */
  forward(logits: Tensor, targets: Tensor): Tensor {
    return F.crossEntropy(logits, targets, this.options);
  }
}

/** `F.nllLoss` as a module. */
export class NLLLoss extends Module {
  /** The options passed to the loss function on every call. */
  readonly options: F.NllLossOptions;

  /**

   * Creates the layer.

   * @param options the loss's options (reduction, ...), as for the function in `F`

   */
  constructor(options: F.NllLossOptions = {}) {
    super();
    checkOptions("NLLLoss", arguments, 0, ["weight", "reduction"]);
    this.options = { ...options };
  }

  /** The loss of `logProbs` against the class indices `targets`. */
  forward(logProbs: Tensor, targets: Tensor): Tensor {
    return F.nllLoss(logProbs, targets, this.options);
  }
}

/** `F.mseLoss` as a module. */
export class MSELoss extends Module {
  /** The options passed to the loss function on every call. */
  readonly options: F.LossOptions;

  /**

   * Creates the layer.

   * @param options the loss's options (reduction, ...), as for the function in `F`

   */
  constructor(options: F.LossOptions = {}) {
    super();
    checkOptions("MSELoss", arguments, 0, ["reduction"]);
    this.options = { ...options };
  }

  /** The loss of `input` against `target`. */
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, this.options);
  }
}

/** `F.l1Loss` as a module. */
export class L1Loss extends Module {
  /** The options passed to the loss function on every call. */
  readonly options: F.LossOptions;

  /**

   * Creates the layer.

   * @param options the loss's options (reduction, ...), as for the function in `F`

   */
  constructor(options: F.LossOptions = {}) {
    super();
    checkOptions("L1Loss", arguments, 0, ["reduction"]);
    this.options = { ...options };
  }

  /** The loss of `input` against `target`. */
  forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, this.options);
  }
}

/** `F.binaryCrossEntropyWithLogits` as a module. */
export class BCEWithLogitsLoss extends Module {
  /** The options passed to the loss function on every call. */
  readonly options: F.BceWithLogitsOptions;

  /**

   * Creates the layer.

   * @param options the loss's options (reduction, ...), as for the function in `F`

   */
  constructor(options: F.BceWithLogitsOptions = {}) {
    super();
    checkOptions("BCEWithLogitsLoss", arguments, 0, ["weight", "reduction", "posWeight"]);
    this.options = { ...options };
  }

  /** The loss of `logits` against the class indices `targets`. */
  forward(logits: Tensor, targets: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(logits, targets, this.options);
  }
}
