/**
 * Indexing kernels along the middle axis of `[outer, size, inner]`: gather and indexSelect read
 * through an int32 index; scatterAdd and indexAdd are their adjoints.
 *
 * The adjoints add several source values into one output where an index repeats. WGSL has no
 * atomic float add, so they are written as gathers too: each thread owns one output element and
 * loops over the index, adding the source values that point at it. The result is deterministic
 * (always summed in the same order). Indices are clamped to `[0, size)`: the core checks ranges
 * on the CPU, but on the GPU that would need a read back, so an out-of-range index reads or
 * writes the nearest valid row instead of memory outside the tensor.
 *
 * Parameters of all four: `outer, size, inner, indexSize (or count), outputs`.
 *
 * @module
 */
import type { AxisGeometry } from "../../core/backend.ts";
import { elementIndex, entryPoint, paramBlock, Params, type Scalar } from "./common.ts";

/** The parameters of an indexing kernel with `outputs` output elements. */
export function indexingParams(axis: AxisGeometry, indexSize: number, outputs: number) {
  const params = new Params();
  params.u32s([axis.outer, axis.size, axis.inner, indexSize, outputs]);
  return params.finish();
}

const head = (type: Scalar, input: string) => `
@group(0) @binding(0) var<storage, read> ${input}: array<${type}>;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<${type}>;
${paramBlock(3, 5)}
fn clampIndex(value: i32, size: u32) -> u32 { return u32(clamp(value, 0, i32(size) - 1)); }
${entryPoint()}
${elementIndex("param(4u)")}
  let size = param(1u);
  let inner = param(2u);
  let indexSize = param(3u);
  let r = i % inner;`;

/** `out[o, i, r] = x[o, index[o, i, r], r]`; out is `[outer, indexSize, inner]`. */
export function gatherShader(type: Scalar): string {
  return `${head(type, "x")}
  let o = i / (inner * indexSize);
  out[i] = x[(o * size + clampIndex(index[i], size)) * inner + r];
}`;
}

/** Zeros of `[outer, size, inner]` plus `src[o, i, r]` at `[o, index[o, i, r], r]`. */
export function scatterAddShader(type: Scalar): string {
  return `${head(type, "src")}
  let s = (i / inner) % size;
  let o = i / (inner * size);
  var acc = ${type}(0);
  for (var k = 0u; k < indexSize; k++) {
    let at = (o * indexSize + k) * inner + r;
    if (clampIndex(index[at], size) == s) { acc += src[at]; }
  }
  out[i] = acc;
}`;
}

/** `out[o, j, r] = x[o, index[j], r]`; out is `[outer, count, inner]`. */
export function indexSelectShader(type: Scalar): string {
  return `${head(type, "x")}
  let j = (i / inner) % indexSize;
  let o = i / (inner * indexSize);
  out[i] = x[(o * size + clampIndex(index[j], size)) * inner + r];
}`;
}

/** Zeros of `[outer, size, inner]` plus `src[o, j, r]` at `[o, index[j], r]`. */
export function indexAddShader(type: Scalar): string {
  return `${head(type, "src")}
  let s = (i / inner) % size;
  let o = i / (inner * size);
  var acc = ${type}(0);
  for (var j = 0u; j < indexSize; j++) {
    if (clampIndex(index[j], size) == s) { acc += src[(o * indexSize + j) * inner + r]; }
  }
  out[i] = acc;
}`;
}

/**
 * Stable argsort along the middle axis of `[outer, size, inner]` as a rank sort: each thread
 * owns one element, counts the elements of its line that come before it (smaller, or equal
 * with a lower index; larger for a descending sort), and writes its own index at that rank.
 * Ranks are distinct, so no two threads write the same place. It costs `size` comparisons per
 * element, which suits the lines a lesson sorts (a layer's weights for pruning, a row of
 * logits for top-k); NaN ordering is not defined here (WGSL leaves NaN comparisons to the
 * implementation). Parameters: `outer, size, inner, descending, outputs`.
 */
export function argsortShader(type: Scalar): string {
  return `
@group(0) @binding(0) var<storage, read> x: array<${type}>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
${paramBlock(2, 5)}
${entryPoint()}
${elementIndex("param(4u)")}
  let size = param(1u);
  let inner = param(2u);
  let descending = param(3u) == 1u;
  let r = i % inner;
  let own = (i / inner) % size;
  let o = i / (inner * size);
  let base = o * size * inner + r;
  let value = x[i];
  var rank = 0u;
  for (var j = 0u; j < size; j++) {
    let other = x[base + j * inner];
    let beyond = select((other < value), (other > value), descending);
    if (beyond || (other == value && j < own)) { rank++; }
  }
  out[base + rank * inner] = i32(own);
}`;
}
