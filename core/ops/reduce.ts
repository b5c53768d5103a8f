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
import { checkOptions } from "../options.ts";
import { type AxisGeometry, getBackend } from "../backend.ts";
import { fmtShape, normDim, normDims, numel } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { abs, add, div, eq, exp, log, mul, sqrt, sub, where } from "./elementwise.ts";
import { cat, clone, expand, full, narrow, reshape, scatterAddAlong, to } from "./shape.ts";

/** Checks PyTorch's positional `keepdim` (a boolean: `x.sum(1, true)`). */
function checkKeepdim(op: string, keepdim: unknown): void {
  if (typeof keepdim === "boolean") return;
  throw new TypeError(
    `${op}: keepdim is true or false (PyTorch's positional keepdim: x.${op}(dim, true)), got ` +
      (typeof keepdim === "object" && keepdim !== null ? "an object" : `${typeof keepdim}`),
  );
}

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
  if (x.numel() === 0 && op !== "sum") {
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
  checkKeepdim("sum", keepdim);
  const dims = normDims("sum", dim, x.ndim);
  if (dims.length === 0 && dim === undefined && x.ndim === 0) return reshape(x, []);
  const kept = reduceRaw("sum", x, dims);
  const out = keepdim ? kept : reshape(kept, reducedShape(x.shape, dims, false));
  // Every input element contributed once to its sum: its gradient is the output's gradient.
  return record("sum", out, [x], (grad) => [expand(reshape(grad, kept.shape), x.shape)]);
}

/** Mean over `dim` (one or several; all when omitted). */
export function mean(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  checkKeepdim("mean", keepdim);
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
  checkKeepdim(op, keepdim);
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
  if (x.numel() === 0) throw new Error(`${op}: cannot take the ${op} of an empty tensor`);
  if (dim === undefined) {
    const flat = reshape(x, [x.numel()]);
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

/** Options of {@link variance} and {@link std}, in PyTorch's positional order. */
export interface VarianceOptions {
  /** PyTorch's older flag: false divides by n (as `correction: 0`). Default true. */
  unbiased?: boolean;
  /** Keep the reduced dimensions with size 1. */
  keepdim?: boolean;
  /** Subtracted from the count in the divisor: 1 (the default) is unbiased, 0 biased. */
  correction?: number;
}

const VARIANCE_KEYS = ["unbiased", "keepdim", "correction"];

/**
 * Reads the arguments of `x.var(...)` / `x.std(...)` (after the tensor): a dim and options,
 * where `x.var({ unbiased: false })` may leave out the dim.
 */
function varianceArgs(
  op: string,
  args: unknown[],
): { dim: number | number[] | undefined; keepdim: boolean; correction: number } {
  let dim = args[0];
  let index = 1;
  if (typeof dim === "object" && dim !== null && !Array.isArray(dim)) {
    [dim, index] = [undefined, 0];
  }
  const options = checkOptions<VarianceOptions>(op, args, index, VARIANCE_KEYS);
  if (options.unbiased !== undefined && options.correction !== undefined) {
    throw new Error(
      `${op}: give unbiased or correction, not both (unbiased: false is correction: 0)`,
    );
  }
  if (options.unbiased !== undefined && typeof options.unbiased !== "boolean") {
    throw new TypeError(`${op}: unbiased must be true or false, got ${options.unbiased}`);
  }
  const correction = options.correction ?? (options.unbiased === false ? 0 : 1);
  if (typeof correction !== "number" || !(correction >= 0)) {
    throw new TypeError(`${op}: correction must be a number >= 0, got ${correction}`);
  }
  return { dim: dim as number | number[] | undefined, keepdim: !!options.keepdim, correction };
}

/**
 * Variance over `dim` (all dimensions when omitted). Unbiased by default (divides by n - 1, as
 * PyTorch); `{ unbiased: false }` or `{ correction: 0 }` divides by n (biased, what batch norm
 * normalizes with).
 */
export function variance(
  x: Tensor,
  ...args: [dim?: number | number[] | VarianceOptions, options?: VarianceOptions]
): Tensor {
  const { dim, keepdim, correction } = varianceArgs("var", args);
  return varianceOf(x, dim, keepdim, correction);
}

function varianceOf(
  x: Tensor,
  dim: number | number[] | undefined,
  keepdim: boolean,
  correction: number,
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

/**
 * Standard deviation over `dim` (see {@link variance} for the options). Where the variance is
 * 0 the gradient is 0, as in PyTorch (the square root's slope is infinite there, but every
 * value sits on the mean, so no direction is preferred).
 */
export function std(
  x: Tensor,
  ...args: [dim?: number | number[] | VarianceOptions, options?: VarianceOptions]
): Tensor {
  const { dim, keepdim, correction } = varianceArgs("std", args);
  const v = varianceOf(x, dim, keepdim, correction);
  const out = withNoGrad(() => sqrt(v));
  // d sqrt(v) / dv = 1 / (2 sqrt(v)), taken as 0 where v = 0.
  return record("std", out, [v], (grad) => [
    where(eq(out, 0), 0, div(grad, mul(out, 2))),
  ]);
}

/**
 * The cumulative sum along `dim`: `out[i] = x[0] + ... + x[i]`. Computed as a scan in log2(n)
 * steps (Hillis and Steele): after the step with offset k, each entry holds the sum of the up to
 * 2k entries ending at it, so every entry adds the one k places before it. Each step is a shift
 * (`cat` of zeros and a `narrow`) and an `add`, so autograd derives the backward (a cumulative
 * sum from the other end) and it runs on every device.
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  const d = normDim("cumsum", dim, x.ndim);
  const n = x.shape[d];
  let out = n > 1 ? x : clone(x);
  for (let offset = 1; offset < n; offset *= 2) {
    const zerosShape = x.shape.map((size, i) => (i === d ? offset : size));
    const shifted = cat([full(zerosShape, 0, x.dtype, x.device), narrow(out, d, 0, n - offset)], d);
    out = add(out, shifted);
  }
  return out;
}

/** The maximum over `dims` (keepdim), not recorded, with rows of -Infinity shifted by 0. */
function maxShift(x: Tensor, dims: number[]): Tensor {
  return withNoGrad(() => {
    const m = reduceRaw("max", x, dims);
    // A row whose maximum is infinite would give inf - inf = NaN: shift such rows by 0 instead
    // (so logsumexp([inf, 1]) is inf, and a row of -inf gives -inf, as in PyTorch).
    const infinite = eq(abs(m), Infinity);
    const shift = where(infinite, 0, m);
    m.dispose();
    infinite.dispose();
    return shift;
  });
}

/**
 * `log(sum(exp(x)))` over `dim`, without overflow: subtracting the maximum first keeps every
 * `exp` at most 1, and adding it back afterwards gives the same value.
 */
export function logsumexp(x: Tensor, dim: number | number[], keepdim = false): Tensor {
  checkKeepdim("logsumexp", keepdim);
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
    const shift = maxShift(x, [d]);
    const shifted = sub(x, shift);
    const exps = exp(shifted);
    const out = sub(shifted, log(sum(exps, d, true)));
    // Temporaries of this op alone: give their memory back now.
    for (const t of [shift, shifted, exps]) t.dispose();
    return out;
  });
  // With y = log softmax(x): dx = g - softmax(x) * sum(g), summed along dim.
  return record("logSoftmax", out, [x], (grad) => [
    sub(grad, mul(exp(out), sum(grad, d, true))),
  ]);
}
