/**
 * Batched matrix product `C[b] = op(A[b]) @ op(B[b])`, tiled for GPUs.
 *
 * Each workgroup computes one `BM x BN` tile of C. It walks the shared dimension in steps of
 * `BK`: the threads copy a `BM x BK` panel of A and a `BK x BN` panel of B into workgroup
 * memory (each global value is loaded once per workgroup instead of once per output), wait at a
 * barrier, and then each thread multiplies the panels into its own `TM x TN` block of outputs
 * held in registers (register blocking: every value read from workgroup memory is used TM or TN
 * times). Panels are stored k-major as vec4s, so the inner loop reads a thread's 4 rows and
 * 4 columns with one load each and does 16 multiply-adds per pair of loads.
 *
 * Global memory is read as vec4 where the layout allows (the contiguous dimension of an operand
 * is a multiple of 4 and its offsets are aligned); otherwise four scalar loads with bounds
 * checks. Transposed operands (`transA`, `transB`) are read through their own layout, so the
 * backward products `dC @ B^T` and `A^T @ dC` need no transposed copies.
 *
 * Parameters: `M, N, K, aOffset, bOffset, aBatchStride, bBatchStride, tilesM, tilesN, groups`.
 *
 * @module
 */
import type { MatmulSpec } from "../../core/backend.ts";
import { entryPoint, paramBlock, Params } from "./common.ts";

/** The tile shape of a matmul kernel variant. */
export interface MatmulTiling {
  /** Rows and columns of C per workgroup. */
  BM: number;
  BN: number;
  /** Step along the shared dimension. */
  BK: number;
  /** Rows and columns of C per thread (multiples of 4). */
  TM: number;
  TN: number;
}

/** Everything that selects a matmul shader. */
export interface MatmulVariant extends MatmulTiling {
  transA: boolean;
  transB: boolean;
  /** Whether A, B and C are read or written as vec4s. */
  vecA: boolean;
  vecB: boolean;
  vecC: boolean;
}

/** The tiling for a problem size: big tiles for big matrices, small ones for thin matrices. */
export function chooseTiling(m: number, n: number): MatmulTiling {
  if (m >= 512 && n >= 512) return { BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 };
  const side = (size: number) => (size <= 16 ? 16 : size <= 32 ? 32 : 64);
  return { BM: side(m), BN: side(n), BK: 16, TM: 4, TN: 4 };
}

/** The variant (tiling and vector widths) for a product. */
export function matmulVariant(spec: MatmulSpec): MatmulVariant {
  const { m, n, k, transA, transB } = spec;
  const aligned = (...values: number[]) => values.every((v) => v % 4 === 0);
  return {
    ...chooseTiling(m, n),
    transA,
    transB,
    // The contiguous dimension of A is k ([m, k]) or m ([k, m] when transposed).
    vecA: aligned(transA ? m : k, spec.aOffset, spec.aBatchStride),
    vecB: aligned(transB ? k : n, spec.bOffset, spec.bBatchStride),
    vecC: n % 4 === 0,
  };
}

/** A short key naming the variant (part of the pipeline cache key). */
export function matmulKey(v: MatmulVariant): string {
  const flags = [v.transA, v.transB, v.vecA, v.vecB, v.vecC].map((f) => (f ? 1 : 0)).join("");
  return `${v.BM}x${v.BN}x${v.BK}/${v.TM}x${v.TN}/${flags}`;
}

/** Workgroup count and parameters of a product. */
export function matmulLaunch(spec: MatmulSpec, v: MatmulVariant) {
  const tilesM = Math.ceil(spec.m / v.BM);
  const tilesN = Math.ceil(spec.n / v.BN);
  const groups = spec.batch * tilesM * tilesN;
  const params = new Params();
  params.u32s([spec.m, spec.n, spec.k, spec.aOffset, spec.bOffset]);
  params.u32s([spec.aBatchStride, spec.bBatchStride, tilesM, tilesN, groups]);
  return { groups, params: params.finish() };
}

/**
 * Code that loads 4 consecutive values of an operand starting at element `index` into `vals`,
 * as one vec4 or as four bounds-checked scalars (`valid` says whether the first is in range,
 * `limit` how many along the contiguous dimension remain).
 */
function load4(name: string, vec: boolean, index: string, valid: string, left: string): string {
  if (vec) {
    return `var vals = vec4<f32>(0.0);
      if (${valid}) { vals = ${name}[(${index}) / 4u]; }`;
  }
  return `var vals = vec4<f32>(0.0);
      if (${valid}) {
        let at = ${index};
        let left = ${left};
        vals.x = ${name}[at];
        if (left > 1u) { vals.y = ${name}[at + 1u]; }
        if (left > 2u) { vals.z = ${name}[at + 2u]; }
        if (left > 3u) { vals.w = ${name}[at + 3u]; }
      }`;
}

/** The WGSL of a matmul variant. */
export function matmulShader(v: MatmulVariant): string {
  const { BM, BN, BK, TM, TN } = v;
  const TX = BN / TN; // threads along a row of the tile
  const TY = BM / TM;
  const threads = TX * TY;
  const rowVecs = BM / 4; // vec4s across a panel row of A (k-major: As[kk][m])
  const colVecs = BN / 4;
  const quadsA = (BM * BK) / 4;
  const quadsB = (BK * BN) / 4;
  const elem = (vec: boolean) => (vec ? "vec4<f32>" : "f32");

  // Panel of A: As[kk * rowVecs + m / 4][m % 4] = A(row0 + m, k0 + kk).
  const loadA = v.transA
    // A is stored [K, M]: 4 consecutive rows m of one k are contiguous.
    ? `
      let kk = q / ${rowVecs}u;
      let mq = (q % ${rowVecs}u) * 4u;
      let gm = row0 + mq;
      let gk = k0 + kk;
      ${load4("A", v.vecA, "aBase + gk * M + gm", "gm < M && gk < K", "M - gm")}
      As[kk * ${rowVecs}u + mq / 4u] = vals;`
    // A is stored [M, K]: 4 consecutive k of one row are contiguous.
    : `
      let mm = q / ${BK / 4}u;
      let kq = (q % ${BK / 4}u) * 4u;
      let gm = row0 + mm;
      let gk = k0 + kq;
      ${load4("A", v.vecA, "aBase + gm * K + gk", "gm < M && gk < K", "K - gk")}
      for (var j = 0u; j < 4u; j++) { As[(kq + j) * ${rowVecs}u + mm / 4u][mm % 4u] = vals[j]; }`;

  // Panel of B: Bs[kk * colVecs + n / 4][n % 4] = B(k0 + kk, col0 + n).
  const loadB = v.transB
    // B is stored [N, K]: 4 consecutive k of one column are contiguous.
    ? `
      let nn = q / ${BK / 4}u;
      let kq = (q % ${BK / 4}u) * 4u;
      let gn = col0 + nn;
      let gk = k0 + kq;
      ${load4("B", v.vecB, "bBase + gn * K + gk", "gn < N && gk < K", "K - gk")}
      for (var j = 0u; j < 4u; j++) { Bs[(kq + j) * ${colVecs}u + nn / 4u][nn % 4u] = vals[j]; }`
    // B is stored [K, N]: 4 consecutive columns of one k are contiguous.
    : `
      let kk = q / ${colVecs}u;
      let nq = (q % ${colVecs}u) * 4u;
      let gk = k0 + kk;
      let gn = col0 + nq;
      ${load4("B", v.vecB, "bBase + gk * N + gn", "gk < K && gn < N", "N - gn")}
      Bs[kk * ${colVecs}u + nq / 4u] = vals;`;

  // The inner product of the panels: unrolled over the thread's TM x TN block.
  const rows4 = TM / 4, cols4 = TN / 4;
  const inner: string[] = [];
  for (let r = 0; r < rows4; r++) {
    inner.push(`let a${r} = As[kk * ${rowVecs}u + ty * ${rows4}u + ${r}u];`);
  }
  for (let c = 0; c < cols4; c++) {
    inner.push(`let b${c} = Bs[kk * ${colVecs}u + tx * ${cols4}u + ${c}u];`);
  }
  for (let r = 0; r < TM; r++) {
    for (let c = 0; c < cols4; c++) {
      const a = `a${Math.floor(r / 4)}.${"xyzw"[r % 4]}`;
      inner.push(`acc[${r * cols4 + c}] = fma(vec4<f32>(${a}), b${c}, acc[${r * cols4 + c}]);`);
    }
  }

  const store = v.vecC
    ? `
      if (col < N) { C[(cBase + row * N + col) / 4u] = acc[r * ${cols4}u + c]; }`
    : `
      let value = acc[r * ${cols4}u + c];
      for (var j = 0u; j < 4u; j++) {
        if (col + j < N) { C[cBase + row * N + col + j] = value[j]; }
      }`;

  return `
@group(0) @binding(0) var<storage, read> A: array<${elem(v.vecA)}>;
@group(0) @binding(1) var<storage, read> B: array<${elem(v.vecB)}>;
@group(0) @binding(2) var<storage, read_write> C: array<${elem(v.vecC)}>;
${paramBlock(3, 10)}
var<workgroup> As: array<vec4<f32>, ${(BK * BM) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(BK * BN) / 4}>;
${entryPoint(threads)}
  if (group >= param(9u)) { return; }
  let M = param(0u);
  let N = param(1u);
  let K = param(2u);
  let tilesM = param(7u);
  let tilesN = param(8u);
  let tileN = group % tilesN;
  let tileM = (group / tilesN) % tilesM;
  let batch = group / (tilesN * tilesM);
  let row0 = tileM * ${BM}u;
  let col0 = tileN * ${BN}u;
  let aBase = param(3u) + batch * param(5u);
  let bBase = param(4u) + batch * param(6u);
  let cBase = batch * M * N;
  let tx = lid % ${TX}u;
  let ty = lid / ${TX}u;
  var acc: array<vec4<f32>, ${TM * cols4}>;
  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {
    for (var q = lid; q < ${quadsA}u; q += ${threads}u) {${loadA}
    }
    for (var q = lid; q < ${quadsB}u; q += ${threads}u) {${loadB}
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      ${inner.join("\n      ")}
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < ${TM}u; r++) {
    let row = row0 + ty * ${TM}u + r;
    if (row >= M) { break; }
    for (var c = 0u; c < ${cols4}u; c++) {
      let col = col0 + tx * ${TN}u + c * 4u;${store}
    }
  }
}`;
}
