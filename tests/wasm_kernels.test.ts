/**
 * The wasm float32 kernels against plain TypeScript loops, kernel by kernel, on seeded inputs.
 * @module
 */
import { WasmKernels } from "../core/wasm/kernels.ts";
import { BINARY_OPS, UNARY_OPS } from "../core/ops/table.ts";
import { assertAllClose, download, randomF32, seeded, upload, uploadInt } from "./wasm_helpers.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";

const kernels = WasmKernels.create();
kernels.setThreads(1);

// ---- Matrix products ----

interface MatmulCase {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  batch: number;
  aBatchStride: number;
  bBatchStride: number;
}

/** `C[b] = op(A[b]) @ op(B[b])` in float64 with a triple loop. */
function matmulReference(a: Float32Array, b: Float32Array, s: MatmulCase): Float64Array {
  const c = new Float64Array(s.batch * s.m * s.n);
  for (let t = 0; t < s.batch; t++) {
    for (let i = 0; i < s.m; i++) {
      for (let j = 0; j < s.n; j++) {
        let sum = 0;
        for (let p = 0; p < s.k; p++) {
          const av = a[t * s.aBatchStride + (s.transA ? p * s.m + i : i * s.k + p)];
          const bv = b[t * s.bBatchStride + (s.transB ? j * s.k + p : p * s.n + j)];
          sum += av * bv;
        }
        c[(t * s.m + i) * s.n + j] = sum;
      }
    }
  }
  return c;
}

function checkMatmul(target: WasmKernels, s: MatmulCase, accumulate: boolean, seed: number) {
  const random = seeded(seed);
  const a = randomF32(random, Math.max(s.aBatchStride * (s.batch - 1), 0) + s.m * s.k);
  const b = randomF32(random, Math.max(s.bBatchStride * (s.batch - 1), 0) + s.k * s.n);
  const start = randomF32(random, s.batch * s.m * s.n);
  const expected = matmulReference(a, b, s);
  if (accumulate) expected.forEach((v, i) => expected[i] = v + start[i]);
  const pa = upload(target, a);
  const pb = upload(target, b);
  const pc = upload(target, start);
  target.matmul(pc, pa, pb, { ...s, accumulate });
  const name = `matmul ${JSON.stringify(s)} accumulate=${accumulate}`;
  assertAllClose(name, download(target, pc, expected.length), expected, 1e-5, 2e-6 * s.k);
  [pa, pb, pc].forEach((p) => target.free(p));
}

const matmulSizes: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 8, 16],
  [17, 33, 9],
  [64, 10, 128],
  [8, 784, 9],
  [70, 1030, 300],
];

Deno.test("wasm matmul matches a triple loop for every transpose and edge size", () => {
  let seed = 1;
  for (const [m, n, k] of matmulSizes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const s = { m, n, k, transA, transB, batch: 1, aBatchStride: m * k, bBatchStride: k * n };
        checkMatmul(kernels, s, false, seed++);
      }
    }
  }
});

Deno.test("wasm matmul accumulates into C when asked", () => {
  for (const [m, n, k] of [[5, 9, 300], [16, 16, 16]]) {
    const s = { m, n, k, transA: false, transB: true, batch: 1, aBatchStride: 0, bBatchStride: 0 };
    checkMatmul(kernels, s, true, 7);
  }
});

Deno.test("wasm matmul runs batches, reusing one matrix when its batch stride is 0", () => {
  checkMatmul(
    kernels,
    {
      m: 8,
      n: 30,
      k: 27,
      transA: false,
      transB: false,
      batch: 3,
      aBatchStride: 0,
      bBatchStride: 27 * 30,
    },
    false,
    11,
  );
  checkMatmul(
    kernels,
    {
      m: 6,
      n: 5,
      k: 4,
      transA: true,
      transB: true,
      batch: 4,
      aBatchStride: 24,
      bBatchStride: 0,
    },
    false,
    12,
  );
});

Deno.test("wasm matmul with k = 0 gives zeros", () => {
  const pc = upload(kernels, [1, 2, 3, 4]);
  kernels.matmul(pc, pc, pc, { m: 2, n: 2, k: 0 });
  assertAllClose("matmul k=0", download(kernels, pc, 4), [0, 0, 0, 0]);
  kernels.free(pc);
});

// ---- Elementwise ----

Deno.test("wasm unary ops match the op table's functions", () => {
  const random = seeded(3);
  // Values on both sides of zero, exact zeros, and a few special values.
  const x = randomF32(random, 37, -3, 3);
  x[0] = 0;
  x[1] = -0;
  x[2] = NaN;
  x[3] = Infinity;
  x[4] = -Infinity;
  const positive = randomF32(random, 37, 0.01, 4);
  for (const op of Object.keys(UNARY_OPS) as (keyof typeof UNARY_OPS)[]) {
    const params = op === "clamp" ? [-0.5, 0.7] : op === "powScalar" ? [2.5] : [0.1];
    const input = op === "log" || op === "sqrt" || op === "powScalar" ? positive : x;
    const f: (x: number, p0: number, p1: number) => number = UNARY_OPS[op].cpu;
    const expected = Float32Array.from(input, (v) => f(v, params[0], params[1] ?? 0));
    const px = upload(kernels, input);
    const out = kernels.alloc(input.length * 4);
    const supported = kernels.unary(op, out, px, input.length, params);
    assertEquals(supported, true, `unary ${op}: the wasm kernels lack it`);
    assertAllClose(`unary ${op}`, download(kernels, out, input.length), expected, 2e-6, 1e-7);
    kernels.free(px);
    kernels.free(out);
  }
});

/** Row-major strides of a shape. */
function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; s *= shape[d], d--) strides[d] = s;
  return strides;
}

/** Strides that broadcast `shape` (right-aligned) to `outShape`. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = contiguousStrides(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_size, d) => {
    const i = d - offset;
    return i < 0 || shape[i] === 1 ? 0 : own[i];
  });
}

/** Reads element `index` (row-major in `shape`) of a strided view. */
function stridedIndex(index: number, shape: readonly number[], strides: readonly number[]) {
  let offset = 0;
  for (let d = shape.length - 1; d >= 0; d--) {
    offset += (index % shape[d]) * strides[d];
    index = Math.floor(index / shape[d]);
  }
  return offset;
}

const broadcastCases: [number[], number[], number[]][] = [
  // [a shape, b shape, out shape]
  [[7, 13], [7, 13], [7, 13]],
  [[64, 10], [10], [64, 10]],
  [[64, 10], [64, 1], [64, 10]],
  [[2, 8, 5, 5], [1, 8, 1, 1], [2, 8, 5, 5]],
  [[1], [3, 9], [3, 9]],
  [[4, 1, 6], [1, 5, 1], [4, 5, 6]],
  [[], [], []],
];

Deno.test("wasm binary ops broadcast like NumPy and match the op table", () => {
  const random = seeded(5);
  for (const [aShape, bShape, outShape] of broadcastCases) {
    const size = outShape.reduce((p, d) => p * d, 1);
    const a = randomF32(random, aShape.reduce((p, d) => p * d, 1), -2, 2);
    const b = randomF32(random, bShape.reduce((p, d) => p * d, 1), -2, 2);
    // Some equal pairs, so that eq, ge and le see both outcomes.
    if (a.length === b.length) { for (let i = 0; i < a.length; i += 3) b[i] = a[i]; }
    const aStrides = broadcastStrides(aShape, outShape);
    const bStrides = broadcastStrides(bShape, outShape);
    const pa = upload(kernels, a);
    const pb = upload(kernels, b);
    const out = kernels.alloc(Math.max(size, 1) * 4);
    for (const op of Object.keys(BINARY_OPS) as (keyof typeof BINARY_OPS)[]) {
      const f: (a: number, b: number) => number = BINARY_OPS[op].cpu;
      const expected = Float32Array.from({ length: size }, (_, i) => {
        const av = a[stridedIndex(i, outShape, aStrides)];
        const bv = b[stridedIndex(i, outShape, bStrides)];
        return f(av, bv);
      });
      const supported = kernels.binary(op, out, pa, aStrides, pb, bStrides, outShape);
      assertEquals(supported, true, `binary ${op}: the wasm kernels lack it`);
      const what = `binary ${op} of [${aShape}] and [${bShape}]`;
      assertAllClose(what, download(kernels, out, size), expected, 2e-6, 1e-7);
    }
    [pa, pb, out].forEach((p) => kernels.free(p));
  }
});

Deno.test("wasm where picks from two broadcast views by a float or int condition", () => {
  const random = seeded(8);
  const shape = [3, 4, 5];
  const cond = Float32Array.from({ length: 20 }, () => random() < 0.5 ? 0 : 1); // [4, 5]
  const a = randomF32(random, 60);
  const b = randomF32(random, 5); // [5]
  const condStrides = broadcastStrides([4, 5], shape);
  const aStrides = contiguousStrides(shape);
  const bStrides = broadcastStrides([5], shape);
  const expected = Float32Array.from({ length: 60 }, (_, i) => {
    const c = cond[stridedIndex(i, shape, condStrides)];
    return c !== 0 ? a[i] : b[stridedIndex(i, shape, bStrides)];
  });
  const pa = upload(kernels, a);
  const pb = upload(kernels, b);
  const out = kernels.alloc(60 * 4);
  for (const isInt of [false, true]) {
    const pcond = isInt ? uploadInt(kernels, Int32Array.from(cond)) : upload(kernels, cond);
    kernels.where(out, pcond, isInt, condStrides, pa, aStrides, pb, bStrides, shape);
    assertAllClose(`where (int condition: ${isInt})`, download(kernels, out, 60), expected);
    kernels.free(pcond);
  }
  [pa, pb, out].forEach((p) => kernels.free(p));
});

// ---- Layout ----

Deno.test("wasm strided copy and write handle transposes, slices and broadcasts", () => {
  const random = seeded(10);
  const source = randomF32(random, 2 * 3 * 4 * 5);
  const ps = upload(kernels, source);
  const views: { shape: number[]; strides: number[]; offset: number }[] = [
    { shape: [5, 4, 3, 2], strides: [1, 5, 20, 60], offset: 0 }, // full permute
    { shape: [2, 2, 5], strides: [60, 5, 1], offset: 25 }, // a slice
    { shape: [3, 7], strides: [1, 0], offset: 4 }, // an expand
    { shape: [6], strides: [20], offset: 0 },
    { shape: [], strides: [], offset: 17 },
  ];
  for (const view of views) {
    const size = view.shape.reduce((p, d) => p * d, 1);
    const expected = Float32Array.from(
      { length: size },
      (_, i) => source[view.offset + stridedIndex(i, view.shape, view.strides)],
    );
    const out = kernels.alloc(size * 4);
    kernels.copyStrided(out, ps + 4 * view.offset, view.shape, view.strides);
    const what = `copyStrided shape [${view.shape}] strides [${view.strides}]`;
    assertAllClose(what, download(kernels, out, size), expected, 0, 0);
    kernels.free(out);
  }
  // Writing through a permuted view and reading it back through the same view is the identity.
  const target = kernels.alloc(source.length * 4);
  const permuted = views[0];
  const values = randomF32(random, source.length);
  const pv = upload(kernels, values);
  kernels.writeStrided(target, pv, permuted.shape, permuted.strides);
  const back = kernels.alloc(source.length * 4);
  kernels.copyStrided(back, target, permuted.shape, permuted.strides);
  assertAllClose("writeStrided then copyStrided", download(kernels, back, values.length), values);
  [ps, target, pv, back].forEach((p) => kernels.free(p));
});

Deno.test("wasm fill and casts between float32 and int32", () => {
  const out = kernels.alloc(11 * 4);
  kernels.fill(out, 11, 2.5);
  assertAllClose("fill 2.5", download(kernels, out, 11), new Array(11).fill(2.5));
  kernels.fill(out, 11, 0);
  assertAllClose("fill 0", download(kernels, out, 11), new Array(11).fill(0));
  const values = [1.9, -1.9, 0, -0.5, 7, 123456.7, NaN, 3.5, -3.5];
  const px = upload(kernels, values);
  kernels.exports.castF32ToI32(out, px, values.length);
  assertEquals(
    Array.from(kernels.i32(out, values.length)),
    [1, -1, 0, 0, 7, 123456, 0, 3, -3],
    "castF32ToI32 truncates toward zero",
  );
  kernels.exports.castI32ToF32(px, out, values.length);
  assertAllClose("castI32ToF32", download(kernels, px, values.length), [
    1,
    -1,
    0,
    0,
    7,
    123456,
    0,
    3,
    -3,
  ]);
  kernels.free(px);
  kernels.free(out);
});

Deno.test("wasm gather, scatterAdd, indexSelect and indexAdd move slices by index", () => {
  const random = seeded(12);
  const [outer, size, inner] = [3, 5, 4];
  const x = randomF32(random, outer * size * inner);
  const indexSize = 6;
  const index = Int32Array.from({ length: outer * indexSize * inner }, () => random() * size | 0);
  const px = upload(kernels, x);
  const pi = uploadInt(kernels, index);
  const gathered = kernels.alloc(index.length * 4);
  kernels.exports.gather32(gathered, px, pi, outer, size, inner, indexSize);
  const expectedGather = Float32Array.from(index, (picked, k) => {
    const o = Math.floor(k / (indexSize * inner));
    const r = k % inner;
    return x[(o * size + picked) * inner + r];
  });
  assertAllClose("gather", download(kernels, gathered, index.length), expectedGather);

  const scattered = kernels.alloc(x.length * 4);
  kernels.exports.scatterAddF32(scattered, pi, gathered, outer, size, inner, indexSize);
  const expectedScatter = new Float32Array(x.length);
  index.forEach((picked, k) => {
    const o = Math.floor(k / (indexSize * inner));
    expectedScatter[(o * size + picked) * inner + k % inner] += expectedGather[k];
  });
  assertAllClose("scatterAdd", download(kernels, scattered, x.length), expectedScatter);

  const count = 7;
  const picks = Int32Array.from({ length: count }, () => random() * size | 0);
  const pp = uploadInt(kernels, picks);
  const selected = kernels.alloc(outer * count * inner * 4);
  kernels.exports.indexSelect32(selected, px, pp, outer, size, inner, count);
  const expectedSelect = new Float32Array(outer * count * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      for (let r = 0; r < inner; r++) {
        expectedSelect[(o * count + j) * inner + r] = x[(o * size + picks[j]) * inner + r];
      }
    }
  }
  assertAllClose("indexSelect", download(kernels, selected, expectedSelect.length), expectedSelect);
  const added = kernels.alloc(x.length * 4);
  kernels.exports.indexAddF32(added, pp, selected, outer, size, inner, count);
  const expectedAdd = new Float32Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      for (let r = 0; r < inner; r++) {
        expectedAdd[(o * size + picks[j]) * inner + r] +=
          expectedSelect[(o * count + j) * inner + r];
      }
    }
  }
  assertAllClose("indexAdd", download(kernels, added, x.length), expectedAdd);
  [px, pi, gathered, scattered, pp, selected, added].forEach((p) => kernels.free(p));
});

// ---- Reductions ----

Deno.test("wasm sum, max, min and argmax reduce any axis of [outer, size, inner]", () => {
  const random = seeded(13);
  const shapes = [[1, 50, 1], [6, 9, 1], [1, 64, 128], [3, 7, 13], [2, 5, 8], [4, 1, 3]];
  for (const [outer, size, inner] of shapes) {
    const x = randomF32(random, outer * size * inner);
    const px = upload(kernels, x);
    const out = kernels.alloc(outer * inner * 4);
    for (const op of ["sum", "max", "min"] as const) {
      const expected = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let r = 0; r < inner; r++) {
          let acc = op === "sum" ? 0 : x[o * size * inner + r];
          for (let s = op === "sum" ? 0 : 1; s < size; s++) {
            const v = x[(o * size + s) * inner + r];
            acc = op === "sum" ? acc + v : op === "max" ? Math.max(acc, v) : Math.min(acc, v);
          }
          expected[o * inner + r] = acc;
        }
      }
      kernels.reduce(op, out, px, outer, size, inner);
      const what = `reduce ${op} of [${outer}, ${size}, ${inner}]`;
      assertAllClose(what, download(kernels, out, expected.length), expected, 1e-6, 1e-6);
    }
    for (const op of ["argmax", "argmin"] as const) {
      const expected = new Int32Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let r = 0; r < inner; r++) {
          let best = x[o * size * inner + r];
          for (let s = 1; s < size; s++) {
            const v = x[(o * size + s) * inner + r];
            if (op === "argmax" ? v > best : v < best) {
              best = v;
              expected[o * inner + r] = s;
            }
          }
        }
      }
      kernels.argReduce(op, out, px, outer, size, inner);
      assertEquals(
        Array.from(kernels.i32(out, expected.length)),
        Array.from(expected),
        `${op} of [${outer}, ${size}, ${inner}]`,
      );
    }
    kernels.free(px);
    kernels.free(out);
  }
});

Deno.test("wasm max and min propagate NaN as PyTorch does", () => {
  const x = [1, NaN, 3, 2, 5, 4, 1, 2, 3, 4, 5, 6];
  const px = upload(kernels, x);
  const out = kernels.alloc(12 * 4);
  kernels.reduce("max", out, px, 2, 6, 1);
  assertAllClose("max of rows with a NaN", download(kernels, out, 2), [NaN, 6]);
  kernels.reduce("min", out, px, 1, 2, 6);
  assertAllClose("min over columns with a NaN", download(kernels, out, 6), [1, NaN, 3, 2, 5, 4]);
  kernels.free(px);
  kernels.free(out);
});

// ---- Convolution and pooling ----

interface Window {
  n: number;
  c: number;
  h: number;
  w: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  outH: number;
  outW: number;
}

function makeWindow(
  n: number,
  c: number,
  h: number,
  w: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
): Window {
  const outH = Math.floor((h + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
  const outW = Math.floor((w + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
  return {
    n,
    c,
    h,
    w,
    kernelH: kernel,
    kernelW: kernel,
    strideH: stride,
    strideW: stride,
    padH: pad,
    padW: pad,
    dilationH: dilation,
    dilationW: dilation,
    outH,
    outW,
  };
}

const windows = [
  makeWindow(2, 3, 7, 6, 3, 1, 1, 1),
  makeWindow(1, 2, 9, 9, 3, 2, 1, 1),
  makeWindow(2, 1, 8, 7, 2, 2, 0, 1),
  makeWindow(2, 3, 12, 19, 2, 2, 0, 1),
  makeWindow(1, 2, 10, 9, 3, 1, 2, 2),
  makeWindow(1, 1, 5, 5, 5, 1, 0, 1),
  // 2 x 2 windows, stride 2: whole vectors, vectors cut at the row's end, one-row planes.
  makeWindow(3, 2, 4, 16, 2, 2, 0, 1),
  makeWindow(2, 3, 2, 6, 2, 2, 0, 1),
  makeWindow(1, 5, 3, 14, 2, 2, 0, 1),
];

/** The window position (iy, ix) that column entry (row, p) of im2col reads, or null outside. */
function windowSource(g: Window, row: number, p: number): [number, number] | null {
  const kx = row % g.kernelW;
  const ky = Math.floor(row / g.kernelW) % g.kernelH;
  const oy = Math.floor(p / g.outW);
  const ox = p % g.outW;
  const iy = oy * g.strideH - g.padH + ky * g.dilationH;
  const ix = ox * g.strideW - g.padW + kx * g.dilationW;
  return iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? [iy, ix] : null;
}

Deno.test("wasm im2col and col2im match direct loops with stride, padding and dilation", () => {
  const random = seeded(14);
  for (const g of windows) {
    const what = `window ${JSON.stringify(g)}`;
    const x = randomF32(random, g.n * g.c * g.h * g.w);
    const rows = g.c * g.kernelH * g.kernelW;
    const pixels = g.outH * g.outW;
    const colsLength = g.n * rows * pixels;
    const expected = new Float32Array(colsLength);
    const dy = randomF32(random, colsLength);
    const expectedBack = new Float64Array(x.length);
    for (let b = 0; b < g.n; b++) {
      for (let row = 0; row < rows; row++) {
        const ch = Math.floor(row / (g.kernelH * g.kernelW));
        for (let p = 0; p < pixels; p++) {
          const at = (b * rows + row) * pixels + p;
          const source = windowSource(g, row, p);
          const pixel = source && ((b * g.c + ch) * g.h + source[0]) * g.w + source[1];
          expected[at] = pixel === null ? -7 : x[pixel];
          if (pixel !== null) expectedBack[pixel] += dy[at];
        }
      }
    }
    const px = upload(kernels, x);
    const cols = kernels.alloc(colsLength * 4);
    kernels.im2col(cols, px, g, -7);
    assertAllClose(`im2col ${what}`, download(kernels, cols, colsLength), expected, 0, 0);
    const pdy = upload(kernels, dy);
    kernels.col2im(px, pdy, g);
    assertAllClose(`col2im ${what}`, download(kernels, px, x.length), expectedBack);
    [px, cols, pdy].forEach((p) => kernels.free(p));
  }
});

Deno.test("wasm max pooling finds each window's maximum, and its backward routes gradients", () => {
  const random = seeded(15);
  for (const g of windows) {
    const what = `maxPool2d ${JSON.stringify(g)}`;
    const planes = g.n * g.c;
    const x = randomF32(random, planes * g.h * g.w);
    const outLength = planes * g.outH * g.outW;
    const expected = new Float32Array(outLength);
    const expectedIndex = new Int32Array(outLength);
    for (let plane = 0; plane < planes; plane++) {
      for (let p = 0; p < g.outH * g.outW; p++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (let row = 0; row < g.kernelH * g.kernelW; row++) {
          const source = windowSource(g, row, p);
          if (!source) continue;
          const at = source[0] * g.w + source[1];
          if (x[plane * g.h * g.w + at] > best) {
            best = x[plane * g.h * g.w + at];
            bestIndex = at;
          }
        }
        expected[plane * g.outH * g.outW + p] = best;
        expectedIndex[plane * g.outH * g.outW + p] = bestIndex;
      }
    }
    const px = upload(kernels, x);
    const out = kernels.alloc(outLength * 4);
    const indices = kernels.alloc(outLength * 4);
    kernels.maxPool2d(out, indices, px, g);
    assertAllClose(what, download(kernels, out, outLength), expected, 0, 0);
    assertEquals(Array.from(kernels.i32(indices, outLength)), Array.from(expectedIndex), what);

    const dy = randomF32(random, outLength);
    const expectedDx = new Float64Array(x.length);
    expectedIndex.forEach((at, k) => {
      const plane = Math.floor(k / (g.outH * g.outW));
      expectedDx[plane * g.h * g.w + at] += dy[k];
    });
    const pdy = upload(kernels, dy);
    kernels.maxPool2dBackward(px, pdy, indices, g);
    assertAllClose(`${what} backward`, download(kernels, px, x.length), expectedDx);
    [px, out, indices, pdy].forEach((p) => kernels.free(p));
  }
});

Deno.test("wasm batch norm statistics, forward and backward match the formulas", () => {
  const random = seeded(18);
  const [n, c, inner] = [4, 3, 10];
  const count = n * inner;
  const x = randomF32(random, n * c * inner, -2, 3);
  const dy = randomF32(random, x.length);
  const weight = randomF32(random, c, 0.5, 1.5);
  const bias = randomF32(random, c);
  const eps = 1e-5;
  const at = (b: number, ch: number, r: number) => (b * c + ch) * inner + r;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let b = 0; b < n; b++) for (let r = 0; r < inner; r++) sum += x[at(b, ch, r)];
    mean[ch] = sum / count;
    let squares = 0;
    for (let b = 0; b < n; b++) {
      for (let r = 0; r < inner; r++) squares += (x[at(b, ch, r)] - mean[ch]) ** 2;
    }
    variance[ch] = squares / count;
  }
  const invStd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const px = upload(kernels, x);
  const pMean = kernels.alloc(c * 4);
  const pVar = kernels.alloc(c * 4);
  kernels.exports.channelMeanVarF32(pMean, pVar, px, n, c, inner);
  assertAllClose("batch norm mean", download(kernels, pMean, c), mean);
  assertAllClose("batch norm variance", download(kernels, pVar, c), variance);

  const pInv = upload(kernels, Float32Array.from(invStd));
  const pw = upload(kernels, weight);
  const pb = upload(kernels, bias);
  const out = kernels.alloc(x.length * 4);
  kernels.exports.batchNormForwardF32(out, px, pMean, pInv, pw, pb, n, c, inner);
  const expected = Float64Array.from(x, (v, k) => {
    const ch = Math.floor(k / inner) % c;
    return (v - mean[ch]) * invStd[ch] * weight[ch] + bias[ch];
  });
  assertAllClose("batch norm forward", download(kernels, out, x.length), expected, 1e-5, 1e-5);

  // Backward by the chain rule written out the long way, per channel.
  const expectedDx = new Float64Array(x.length);
  const dWeight = new Float64Array(c);
  const dBias = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let sumDy = 0;
    let sumDyXHat = 0;
    for (let b = 0; b < n; b++) {
      for (let r = 0; r < inner; r++) {
        const k = at(b, ch, r);
        sumDy += dy[k];
        sumDyXHat += dy[k] * (x[k] - mean[ch]) * invStd[ch];
      }
    }
    dBias[ch] = sumDy;
    dWeight[ch] = sumDyXHat;
    for (let b = 0; b < n; b++) {
      for (let r = 0; r < inner; r++) {
        const k = at(b, ch, r);
        const xHat = (x[k] - mean[ch]) * invStd[ch];
        const dXHat = dy[k] * weight[ch];
        // dx = invStd * (dXHat - mean(dXHat) - xHat * mean(dXHat * xHat))
        expectedDx[k] = invStd[ch] *
          (dXHat - weight[ch] * sumDy / count - xHat * weight[ch] * sumDyXHat / count);
      }
    }
  }
  const pdy = upload(kernels, dy);
  const pdw = kernels.alloc(c * 4);
  const pdb = kernels.alloc(c * 4);
  kernels.exports.batchNormBackwardF32(out, pdw, pdb, pdy, px, pMean, pInv, pw, n, c, inner);
  assertAllClose("batch norm dx", download(kernels, out, x.length), expectedDx, 1e-4, 1e-5);
  assertAllClose("batch norm dWeight", download(kernels, pdw, c), dWeight, 1e-4, 1e-5);
  assertAllClose("batch norm dBias", download(kernels, pdb, c), dBias, 1e-5, 1e-5);
  [px, pMean, pVar, pInv, pw, pb, out, pdy, pdw, pdb].forEach((p) => kernels.free(p));
});

// ---- Optimizers ----

Deno.test("wasm SGD (momentum, Nesterov, weight decay) matches PyTorch's formula", () => {
  const random = seeded(19);
  const length = 23;
  for (const nesterov of [false, true]) {
    const o = { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov };
    const param = randomF32(random, length);
    const velocity = new Float64Array(length);
    const expected = Float64Array.from(param);
    const pp = upload(kernels, param);
    const pv = kernels.alloc(length * 4);
    for (let step = 0; step < 3; step++) {
      const grad = randomF32(random, length);
      const firstStep = step === 0;
      for (let i = 0; i < length; i++) {
        let g = grad[i] + o.weightDecay * expected[i];
        velocity[i] = firstStep ? g : o.momentum * velocity[i] + (1 - o.dampening) * g;
        g = nesterov ? g + o.momentum * velocity[i] : velocity[i];
        expected[i] -= o.lr * g;
      }
      const pg = upload(kernels, grad);
      kernels.sgdStep(pp, pg, pv, length, { ...o, firstStep });
      kernels.free(pg);
    }
    assertAllClose(`sgd nesterov=${nesterov}`, download(kernels, pp, length), expected, 1e-5);
    assertAllClose(
      `sgd velocity nesterov=${nesterov}`,
      download(kernels, pv, length),
      velocity,
      1e-5,
    );
    kernels.free(pp);
    kernels.free(pv);
  }
});

Deno.test("wasm Adam and AdamW match PyTorch's formula over several steps", () => {
  const random = seeded(20);
  const length = 19;
  for (const decoupled of [false, true]) {
    const o = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, decoupled };
    const param = randomF32(random, length);
    const expected = Float64Array.from(param);
    const m = new Float64Array(length);
    const v = new Float64Array(length);
    const pp = upload(kernels, param);
    const pm = upload(kernels, new Float32Array(length));
    const pv = upload(kernels, new Float32Array(length));
    for (let step = 1; step <= 4; step++) {
      const grad = randomF32(random, length);
      for (let i = 0; i < length; i++) {
        let g = grad[i];
        if (decoupled) expected[i] *= 1 - o.lr * o.weightDecay;
        else g += o.weightDecay * expected[i];
        m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
        v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
        const mHat = m[i] / (1 - o.beta1 ** step);
        const vHat = v[i] / (1 - o.beta2 ** step);
        expected[i] -= o.lr * mHat / (Math.sqrt(vHat) + o.eps);
      }
      const pg = upload(kernels, grad);
      kernels.adamStep(pp, pg, pm, pv, length, { ...o, step });
      kernels.free(pg);
    }
    const name = decoupled ? "AdamW" : "Adam";
    assertAllClose(name, download(kernels, pp, length), expected, 1e-5, 1e-6);
    assertAllClose(`${name} first moment`, download(kernels, pm, length), m, 1e-5, 1e-7);
    assertAllClose(`${name} second moment`, download(kernels, pv, length), v, 1e-4, 1e-9);
    [pp, pm, pv].forEach((p) => kernels.free(p));
  }
});

// ---- Other builds and memories ----

Deno.test("wasm kernels also run from the build without relaxed SIMD and on unshared memory", () => {
  for (const options of [{ relaxed: false }, { shared: false }]) {
    const other = WasmKernels.create(options);
    if (options.relaxed === false) assertEquals(other.relaxed, false);
    if (options.shared === false) assertEquals(other.shared, false);
    const s = {
      m: 33,
      n: 17,
      k: 70,
      transA: true,
      transB: false,
      batch: 2,
      aBatchStride: 33 * 70,
      bBatchStride: 17 * 70,
    };
    checkMatmul(other, s, false, 21);
    other.stopThreads();
  }
});
