/**
 * Reductions over the middle axis of `[outer, size, inner]`: sum, max, min, argmax, argmin.
 *
 * Two shapes of kernel, chosen by the host:
 *
 * - **tree** (one workgroup per output): 64 or 256 threads each fold a strided share of the
 *   axis, then combine their partial results pairwise in workgroup memory, halving the active
 *   threads at every step (a tree of depth 6 or 8). Used for long axes whose elements are
 *   contiguous or nearly so (small `inner`), where one thread per output would leave the GPU
 *   idle.
 * - **loop** (one thread per output): each thread walks the axis. Used for short axes (up to 64
 *   elements: pooling windows, batch-norm statistics of small images), and when `inner` is
 *   large, so that neighbouring threads read neighbouring addresses.
 *
 * A long axis with few outputs is cut into chunks: a first launch reduces each chunk to one
 * partial result, `[outer, chunks, inner]`, and a second reduces the partials. Every launch
 * reads its range `[chunk * chunkLength, min(size, (chunk + 1) * chunkLength))`.
 *
 * Parameters of every reduction kernel: `outer, size, inner, chunkLength, chunks, outputs`.
 *
 * @module
 */
import { entryPoint, paramBlock, type Scalar, WORKGROUP_SIZE } from "./common.ts";

/** A value reduction. */
export type ReduceOp = "sum" | "max" | "min";
/** An index reduction. */
export type ArgReduceOp = "argmax" | "argmin";
/**
 * How a reduction kernel distributes its work: one thread per output (`loop`), or one workgroup
 * of 64 or 256 threads per output (`tree64`, `tree256`).
 */
export type ReduceMode = "loop" | "tree64" | "tree256";

/** Threads per workgroup of a mode. */
export function threadsOf(mode: ReduceMode): number {
  return mode === "tree64" ? 64 : WORKGROUP_SIZE;
}

/**
 * `isNaN(x)` for the element type: a test of the bits, because a shader compiler may fold
 * `x != x` to false (int32 holds no NaN).
 */
function nanTest(type: Scalar): string {
  const body = type === "f32"
    ? "return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;"
    : "return false;";
  return `fn isNaN(x: T) -> bool { ${body} }`;
}

/** `combine(a, b)`: NaN wins a max or min, as on the CPU and in PyTorch. */
function combiner(op: ReduceOp): string {
  switch (op) {
    case "sum":
      return "return a + b;";
    case "max":
      return "return select(a, b, (b > a || isNaN(b)) && !isNaN(a));";
    case "min":
      return "return select(a, b, (b < a || isNaN(b)) && !isNaN(a));";
  }
}

// Decodes the output index q into (outer o, chunk c, inner r) and the range of the axis.
const decode = `
  let outer = param(0u);
  let size = param(1u);
  let inner = param(2u);
  let chunkLength = param(3u);
  let chunks = param(4u);
  let r = q % inner;
  let c = (q / inner) % chunks;
  let o = q / (inner * chunks);
  let start = c * chunkLength;
  let end = min(size, start + chunkLength);
  let base = o * size * inner + r;`;

/** A sum, max or min kernel. */
export function reduceShader(op: ReduceOp, type: Scalar, mode: ReduceMode): string {
  const head = `
alias T = ${type};
@group(0) @binding(0) var<storage, read> xs: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
${paramBlock(2, 6)}
${nanTest(type)}
fn combine(a: T, b: T) -> T { ${combiner(op)} }`;
  // A sum starts from 0; a max or min from the first element of the range (reading it twice
  // does not change the result).
  const init = op === "sum" ? "T(0)" : "xs[base + start * inner]";
  if (mode === "loop") {
    return `${head}
${entryPoint()}
  let q = group * ${WORKGROUP_SIZE}u + lid;
  if (q >= param(5u)) { return; }
${decode}
  var acc = ${init};
  for (var k = start; k < end; k++) { acc = combine(acc, xs[base + k * inner]); }
  out[q] = acc;
}`;
  }
  const threads = threadsOf(mode);
  return `${head}
var<workgroup> partial: array<T, ${threads}>;
${entryPoint(threads)}
  let q = group;
  if (q >= param(5u)) { return; }
${decode}
  var acc = ${init};
  for (var k = start + lid; k < end; k += ${threads}u) {
    acc = combine(acc, xs[base + k * inner]);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var half = ${threads / 2}u; half > 0u; half = half / 2u) {
    if (lid < half) { partial[lid] = combine(partial[lid], partial[lid + half]); }
    workgroupBarrier();
  }
  if (lid == 0u) { out[q] = partial[0]; }
}`;
}

/**
 * An argmax or argmin kernel (int32 output): the index of the first extreme value. Ties go to
 * the smaller index, so the result does not depend on how the work was split. A NaN beats every
 * number (the first NaN wins), so argmax points at the NaN that max returns, as on the CPU.
 */
export function argReduceShader(op: ArgReduceOp, type: Scalar, mode: ReduceMode): string {
  const better = op === "argmax" ? ">" : "<";
  const head = `
alias T = ${type};
@group(0) @binding(0) var<storage, read> xs: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
${paramBlock(2, 6)}
${nanTest(type)}
fn wins(v: T, k: u32, best: T, bestIndex: u32) -> bool {
  let vNaN = isNaN(v);
  let bestNaN = isNaN(best);
  if (vNaN || bestNaN) { return vNaN && (!bestNaN || k < bestIndex); }
  return v ${better} best || (v == best && k < bestIndex);
}`;
  if (mode === "loop") {
    return `${head}
${entryPoint()}
  let q = group * ${WORKGROUP_SIZE}u + lid;
  if (q >= param(5u)) { return; }
${decode}
  var best = xs[base + start * inner];
  var bestIndex = start;
  for (var k = start + 1u; k < end; k++) {
    let v = xs[base + k * inner];
    if (wins(v, k, best, bestIndex)) { best = v; bestIndex = k; }
  }
  out[q] = i32(bestIndex);
}`;
  }
  const threads = threadsOf(mode);
  return `${head}
var<workgroup> values: array<T, ${threads}>;
var<workgroup> indices: array<u32, ${threads}>;
${entryPoint(threads)}
  let q = group;
  if (q >= param(5u)) { return; }
${decode}
  var best = xs[base + start * inner];
  var bestIndex = start;
  for (var k = start + lid; k < end; k += ${threads}u) {
    let v = xs[base + k * inner];
    if (v ${better} best || (v == best && k < bestIndex)) { best = v; bestIndex = k; }
  }
  values[lid] = best;
  indices[lid] = bestIndex;
  workgroupBarrier();
  for (var half = ${threads / 2}u; half > 0u; half = half / 2u) {
    if (lid < half) {
      let v = values[lid + half];
      let k = indices[lid + half];
      if (wins(v, k, values[lid], indices[lid])) {
        values[lid] = v;
        indices[lid] = k;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { out[q] = i32(indices[0]); }
}`;
}

/** How the host splits a reduction: the kernel shape and the chunks of the axis. */
export interface ReducePlan {
  mode: ReduceMode;
  chunks: number;
  chunkLength: number;
}

/**
 * Picks the kernel shape and chunking for `[outer, size, inner]`. `allowChunks` is false for
 * index reductions, whose partial results would need their indices carried along.
 */
export function planReduce(outer: number, size: number, inner: number, allowChunks = true) {
  const outputs = outer * inner;
  // A short axis is cheapest walked by one thread; a long one with neighbouring outputs
  // (large inner) too, because neighbouring threads then read neighbouring addresses. A long
  // axis of nearly contiguous elements gets a workgroup per output.
  const mode: ReduceMode = size <= 64 || inner >= 32 ? "loop" : size <= 4096 ? "tree64" : "tree256";
  let chunks = 1;
  if (allowChunks) {
    // Enough chunks to occupy a large GPU, each long enough to be worth a workgroup or thread.
    if (mode !== "loop" && outputs < 1024 && size > 16384) chunks = Math.ceil(size / 8192);
    if (mode === "loop" && outputs < 16384 && size > 1024) chunks = Math.ceil(size / 256);
  }
  const chunkLength = Math.ceil(size / chunks);
  chunks = Math.ceil(size / chunkLength);
  return { mode, chunks, chunkLength } satisfies ReducePlan;
}
