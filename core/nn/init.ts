/**
 * `nn.init`: fills parameters with starting values, in place, from the seeded generator.
 *
 * Why it matters: if the weights of a layer are too large, its outputs grow from layer to
 * layer and training diverges; too small, and the signal (and the gradient) fades away. The
 * schemes below pick the spread from the number of inputs (`fanIn`) and outputs (`fanOut`) of
 * a unit so that the variance stays about the same through the network: Xavier (Glorot) for
 * tanh and sigmoid, Kaiming (He) for ReLU, which zeroes half of its inputs and so needs twice
 * the variance.
 *
 * Every function changes the tensor in place (keeping its identity, so an optimizer that holds
 * it keeps working) and returns it.
 *
 * @example
 * ```ts
 * import { manualSeed, nn } from "../../mod.ts";
 * manualSeed(0);
 * const layer = new nn.Linear(256, 128);
 * nn.init.kaimingNormal(layer.weight, { nonlinearity: "relu" });
 * nn.init.zeros(layer.bias!);
 * ```
 * @module
 */
import { withNoGrad } from "../autograd.ts";
import { full, rand, randn } from "../creation.ts";
import { fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkOptions } from "../options.ts";

/** The activations that {@link calculateGain} knows. */
export type Nonlinearity =
  | "linear"
  | "conv2d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leakyRelu"
  | "leaky_relu"
  | "selu";

/**
 * The factor by which an activation changes the spread of its input, which initialization
 * divides back out: 1 for linear and sigmoid, 5/3 for tanh, sqrt(2) for ReLU,
 * `sqrt(2 / (1 + slope^2))` for leaky ReLU (slope `param`, default 0.01), 3/4 for SELU.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv2d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu":
    case "leaky_relu": {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new Error(
        `calculateGain: unknown nonlinearity "${nonlinearity}"; expected one of linear, ` +
          `conv2d, sigmoid, tanh, relu, leakyRelu, selu`,
      );
  }
}

/**
 * The number of inputs and outputs of one unit of a weight: for a Linear weight
 * `[out, in]` they are `in` and `out`; for a Conv2d weight `[out, in, kh, kw]` each is
 * multiplied by the kernel area `kh * kw`.
 */
export function calculateFanInAndFanOut(weight: Tensor): { fanIn: number; fanOut: number } {
  if (weight.ndim < 2) {
    throw new Error(
      `init: fan in and fan out need a tensor with at least 2 dimensions, got shape ` +
        `${fmtShape(weight.shape)} (use uniform, normal or zeros for biases)`,
    );
  }
  const receptiveField = weight.shape.slice(2).reduce((n, d) => n * d, 1);
  return {
    fanIn: weight.shape[1] * receptiveField,
    fanOut: weight.shape[0] * receptiveField,
  };
}

/** Overwrites `t` with `values` (computed without recording a graph), keeping its identity. */
function fill(t: Tensor, make: () => Tensor): Tensor {
  return withNoGrad(() => t.assign(make()));
}

const like = (t: Tensor) => ({ dtype: t.dtype, device: t.device });

/** Fills with values drawn uniformly from `[low, high)`. */
export function uniform(t: Tensor, low = 0, high = 1): Tensor {
  if (!(high >= low)) throw new Error(`uniform: low (${low}) must not exceed high (${high})`);
  return fill(t, () => rand(t.shape, like(t)).mul(high - low).add(low));
}

/** Fills with values drawn from a normal distribution. */
export function normal(t: Tensor, mean = 0, std = 1): Tensor {
  if (!(std >= 0)) throw new Error(`normal: std must be >= 0, got ${std}`);
  return fill(t, () => randn(t.shape, like(t)).mul(std).add(mean));
}

/** Fills with a constant. */
export function constant(t: Tensor, value: number): Tensor {
  return fill(t, () => full(t.shape, value, like(t)));
}

/** Fills with zeros. */
export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

/** Fills with ones. */
export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

/**
 * Xavier (Glorot) uniform: `U(-b, b)` with `b = gain * sqrt(6 / (fanIn + fanOut))`, which keeps
 * the variance of both the activations and the gradients steady for tanh or sigmoid layers.
 */
export function xavierUniform(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -bound, bound);
}

/** Xavier (Glorot) normal: `N(0, std^2)` with `std = gain * sqrt(2 / (fanIn + fanOut))`. */
export function xavierNormal(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/** Options of the Kaiming initializers. */
export interface KaimingOptions {
  /** The negative slope of the leaky ReLU that follows (0 for ReLU). Default 0. */
  a?: number;
  /** Keep the variance of the activations (`"fanIn"`, default) or of the gradients. */
  mode?: "fanIn" | "fanOut";
  /** The activation that follows (default `"leakyRelu"`, which with a = 0 is ReLU). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, options: KaimingOptions): number {
  const { a = 0, mode = "fanIn", nonlinearity = "leakyRelu" } = options;
  if (mode !== "fanIn" && mode !== "fanOut") {
    throw new Error(`kaiming: mode must be "fanIn" or "fanOut", got "${mode}"`);
  }
  const fans = calculateFanInAndFanOut(t);
  const fan = mode === "fanIn" ? fans.fanIn : fans.fanOut;
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

/**
 * Kaiming (He) uniform: `U(-b, b)` with `b = gain * sqrt(3 / fan)`. PyTorch's Linear and Conv2d
 * use it with `a = sqrt(5)`, which works out to `b = 1 / sqrt(fanIn)`.
 */
export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkOptions("kaimingUniform", arguments, 1, ["a", "mode", "nonlinearity"]);
  // A uniform on [-b, b] has standard deviation b / sqrt(3).
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform(t, -bound, bound);
}

/** Kaiming (He) normal: `N(0, std^2)` with `std = gain / sqrt(fan)`. */
export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkOptions("kaimingNormal", arguments, 1, ["a", "mode", "nonlinearity"]);
  return normal(t, 0, kaimingStd(t, options));
}
