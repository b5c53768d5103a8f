// Matrix product C = op(A) @ op(B), float32, with SIMD register blocking.
//
// The plan is the classic one of fast BLAS libraries, kept small:
//
// 1. Cut B into blocks of KC rows and NC columns and copy each block into a packed layout:
//    panels of NR = 8 columns, each panel stored as [KC][8] so that the inner loop reads it
//    front to back. Transposed B is handled here, by reading it with other strides.
// 2. Cut A into blocks of MC rows and KC columns and pack them as micro-panels of MR = 4 rows,
//    each stored as [KC][4]. Transposed A is handled here too.
// 3. A micro-kernel multiplies one A micro-panel by one B panel: it keeps the whole 4 x 8 tile
//    of C in eight SIMD registers (two vectors of four per row) and, for each k, loads eight
//    values of B, broadcasts four values of A and does eight fused multiply-adds.
//
// Sizes: a packed B panel (KC x 8 floats, 8 KiB) stays in the L1 cache while the micro-kernel
// walks down the A block (MC x KC floats, 64 KiB, in L2).
//
// All pointers are byte offsets into the wasm memory. `scratch` must hold `matmulScratchBytes()`
// bytes; each thread needs its own.

import { madd } from "./simd";

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 1024;

/** Bytes of scratch memory one matmul call needs (packed A, packed B and one edge tile). */
export function matmulScratchBytes(): i32 {
  return (KC * NC + MC * KC + MR * NR) * 4;
}

/**
 * A batched product: for each `batchIndex`, `C[batchIndex] = op(A[batchIndex]) @ op(B[...])`
 * (`+=` when `accumulate` is 1). C is `[batch, m, n]`. A batch stride of 0 reuses one matrix.
 * Only the rows `rowStart <= batchIndex * m + i < rowEnd` of the flattened `[batch * m, n]` result
 * are computed, so that two threads can share one product.
 */
export function matmul(
  c: usize,
  a: usize,
  b: usize,
  batch: i32,
  m: i32,
  n: i32,
  k: i32,
  transA: i32,
  transB: i32,
  accumulate: i32,
  aBatchStride: i32,
  bBatchStride: i32,
  scratch: usize,
  rowStart: i32,
  rowEnd: i32,
): void {
  for (let batchIndex = 0; batchIndex < batch; batchIndex++) {
    const first = batchIndex * m;
    const from = max(rowStart - first, 0);
    const to = min(rowEnd - first, m);
    if (from >= to) continue;
    matmulRows(
      c + <usize>(first * n) * 4,
      a + <usize>(batchIndex * aBatchStride) * 4,
      b + <usize>(batchIndex * bBatchStride) * 4,
      m,
      n,
      k,
      transA,
      transB,
      accumulate,
      scratch,
      from,
      to,
    );
  }
}

/** Rows `[rowStart, rowEnd)` of one product `C[m, n] (+)= op(A) @ op(B)`. */
function matmulRows(
  c: usize,
  a: usize,
  b: usize,
  m: i32,
  n: i32,
  k: i32,
  transA: i32,
  transB: i32,
  accumulate: i32,
  scratch: usize,
  rowStart: i32,
  rowEnd: i32,
): void {
  const packedB = scratch;
  const packedA = scratch + <usize>(KC * NC) * 4;
  const tile = packedA + <usize>(MC * KC) * 4;
  if (k == 0) {
    if (!accumulate) zeroRows(c, n, rowStart, rowEnd);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB(packedB, b, n, k, transB, pc, kc, jc, nc);
      const overwrite = pc == 0 && !accumulate;
      for (let ic = rowStart; ic < rowEnd; ic += MC) {
        const mc = min(MC, rowEnd - ic);
        packA(packedA, a, m, k, transA, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const panelB = packedB + <usize>(jr * kc) * 4;
          const cols = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const panelA = packedA + <usize>(ir * kc) * 4;
            const rows = min(MR, mc - ir);
            const target = c + <usize>((ic + ir) * n + jc + jr) * 4;
            if (rows == MR && cols == NR) {
              microKernel(panelA, panelB, kc, target, n, overwrite);
            } else {
              microKernel(panelA, panelB, kc, tile, NR, true);
              copyTile(tile, target, n, rows, cols, overwrite);
            }
          }
        }
      }
    }
  }
}

function zeroRows(c: usize, n: i32, rowStart: i32, rowEnd: i32): void {
  memory.fill(c + <usize>(rowStart * n) * 4, 0, <usize>((rowEnd - rowStart) * n) * 4);
}

/** Copies (or adds) the valid `rows x cols` corner of an edge tile into C. */
function copyTile(
  tile: usize,
  target: usize,
  ldc: i32,
  rows: i32,
  cols: i32,
  overwrite: bool,
): void {
  for (let r = 0; r < rows; r++) {
    const src = tile + <usize>(r * NR) * 4;
    const dst = target + <usize>(r * ldc) * 4;
    for (let j = 0; j < cols; j++) {
      const offset = <usize>j * 4;
      const value = load<f32>(src + offset);
      if (overwrite) {
        store<f32>(dst + offset, value);
      } else {
        store<f32>(dst + offset, load<f32>(dst + offset) + value);
      }
    }
  }
}

/**
 * Packs rows `[pc, pc + kc)` and columns `[jc, jc + nc)` of op(B) into panels of NR columns, each
 * `[kc][NR]`, with zeros past the last column.
 */
function packB(
  dst: usize,
  b: usize,
  n: i32,
  k: i32,
  transB: i32,
  pc: i32,
  kc: i32,
  jc: i32,
  nc: i32,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const panel = dst + <usize>(jr * kc) * 4;
    if (!transB) {
      // op(B)[p, j] = B[p * n + j]: each row of the panel is contiguous in B.
      let src = b + <usize>(pc * n + jc + jr) * 4;
      if (cols == NR) {
        for (let p = 0; p < kc; p++) {
          const out = panel + <usize>(p * NR) * 4;
          v128.store(out, v128.load(src));
          v128.store(out, v128.load(src, 16), 16);
          src += <usize>n * 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const out = panel + <usize>(p * NR) * 4;
          v128.store(out, f32x4.splat(0));
          v128.store(out, f32x4.splat(0), 16);
          for (let j = 0; j < cols; j++) {
            store<f32>(out + <usize>j * 4, load<f32>(src + <usize>j * 4));
          }
          src += <usize>n * 4;
        }
      }
    } else {
      // op(B)[p, j] = B[j * k + p]: each column of the panel is contiguous in B. Four columns
      // and four rows at a time are transposed in registers.
      if (cols < NR) memory.fill(panel, 0, <usize>(kc * NR) * 4);
      const columnBytes = <usize>k * 4;
      let j = 0;
      for (; j + 4 <= cols; j += 4) {
        const src = b + <usize>((jc + jr + j) * k + pc) * 4;
        const out = panel + <usize>j * 4;
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const at = src + <usize>p * 4;
          const c0 = v128.load(at);
          const c1 = v128.load(at + columnBytes);
          const c2 = v128.load(at + 2 * columnBytes);
          const c3 = v128.load(at + 3 * columnBytes);
          const t0 = v128.shuffle<u32>(c0, c1, 0, 4, 1, 5);
          const t1 = v128.shuffle<u32>(c2, c3, 0, 4, 1, 5);
          const t2 = v128.shuffle<u32>(c0, c1, 2, 6, 3, 7);
          const t3 = v128.shuffle<u32>(c2, c3, 2, 6, 3, 7);
          const row = out + <usize>(p * NR) * 4;
          v128.store(row, v128.shuffle<u64>(t0, t1, 0, 2));
          v128.store(row, v128.shuffle<u64>(t0, t1, 1, 3), NR * 4);
          v128.store(row, v128.shuffle<u64>(t2, t3, 0, 2), 2 * NR * 4);
          v128.store(row, v128.shuffle<u64>(t2, t3, 1, 3), 3 * NR * 4);
        }
        for (; p < kc; p++) {
          for (let q = 0; q < 4; q++) {
            const value = load<f32>(src + <usize>q * columnBytes + <usize>p * 4);
            store<f32>(out + <usize>(p * NR + q) * 4, value);
          }
        }
      }
      for (; j < cols; j++) {
        const src = b + <usize>((jc + jr + j) * k + pc) * 4;
        const out = panel + <usize>j * 4;
        for (let p = 0; p < kc; p++) {
          store<f32>(out + <usize>(p * NR) * 4, load<f32>(src + <usize>p * 4));
        }
      }
    }
  }
}

/**
 * Packs rows `[ic, ic + mc)` and columns `[pc, pc + kc)` of op(A) into micro-panels of MR rows,
 * each `[kc][MR]`, with zeros past the last row.
 */
function packA(
  dst: usize,
  a: usize,
  m: i32,
  k: i32,
  transA: i32,
  ic: i32,
  mc: i32,
  pc: i32,
  kc: i32,
): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const panel = dst + <usize>(ir * kc) * 4;
    if (rows < MR) memory.fill(panel, 0, <usize>(kc * MR) * 4);
    if (!transA) {
      // op(A)[i, p] = A[i * k + p]: each row is contiguous; a 4 x 4 block is transposed in
      // registers when all four rows exist.
      const row0 = a + <usize>((ic + ir) * k + pc) * 4;
      const rowBytes = <usize>k * 4;
      let p = 0;
      if (rows == MR) {
        for (; p + 4 <= kc; p += 4) {
          const src = row0 + <usize>p * 4;
          const r0 = v128.load(src);
          const r1 = v128.load(src + rowBytes);
          const r2 = v128.load(src + 2 * rowBytes);
          const r3 = v128.load(src + 3 * rowBytes);
          // Interleave to columns: t0 = [r0[0], r1[0], r0[1], r1[1]] and so on.
          const t0 = v128.shuffle<u32>(r0, r1, 0, 4, 1, 5);
          const t1 = v128.shuffle<u32>(r2, r3, 0, 4, 1, 5);
          const t2 = v128.shuffle<u32>(r0, r1, 2, 6, 3, 7);
          const t3 = v128.shuffle<u32>(r2, r3, 2, 6, 3, 7);
          const out = panel + <usize>(p * MR) * 4;
          v128.store(out, v128.shuffle<u64>(t0, t1, 0, 2));
          v128.store(out, v128.shuffle<u64>(t0, t1, 1, 3), 16);
          v128.store(out, v128.shuffle<u64>(t2, t3, 0, 2), 32);
          v128.store(out, v128.shuffle<u64>(t2, t3, 1, 3), 48);
        }
      }
      for (; p < kc; p++) {
        const out = panel + <usize>(p * MR) * 4;
        for (let r = 0; r < rows; r++) {
          store<f32>(out + <usize>r * 4, load<f32>(row0 + <usize>r * rowBytes + <usize>p * 4));
        }
      }
    } else {
      // op(A)[i, p] = A[p * m + i]: the MR values of one k are contiguous.
      let src = a + <usize>(pc * m + ic + ir) * 4;
      for (let p = 0; p < kc; p++) {
        const out = panel + <usize>(p * MR) * 4;
        if (rows == MR) {
          v128.store(out, v128.load(src));
        } else {
          for (let r = 0; r < rows; r++) {
            store<f32>(out + <usize>r * 4, load<f32>(src + <usize>r * 4));
          }
        }
        src += <usize>m * 4;
      }
    }
  }
}

/**
 * The 4 x 8 tile `C[0..4, 0..8] (+)= sum_p A[p][0..4] * B[p][0..8]` from packed panels. `ldc` is
 * the row length of C in elements.
 */
function microKernel(
  panelA: usize,
  panelB: usize,
  kc: i32,
  c: usize,
  ldc: i32,
  overwrite: bool,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let pa = panelA;
  let pb = panelB;
  const end = panelA + <usize>(kc * MR) * 4;
  while (pa < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(pa, 4);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(pa, 8);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(pa, 12);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    pa += 16;
    pb += 32;
  }
  const row = <usize>ldc * 4;
  const c0 = c;
  const c1 = c + row;
  const c2 = c + 2 * row;
  const c3 = c + 3 * row;
  if (!overwrite) {
    c00 = f32x4.add(c00, v128.load(c0));
    c01 = f32x4.add(c01, v128.load(c0, 16));
    c10 = f32x4.add(c10, v128.load(c1));
    c11 = f32x4.add(c11, v128.load(c1, 16));
    c20 = f32x4.add(c20, v128.load(c2));
    c21 = f32x4.add(c21, v128.load(c2, 16));
    c30 = f32x4.add(c30, v128.load(c3));
    c31 = f32x4.add(c31, v128.load(c3, 16));
  }
  v128.store(c0, c00);
  v128.store(c0, c01, 16);
  v128.store(c1, c10);
  v128.store(c1, c11, 16);
  v128.store(c2, c20);
  v128.store(c2, c21, 16);
  v128.store(c3, c30);
  v128.store(c3, c31, 16);
}
