/**
 * The reference CPU kernels: plain TypeScript loops over typed arrays.
 *
 * These are the kernels a student can read and step through. They run every dtype, float64
 * included, and every faster kernel is tested against them. Elementwise kernels are compiled
 * from the op table's JavaScript expressions, so their formulas live in one place.
 *
 * @module
 */
import type { AxisGeometry, Conv2dGeometry, MatmulSpec, OptimizerUpdate } from "../backend.ts";
import { allocArray, type DType, type TypedArray } from "../dtype.ts";
import { BINARY_OPS, type BinaryOp, erf, UNARY_OPS, type UnaryOp } from "../ops/table.ts";

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
    kernel = new Function("erf", body)(erf) as UnaryKernel;
    unaryCache.set(op, kernel);
  }
  return kernel;
}

/**
 * Compiles a broadcasting binary kernel from the op table. The fast paths (same layout, scalar
 * second operand) avoid index arithmetic; the general path walks the output with a counter per
 * dimension and moves each input by its own strides (0 where it is broadcast).
 */
export function binaryKernel(op: BinaryOp): BinaryKernel {
  let kernel = binaryCache.get(op);
  if (!kernel) {
    const expr = BINARY_OPS[op].js;
    const body = `return function ${op}(as, bs, out, aStrides, bStrides, shape, aOff, bOff) {
      const n = out.length;
      const rank = shape.length;
      let contiguous = true, bScalar = true;
      for (let d = rank - 1, s = 1; d >= 0; s *= shape[d], d--) {
        if (aStrides[d] !== s && shape[d] !== 1) contiguous = false;
        if (bStrides[d] !== s && shape[d] !== 1) contiguous = false;
        if (bStrides[d] !== 0 && shape[d] !== 1) bScalar = false;
      }
      if (contiguous) {
        for (let i = 0; i < n; i++) { const a = as[aOff + i], b = bs[bOff + i]; out[i] = ${expr}; }
        return;
      }
      if (bScalar && rank > 0) {
        let aContig = true;
        for (let d = rank - 1, s = 1; d >= 0; s *= shape[d], d--) {
          if (aStrides[d] !== s && shape[d] !== 1) aContig = false;
        }
        if (aContig) {
          const b = bs[bOff];
          for (let i = 0; i < n; i++) { const a = as[aOff + i]; out[i] = ${expr}; }
          return;
        }
      }
      // General case: merge neighbouring dimensions that both inputs walk contiguously, then
      // run the innermost dimension in a tight loop and advance a counter for the others.
      const dims = [], as_ = [], bs_ = [];
      for (let d = 0; d < rank; d++) {
        if (shape[d] === 1) continue;
        const last = dims.length - 1;
        if (last >= 0 && as_[last] === aStrides[d] * shape[d] && bs_[last] === bStrides[d] * shape[d]) {
          dims[last] *= shape[d];
          as_[last] = aStrides[d];
          bs_[last] = bStrides[d];
        } else {
          dims.push(shape[d]);
          as_.push(aStrides[d]);
          bs_.push(bStrides[d]);
        }
      }
      if (dims.length === 0) { const a = as[aOff], b = bs[bOff]; out[0] = ${expr}; return; }
      const r = dims.length, inner = dims[r - 1], sa = as_[r - 1], sb = bs_[r - 1];
      const index = new Array(r).fill(0);
      let ai = aOff, bi = bOff;
      for (let start = 0; start < n; start += inner) {
        for (let j = 0, pa = ai, pb = bi; j < inner; j++, pa += sa, pb += sb) {
          const a = as[pa], b = bs[pb];
          out[start + j] = ${expr};
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
    kernel = new Function(body)() as BinaryKernel;
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

/** Sum, max or min over the middle axis of `[outer, size, inner]`. */
export function reduceAxis(
  op: "sum" | "max" | "min",
  x: TypedArray,
  out: TypedArray,
  { outer, size, inner }: AxisGeometry,
): void {
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    const row = o * inner;
    if (op === "sum") {
      for (let r = 0; r < inner; r++) out[row + r] = 0;
      for (let i = 0; i < size; i++) {
        const at = base + i * inner;
        for (let r = 0; r < inner; r++) out[row + r] += x[at + r];
      }
    } else {
      const isMax = op === "max";
      for (let r = 0; r < inner; r++) out[row + r] = x[base + r];
      for (let i = 1; i < size; i++) {
        const at = base + i * inner;
        for (let r = 0; r < inner; r++) {
          const v = x[at + r];
          const best = out[row + r];
          // NaN propagates, as in PyTorch: a NaN input makes the max NaN.
          if (isMax ? v > best || v !== v : v < best || v !== v) out[row + r] = v;
        }
      }
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
        if (isMax ? v > best : v < best) {
          best = v;
          bestIndex = i;
        }
      }
      out[o * inner + r] = bestIndex;
    }
  }
}

/** Rows of op(A) per register tile of the matrix product. */
const TILE_ROWS = 4;
/** Columns of op(B) per register tile of the matrix product. */
const TILE_COLS = 3;

/**
 * Copies `count` lines (rows of op(A) or columns of op(B)) of a matrix into `dst`, interleaved:
 * element `p` of line `r` goes to `dst[at + p * width + r]`, so that one step of the product's
 * inner loop finds the values it needs side by side. Line `r` starts at `src[base + r * step]`
 * and its elements are `stride` apart. Lines past `count` (up to `width`) are filled with zeros.
 */
function packLines(
  src: TypedArray,
  base: number,
  step: number,
  stride: number,
  count: number,
  width: number,
  length: number,
  dst: Float64Array,
  at: number,
): void {
  for (let r = 0; r < width; r++) {
    let q = at + r;
    if (r < count) {
      for (let p = 0, s = base + r * step; p < length; p++, s += stride, q += width) dst[q] = src[s];
    } else {
      for (let p = 0; p < length; p++, q += width) dst[q] = 0;
    }
  }
}

/**
 * Batched matrix product, `C = op(A) @ op(B)`, organised the way fast CPU libraries do it.
 *
 * 1. Packing. The rows of op(A) are copied in blocks of four, and the columns of op(B) in
 *    panels of three, into float64 scratch arrays where the inner loop reads them contiguously,
 *    whatever the operand's layout (transposed or not) and dtype. Blocks at the edge are padded
 *    with zeros, so every tile is a full one; only its store is cut to the matrix.
 * 2. The register tile. A 4x3 tile of C is summed in twelve local variables while the loop over
 *    `p` reads three values of B and four of A: each value loaded is used three or four times.
 *    Twelve sums, three B values and one A value are sixteen numbers, as many as an x86-64 CPU
 *    has floating-point registers, so the JIT never has to spill a sum to memory.
 *
 * A batch stride of 0 (one weight matrix for every image) packs that matrix only once.
 */
export function matmul(a: TypedArray, b: TypedArray, c: TypedArray, spec: MatmulSpec): void {
  const { batch, m, n, k, transA, transB } = spec;
  // Where element (i, p) of op(A) and element (p, j) of op(B) are, relative to the matrix start.
  const aRow = transA ? 1 : k, aCol = transA ? m : 1;
  const bRow = transB ? 1 : n, bCol = transB ? k : 1;
  const rowBlocks = Math.ceil(m / TILE_ROWS);
  const packedA = new Float64Array(rowBlocks * TILE_ROWS * k);
  const panel = new Float64Array(TILE_COLS * k);
  let packedFrom = -1;
  for (let t = 0; t < batch; t++) {
    const aBase = spec.aOffset + t * spec.aBatchStride;
    const bBase = spec.bOffset + t * spec.bBatchStride;
    const cBase = t * m * n;
    if (aBase !== packedFrom) {
      for (let block = 0; block < rowBlocks; block++) {
        const i = block * TILE_ROWS;
        const rows = Math.min(TILE_ROWS, m - i);
        packLines(a, aBase + i * aRow, aRow, aCol, rows, TILE_ROWS, k, packedA, i * k);
      }
      packedFrom = aBase;
    }
    for (let j = 0; j < n; j += TILE_COLS) {
      const cols = Math.min(TILE_COLS, n - j);
      packLines(b, bBase + j * bCol, bCol, bRow, cols, TILE_COLS, k, panel, 0);
      for (let i = 0; i < m; i += TILE_ROWS) {
        let c00 = 0, c01 = 0, c02 = 0, c10 = 0, c11 = 0, c12 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c30 = 0, c31 = 0, c32 = 0;
        for (let p = 0, pa = i * k, pb = 0; p < k; p++, pa += TILE_ROWS, pb += TILE_COLS) {
          const b0 = panel[pb], b1 = panel[pb + 1], b2 = panel[pb + 2];
          let av = packedA[pa];
          c00 += av * b0, c01 += av * b1, c02 += av * b2;
          av = packedA[pa + 1];
          c10 += av * b0, c11 += av * b1, c12 += av * b2;
          av = packedA[pa + 2];
          c20 += av * b0, c21 += av * b1, c22 += av * b2;
          av = packedA[pa + 3];
          c30 += av * b0, c31 += av * b1, c32 += av * b2;
        }
        const at = cBase + i * n + j;
        const rows = Math.min(TILE_ROWS, m - i);
        if (rows === TILE_ROWS && cols === TILE_COLS) {
          c[at] = c00, c[at + 1] = c01, c[at + 2] = c02;
          c[at + n] = c10, c[at + n + 1] = c11, c[at + n + 2] = c12;
          c[at + 2 * n] = c20, c[at + 2 * n + 1] = c21, c[at + 2 * n + 2] = c22;
          c[at + 3 * n] = c30, c[at + 3 * n + 1] = c31, c[at + 3 * n + 2] = c32;
        } else {
          // An edge tile: store only the part inside C.
          const tile = [c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32];
          for (let r = 0; r < rows; r++) {
            for (let s = 0; s < cols; s++) c[at + r * n + s] = tile[r * TILE_COLS + s];
          }
        }
      }
    }
  }
}

/**
 * im2col: each output position of a sliding window becomes a column holding the window's
 * values, so that a convolution becomes one matrix product. Rows are ordered (channel, ky, kx),
 * the same order as the flattened weights `[outChannels, inChannels * kh * kw]`.
 */
export function im2col(x: TypedArray, cols: TypedArray, g: Conv2dGeometry): void {
  const { n, c, h, w, kernelH, kernelW, outH, outW } = g;
  const columns = outH * outW;
  const rows = c * kernelH * kernelW;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const image = (b * c + ch) * h * w;
      for (let ky = 0; ky < kernelH; ky++) {
        for (let kx = 0; kx < kernelW; kx++) {
          const row = (ch * kernelH + ky) * kernelW + kx;
          let at = (b * rows + row) * columns;
          for (let oy = 0; oy < outH; oy++) {
            const y = oy * g.strideH - g.padH + ky * g.dilationH;
            const inside = y >= 0 && y < h;
            for (let ox = 0; ox < outW; ox++, at++) {
              const xx = ox * g.strideW - g.padW + kx * g.dilationW;
              cols[at] = inside && xx >= 0 && xx < w ? x[image + y * w + xx] : g.padValue;
            }
          }
        }
      }
    }
  }
}

/** col2im: the adjoint of im2col. Every column entry is added back to the pixel it came from. */
export function col2im(cols: TypedArray, x: TypedArray, g: Conv2dGeometry): void {
  const { n, c, h, w, kernelH, kernelW, outH, outW } = g;
  const columns = outH * outW;
  const rows = c * kernelH * kernelW;
  x.fill(0);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const image = (b * c + ch) * h * w;
      for (let ky = 0; ky < kernelH; ky++) {
        for (let kx = 0; kx < kernelW; kx++) {
          const row = (ch * kernelH + ky) * kernelW + kx;
          let at = (b * rows + row) * columns;
          for (let oy = 0; oy < outH; oy++) {
            const y = oy * g.strideH - g.padH + ky * g.dilationH;
            const inside = y >= 0 && y < h;
            for (let ox = 0; ox < outW; ox++, at++) {
              const xx = ox * g.strideW - g.padW + kx * g.dilationW;
              if (inside && xx >= 0 && xx < w) x[image + y * w + xx] += cols[at];
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
