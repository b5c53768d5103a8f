/**
 * Reductions (sum, mean, max, min, variance, logsumexp, argmax) and softmax.
 *
 * A reduction over several dimensions is done one contiguous run of dimensions at a time: the
 * tensor is seen as `[outer, size, inner]` around the run, and the backend reduces the middle.
 * The backward of a sum spreads the gradient back over the reduced dimensions (each input
 * contributed once); the backward of a max sends it to the element that won.
 *
 * @module
 */
import { record, withNoGrad } from "../autograd.ts";
import { type AxisGeometry, getBackend } from "../backend.ts";
import { fmtShape, normDim, normDims, numel } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { add, div, eq, exp, log, mul, sqrt, sub, where } from "./elementwise.ts";
import { clone, expand, reshape, scatterAddAlong, to } from "./shape.ts";

/** The shape after reducing `dims`: kept as size 1 with `keepdim`, removed otherwise. */
function reducedShape(shape: readonly number[], dims: number[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!dims.includes(i)) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** `[outer, size, inner]` around dimensions `first..last` of `shape`. */
export function axisGeometry(shape: readonly number[], first: number, last = first): AxisGeometry {
  return {
    outer: numel(shape.slice(0, first)),
    size: numel(shape.slice(first, last + 1)),
    inner: numel(shape.slice(last + 1)),
  };
}

/** Runs a backend reduction over `dims` (sorted, unique), returning the keepdim-shaped result. */
function reduceRaw(op: "sum" | "max" | "min", x: Tensor, dims: number[]): Tensor {
  if (x.size === 0 && op !== "sum") {
    throw new Error(`${op}: cannot reduce an empty tensor of shape ${fmtShape(x.shape)}`);
  }
  // Split the dims into runs of neighbours, and reduce the last run first so that the indices
  // of the earlier runs stay valid.
  const runs: [number, number][] = [];
  for (const d of dims) {
    const run = runs[runs.length - 1];
    if (run && run[1] === d - 1) run[1] = d;
    else runs.push([d, d]);
  }
  const backend = getBackend(x.device);
  let storage = x.storage;
  const shape = [...x.shape];
  for (let r = runs.length - 1; r >= 0; r--) {
    const [first, last] = runs[r];
    const next = backend.reduce(op, storage, x.dtype, axisGeometry(shape, first, last));
    // An intermediate result belongs to no tensor: give it back to the backend now.
    if (storage !== x.storage) backend.free(storage);
    storage = next;
    for (let d = first; d <= last; d++) shape[d] = 1;
  }
  if (runs.length === 0) return clone(x);
  return new Tensor(storage, shape, x.dtype);
}

/** Sum over `dim` (one or several; all when omitted). */
export function sum(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  const dims = normDims("sum", dim, x.ndim);
  if (dims.length === 0 && dim === undefined && x.ndim === 0) return reshape(x, []);
  const kept = reduceRaw("sum", x, dims);
  const out = keepdim ? kept : reshape(kept, reducedShape(x.shape, dims, false));
  // Every input element contributed once to its sum: its gradient is the output's gradient.
  return record("sum", out, [x], (grad) => [expand(reshape(grad, kept.shape), x.shape)]);
}

/** Mean over `dim` (one or several; all when omitted). */
export function mean(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  const dims = normDims("mean", dim, x.ndim);
  const count = dims.reduce((n, d) => n * x.shape[d], 1);
  if (count === 0) throw new Error(`mean: cannot average over an empty dimension`);
  return div(sum(x, dims, keepdim), count);
}

function extreme(
  op: "max" | "min",
  x: Tensor,
  dim: number | number[] | undefined,
  keepdim: boolean,
) {
  const dims = normDims(op, dim, x.ndim);
  const kept = reduceRaw(op, x, dims);
  const out = keepdim ? kept : reshape(kept, reducedShape(x.shape, dims, false));
  return record(op, out, [x], (grad) => {
    const g = reshape(grad, kept.shape);
    if (dims.length === 1) {
      // Over one dimension the gradient goes to the first winner, as torch.max(x, dim) does.
      const index = argExtreme(op === "max" ? "argmax" : "argmin", x, dims[0], true);
      return [scatterAddAlong(x.shape, dims[0], index, g)];
    }
    // Over several dimensions, tied winners share the gradient equally (as torch.amax does).
    const winners = to(eq(x, kept), x.dtype);
    const count = sum(winners, dims, true);
    return [mul(winners, div(g, count))];
  });
}

/** Maximum over `dim` (one or several; all when omitted). */
export function max(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  return extreme("max", x, dim, keepdim);
}

/** Minimum over `dim` (one or several; all when omitted). */
export function min(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  return extreme("min", x, dim, keepdim);
}

function argExtreme(op: "argmax" | "argmin", x: Tensor, dim: number | undefined, keepdim: boolean) {
  if (x.size === 0) throw new Error(`${op}: cannot take the ${op} of an empty tensor`);
  if (dim === undefined) {
    const flat = reshape(x, [x.size]);
    return argExtreme(op, flat, 0, false);
  }
  const d = normDim(op, dim, x.ndim);
  const storage = getBackend(x.device).argReduce(op, x.storage, x.dtype, axisGeometry(x.shape, d));
  const shape = reducedShape(x.shape, [d], keepdim);
  return new Tensor(storage, shape, "int32");
}

/** Index of the first maximum along `dim` (of the flattened tensor when omitted); int32. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme("argmax", x, dim, keepdim);
}

/** Index of the first minimum along `dim` (of the flattened tensor when omitted); int32. */
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme("argmin", x, dim, keepdim);
}

/**
 * Variance over `dim`. `correction` 1 (the default) divides by n - 1 (unbiased, PyTorch's
 * default); 0 divides by n (biased, what batch norm normalizes with).
 */
export function variance(
  x: Tensor,
  dim?: number | number[],
  { keepdim = false, correction = 1 }: { keepdim?: boolean; correction?: number } = {},
): Tensor {
  const dims = normDims("var", dim, x.ndim);
  const count = dims.reduce((n, d) => n * x.shape[d], 1);
  if (count - correction <= 0) {
    throw new Error(
      `var: cannot compute a variance with correction ${correction} from ${count} element(s)`,
    );
  }
  const centered = sub(x, mean(x, dims, true));
  return div(sum(mul(centered, centered), dims, keepdim), count - correction);
}

/** Standard deviation over `dim` (see {@link variance} for `correction`). */
export function std(
  x: Tensor,
  dim?: number | number[],
  options: { keepdim?: boolean; correction?: number } = {},
): Tensor {
  return sqrt(variance(x, dim, options));
}

/** The maximum over `dims` (keepdim), not recorded, with rows of -Infinity shifted by 0. */
function maxShift(x: Tensor, dims: number[]): Tensor {
  return withNoGrad(() => {
    const m = reduceRaw("max", x, dims);
    // A row of -Infinity would give -inf - -inf = NaN: shift such rows by 0 instead.
    return where(eq(m, -Infinity), 0, m);
  });
}

/**
 * `log(sum(exp(x)))` over `dim`, without overflow: subtracting the maximum first keeps every
 * `exp` at most 1, and adding it back afterwards gives the same value.
 */
export function logsumexp(x: Tensor, dim: number | number[], keepdim = false): Tensor {
  const dims = normDims("logsumexp", dim, x.ndim);
  const shift = maxShift(x, dims);
  const summed = sum(exp(sub(x, shift)), dims, true);
  const out = add(log(summed), shift);
  return keepdim ? out : reshape(out, reducedShape(x.shape, dims, false));
}

/** `exp(x) / sum(exp(x))` along `dim`. */
export function softmax(x: Tensor, dim: number): Tensor {
  const d = normDim("softmax", dim, x.ndim);
  // Subtracting the maximum first keeps exp() from overflowing and, unlike subtracting a
  // logsumexp of size ~1000, loses no precision for large logits.
  const out = withNoGrad(() => {
    const exps = exp(sub(x, maxShift(x, [d])));
    return div(exps, sum(exps, d, true));
  });
  // With y = softmax(x): dx = y * (g - sum(g * y)), summed along dim.
  return record("softmax", out, [x], (grad) => [
    mul(out, sub(grad, sum(mul(grad, out), d, true))),
  ]);
}

/**
 * `log(softmax(x))` along `dim`, computed as `(x - max) - log(sum(exp(x - max)))`, which is
 * stable and precise for large logits.
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const d = normDim("logSoftmax", dim, x.ndim);
  const out = withNoGrad(() => {
    const shifted = sub(x, maxShift(x, [d]));
    return sub(shifted, log(sum(exp(shifted), d, true)));
  });
  // With y = log softmax(x): dx = g - softmax(x) * sum(g), summed along dim.
  return record("logSoftmax", out, [x], (grad) => [
    sub(grad, mul(exp(out), sum(grad, d, true))),
  ]);
}
