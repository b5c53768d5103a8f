// Batch normalization over [n, c, inner] tensors (inner = h * w for images, 1 after a linear
// layer), per channel c, float32. Sums run in float64.
//
// Training mode normalizes with the batch statistics: xHat = (x - mean) * invStd, where
// invStd = 1 / sqrt(var + eps) and var is the biased variance (divided by the count, as PyTorch
// does when normalizing).

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
    let sum: f64 = 0;
    for (let b = 0; b < n; b++) {
      const row = x + (<usize>((b * c + ci) * inner) << 2);
      for (let r = 0; r < inner; r++) sum += <f64>load<f32>(row + (<usize>r << 2));
    }
    const mu = sum / count;
    let squares: f64 = 0;
    for (let b = 0; b < n; b++) {
      const row = x + (<usize>((b * c + ci) * inner) << 2);
      for (let r = 0; r < inner; r++) {
        const d = <f64>load<f32>(row + (<usize>r << 2)) - mu;
        squares += d * d;
      }
    }
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
    let sumDy: f64 = 0;
    let sumDyXHat: f64 = 0;
    for (let b = 0; b < n; b++) {
      const offset = <usize>((b * c + ci) * inner) << 2;
      for (let r = 0; r < inner; r++) {
        const at = offset + (<usize>r << 2);
        const g = <f64>load<f32>(dy + at);
        sumDy += g;
        sumDyXHat += g * (<f64>load<f32>(x + at) - mu) * inv;
      }
    }
    if (dBias) store<f32>(dBias + channel, <f32>sumDy);
    if (dWeight) store<f32>(dWeight + channel, <f32>sumDyXHat);
    const gamma: f64 = weight ? <f64>load<f32>(weight + channel) : 1;
    const factor = gamma * inv / m;
    for (let b = 0; b < n; b++) {
      const offset = <usize>((b * c + ci) * inner) << 2;
      for (let r = 0; r < inner; r++) {
        const at = offset + (<usize>r << 2);
        const xHat = (<f64>load<f32>(x + at) - mu) * inv;
        const g = <f64>load<f32>(dy + at);
        store<f32>(dx + at, <f32>(factor * (m * g - sumDy - xHat * sumDyXHat)));
      }
    }
  }
}
