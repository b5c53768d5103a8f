// Reductions along one axis of a tensor seen as [outer, size, inner], float32.
//
// Sums accumulate in float64 (two lanes at a time), as the reference kernels do in JavaScript
// numbers, so that long sums (a batch-norm channel over a whole batch) keep their precision.

export const reduce_sum: i32 = 0;
export const reduce_max: i32 = 1;
export const reduce_min: i32 = 2;

/** The sum of `n` contiguous float32 values, accumulated in float64. */
function sumContiguous(x: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    acc0 = f64x2.add(acc0, f64x2.promote_low_f32x4(v));
    acc1 = f64x2.add(acc1, f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)));
  }
  const acc = f64x2.add(acc0, acc1);
  let sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) sum += <f64>load<f32>(x + (<usize>i << 2));
  return sum;
}

/**
 * Whether `value` replaces `best` in a max (or min) scan: when it is larger (smaller), or NaN,
 * so that a NaN anywhere makes the result NaN, as in PyTorch.
 */
// @ts-ignore: decorator
@inline
function beats(value: f32, best: f32, largest: bool): bool {
  return (largest ? value > best : value < best) || value != value;
}

/** The same test on four lanes: a mask of the lanes where `v` replaces `best`. */
// @ts-ignore: decorator
@inline
function beatsVector(v: v128, best: v128, largest: bool): v128 {
  return v128.or(largest ? f32x4.gt(v, best) : f32x4.lt(v, best), f32x4.ne(v, v));
}

/** The largest (or smallest) of `n` contiguous values (NaN if any value is NaN). */
function extremeContiguous(x: usize, n: i32, largest: bool): f32 {
  let best = load<f32>(x);
  for (let i = 1; i < n; i++) {
    const value = load<f32>(x + (<usize>i << 2));
    if (beats(value, best, largest)) best = value;
  }
  return best;
}

/**
 * `out[o, r] = reduce over s of x[o, s, r]` for `op` in sum, max, min. `size` is at least 1
 * for max and min.
 */
export function reduceF32(
  op: i32,
  out: usize,
  x: usize,
  outer: i32,
  size: i32,
  inner: i32,
): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const row = x + (<usize>(o * size) << 2);
      const value: f32 = op == reduce_sum
        ? <f32>sumContiguous(row, size)
        : extremeContiguous(row, size, op == reduce_max);
      store<f32>(out + (<usize>o << 2), value);
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    const block = x + (<usize>(o * size * inner) << 2);
    const target = out + (<usize>(o * inner) << 2);
    if (op == reduce_sum) {
      sumColumns(target, block, size, inner);
    } else {
      extremeColumns(target, block, size, inner, op == reduce_max);
    }
  }
}

/** `out[r] = sum over s of x[s, r]` in float64, eight columns at a time. */
function sumColumns(out: usize, x: usize, size: i32, inner: i32): void {
  const rowBytes = <usize>inner << 2;
  let r = 0;
  for (; r + 8 <= inner; r += 8) {
    let acc0 = f64x2.splat(0);
    let acc1 = f64x2.splat(0);
    let acc2 = f64x2.splat(0);
    let acc3 = f64x2.splat(0);
    let p = x + (<usize>r << 2);
    for (let s = 0; s < size; s++) {
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      acc0 = f64x2.add(acc0, f64x2.promote_low_f32x4(v0));
      acc1 = f64x2.add(acc1, f64x2.promote_low_f32x4(v128.shuffle<u32>(v0, v0, 2, 3, 0, 1)));
      acc2 = f64x2.add(acc2, f64x2.promote_low_f32x4(v1));
      acc3 = f64x2.add(acc3, f64x2.promote_low_f32x4(v128.shuffle<u32>(v1, v1, 2, 3, 0, 1)));
      p += rowBytes;
    }
    const target = out + (<usize>r << 2);
    v128.store(target, v128.shuffle<u64>(
      f32x4.demote_f64x2_zero(acc0),
      f32x4.demote_f64x2_zero(acc1),
      0,
      2,
    ));
    v128.store(target, v128.shuffle<u64>(
      f32x4.demote_f64x2_zero(acc2),
      f32x4.demote_f64x2_zero(acc3),
      0,
      2,
    ), 16);
  }
  for (; r < inner; r++) {
    let sum: f64 = 0;
    let p = x + (<usize>r << 2);
    for (let s = 0; s < size; s++) {
      sum += <f64>load<f32>(p);
      p += rowBytes;
    }
    store<f32>(out + (<usize>r << 2), <f32>sum);
  }
}

/** `out[r] = max (or min) over s of x[s, r]`, four columns at a time. */
function extremeColumns(out: usize, x: usize, size: i32, inner: i32, largest: bool): void {
  const rowBytes = <usize>inner << 2;
  let r = 0;
  for (; r + 4 <= inner; r += 4) {
    let p = x + (<usize>r << 2);
    let best = v128.load(p);
    for (let s = 1; s < size; s++) {
      p += rowBytes;
      const v = v128.load(p);
      best = v128.bitselect(v, best, beatsVector(v, best, largest));
    }
    v128.store(out + (<usize>r << 2), best);
  }
  for (; r < inner; r++) {
    let p = x + (<usize>r << 2);
    let best = load<f32>(p);
    for (let s = 1; s < size; s++) {
      p += rowBytes;
      const value = load<f32>(p);
      if (beats(value, best, largest)) best = value;
    }
    store<f32>(out + (<usize>r << 2), best);
  }
}

/**
 * `out[o, r]` = the index (int32) of the first largest (or smallest) `x[o, s, r]` over s. Four
 * columns at a time where rows are long enough, with the same strict comparison as the scalar
 * loop (a later equal value never replaces an earlier one).
 */
export function argReduceF32(
  largest: i32,
  out: usize,
  x: usize,
  outer: i32,
  size: i32,
  inner: i32,
): void {
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const block = x + (<usize>(o * size * inner) << 2);
    const target = out + (<usize>(o * inner) << 2);
    let r = 0;
    for (; r + 4 <= inner; r += 4) {
      let p = block + (<usize>r << 2);
      let best = v128.load(p);
      let bestIndex = i32x4.splat(0);
      for (let s = 1; s < size; s++) {
        p += rowBytes;
        const v = v128.load(p);
        // The first NaN wins and stays, so that argmax points at the NaN that max returns.
        const wins = v128.and(beatsVector(v, best, largest != 0), f32x4.eq(best, best));
        best = v128.bitselect(v, best, wins);
        bestIndex = v128.bitselect(i32x4.splat(s), bestIndex, wins);
      }
      v128.store(target + (<usize>r << 2), bestIndex);
    }
    for (; r < inner; r++) {
      let p = block + (<usize>r << 2);
      let best = load<f32>(p);
      let bestIndex = 0;
      for (let s = 1; s < size; s++) {
        p += rowBytes;
        const value = load<f32>(p);
        if (beats(value, best, largest != 0) && best == best) {
          best = value;
          bestIndex = s;
        }
      }
      store<i32>(target + (<usize>r << 2), bestIndex);
    }
  }
}
