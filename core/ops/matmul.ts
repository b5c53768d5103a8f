/**
 * Matrix multiplication: 2-D, batched, and with broadcast batch dimensions.
 *
 * For `C = A @ B` the backward rules are `dA = dC @ B^T` and `dB = A^T @ dC`. The kernel takes
 * transpose flags, so these products read `B` and `A` transposed through strides instead of
 * copying them. When a batch dimension was broadcast (one weight matrix used for every image),
 * the gradient is summed over it.
 *
 * @module
 */
import { ownedByGraph, record } from "../autograd.ts";
import { getBackend } from "../backend.ts";
import { promoteTypes } from "../dtype.ts";
import { broadcastShapes, fmtShape, numel, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { sumToShape } from "./elementwise.ts";
import { expand, reshape, to } from "./shape.ts";
import { checkAllocation } from "../limits.ts";

/**
 * The product of the last two dimensions, `op(a) @ op(b)`, where `op` transposes a matrix when
 * its flag is set. Batch dimensions (all but the last two) broadcast. Not recorded for autograd.
 */
export function matmulRaw(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const m = transA ? aCols : aRows;
  const k = transA ? aRows : aCols;
  const kB = transB ? bCols : bRows;
  const n = transB ? bRows : bCols;
  if (k !== kB) {
    throw new Error(
      `matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied ` +
        `(${k} != ${kB})`,
    );
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes("matmul", aBatch, bBatch);
  const batch = numel(batchShape);
  checkAllocation("matmul", [...batchShape, m, n], a.dtype, a.device);
  // Each side is either a full batch (stride = one matrix) or a single matrix (stride 0);
  // anything in between is expanded to the full batch first.
  const batchOf = (t: Tensor, own: readonly number[], rows: number, cols: number) => {
    if (numel(own) === 1) return { t, stride: 0 };
    if (sameShape(own, batchShape)) return { t, stride: rows * cols };
    return { t: expand(t, [...batchShape, rows, cols]), stride: rows * cols };
  };
  const left = batchOf(a, aBatch, aRows, aCols);
  const right = batchOf(b, bBatch, bRows, bCols);
  const storage = getBackend(a.device).matmul(left.t.storage, right.t.storage, a.dtype, {
    batch,
    m,
    n,
    k,
    transA,
    transB,
    aOffset: 0,
    bOffset: 0,
    aBatchStride: left.stride,
    bBatchStride: right.stride,
  });
  return new Tensor(storage, [...batchShape, m, n], a.dtype);
}

/**
 * Matrix product as `torch.matmul` defines it: 1-D operands are treated as a row (left) or a
 * column (right) vector and that dimension is removed from the result; batch dimensions
 * broadcast.
 *
 * @example
 * ```ts
 * import { tensor } from "../../mod.ts";
 * const a = tensor([[1, 2], [3, 4]]);
 * const b = tensor([[5], [6]]);
 * console.assert((await a.matmul(b).toArray()).toString() === "17,39");
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  for (const [k, t] of [a, b].entries()) {
    if (!(t instanceof Tensor)) {
      throw new TypeError(
        `matmul: operand ${k} must be a tensor, got ${typeof t}` +
          (typeof t === "number" ? "; to scale a tensor use x.mul(number)" : ""),
      );
    }
  }
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(
      `matmul: both arguments need at least one dimension, got shapes ${fmtShape(a.shape)} ` +
        `and ${fmtShape(b.shape)}`,
    );
  }
  if (a.device !== b.device) {
    throw new Error(`matmul: tensors are on different devices ("${a.device}" and "${b.device}")`);
  }
  if (a.dtype === "int32" || b.dtype === "int32") {
    throw new TypeError(`matmul: expected float tensors, got ${a.dtype} and ${b.dtype}`);
  }
  const dtype = promoteTypes(a.dtype, b.dtype);
  if (a.dtype !== dtype) a = to(a, dtype);
  if (b.dtype !== dtype) b = to(b, dtype);
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0], 1]) : b;
  if (a2.shape[a2.ndim - 1] !== b2.shape[b2.ndim - 2]) {
    throw new Error(
      `matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied ` +
        `(${a2.shape[a2.ndim - 1]} != ${b2.shape[b2.ndim - 2]})`,
    );
  }
  let out = matmulRaw(a2, b2);
  const product = out;
  out = record("matmul", out, [a2, b2], (grad) => [
    // dA = dC @ B^T, summed over batch dimensions that A was broadcast along.
    a2.requiresGrad ? sumToShape(matmulRaw(grad, b2, false, true), a2.shape) : null,
    // dB = A^T @ dC, likewise.
    b2.requiresGrad ? sumToShape(matmulRaw(a2, grad, true, false), b2.shape) : null,
  ]);
  if (a.ndim === 1 || b.ndim === 1) {
    const shape = [...product.shape];
    if (b.ndim === 1) shape.splice(shape.length - 1, 1);
    if (a.ndim === 1) shape.splice(shape.length - (b.ndim === 1 ? 1 : 2), 1);
    out = reshape(out, shape);
  }
  return out;
}

/**
 * `a @ b^T` for a matrix `b` of shape `[n, k]`, without copying `b` transposed: the product of
 * a linear layer, whose weight is stored `[outFeatures, inFeatures]`. With `C = A B^T`:
 * `dA = dC @ B` and `dB = dC^T @ A` (rows of A and dC flattened over the batch dimensions).
 */
export function matmulTransposed(a: Tensor, b: Tensor): Tensor {
  if (b.ndim !== 2 || a.ndim < 1 || a.dtype !== b.dtype || a.device !== b.device) {
    return matmul(a, b.transpose(0, 1));
  }
  const [n, k] = b.shape;
  if (a.shape[a.ndim - 1] !== k) {
    throw new Error(
      `matmul: shapes ${fmtShape(a.shape)} and ${fmtShape([k, n])} cannot be multiplied ` +
        `(${a.shape[a.ndim - 1]} != ${k})`,
    );
  }
  const rows = a.numel() / k;
  const a2 = reshape(a, [rows, k]);
  const product = matmulRaw(a2, b, false, true);
  const out = reshape(product, [...a.shape.slice(0, -1), n]);
  record("matmul", out, [a, b], (grad) => {
    const grad2 = reshape(grad, [rows, n]);
    return [
      a.requiresGrad ? reshape(matmulRaw(grad2, b), a.shape) : null,
      b.requiresGrad ? matmulRaw(grad2, a2, true, false) : null,
    ];
  });
  // The flattened input and the unshaped product are handles of this op alone.
  return a2 === a ? ownedByGraph(out, product) : ownedByGraph(out, product, a2);
}
