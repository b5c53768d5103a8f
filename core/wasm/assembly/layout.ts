// Moving values around: fills, casts, strided copies, gathers and scatters.
//
// Copies work on 4-byte elements whatever they hold (float32 or int32). Strided views are given
// as `dims`: `ndim` sizes followed by `ndim` strides (int32, in elements), with the view's offset
// already added to its address. `counters` is room for `ndim` int32 values.

/** `out[i] = value` for `n` 4-byte elements, `value` given as its bit pattern. */
export function fill32(out: usize, n: i32, bits: i32): void {
  if (bits == 0 && n >= 256) {
    memory.fill(out, 0, <usize>n << 2);
    return;
  }
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<i32>(out + (<usize>i << 2), bits);
}

/** float32 to int32, truncating toward zero (NaN gives 0; out-of-range values saturate). */
export function castF32ToI32(out: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const offset = <usize>i << 2;
    v128.store(out + offset, i32x4.trunc_sat_f32x4_s(v128.load(x + offset)));
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    store<i32>(out + offset, <i32>load<f32>(x + offset));
  }
}

/** int32 to float32 (rounding to nearest where an int32 has more digits than a float32). */
export function castI32ToF32(out: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const offset = <usize>i << 2;
    v128.store(out + offset, f32x4.convert_i32x4_s(v128.load(x + offset)));
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    store<f32>(out + offset, <f32>load<i32>(x + offset));
  }
}

/**
 * Copies `n` 4-byte elements. Short rows (image rows in im2col) are copied in registers: a
 * `memory.copy` costs a call, which is more than copying a few dozen values.
 */
// @ts-ignore: decorator
@inline
export function copy32(dst: usize, src: usize, n: i32): void {
  if (n >= 256) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const offset = <usize>i << 2;
    v128.store(dst + offset, v128.load(src + offset));
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    store<i32>(dst + offset, load<i32>(src + offset));
  }
}

/** Fills `n` elements from `x` with stride `stride` (0 repeats one element, 1 copies). */
// @ts-ignore: decorator
@inline
function copyRow(out: usize, x: usize, n: i32, stride: i32): void {
  if (stride == 1) {
    copy32(out, x, n);
  } else if (stride == 0) {
    fill32(out, n, load<i32>(x));
  } else {
    for (let i = 0; i < n; i++) {
      store<i32>(out + (<usize>i << 2), load<i32>(x + (<usize>(i * stride) << 2)));
    }
  }
}

/** Writes `n` contiguous elements of `src` to `dst` with stride `stride`. */
// @ts-ignore: decorator
@inline
function scatterRow(dst: usize, src: usize, n: i32, stride: i32): void {
  if (stride == 1) {
    copy32(dst, src, n);
  } else {
    for (let i = 0; i < n; i++) {
      store<i32>(dst + (<usize>(i * stride) << 2), load<i32>(src + (<usize>i << 2)));
    }
  }
}

/**
 * Walks the rows of a strided view: calls `copyRow` (or `scatterRow` when `write` is 1) once per
 * last-dimension row, with the row's element offset in the view.
 */
function walkRows(contiguous: usize, view: usize, ndim: i32, dims: usize, counters: usize, write: i32): void {
  if (ndim == 0) {
    store<i32>(contiguous, load<i32>(view));
    return;
  }
  const last = ndim - 1;
  const rowLength = load<i32>(dims + (<usize>last << 2));
  const rowStride = load<i32>(dims + (<usize>(ndim + last) << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) {
    rows *= load<i32>(dims + (<usize>d << 2));
    store<i32>(counters + (<usize>d << 2), 0);
  }
  let offset = 0;
  for (let row = 0; row < rows; row++) {
    const here = contiguous + (<usize>(row * rowLength) << 2);
    const there = view + (<usize>offset << 2);
    if (write) {
      scatterRow(there, here, rowLength, rowStride);
    } else {
      copyRow(here, there, rowLength, rowStride);
    }
    for (let d = last - 1; d >= 0; d--) {
      const counter = counters + (<usize>d << 2);
      const size = load<i32>(dims + (<usize>d << 2));
      const stride = load<i32>(dims + (<usize>(ndim + d) << 2));
      const index = load<i32>(counter) + 1;
      if (index < size) {
        store<i32>(counter, index);
        offset += stride;
        break;
      }
      store<i32>(counter, 0);
      offset -= stride * (size - 1);
    }
  }
}

/** A contiguous copy of a strided view of 4-byte elements (transpose, permute, expand, slice). */
export function copyStrided32(out: usize, x: usize, ndim: i32, dims: usize, counters: usize): void {
  walkRows(out, x, ndim, dims, counters, 0);
}

/** Writes contiguous `src` into `dst` through a strided view (the inverse of a copy). */
export function writeStrided32(dst: usize, src: usize, ndim: i32, dims: usize, counters: usize): void {
  walkRows(src, dst, ndim, dims, counters, 1);
}

/**
 * `out[o, i, r] = x[o, index[o, i, r], r]` with x `[outer, size, inner]` and index
 * `[outer, indexSize, inner]` (int32, already range-checked).
 */
export function gather32(
  out: usize,
  x: usize,
  index: usize,
  outer: i32,
  size: i32,
  inner: i32,
  indexSize: i32,
): void {
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < indexSize; i++) {
      for (let r = 0; r < inner; r++, k++) {
        const picked = load<i32>(index + (<usize>k << 2));
        const from = x + (<usize>((o * size + picked) * inner + r) << 2);
        store<i32>(out + (<usize>k << 2), load<i32>(from));
      }
    }
  }
}

/** The adjoint of gather: `out` (zeroed here) `[o, index[o, i, r], r] += src[o, i, r]`. */
export function scatterAddF32(
  out: usize,
  index: usize,
  src: usize,
  outer: i32,
  size: i32,
  inner: i32,
  indexSize: i32,
): void {
  memory.fill(out, 0, <usize>(outer * size * inner) << 2);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < indexSize; i++) {
      for (let r = 0; r < inner; r++, k++) {
        const picked = load<i32>(index + (<usize>k << 2));
        const to = out + (<usize>((o * size + picked) * inner + r) << 2);
        store<f32>(to, load<f32>(to) + load<f32>(src + (<usize>k << 2)));
      }
    }
  }
}

/** `out[o, j, r] = x[o, index[j], r]`: picks `count` slices along the middle axis. */
export function indexSelect32(
  out: usize,
  x: usize,
  index: usize,
  outer: i32,
  size: i32,
  inner: i32,
  count: i32,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const picked = load<i32>(index + (<usize>j << 2));
      copy32(
        out + (<usize>((o * count + j) * inner) << 2),
        x + (<usize>((o * size + picked) * inner) << 2),
        inner,
      );
    }
  }
}

/** The adjoint of indexSelect: `out` (zeroed here) `[o, index[j], r] += src[o, j, r]`. */
export function indexAddF32(
  out: usize,
  index: usize,
  src: usize,
  outer: i32,
  size: i32,
  inner: i32,
  count: i32,
): void {
  memory.fill(out, 0, <usize>(outer * size * inner) << 2);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const picked = load<i32>(index + (<usize>j << 2));
      const to = out + (<usize>((o * size + picked) * inner) << 2);
      const from = src + (<usize>((o * count + j) * inner) << 2);
      addInto(to, from, inner);
    }
  }
}

/** `to[i] += from[i]` for `n` float32 values. */
export function addInto(to: usize, from: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const offset = <usize>i << 2;
    v128.store(to + offset, f32x4.add(v128.load(to + offset), v128.load(from + offset)));
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    store<f32>(to + offset, load<f32>(to + offset) + load<f32>(from + offset));
  }
}
