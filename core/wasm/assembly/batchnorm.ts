// Batch normalization over [n, c, inner] tensors (inner = h * w for images, 1 after a linear
// layer), per channel c, float32. Sums run in float64 (two lanes at a time).

import { madd } from "./simd";
//
// Training mode normalizes with the batch statistics: xHat = (x - mean) * invStd, where
// invStd = 1 / sqrt(var + eps) and var is the biased variance (divided by the count, as PyTorch
// does when normalizing).

// The sums below run in float64 on two lanes, with four lanes of float32 values promoted at a
// time into two accumulators: independent chains of additions, where one scalar chain would
// wait for each addition to finish before the next.

/** The two high lanes of four float32 values, promoted to float64. */
// @ts-ignore: decorator
@inline
function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1));
}

/** The sum of both lanes. */
// @ts-ignore: decorator
@inline
function lanes(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/**
 * Per-channel mean and biased variance: `mean[ci]` and `variance[ci]` over the n * inner values
 * of channel ci. Two passes (mean first), which keeps the variance accurate when the mean is
 * large compared to the spread.
 */
export function channelMeanVarF32(
  mean: usize,
  variance: usize,
  x: usize,
  n: i32,
  c: i32,
  inner: i32,
): void {
  const count = <f64>(n * inner);
  for (let ci = 0; ci < c; ci++) {
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    let sum: f64 = 0;
    for (let b = 0; b < n; b++) {
      const row = x + (<usize>((b * c + ci) * inner) << 2);
      let r = 0;
      for (; r + 4 <= inner; r += 4) {
        const v = v128.load(row + (<usize>r << 2));
        lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
        hi = f64x2.add(hi, promoteHigh(v));
      }
      for (; r < inner; r++) sum += <f64>load<f32>(row + (<usize>r << 2));
    }
    const mu = (sum + lanes(f64x2.add(lo, hi))) / count;
    const muV = f64x2.splat(mu);
    lo = f64x2.splat(0);
    hi = f64x2.splat(0);
    let squares: f64 = 0;
    for (let b = 0; b < n; b++) {
      const row = x + (<usize>((b * c + ci) * inner) << 2);
      let r = 0;
      for (; r + 4 <= inner; r += 4) {
        const v = v128.load(row + (<usize>r << 2));
        const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), muV);
        const d1 = f64x2.sub(promoteHigh(v), muV);
        lo = f64x2.add(lo, f64x2.mul(d0, d0));
        hi = f64x2.add(hi, f64x2.mul(d1, d1));
      }
      for (; r < inner; r++) {
        const d = <f64>load<f32>(row + (<usize>r << 2)) - mu;
        squares += d * d;
      }
    }
    squares += lanes(f64x2.add(lo, hi));
    store<f32>(mean + (<usize>ci << 2), <f32>mu);
    store<f32>(variance + (<usize>ci << 2), <f32>(squares / count));
  }
}

/**
 * `out = (x - mean[ci]) * invStd[ci] * weight[ci] + bias[ci]`. A `weight` or `bias` of 0 (no
 * pointer) means 1 and 0 (a batch norm without affine parameters).
 */
export function batchNormForwardF32(
  out: usize,
  x: usize,
  mean: usize,
  invStd: usize,
  weight: usize,
  bias: usize,
  n: i32,
  c: i32,
  inner: i32,
): void {
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < c; ci++) {
      const channel = <usize>ci << 2;
      const gamma: f32 = weight ? load<f32>(weight + channel) : 1;
      const beta: f32 = bias ? load<f32>(bias + channel) : 0;
      const scale = load<f32>(invStd + channel) * gamma;
      const shift = beta - load<f32>(mean + channel) * scale;
      const scaleV = f32x4.splat(scale);
      const shiftV = f32x4.splat(shift);
      const offset = <usize>((b * c + ci) * inner) << 2;
      const src = x + offset;
      const dst = out + offset;
      let r = 0;
      for (; r + 4 <= inner; r += 4) {
        const at = <usize>r << 2;
        v128.store(dst + at, f32x4.add(f32x4.mul(v128.load(src + at), scaleV), shiftV));
      }
      for (; r < inner; r++) {
        const at = <usize>r << 2;
        store<f32>(dst + at, load<f32>(src + at) * scale + shift);
      }
    }
  }
}

/**
 * The backward pass of training-mode batch norm. With m = n * inner values per channel:
 *
 *   dBias[ci]   = sum(dy)
 *   dWeight[ci] = sum(dy * xHat)
 *   dx = weight * invStd / m * (m * dy - sum(dy) - xHat * sum(dy * xHat))
 *
 * The last line holds because mean and variance depend on every x of the channel. `dWeight`,
 * `dBias` and `weight` may be 0 (no affine parameters).
 */
export function batchNormBackwardF32(
  dx: usize,
  dWeight: usize,
  dBias: usize,
  dy: usize,
  x: usize,
  mean: usize,
  invStd: usize,
  weight: usize,
  n: i32,
  c: i32,
  inner: i32,
): void {
  const m = <f64>(n * inner);
  for (let ci = 0; ci < c; ci++) {
    const channel = <usize>ci << 2;
    const mu = <f64>load<f32>(mean + channel);
    const inv = <f64>load<f32>(invStd + channel);
    const muV = f64x2.splat(mu);
    // sum(dy) and sum(dy * (x - mean)); the second times invStd is sum(dy * xHat).
    let g0 = f64x2.splat(0);
    let g1 = f64x2.splat(0);
    let p0 = f64x2.splat(0);
    let p1 = f64x2.splat(0);
    let sumDy: f64 = 0;
    let sumDyCentered: f64 = 0;
    for (let b = 0; b < n; b++) {
      const offset = <usize>((b * c + ci) * inner) << 2;
      let r = 0;
      for (; r + 4 <= inner; r += 4) {
        const at = offset + (<usize>r << 2);
        const g = v128.load(dy + at);
        const v = v128.load(x + at);
        const gLo = f64x2.promote_low_f32x4(g);
        const gHi = promoteHigh(g);
        g0 = f64x2.add(g0, gLo);
        g1 = f64x2.add(g1, gHi);
        p0 = f64x2.add(p0, f64x2.mul(gLo, f64x2.sub(f64x2.promote_low_f32x4(v), muV)));
        p1 = f64x2.add(p1, f64x2.mul(gHi, f64x2.sub(promoteHigh(v), muV)));
      }
      for (; r < inner; r++) {
        const at = offset + (<usize>r << 2);
        const g = <f64>load<f32>(dy + at);
        sumDy += g;
        sumDyCentered += g * (<f64>load<f32>(x + at) - mu);
      }
    }
    sumDy += lanes(f64x2.add(g0, g1));
    const sumDyXHat = (sumDyCentered + lanes(f64x2.add(p0, p1))) * inv;
    if (dBias) store<f32>(dBias + channel, <f32>sumDy);
    if (dWeight) store<f32>(dWeight + channel, <f32>sumDyXHat);
    const gamma: f64 = weight ? <f64>load<f32>(weight + channel) : 1;
    const factor = gamma * inv / m;
    // dx = factor * (m * dy - sum(dy) - xHat * sum(dy * xHat)) is linear in dy and in x - mean:
    // its three coefficients in float64, then four lanes of float32 a step.
    const scaleDy: f32 = <f32>(factor * m);
    const scaleX: f32 = <f32>(-factor * sumDyXHat * inv);
    const shift: f32 = <f32>(-factor * sumDy);
    const mean32: f32 = <f32>mu;
    const scaleDy4 = f32x4.splat(scaleDy);
    const scaleX4 = f32x4.splat(scaleX);
    const shift4 = f32x4.splat(shift);
    const mean4 = f32x4.splat(mean32);
    for (let b = 0; b < n; b++) {
      const offset = <usize>((b * c + ci) * inner) << 2;
      let r = 0;
      for (; r + 4 <= inner; r += 4) {
        const at = offset + (<usize>r << 2);
        const centered = f32x4.sub(v128.load(x + at), mean4);
        v128.store(dx + at, madd(scaleDy4, v128.load(dy + at), madd(scaleX4, centered, shift4)));
      }
      for (; r < inner; r++) {
        const at = offset + (<usize>r << 2);
        const centered = load<f32>(x + at) - mean32;
        store<f32>(dx + at, scaleDy * load<f32>(dy + at) + (scaleX * centered + shift));
      }
    }
  }
}
