/**
 * The reference CPU kernels: plain TypeScript loops over typed arrays.
 *
 * These are the kernels a student can read and step through. They run every dtype, float64
 * included, and every faster kernel is tested against them. Elementwise kernels call the op
 * table's functions, so their formulas live in one place.
 *
 * @module
 */
import type { AxisGeometry, Conv2dGeometry, MatmulSpec, OptimizerUpdate } from "../backend.ts";
import { allocArray, type DType, type TypedArray } from "../dtype.ts";
import { BINARY_OPS, type BinaryOp, UNARY_OPS, type UnaryOp } from "../ops/table.ts";

/** `out[i] = f(x[i])`, with `f` the op's function in the op table. */
export function unary(op: UnaryOp, x: TypedArray, out: TypedArray, p0: number, p1: number): void {
  const f = UNARY_OPS[op].cpu;
  for (let i = 0; i < out.length; i++) out[i] = f(x[i], p0, p1);
}

/**
 * `out[i] = f(a[i], b[i])` over two strided views of the output's shape, with `f` the op's
 * function in the op table. The output is walked in row-major order with a counter per
 * dimension (like an odometer); each input moves by its own strides, and a stride of 0 reads the
 * same element again (broadcasting).
 */
export function binary(
  op: BinaryOp,
  a: TypedArray,
  b: TypedArray,
  out: TypedArray,
  aStrides: readonly number[],
  bStrides: readonly number[],
  shape: readonly number[],
  aOffset: number,
  bOffset: number,
): void {
  const f = BINARY_OPS[op].cpu;
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let ai = aOffset;
  let bi = bOffset;
  for (let i = 0; i < out.length; i++) {
    out[i] = f(a[ai], b[bi]);
    // Step the counter: the last dimension moves first; at its end it wraps and carries.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      ai += aStrides[d];
      bi += bStrides[d];
      if (index[d] < shape[d]) break;
      ai -= aStrides[d] * shape[d];
      bi -= bStrides[d] * shape[d];
      index[d] = 0;
    }
  }
}

/** Copies a strided view into `out` (contiguous), walking the output in row-major order. */
export function stridedCopy(
  src: TypedArray,
  out: TypedArray,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): void {
  const rank = shape.length;
  const n = out.length;
  if (rank === 0) {
    if (n > 0) out[0] = src[offset];
    return;
  }
  // The innermost dimension is copied in a tight loop; the outer ones advance a counter.
  const innerSize = shape[rank - 1];
  const innerStride = strides[rank - 1];
  const index = new Array<number>(rank).fill(0);
  let base = offset;
  for (let start = 0; start < n; start += innerSize) {
    for (let j = 0, s = base; j < innerSize; j++, s += innerStride) out[start + j] = src[s];
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      base += strides[d];
      if (index[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

/** Writes contiguous `src` into `dst` through a strided view (the inverse of stridedCopy). */
export function stridedWrite(
  dst: TypedArray,
  src: TypedArray,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): void {
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let pos = offset;
  for (let i = 0; i < src.length; i++) {
    dst[pos] = src[i];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      pos += strides[d];
      if (index[d] < shape[d]) break;
      pos -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

/**
 * Sum, max or min over the middle axis of `[outer, size, inner]`.
 *
 * With `inner` 1 (a reduction over the last dimension) each result is a running value in a
 * local variable. Otherwise the `size` rows of `inner` values are combined into the output row
 * by row, which reads memory in order.
 */
export function reduceAxis(
  op: "sum" | "max" | "min",
  x: TypedArray,
  out: TypedArray,
  { outer, size, inner }: AxisGeometry,
): void {
  if (op === "sum") {
    sumAxis(x, out, outer, size, inner);
    return;
  }
  const isMax = op === "max";
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    const row = o * inner;
    for (let r = 0; r < inner; r++) out[row + r] = x[base + r];
    for (let i = 1; i < size; i++) {
      const at = base + i * inner;
      for (let r = 0; r < inner; r++) {
        const v = x[at + r];
        const best = out[row + r];
        // NaN propagates, as in PyTorch: once the best so far is NaN it stays NaN.
        if (beats(v, best, isMax)) out[row + r] = v;
      }
    }
  }
}

/**
 * Whether `value` replaces `best` as the maximum (or minimum) so far: when it is larger (or
 * smaller), or when it is the first NaN (a NaN, once found, is never replaced).
 */
function beats(value: number, best: number, isMax: boolean): boolean {
  if (best !== best) return false;
  if (value !== value) return true;
  return isMax ? value > best : value < best;
}

/** The sum case of {@link reduceAxis}. */
function sumAxis(x: TypedArray, out: TypedArray, outer: number, size: number, inner: number) {
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    if (inner === 1) {
      let total = 0;
      for (let i = 0; i < size; i++) total += x[base + i];
      out[o] = total;
      continue;
    }
    const row = o * inner;
    for (let r = 0; r < inner; r++) out[row + r] = 0;
    for (let i = 0; i < size; i++) {
      const at = base + i * inner;
      for (let r = 0; r < inner; r++) out[row + r] += x[at + r];
    }
  }
}

/** Index of the first maximum (or minimum) over the middle axis of `[outer, size, inner]`. */
export function argReduceAxis(
  op: "argmax" | "argmin",
  x: TypedArray,
  out: Int32Array,
  { outer, size, inner }: AxisGeometry,
): void {
  const isMax = op === "argmax";
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      const base = o * size * inner + r;
      let best = x[base];
      let bestIndex = 0;
      for (let i = 1; i < size; i++) {
        const v = x[base + i * inner];
        // A later equal value does not win (the first maximum counts); the first NaN wins and
        // stays, so that argmax points at the NaN that max returns.
        if (beats(v, best, isMax)) {
          best = v;
          bestIndex = i;
        }
      }
      out[o * inner + r] = bestIndex;
    }
  }
}

/**
 * Batched matrix product, `C[b] = op(A[b]) @ op(B[b])`: the triple loop of the definition,
 * `C[i, j] = sum over p of A[i, p] * B[p, j]`. A transposed operand is read through its strides
 * (element `[i, p]` of op(A) is `A[p, i]`), and a batch stride of 0 reuses one matrix for every
 * batch entry. The sum runs in float64 whatever the dtype.
 */
export function matmul(a: TypedArray, b: TypedArray, c: TypedArray, spec: MatmulSpec): void {
  const { batch, m, n, k, transA, transB } = spec;
  // Steps between neighbours in op(A) (along a row i, along a column p) and in op(B).
  const [aRowStep, aColStep] = transA ? [1, m] : [k, 1];
  const [bRowStep, bColStep] = transB ? [1, k] : [n, 1];
  for (let bi = 0; bi < batch; bi++) {
    const aStart = spec.aOffset + bi * spec.aBatchStride;
    const bStart = spec.bOffset + bi * spec.bBatchStride;
    const cStart = bi * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          sum += a[aStart + i * aRowStep + p * aColStep] * b[bStart + p * bRowStep + j * bColStep];
        }
        c[cStart + i * n + j] = sum;
      }
    }
  }
}

/**
 * im2col: each output position of a sliding window becomes a column holding the window's
 * values, so that a convolution becomes one matrix product. Rows are ordered (channel, ky, kx),
 * the same order as the flattened weights `[outChannels, inChannels * kh * kw]`; a tap that
 * falls outside the image reads `padValue`.
 */
export function im2col(x: TypedArray, cols: TypedArray, g: Conv2dGeometry): void {
  let at = 0;
  for (let b = 0; b < g.n; b++) {
    for (let ch = 0; ch < g.c; ch++) {
      const image = (b * g.c + ch) * g.h * g.w;
      for (let ky = 0; ky < g.kernelH; ky++) {
        for (let kx = 0; kx < g.kernelW; kx++) {
          for (let oy = 0; oy < g.outH; oy++) {
            for (let ox = 0; ox < g.outW; ox++, at++) {
              const y = oy * g.strideH - g.padH + ky * g.dilationH;
              const x0 = ox * g.strideW - g.padW + kx * g.dilationW;
              const inside = y >= 0 && y < g.h && x0 >= 0 && x0 < g.w;
              cols[at] = inside ? x[image + y * g.w + x0] : g.padValue;
            }
          }
        }
      }
    }
  }
}

/**
 * col2im: the adjoint of im2col. Every column entry is added back to the pixel it came from
 * (entries that came from the padding are dropped); where windows overlap, they add up.
 */
export function col2im(cols: TypedArray, x: TypedArray, g: Conv2dGeometry): void {
  x.fill(0);
  let at = 0;
  for (let b = 0; b < g.n; b++) {
    for (let ch = 0; ch < g.c; ch++) {
      const image = (b * g.c + ch) * g.h * g.w;
      for (let ky = 0; ky < g.kernelH; ky++) {
        for (let kx = 0; kx < g.kernelW; kx++) {
          for (let oy = 0; oy < g.outH; oy++) {
            for (let ox = 0; ox < g.outW; ox++, at++) {
              const y = oy * g.strideH - g.padH + ky * g.dilationH;
              const x0 = ox * g.strideW - g.padW + kx * g.dilationW;
              if (y >= 0 && y < g.h && x0 >= 0 && x0 < g.w) x[image + y * g.w + x0] += cols[at];
            }
          }
        }
      }
    }
  }
}

/** `out[o, i, r] = x[o, index[o, i, r], r]`. */
export function gather(
  x: TypedArray,
  index: Int32Array,
  out: TypedArray,
  { outer, size, inner }: AxisGeometry,
  indexSize: number,
): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < indexSize; i++) {
      const at = (o * indexSize + i) * inner;
      for (let r = 0; r < inner; r++) {
        out[at + r] = x[(o * size + index[at + r]) * inner + r];
      }
    }
  }
}

/**
 * Where each element of a sorted line came from: for every line along the middle axis of
 * `[outer, size, inner]`, `out` holds the indices that put the line in ascending (or
 * descending) order. The sort is stable (equal values keep their order) and NaN counts as
 * larger than every number, as in PyTorch.
 */
export function argsortAxis(
  x: TypedArray,
  out: Int32Array,
  { outer, size, inner }: AxisGeometry,
  descending: boolean,
): void {
  const ascending = (a: number, b: number) => {
    if (Number.isNaN(a) || Number.isNaN(b)) {
      return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
    }
    return a < b ? -1 : a > b ? 1 : 0;
  };
  const order: number[] = new Array(size);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      const base = o * size * inner + r;
      for (let i = 0; i < size; i++) order[i] = i;
      // Array.prototype.sort is stable, so ties stay in index order both ways.
      order.sort((i, j) => {
        const c = ascending(x[base + i * inner], x[base + j * inner]);
        return descending ? -c : c;
      });
      for (let i = 0; i < size; i++) out[base + i * inner] = order[i];
    }
  }
}

/** `out[o, index[o, i, r], r] += src[o, i, r]` into zeros of `[outer, size, inner]`. */
export function scatterAdd(
  index: Int32Array,
  src: TypedArray,
  out: TypedArray,
  { outer, size, inner }: AxisGeometry,
  indexSize: number,
): void {
  out.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < indexSize; i++) {
      const at = (o * indexSize + i) * inner;
      for (let r = 0; r < inner; r++) {
        out[(o * size + index[at + r]) * inner + r] += src[at + r];
      }
    }
  }
}

/** `out[o, j, r] = x[o, index[j], r]`. */
export function indexSelect(
  x: TypedArray,
  index: Int32Array,
  out: TypedArray,
  { outer, size, inner }: AxisGeometry,
  count: number,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const from = (o * size + index[j]) * inner;
      const to = (o * count + j) * inner;
      for (let r = 0; r < inner; r++) out[to + r] = x[from + r];
    }
  }
}

/** `out[o, index[j], r] += src[o, j, r]` into zeros of `[outer, size, inner]`. */
export function indexAdd(
  index: Int32Array,
  src: TypedArray,
  out: TypedArray,
  { outer, size, inner }: AxisGeometry,
  count: number,
): void {
  out.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const to = (o * size + index[j]) * inner;
      const from = (o * count + j) * inner;
      for (let r = 0; r < inner; r++) out[to + r] += src[from + r];
    }
  }
}

/** One optimizer update of a parameter, in place (see `OptimizerUpdate`). */
export function optimizerStep(
  param: TypedArray,
  grad: TypedArray,
  state: TypedArray[],
  u: OptimizerUpdate,
): void {
  const n = param.length;
  if (u.kind === "sgd") {
    const buf = state[0];
    for (let i = 0; i < n; i++) {
      let g = grad[i] + u.weightDecay * param[i];
      if (u.momentum !== 0) {
        // PyTorch: the first step sets the buffer to the gradient, later steps blend it in.
        buf[i] = u.firstStep ? g : u.momentum * buf[i] + (1 - u.dampening) * g;
        g = u.nesterov ? g + u.momentum * buf[i] : buf[i];
      }
      param[i] -= u.lr * g;
    }
    return;
  }
  if (u.kind === "rmsprop") {
    rmspropStep(param, grad, state, u);
    return;
  }
  const [m, v] = state;
  const correction1 = 1 - Math.pow(u.beta1, u.step);
  const correction2 = 1 - Math.pow(u.beta2, u.step);
  const stepSize = u.lr / correction1;
  const sqrtCorrection2 = Math.sqrt(correction2);
  for (let i = 0; i < n; i++) {
    let g = grad[i];
    if (u.decoupled) param[i] *= 1 - u.lr * u.weightDecay;
    else g += u.weightDecay * param[i];
    m[i] = u.beta1 * m[i] + (1 - u.beta1) * g;
    v[i] = u.beta2 * v[i] + (1 - u.beta2) * g * g;
    param[i] -= stepSize * m[i] / (Math.sqrt(v[i]) / sqrtCorrection2 + u.eps);
  }
}

/**
 * RMSprop, PyTorch's update: with `g = grad + weightDecay * param`, the running average of the
 * squared gradient `sq = alpha * sq + (1 - alpha) * g^2` scales the step,
 * `param -= lr * g / (sqrt(sq) + eps)`. Centered, the average of the gradient `ga` is tracked
 * too and `sqrt(sq - ga^2)` (an estimate of the gradient's standard deviation) is used. With
 * momentum, `buf = momentum * buf + g / (...)` and `param -= lr * buf`.
 * State: `[squareAvg, momentumBuffer if momentum > 0, gradAvg if centered]`.
 */
function rmspropStep(
  param: TypedArray,
  grad: TypedArray,
  state: TypedArray[],
  u: Extract<OptimizerUpdate, { kind: "rmsprop" }>,
): void {
  const squareAvg = state[0];
  const buf = u.momentum > 0 ? state[1] : null;
  const gradAvg = u.centered ? state[u.momentum > 0 ? 2 : 1] : null;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] + u.weightDecay * param[i];
    squareAvg[i] = u.alpha * squareAvg[i] + (1 - u.alpha) * g * g;
    let variance = squareAvg[i];
    if (gradAvg) {
      gradAvg[i] = u.alpha * gradAvg[i] + (1 - u.alpha) * g;
      variance -= gradAvg[i] * gradAvg[i];
    }
    const scaled = g / (Math.sqrt(variance) + u.eps);
    if (buf) {
      buf[i] = u.momentum * buf[i] + scaled;
      param[i] -= u.lr * buf[i];
    } else {
      param[i] -= u.lr * scaled;
    }
  }
}

/** A contiguous copy of a strided view over CPU storage, as a new typed array. */
export function stridedCopyOf(
  view: { storage: unknown; shape: readonly number[]; strides: readonly number[]; offset: number },
  dtype: DType,
): TypedArray {
  let size = 1;
  for (const d of view.shape) size *= d;
  const src = (view.storage as { data: TypedArray }).data;
  const out = allocArray(dtype, size);
  stridedCopy(src, out, view.shape, view.strides, view.offset);
  return out;
}
