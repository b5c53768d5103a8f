// Softmax, log-softmax and cross entropy over the last axis of a [rows, cols] tensor, float32.
//
// Every row first subtracts its maximum, so exp() never overflows: softmax(x) = softmax(x - c)
// for any constant c. Sums run in float64.

/** The largest value of a row of `cols` values. */
function rowMax(row: usize, cols: i32): f32 {
  let best = load<f32>(row);
  for (let j = 1; j < cols; j++) best = max(best, load<f32>(row + (<usize>j << 2)));
  return best;
}

/** `log(sum(exp(row)))`, computed stably. */
function logSumExp(row: usize, cols: i32): f64 {
  const shift = <f64>rowMax(row, cols);
  let sum: f64 = 0;
  for (let j = 0; j < cols; j++) sum += Math.exp(<f64>load<f32>(row + (<usize>j << 2)) - shift);
  return shift + Math.log(sum);
}

/** `out[i, j] = exp(x[i, j]) / sum over k of exp(x[i, k])`. */
export function softmaxF32(out: usize, x: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const row = x + (<usize>(i * cols) << 2);
    const target = out + (<usize>(i * cols) << 2);
    const shift = <f64>rowMax(row, cols);
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(<f64>load<f32>(row + (<usize>j << 2)) - shift);
      store<f32>(target + (<usize>j << 2), <f32>e);
      sum += e;
    }
    const scale = 1 / sum;
    for (let j = 0; j < cols; j++) {
      const at = target + (<usize>j << 2);
      store<f32>(at, <f32>(<f64>load<f32>(at) * scale));
    }
  }
}

/** `out[i, j] = x[i, j] - log(sum over k of exp(x[i, k]))`. */
export function logSoftmaxF32(out: usize, x: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const row = x + (<usize>(i * cols) << 2);
    const target = out + (<usize>(i * cols) << 2);
    const lse = logSumExp(row, cols);
    for (let j = 0; j < cols; j++) {
      store<f32>(target + (<usize>j << 2), <f32>(<f64>load<f32>(row + (<usize>j << 2)) - lse));
    }
  }
}

/** Softmax backward from its output y: `dx = y * (dy - sum(dy * y))` row by row. */
export function softmaxBackwardF32(dx: usize, dy: usize, y: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const base = <usize>(i * cols) << 2;
    let dot: f64 = 0;
    for (let j = 0; j < cols; j++) {
      const at = base + (<usize>j << 2);
      dot += <f64>load<f32>(dy + at) * <f64>load<f32>(y + at);
    }
    for (let j = 0; j < cols; j++) {
      const at = base + (<usize>j << 2);
      const yj = <f64>load<f32>(y + at);
      store<f32>(dx + at, <f32>(yj * (<f64>load<f32>(dy + at) - dot)));
    }
  }
}

/** Log-softmax backward from its output y: `dx = dy - exp(y) * sum(dy)` row by row. */
export function logSoftmaxBackwardF32(dx: usize, dy: usize, y: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const base = <usize>(i * cols) << 2;
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) sum += <f64>load<f32>(dy + base + (<usize>j << 2));
    for (let j = 0; j < cols; j++) {
      const at = base + (<usize>j << 2);
      const value = <f64>load<f32>(dy + at) - Math.exp(<f64>load<f32>(y + at)) * sum;
      store<f32>(dx + at, <f32>value);
    }
  }
}

/**
 * Cross entropy of logits against class indices: `losses[i] = logsumexp(x[i]) - x[i, t[i]]`,
 * one loss per row (the caller averages). `targets` holds int32 class indices, range-checked.
 */
export function crossEntropyF32(
  losses: usize,
  logits: usize,
  targets: usize,
  rows: i32,
  cols: i32,
): void {
  for (let i = 0; i < rows; i++) {
    const row = logits + (<usize>(i * cols) << 2);
    const target = load<i32>(targets + (<usize>i << 2));
    const loss = logSumExp(row, cols) - <f64>load<f32>(row + (<usize>target << 2));
    store<f32>(losses + (<usize>i << 2), <f32>loss);
  }
}

/**
 * The gradient of `scale * sum of the losses` with respect to the logits:
 * `dx[i, j] = scale * (softmax(x[i])[j] - (j == t[i] ? 1 : 0))`. For the mean over a batch,
 * `scale` is the upstream gradient divided by the number of rows.
 */
export function crossEntropyBackwardF32(
  dx: usize,
  logits: usize,
  targets: usize,
  rows: i32,
  cols: i32,
  scale: f64,
): void {
  softmaxF32(dx, logits, rows, cols);
  for (let i = 0; i < rows; i++) {
    const base = dx + (<usize>(i * cols) << 2);
    const target = load<i32>(targets + (<usize>i << 2));
    for (let j = 0; j < cols; j++) {
      const at = base + (<usize>j << 2);
      const onehot: f64 = j == target ? 1 : 0;
      store<f32>(at, <f32>(scale * (<f64>load<f32>(at) - onehot)));
    }
  }
}
