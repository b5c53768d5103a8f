/**
 * Vector norms: the size of a tensor (or of each row, column, ...) as one number.
 *
 * - p = 1: the sum of absolute values, `sum |x|` (what an L1 penalty adds to a loss);
 * - p = 2: the Euclidean length, `sqrt(sum x^2)` (the default);
 * - p = Infinity: the largest absolute value, `max |x|`;
 * - any other p >= 1: `(sum |x|^p)^(1/p)`.
 *
 * The backward of the 2-norm (and of every p > 1) divides by the norm, so at a zero vector it
 * would be 0/0; there, as in PyTorch, the gradient is taken as 0. The 1-norm's gradient is
 * `sign(x)` (0 at 0), the inf-norm's goes to the largest entries (shared between ties).
 *
 * @module
 */
import { record, withNoGrad } from "../autograd.ts";
import { normDims } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { abs, div, eq, mul, pow, sqrt, unaryKernel, where } from "./elementwise.ts";
import { max, sum } from "./reduce.ts";
import { expand, reshape } from "./shape.ts";

/**
 * The `p`-norm of `x` over `dim` (one or several dimensions; all when omitted), like
 * `torch.norm(x, p, dim, keepdim)` and `torch.linalg.vector_norm`.
 *
 * @param x a float tensor
 * @param p 1, 2 (default), `Infinity`, or any other number >= 1
 * @param dim the dimensions to reduce (all when omitted)
 * @param keepdim keep the reduced dimensions with size 1
 *
 * @example
 * ```ts
 * import { tensor } from "../../mod.ts";
 * const x = tensor([[3, -4], [0, 12]]);
 * console.assert((await x.norm().item()) === 13); // sqrt(9 + 16 + 144)
 * console.assert((await x.norm(1).item()) === 19); // 3 + 4 + 12
 * console.assert((await x.norm(2, 1).toArray()).toString() === "5,12"); // each row
 * ```
 */
export function norm(x: Tensor, p = 2, dim?: number | number[], keepdim = false): Tensor {
  if (typeof p !== "number" || Number.isNaN(p) || p < 1) {
    throw new Error(
      `norm: p must be a number >= 1 (1, 2 or Infinity for the usual norms), got ${
        typeof p === "string" ? `"${p}"` : p
      }` + (p === "fro" as unknown ? `; the Frobenius norm is p = 2 over all elements` : ""),
    );
  }
  if (x.dtype === "int32") {
    throw new Error(`norm: expected a float tensor, got int32 (convert it with x.float())`);
  }
  const dims = normDims("norm", dim, x.ndim);
  if (p === 1) return sum(abs(x), dims, keepdim);
  if (p === Infinity) {
    if (x.numel() === 0) return sum(abs(x), dims, keepdim); // max of nothing: 0, as PyTorch
    return max(abs(x), dims, keepdim);
  }
  // p > 1: computed without recording, then one backward rule that is 0 where the norm is 0.
  const [out, kept] = withNoGrad(() => {
    const powered = p === 2 ? mul(x, x) : pow(abs(x), p);
    const keptNorm = p === 2
      ? sqrt(sum(powered, dims, true))
      : pow(sum(powered, dims, true), 1 / p);
    return [keepdim ? keptNorm : reshape(keptNorm, reducedShape(x.shape, dims)), keptNorm];
  });
  // d||x||_p / dx = sign(x) |x|^(p-1) / ||x||_p^(p-1): for p = 2 simply x / ||x||.
  return record("norm", out, [x], (grad) => {
    const g = expand(reshape(grad, kept.shape), x.shape);
    const safeNorm = where(eq(kept, 0), 1, kept);
    const direction = p === 2
      ? div(x, safeNorm)
      : div(mul(unaryKernel("sign", x), pow(abs(x), p - 1)), pow(safeNorm, p - 1));
    return [mul(g, where(eq(kept, 0), 0, direction))];
  });
}

/** The shape of `shape` without the dimensions `dims`. */
function reducedShape(shape: readonly number[], dims: number[]): number[] {
  return shape.filter((_, i) => !dims.includes(i));
}
