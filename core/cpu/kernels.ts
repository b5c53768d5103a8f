/**
 * The reference CPU kernels: plain TypeScript loops over typed arrays.
 *
 * These are the kernels a student can read and step through. They run every dtype, float64
 * included, and every faster kernel is tested against them. Elementwise kernels are compiled
 * from the op table's JavaScript expressions, so their formulas live in one place. Where a loop
 * is shaped for speed (the matrix product, the window copies of im2col, the max reductions),
 * its comment says what the shape buys.
 *
 * @module
 */
import type { AxisGeometry, Conv2dGeometry, MatmulSpec, OptimizerUpdate } from "../backend.ts";
import { allocArray, type DType, type TypedArray } from "../dtype.ts";
import { BINARY_OPS, type BinaryOp, erf, select, UNARY_OPS, type UnaryOp } from "../ops/table.ts";

type UnaryKernel = (x: TypedArray, out: TypedArray, p0: number, p1: number) => void;
type BinaryKernel = (
  a: TypedArray,
  b: TypedArray,
  out: TypedArray,
  aStrides: readonly number[],
  bStrides: readonly number[],
  shape: readonly number[],
  aOffset: number,
  bOffset: number,
) => void;

const unaryCache = new Map<string, UnaryKernel>();
const binaryCache = new Map<string, BinaryKernel>();

/** Compiles `out[i] = expr(x[i])` from the op table (once per op). */
export function unaryKernel(op: UnaryOp): UnaryKernel {
  let kernel = unaryCache.get(op);
  if (!kernel) {
    const body = `return function ${op}(xs, out, p0, p1) {
      for (let i = 0; i < out.length; i++) { const x = xs[i]; out[i] = ${UNARY_OPS[op].js}; }
    };`;
    kernel = new Function("erf", "select", body)(erf, select) as UnaryKernel;
    unaryCache.set(op, kernel);
  }
  return kernel;
}

/**
 * Compiles a broadcasting binary kernel from the op table. The fast paths (same layout, scalar
 * second operand) avoid index arithmetic; the general path walks the output with a counter per
 * dimension and moves each input by its own strides (0 where it is broadcast), reading an input
 * that is constant along the innermost dimension (a bias, say) once per row.
 */
export function binaryKernel(op: BinaryOp): BinaryKernel {
  let kernel = binaryCache.get(op);
  if (!kernel) {
    const expr = BINARY_OPS[op].js;
    const body = `return function ${op}(aData, bData, out, aStrides, bStrides, shape, aOff, bOff) {
      // A view that starts inside its storage is read from its own first element.
      const as = aOff === 0 ? aData : aData.subarray(aOff);
      const bs = bOff === 0 ? bData : bData.subarray(bOff);
      const n = out.length;
      const rank = shape.length;
      let contiguous = true, bScalar = true;
      for (let d = rank - 1, s = 1; d >= 0; s *= shape[d], d--) {
        if (aStrides[d] !== s && shape[d] !== 1) contiguous = false;
        if (bStrides[d] !== s && shape[d] !== 1) contiguous = false;
        if (bStrides[d] !== 0 && shape[d] !== 1) bScalar = false;
      }
      if (contiguous) {
        for (let i = 0; i < n; i++) { const a = as[i], b = bs[i]; out[i] = ${expr}; }
        return;
      }
      if (bScalar && rank > 0) {
        let aContig = true;
        for (let d = rank - 1, s = 1; d >= 0; s *= shape[d], d--) {
          if (aStrides[d] !== s && shape[d] !== 1) aContig = false;
        }
        if (aContig) {
          const b = bs[0];
          for (let i = 0; i < n; i++) { const a = as[i]; out[i] = ${expr}; }
          return;
        }
      }
      // General case: merge neighbouring dimensions that both inputs walk contiguously, then
      // run the innermost dimension in a tight loop and advance a counter for the others.
      const dims = [], as_ = [], bs_ = [];
      for (let d = 0; d < rank; d++) {
        if (shape[d] === 1) continue;
        const last = dims.length - 1;
        const mergeable = last >= 0 && as_[last] === aStrides[d] * shape[d] &&
          bs_[last] === bStrides[d] * shape[d];
        if (mergeable) {
          dims[last] *= shape[d];
          as_[last] = aStrides[d];
          bs_[last] = bStrides[d];
        } else {
          dims.push(shape[d]);
          as_.push(aStrides[d]);
          bs_.push(bStrides[d]);
        }
      }
      if (dims.length === 0) { const a = as[0], b = bs[0]; out[0] = ${expr}; return; }
      const r = dims.length, inner = dims[r - 1], sa = as_[r - 1], sb = bs_[r - 1];
      const index = new Array(r).fill(0);
      let ai = 0, bi = 0;
      for (let start = 0; start < n; start += inner) {
        if (sb === 0) {
          // b is the same along the inner dimension (a bias added to a row, say).
          const b = bs[bi];
          for (let j = 0, pa = ai; j < inner; j++, pa += sa) {
            const a = as[pa];
            out[start + j] = ${expr};
          }
        } else if (sa === 0) {
          const a = as[ai];
          for (let j = 0, pb = bi; j < inner; j++, pb += sb) {
            const b = bs[pb];
            out[start + j] = ${expr};
          }
        } else {
          for (let j = 0, pa = ai, pb = bi; j < inner; j++, pa += sa, pb += sb) {
            const a = as[pa], b = bs[pb];
            out[start + j] = ${expr};
          }
        }
        for (let d = r - 2; d >= 0; d--) {
          index[d]++;
          ai += as_[d];
          bi += bs_[d];
          if (index[d] < dims[d]) break;
          ai -= as_[d] * dims[d];
          bi -= bs_[d] * dims[d];
          index[d] = 0;
        }
      }
    };`;
    kernel = new Function("erf", "select", body)(erf, select) as BinaryKernel;
    binaryCache.set(op, kernel);
  }
  return kernel;
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
        // NaN propagates, as in PyTorch: a NaN input makes the max NaN. Whether v beats the
        // best so far is close to a coin toss, so `select` picks without a branch.
        out[row + r] = v !== v ? v : select(best, v, isMax ? v > best : v < best);
      }
    }
  }
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
        // A later equal value does not win (the first maximum counts); see `select`.
        const wins = isMax ? v > best : v < best;
        best = select(best, v, wins);
        bestIndex = select(bestIndex, i, wins);
      }
      out[o * inner + r] = bestIndex;
    }
  }
}

/**
 * Copies the first `count` lines of a matrix (rows of op(A), or columns of op(B)) into
 * `lines`, one float64 array per line: line `r` starts at `src[start + r * step]` and its
 * elements are `stride` apart.
 */
function packLines(
  src: TypedArray,
  start: number,
  step: number,
  stride: number,
  lines: Float64Array[],
  count: number,
): void {
  for (let r = 0; r < count; r++) {
    const line = lines[r];
    const at = start + r * step;
    // A contiguous line is copied (and converted to float64) by the typed array's own `set`.
    if (stride === 1) line.set(src.subarray(at, at + line.length));
    else for (let p = 0, from = at; p < line.length; p++, from += stride) line[p] = src[from];
  }
}

/** `count` consecutive float64 arrays of `length` elements, sharing one buffer. */
function lineViews(count: number, length: number): Float64Array[] {
  const buffer = new Float64Array(count * length);
  return Array.from({ length: count }, (_, r) => buffer.subarray(r * length, (r + 1) * length));
}

/**
 * Batched matrix product, `C = op(A) @ op(B)`, organised the way fast CPU libraries do it.
 *
 * 1. Packing. Every row of op(A) and every column of op(B) is copied into its own contiguous
 *    float64 array, whatever the operand's layout (transposed or not) and dtype. The rows of A
 *    are packed once per matrix (just once when one weight matrix serves the whole batch); the
 *    columns of B three at a time, into a "panel" that every pair of rows of A then reuses.
 * 2. The register tile. C is computed in tiles of 2 rows x 3 columns, each by
 *    {@link multiplyTile} from two packed rows of A and the three packed columns of B.
 *
 * At the bottom and right edges of C a tile sticks out of the matrix. It is computed whole
 * anyway: the lines past the edge hold whatever an earlier panel left there, and the sums that
 * use them are simply not stored.
 */
export function matmul(a: TypedArray, b: TypedArray, c: TypedArray, spec: MatmulSpec): void {
  const { batch, m, n, k, transA, transB } = spec;
  // Where element (i, p) of op(A) and element (p, j) of op(B) are, relative to the matrix start.
  const aRow = transA ? 1 : k, aCol = transA ? m : 1;
  const bRow = transB ? 1 : n, bCol = transB ? k : 1;
  const rowsOfA = lineViews(m + (m % 2), k);
  const panel = lineViews(3, k);
  const [b0, b1, b2] = panel;
  let packedFrom = -1;
  for (let t = 0; t < batch; t++) {
    const aStart = spec.aOffset + t * spec.aBatchStride;
    const bStart = spec.bOffset + t * spec.bBatchStride;
    const cStart = t * m * n;
    if (aStart !== packedFrom) {
      packLines(a, aStart, aRow, aCol, rowsOfA, m);
      packedFrom = aStart;
    }
    for (let j = 0; j < n; j += 3) {
      const cols = Math.min(3, n - j);
      packLines(b, bStart + j * bCol, bCol, bRow, panel, cols);
      for (let i = 0; i < m; i += 2) {
        const rows = Math.min(2, m - i);
        multiplyTile(rowsOfA[i], rowsOfA[i + 1], b0, b1, b2, c, cStart + i * n + j, n, rows, cols);
      }
    }
  }
}

/**
 * One 2x3 tile of the product: `C[r][s] = sum over p of A_r[p] * B_s[p]` for the two packed
 * rows of A and the three packed columns of B, stored at `c[at + r * n + s]` for the `rows` x
 * `cols` part of the tile that lies inside C.
 *
 * The six sums live in local variables while `p` runs over the shared dimension: one step
 * loads two values of A and three of B and does six multiply-adds. The six sums, the five
 * loaded values and their products fit in the sixteen floating-point registers of an x86-64
 * CPU, and all five arrays are read at the same index `p`, so the loop does no address
 * arithmetic beyond `p++`. This is the loop where a matrix product spends nearly all its time.
 */
function multiplyTile(
  a0: Float64Array,
  a1: Float64Array,
  b0: Float64Array,
  b1: Float64Array,
  b2: Float64Array,
  c: TypedArray,
  at: number,
  n: number,
  rows: number,
  cols: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c10 = 0, c11 = 0, c12 = 0;
  for (let p = 0; p < a0.length; p++) {
    const x0 = a0[p], x1 = a1[p], y0 = b0[p], y1 = b1[p], y2 = b2[p];
    c00 += x0 * y0, c01 += x0 * y1, c02 += x0 * y2;
    c10 += x1 * y0, c11 += x1 * y1, c12 += x1 * y2;
  }
  c[at] = c00;
  if (cols > 1) c[at + 1] = c01;
  if (cols > 2) c[at + 2] = c02;
  if (rows > 1) {
    c[at + n] = c10;
    if (cols > 1) c[at + n + 1] = c11;
    if (cols > 2) c[at + n + 2] = c12;
  }
}

/**
 * The output columns `ox` whose window tap `kx` falls inside a row of width `w`: the tap reads
 * pixel `ox * stride + shift` (with `shift = kx * dilation - pad`), which is inside for `ox` in
 * `[first, last)`. Outside that range the tap reads padding.
 */
function insideRange(w: number, outW: number, stride: number, shift: number): [number, number] {
  const first = Math.min(outW, Math.max(0, Math.ceil(-shift / stride)));
  const last = Math.min(outW, Math.max(first, Math.ceil((w - shift) / stride)));
  return [first, last];
}

/**
 * im2col: each output position of a sliding window becomes a column holding the window's
 * values, so that a convolution becomes one matrix product. Rows are ordered (channel, ky, kx),
 * the same order as the flattened weights `[outChannels, inChannels * kh * kw]`.
 *
 * Each row of the result is filled one output row `oy` at a time: padding to the left, a
 * stretch copied from one input row (every `stride`-th pixel), padding to the right. Working
 * out where the stretch starts and ends once keeps bounds tests out of the copy loop.
 */
export function im2col(x: TypedArray, cols: TypedArray, g: Conv2dGeometry): void {
  const { n, c, h, w, kernelH, kernelW, outH, outW, strideH, strideW, padValue } = g;
  let at = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const image = (b * c + ch) * h * w;
      for (let ky = 0; ky < kernelH; ky++) {
        for (let kx = 0; kx < kernelW; kx++) {
          const shiftX = kx * g.dilationW - g.padW;
          const [first, last] = insideRange(w, outW, strideW, shiftX);
          for (let oy = 0; oy < outH; oy++, at += outW) {
            const y = oy * strideH - g.padH + ky * g.dilationH;
            if (y < 0 || y >= h) {
              for (let ox = 0; ox < outW; ox++) cols[at + ox] = padValue;
              continue;
            }
            const rowStart = image + y * w + shiftX;
            for (let ox = 0; ox < first; ox++) cols[at + ox] = padValue;
            let from = rowStart + first * strideW;
            for (let ox = first; ox < last; ox++, from += strideW) cols[at + ox] = x[from];
            for (let ox = last; ox < outW; ox++) cols[at + ox] = padValue;
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
  const { n, c, h, w, kernelH, kernelW, outH, outW, strideH, strideW } = g;
  x.fill(0);
  let at = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const image = (b * c + ch) * h * w;
      for (let ky = 0; ky < kernelH; ky++) {
        for (let kx = 0; kx < kernelW; kx++) {
          const shiftX = kx * g.dilationW - g.padW;
          const [first, last] = insideRange(w, outW, strideW, shiftX);
          for (let oy = 0; oy < outH; oy++, at += outW) {
            const y = oy * strideH - g.padH + ky * g.dilationH;
            if (y < 0 || y >= h) continue;
            const rowStart = image + y * w + shiftX;
            let to = rowStart + first * strideW;
            for (let ox = first; ox < last; ox++, to += strideW) x[to] += cols[at + ox];
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
