/**
 * Shape ops: reshape, transpose, permute, expand, cat, stack, slicing, and indexing with index
 * tensors, plus dtype and device conversion.
 *
 * Tensors are always contiguous, so reshape shares storage while transpose, permute, expand and
 * slices copy through a strided view. The backward of every shape op moves the gradient back
 * where the values came from: transpose's backward transposes back, expand's sums over the
 * repeated dimensions, a slice's writes the gradient into zeros of the input's shape.
 *
 * @module
 */
import { record } from "../autograd.ts";
import { getBackend, type StridedView } from "../backend.ts";
import { checkDType, type Device, type DType, isFloat } from "../dtype.ts";
import { checkShape, fmtShape, normDim, numel, type Shape, stridesOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { axisGeometry, sum } from "./reduce.ts";
import { checkAllocation } from "../limits.ts";
import { checkIndicesOnDevice, checkIntegerRangeOnDevice } from "../device_checks.ts";

/** A tensor of `shape` filled with `value`. */
export function full(
  shape: Shape,
  value: number,
  dtype: DType = "float32",
  device: Device = "cpu",
) {
  checkShape("full", shape);
  checkAllocation("full", shape, dtype, device);
  const storage = getBackend(device).fill(numel(shape), value, dtype);
  return new Tensor(storage, shape, dtype);
}

/** Copies a strided view of `x` into a new contiguous tensor of `shape`. */
function stridedCopy(x: Tensor, shape: Shape, strides: readonly number[], offset = 0): Tensor {
  const view: StridedView = { storage: x.storage, shape, strides, offset };
  return new Tensor(getBackend(x.device).copy(view, x.dtype), shape, x.dtype);
}

/** A copy with its own storage. */
export function clone(x: Tensor): Tensor {
  const out = stridedCopy(x, x.shape, stridesOf(x.shape));
  return record("clone", out, [x], (grad) => [grad]);
}

/** Converts to another device or dtype (returns `x` itself when nothing changes). */
export function to(x: Tensor, target: Device | DType): Tensor {
  if (target === "cpu" || target === "webgpu") {
    if (x.device === target) return x;
    const backend = getBackend(target);
    const from = getBackend(x.device);
    if (!from.readSync) {
      throw new Error(
        `to: moving a tensor from "${x.device}" to "${target}" needs a read back from the ` +
          `device, which is asynchronous: use "await t.cpu()"`,
      );
    }
    if (target === "webgpu" && x.dtype === "float64") {
      throw new Error(
        `to: WebGPU has no float64 (WGSL has no 64-bit floats); convert with .float() first`,
      );
    }
    const out = new Tensor(backend.upload(from.readSync(x.storage, x.dtype)), x.shape, x.dtype);
    return record("to", out, [x], (grad) => [to(grad, x.device)]);
  }
  const dtype = checkDType(target, "to");
  if (x.dtype === dtype) return x;
  if (dtype === "int32" && isFloat(x.dtype)) checkIntegerRange(x);
  const storage = getBackend(x.device).cast(x.storage, x.numel(), x.dtype, dtype);
  const out = new Tensor(storage, x.shape, dtype);
  if (!isFloat(dtype)) return out;
  return record("cast", out, [x], (grad) => [isFloat(x.dtype) ? to(grad, x.dtype) : null]);
}

/**
 * A cast to int32 of NaN, an infinity or a value outside int32's range has no meaningful
 * result (C leaves it undefined; kernels would give 0 or wrap around): an error instead.
 * Checked where the values can be read synchronously (the CPU).
 */
function checkIntegerRange(x: Tensor): void {
  const backend = getBackend(x.device);
  if (!backend.readSync) {
    return checkIntegerRangeOnDevice(
      x,
      `to(int32): cannot convert a tensor of shape ${fmtShape(x.shape)} to int32: it holds ` +
        `NaN or a value outside int32's range [-2147483648, 2147483647]; clamp or filter ` +
        `the values first`,
    );
  }
  const values = backend.readSync(x.storage, x.dtype);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v > -2147483649 && v < 2147483648)) {
      throw new RangeError(
        `to(int32): cannot convert ${v} (element ${i} of a tensor of shape ` +
          `${fmtShape(x.shape)}) to int32: ` +
          (Number.isNaN(v)
            ? "NaN has no integer value; find where it came from (x.eq(x) is 0 at a NaN)"
            : "it is outside int32's range [-2147483648, 2147483647]") +
          `; clamp or filter the values first`,
      );
    }
  }
}

/** The same values in a new shape (one size may be -1). Shares storage with `x`. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = [...shape];
  const unknown = target.indexOf(-1);
  if (unknown !== target.lastIndexOf(-1)) {
    throw new Error(`reshape: only one dimension can be -1, got ${fmtShape(shape)}`);
  }
  if (unknown >= 0) {
    const known = numel(target.filter((_, i) => i !== unknown));
    if (known === 0 || x.numel() % known !== 0) {
      throw new Error(
        `reshape: shape ${fmtShape(shape)} is invalid for input of size ${x.numel()} ` +
          `(${x.numel()} is not divisible by ${known})`,
      );
    }
    target[unknown] = x.numel() / known;
  }
  checkShape("reshape", target);
  if (numel(target) !== x.numel()) {
    throw new Error(
      `reshape: shape ${fmtShape(shape)} is invalid for input of size ${x.numel()} ` +
        `(${fmtShape(x.shape)} has ${x.numel()} elements, ${fmtShape(target)} has ${
          numel(target)
        })`,
    );
  }
  const out = new Tensor(x.storage, target, x.dtype);
  return record("reshape", out, [x], (grad) => [reshape(grad, x.shape)]);
}

/** Merges dimensions `startDim..endDim` into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const start = normDim("flatten", startDim, x.ndim);
  const end = normDim("flatten", endDim, x.ndim);
  if (start > end) {
    throw new Error(`flatten: startDim (${startDim}) must not come after endDim (${endDim})`);
  }
  const shape = [
    ...x.shape.slice(0, start),
    numel(x.shape.slice(start, end + 1)),
    ...x.shape.slice(end + 1),
  ];
  return reshape(x, shape);
}

/** Removes dimensions of size 1 (only those in `dim` when given). */
export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  const dims = dim === undefined
    ? x.shape.map((_, i) => i)
    : (Array.isArray(dim) ? dim : [dim]).map((d) => normDim("squeeze", d, x.ndim));
  return reshape(x, x.shape.filter((d, i) => !(dims.includes(i) && d === 1)));
}

/** Inserts a dimension of size 1 at `dim` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim("unsqueeze", dim, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

/** Reorders the dimensions: dimension `i` of the result is dimension `dims[i]` of `x`. */
export function permute(x: Tensor, dims: number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new Error(
      `permute: got ${dims.length} dimensions [${dims.join(", ")}] for a tensor of shape ` +
        `${fmtShape(x.shape)} (${x.ndim} dimensions)`,
    );
  }
  const order = dims.map((d) => normDim("permute", d, x.ndim));
  if (new Set(order).size !== order.length) {
    throw new Error(`permute: dimensions [${dims.join(", ")}] repeat a dimension`);
  }
  const strides = stridesOf(x.shape);
  const out = stridedCopy(x, order.map((d) => x.shape[d]), order.map((d) => strides[d]));
  const inverse = new Array<number>(order.length);
  order.forEach((d, i) => (inverse[d] = i));
  return record("permute", out, [x], (grad) => [permute(grad, inverse)]);
}

/** Swaps two dimensions. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const order = x.shape.map((_, i) => i);
  const a = normDim("transpose", dim0, x.ndim);
  const b = normDim("transpose", dim1, x.ndim);
  [order[a], order[b]] = [order[b], order[a]];
  return permute(x, order);
}

/** Repeats dimensions of size 1 to a larger shape (-1 keeps a size; new leading dims allowed). */
export function expand(x: Tensor, shape: Shape): Tensor {
  if (shape.length < x.ndim) {
    throw new Error(
      `expand: the target shape ${fmtShape(shape)} has fewer dimensions than the tensor ` +
        `${fmtShape(x.shape)}`,
    );
  }
  const lead = shape.length - x.ndim;
  const own = stridesOf(x.shape);
  const target: number[] = [];
  const strides: number[] = [];
  shape.forEach((size, i) => {
    const j = i - lead;
    const current = j >= 0 ? x.shape[j] : 1;
    const wanted = size === -1 ? current : size;
    if (current !== wanted && current !== 1) {
      throw new Error(
        `expand: the size of dimension ${i} (${current}) must match the target ` +
          `${fmtShape(shape)} or be 1; cannot expand ${fmtShape(x.shape)}`,
      );
    }
    target.push(wanted);
    strides.push(j < 0 || current === 1 ? 0 : own[j]);
  });
  if (target.every((d, i) => d === x.shape[i - lead]) && lead === 0) return x;
  checkAllocation("expand", target, x.dtype, x.device);
  const out = stridedCopy(x, target, strides);
  // Each input element was repeated: its gradient is the sum over the copies.
  return record("expand", out, [x], (grad) => {
    const dims: number[] = [];
    target.forEach((_, i) => {
      if (i < lead || (x.shape[i - lead] === 1 && target[i] !== 1)) dims.push(i);
    });
    return [reshape(dims.length ? sum(grad, dims, true) : grad, x.shape)];
  });
}

/** Entries `start, start + step, ...` below `end` along `dim`. */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normDim("slice", dim, x.ndim);
  const size = x.shape[d];
  if (!Number.isInteger(step) || step < 1) {
    throw new Error(`slice: step must be a positive integer, got ${step}`);
  }
  const clampIndex = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
  const from = clampIndex(start);
  const to = clampIndex(end ?? size);
  const length = Math.max(0, Math.ceil((to - from) / step));
  const strides = stridesOf(x.shape);
  const shape = [...x.shape];
  shape[d] = length;
  const viewStrides = [...strides];
  viewStrides[d] = strides[d] * step;
  const offset = from * strides[d];
  const out = stridedCopy(x, shape, viewStrides, offset);
  // The gradient goes back into the sliced positions; the others get zero.
  return record("slice", out, [x], (grad) => {
    const zeros = full(x.shape, 0, grad.dtype, grad.device);
    getBackend(grad.device).writeStrided(
      zeros.storage,
      { shape, strides: viewStrides, offset },
      grad.storage,
      grad.dtype,
    );
    return [zeros];
  });
}

/** `length` entries of `dim` starting at `start`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim("narrow", dim, x.ndim);
  const size = x.shape[d];
  const from = start < 0 ? start + size : start;
  if (from < 0 || length < 0 || from + length > size) {
    throw new RangeError(
      `narrow: start (${start}) + length (${length}) exceeds dimension ${dim} of size ${size}`,
    );
  }
  return slice(x, d, from, from + length);
}

/** Joins tensors along an existing dimension; all other sizes must match. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("cat: expected a non-empty list of tensors");
  const first = tensors[0];
  const d = normDim("cat", dim, first.ndim);
  tensors.forEach((t, i) => {
    const ok = t.ndim === first.ndim && t.shape.every((s, j) => j === d || s === first.shape[j]);
    if (!ok) {
      throw new Error(
        `cat: sizes of tensors must match except in dimension ${dim}: tensor 0 has shape ` +
          `${fmtShape(first.shape)}, tensor ${i} has shape ${fmtShape(t.shape)}`,
      );
    }
    if (t.dtype !== first.dtype || t.device !== first.device) {
      throw new Error(
        `cat: all tensors must have the same dtype and device; tensor 0 is ` +
          `${first.dtype} on ${first.device}, tensor ${i} is ${t.dtype} on ${t.device}`,
      );
    }
  });
  const shape = [...first.shape];
  shape[d] = tensors.reduce((n, t) => n + t.shape[d], 0);
  const out = full(shape, 0, first.dtype, first.device);
  const strides = stridesOf(shape);
  const backend = getBackend(first.device);
  let offset = 0;
  for (const t of tensors) {
    backend.writeStrided(
      out.storage,
      { shape: t.shape, strides, offset: offset * strides[d] },
      t.storage,
      t.dtype,
    );
    offset += t.shape[d];
  }
  return record("cat", out, tensors, (grad) => {
    let start = 0;
    return tensors.map((t) => {
      const piece = slice(grad, d, start, start + t.shape[d]);
      start += t.shape[d];
      return piece;
    });
  });
}

/** Joins tensors of the same shape along a new dimension. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("stack: expected a non-empty list of tensors");
  const first = tensors[0];
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, j) => s !== first.shape[j])) {
      throw new Error(
        `stack: expects each tensor to be equal size, but got ${fmtShape(first.shape)} at ` +
          `entry 0 and ${fmtShape(t.shape)} at entry ${i}`,
      );
    }
  });
  const d = normDim("stack", dim, first.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** Checks that `index` is an int32 tensor whose values lie in `[0, size)`. */
function checkIndex(op: string, index: Tensor, size: number, dim: number): void {
  if (index.dtype !== "int32") {
    throw new TypeError(`${op}: the index must be an int32 tensor, got ${index.dtype}`);
  }
  const backend = getBackend(index.device);
  const message = (v: number) =>
    `${op}: index ${v} is out of bounds for dimension ${dim} with size ${size}`;
  // Range checks need the values; on the CPU they are at hand, on a GPU they would need a
  // read back: there the check runs on the device and the next read back reports it.
  if (!backend.readSync) return checkIndicesOnDevice(index, size, message);
  const values = backend.readSync(index.storage, index.dtype);
  for (const v of values) {
    if (v < 0 || v >= size) throw new RangeError(message(v));
  }
}

/** Picks entries along `dim` by an int32 index vector: the result has `index.numel()` there. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim("indexSelect", dim, x.ndim);
  if (index.ndim > 1) {
    throw new Error(`indexSelect: the index must be 1-D, got shape ${fmtShape(index.shape)}`);
  }
  checkIndex("indexSelect", index, x.shape[d], d);
  const axis = axisGeometry(x.shape, d);
  const count = index.numel();
  const storage = getBackend(x.device).indexSelect(x.storage, index.storage, x.dtype, axis, count);
  const shape = [...x.shape];
  shape[d] = count;
  const out = new Tensor(storage, shape, x.dtype);
  // Rows picked several times collect the gradient of every pick.
  return record("indexSelect", out, [x], (grad) => [
    new Tensor(
      getBackend(grad.device).indexAdd(index.storage, grad.storage, grad.dtype, axis, count),
      x.shape,
      grad.dtype,
    ),
  ]);
}

/**
 * `out[..., i, ...] = x[..., index[..., i, ...], ...]` along `dim`: the index has the rank of
 * `x` and the same sizes in every other dimension; the result has the index's shape.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim("gather", dim, x.ndim);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s !== x.shape[i])) {
    throw new Error(
      `gather: the index of shape ${fmtShape(index.shape)} must have the shape of the input ` +
        `${fmtShape(x.shape)} in every dimension but ${dim}`,
    );
  }
  checkIndex("gather", index, x.shape[d], d);
  const axis = axisGeometry(x.shape, d);
  const storage = getBackend(x.device).gather(
    x.storage,
    index.storage,
    x.dtype,
    axis,
    index.shape[d],
  );
  const out = new Tensor(storage, index.shape, x.dtype);
  return record("gather", out, [x], (grad) => [scatterAddAlong(x.shape, d, index, grad)]);
}

/** Zeros of `shape` with `src` added at the positions `index` names along `dim` (gather's adjoint). */
export function scatterAddAlong(shape: Shape, dim: number, index: Tensor, src: Tensor): Tensor {
  const axis = axisGeometry(shape, dim);
  const storage = getBackend(src.device).scatterAdd(
    index.storage,
    src.storage,
    src.dtype,
    axis,
    index.shape[dim],
  );
  return new Tensor(storage, shape, src.dtype);
}
