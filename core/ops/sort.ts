/**
 * Sorting and selection along a dimension: `sort`, `topk` and `kthvalue`.
 *
 * All three rest on one kernel, `argsort`: the indices that put each line in order. The values
 * are then picked with `gather`, so the gradient needs no rule of its own: gather's backward
 * sends each output's gradient back to the element it was picked from, and the elements that
 * were not picked (the ones below the top k) get zero.
 *
 * ```text
 * x           = [3, 1, 2]
 * argsort(x)  = [1, 2, 0]      (x[1] = 1 is the smallest, then x[2], then x[0])
 * sorted      = gather(x, argsort(x)) = [1, 2, 3]
 * ```
 *
 * Like PyTorch, the results are `{ values, indices }` with int32 indices; the sort is stable
 * (equal values keep their order) and on the CPU NaN sorts as the largest value.
 *
 * @module
 */
import { getBackend } from "../backend.ts";
import { checkOptions } from "../options.ts";
import { fmtShape, normDim } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { axisGeometry } from "./reduce.ts";
import { gather, narrow, reshape, squeeze } from "./shape.ts";

/** Sorted (or selected) values and the indices they came from along the dimension (int32). */
export interface SortResult {
  values: Tensor;
  indices: Tensor;
}

/** Options of {@link sort}. */
export interface SortOptions {
  /** The dimension to sort along (default -1, the last). */
  dim?: number;
  /** Largest first (default false: smallest first). */
  descending?: boolean;
  /** Accepted for PyTorch's sake: the sort here is always stable. */
  stable?: boolean;
}

/** Options of {@link topk}. */
export interface TopkOptions {
  /** The dimension to select along (default -1, the last). */
  dim?: number;
  /** The k largest (default true) or the k smallest. */
  largest?: boolean;
  /** Accepted for PyTorch's sake: the k values always come sorted (largest first, or smallest). */
  sorted?: boolean;
}

/** Options of {@link kthvalue}. */
export interface KthvalueOptions {
  /** The dimension to select along (default -1, the last). */
  dim?: number;
  /** Keep the dimension, with size 1. */
  keepdim?: boolean;
}

/** The argsort indices of `x` along `d` (x has at least one dimension). */
function argsort(x: Tensor, d: number, descending: boolean): Tensor {
  const axis = axisGeometry(x.shape, d);
  const storage = getBackend(x.device).argsort(x.storage, x.dtype, axis, descending);
  return new Tensor(storage, x.shape, "int32");
}

/** A 0-d tensor is sorted as a line of one. */
function atLeast1d(x: Tensor): Tensor {
  return x.ndim === 0 ? reshape(x, [1]) : x;
}

function checkTensor(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    throw new TypeError(`${op}: expected a tensor, got ${x === null ? "null" : typeof x}`);
  }
}

/**
 * Sorts `x` along a dimension, like `torch.sort`: the sorted values and, for each, the index it
 * had. Gradients flow back to the positions the values came from.
 *
 * @param x the tensor to sort
 * @param options `dim` (default -1), `descending` (default false)
 * @returns `{ values, indices }`, both of the shape of `x` (indices are int32)
 *
 * @example
 * ```ts
 * import { sort, tensor } from "../../mod.ts";
 * const { values, indices } = sort(tensor([3, 1, 2]));
 * console.assert(values.dataSync().join() === "1,2,3");
 * console.assert(indices.dataSync().join() === "1,2,0");
 * ```
 */
export function sort(x: Tensor, options: SortOptions = {}): SortResult {
  checkTensor("sort", x);
  checkOptions("sort", arguments, 1, ["dim", "descending", "stable"]);
  const { dim = -1, descending = false } = options;
  const line = atLeast1d(x);
  const d = normDim("sort", dim, line.ndim);
  const indices = argsort(line, d, descending);
  const values = gather(line, d, indices);
  if (x.ndim > 0) return { values, indices };
  return { values: reshape(values, []), indices: reshape(indices, []) };
}

/**
 * The `k` largest (or smallest) entries along a dimension, like `torch.topk`, in order (largest
 * first, or smallest first), with their indices.
 *
 * @param x the tensor to select from
 * @param k how many entries to keep, `0 <= k <= x.shape[dim]`
 * @param options `dim` (default -1), `largest` (default true)
 * @returns `{ values, indices }` with `k` entries along `dim`
 *
 * @example
 * ```ts
 * import { tensor, topk } from "../../mod.ts";
 * const { values, indices } = topk(tensor([0.1, 0.7, 0.2]), 2);
 * console.assert(indices.dataSync().join() === "1,2");
 * console.assert(Math.abs(values.dataSync()[0] - 0.7) < 1e-6);
 * ```
 */
export function topk(x: Tensor, k: number, options: TopkOptions = {}): SortResult {
  checkTensor("topk", x);
  checkOptions("topk", arguments, 2, ["dim", "largest", "sorted"]);
  const { dim = -1, largest = true } = options;
  const line = atLeast1d(x);
  const d = normDim("topk", dim, line.ndim);
  const size = line.shape[d];
  if (!Number.isInteger(k) || k < 0 || k > size) {
    throw new RangeError(
      `topk: k (${k}) must be an integer from 0 to ${size}, the size of dimension ${dim} of ` +
        `the input of shape ${fmtShape(x.shape)}`,
    );
  }
  const indices = narrow(argsort(line, d, largest), d, 0, k);
  const values = gather(line, d, indices);
  if (x.ndim > 0) return { values, indices };
  return { values: reshape(values, []), indices: reshape(indices, []) };
}

/**
 * The `k`-th smallest entry along a dimension (k counts from 1), like `torch.kthvalue`: `k = 1`
 * is the minimum, and `k = n / 2` a median. The dimension is removed unless `keepdim`.
 *
 * @param x the tensor to select from
 * @param k which entry, `1 <= k <= x.shape[dim]`
 * @param options `dim` (default -1), `keepdim` (default false)
 * @returns `{ values, indices }`
 *
 * @example
 * ```ts
 * import { kthvalue, tensor } from "../../mod.ts";
 * const { values, indices } = kthvalue(tensor([5, 1, 4, 2]), 2);
 * console.assert(values.dataSync()[0] === 2 && indices.dataSync()[0] === 3);
 * ```
 */
export function kthvalue(x: Tensor, k: number, options: KthvalueOptions = {}): SortResult {
  checkTensor("kthvalue", x);
  checkOptions("kthvalue", arguments, 2, ["dim", "keepdim"]);
  const { dim = -1, keepdim = false } = options;
  const line = atLeast1d(x);
  const d = normDim("kthvalue", dim, line.ndim);
  const size = line.shape[d];
  if (!Number.isInteger(k) || k < 1 || k > size) {
    throw new RangeError(
      `kthvalue: k (${k}) must be an integer from 1 to ${size}, the size of dimension ${dim} ` +
        `of the input of shape ${fmtShape(x.shape)} (k counts from 1: k = 1 is the minimum)`,
    );
  }
  const indices = narrow(argsort(line, d, false), d, k - 1, 1);
  const values = gather(line, d, indices);
  if (x.ndim === 0) return { values: reshape(values, []), indices: reshape(indices, []) };
  if (keepdim) return { values, indices };
  return { values: squeeze(values, d), indices: squeeze(indices, d) };
}
