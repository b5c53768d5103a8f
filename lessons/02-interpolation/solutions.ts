/**
 * Lesson 2, reference solutions. Same exports as `exercises.ts`; `deno task test` checks them.
 *
 * @module
 */
import { F, nn, noGrad, rand, randperm, type Tensor, tensor } from "../../mod.ts";

/** The indices of the training and the held-out points of one split. */
export interface SplitIndices {
  trainIdx: number[];
  testIdx: number[];
}

/**
 * Task 2.1: the lesson's curve without its noise,
 * `f(x) = ln(x)/x + 0.65 * |ln(x + x^2 - log10(x + 1))|`, elementwise on a tensor of `x > 0`.
 */
export function targetFunction(x: Tensor): Tensor {
  const log10 = x.add(1).log().div(Math.LN10); // log10(t) = ln(t) / ln(10)
  const inner = x.add(x.square()).sub(log10);
  return x.log().div(x).add(inner.log().abs().mul(0.65));
}

/**
 * Task 2.2: the extrapolation split of `n` points ordered by `x`: the first `trainCount` train,
 * the rest are held out. Both lists ascending.
 */
export function extrapolationSplit(n: number, trainCount: number): SplitIndices {
  const all = Array.from({ length: n }, (_, i) => i);
  return { trainIdx: all.slice(0, trainCount), testIdx: all.slice(trainCount) };
}

/**
 * Task 2.3: the interpolation split: `trainCount` points chosen at random (with the seeded
 * `randperm`) train, the others are held out; the two end points `0` and `n - 1` always train, so
 * that every held-out point lies between training points. Both lists ascending.
 */
export function interpolationSplit(n: number, trainCount: number): SplitIndices {
  const inner = randperm(n - 2).map((i) => i + 1); // the points 1..n-2 in random order
  const byValue = (a: number, b: number) => a - b;
  return {
    trainIdx: [0, n - 1, ...inner.slice(0, trainCount - 2)].sort(byValue),
    testIdx: inner.slice(trainCount - 2).sort(byValue),
  };
}

/**
 * Task 2.4: the held-out error: the mean squared error of the model's predictions on the points
 * `testIdx` of `X` (shape `[n, 1]`) against the same rows of `y`, computed under `noGrad()`.
 */
export async function heldOutError(
  model: nn.Module,
  X: Tensor,
  y: Tensor,
  testIdx: number[],
): Promise<number> {
  const index = tensor(testIdx, { dtype: "int32" });
  using _ = noGrad();
  const yHat = model.forward(X.indexSelect(0, index));
  return await F.mseLoss(yHat, y.indexSelect(0, index)).item();
}

/**
 * Task 2.5: a fully connected layer of your own: parameters `weight` `[out, in]` and `bias`
 * `[out]`, uniform in `±1/sqrt(in)` (as `nn.Linear` starts), and `forward(x) = x W^T + b`.
 */
export class MyLinear extends nn.Module {
  weight: Tensor;
  bias: Tensor;

  constructor(inFeatures: number, outFeatures: number) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    // rand is uniform in [0, 1); stretched to [-bound, bound).
    this.weight = nn.Parameter(rand([outFeatures, inFeatures]).mul(2 * bound).sub(bound));
    this.bias = nn.Parameter(rand([outFeatures]).mul(2 * bound).sub(bound));
  }

  forward(x: Tensor): Tensor {
    // [N, in] x [in, out] = [N, out]; the bias [out] broadcasts over the N rows.
    return x.matmul(this.weight.transpose(0, 1)).add(this.bias);
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
 * Task 2.6: the kinks of `f(x) = c + sum_i v[i] relu(w[i] x + b[i])` and its slopes outside
 * them. Far to the right only the units with `w[i] > 0` are on, each adding `v[i] * w[i]` to the
 * slope; far to the left only those with `w[i] < 0`.
 */
export async function reluKinks(hidden: nn.Linear, output: nn.Linear): Promise<Kinks> {
  const w = await hidden.weight.data();
  const b = await hidden.bias!.data();
  const v = await output.weight.data();
  const kinks: number[] = [];
  let [rightSlope, leftSlope] = [0, 0];
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) continue; // a constant unit never bends the line
    kinks.push(-b[i] / w[i]); // w x + b = 0
    if (w[i] > 0) rightSlope += v[i] * w[i];
    else leftSlope += v[i] * w[i];
  }
  return { kinks: kinks.sort((a, c) => a - c), rightSlope, leftSlope };
}
