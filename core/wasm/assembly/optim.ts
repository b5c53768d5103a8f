// Optimizer updates applied in place to a float32 parameter, with PyTorch's formulas.
// Four lanes at a time; the scalar tail does the same arithmetic.

/**
 * SGD with momentum, in place. With `g = grad + weightDecay * param`:
 *
 *   velocity = firstStep ? g : momentum * velocity + (1 - dampening) * g
 *   step     = nesterov ? g + momentum * velocity : velocity      (g itself without momentum)
 *   param   -= lr * step
 *
 * `velocity` is ignored (may be 0) when `momentum` is 0.
 */
export function sgdStepF32(
  param: usize,
  grad: usize,
  velocity: usize,
  n: i32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  weightDecay: f32,
  nesterov: i32,
  firstStep: i32,
): void {
  const lrV = f32x4.splat(lr);
  const momentumV = f32x4.splat(momentum);
  const keepV = f32x4.splat(1 - dampening);
  const decayV = f32x4.splat(weightDecay);
  const useMomentum = momentum != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const p = v128.load(param + at);
    let g = f32x4.add(v128.load(grad + at), f32x4.mul(decayV, p));
    if (useMomentum) {
      let buf = g;
      if (!firstStep) {
        buf = f32x4.add(f32x4.mul(momentumV, v128.load(velocity + at)), f32x4.mul(keepV, g));
      }
      v128.store(velocity + at, buf);
      g = nesterov ? f32x4.add(g, f32x4.mul(momentumV, buf)) : buf;
    }
    v128.store(param + at, f32x4.sub(p, f32x4.mul(lrV, g)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const p = load<f32>(param + at);
    let g = load<f32>(grad + at) + weightDecay * p;
    if (useMomentum) {
      const buf = firstStep ? g : momentum * load<f32>(velocity + at) + (1 - dampening) * g;
      store<f32>(velocity + at, buf);
      g = nesterov ? g + momentum * buf : buf;
    }
    store<f32>(param + at, p - lr * g);
  }
}

/**
 * Adam (or AdamW when `decoupled`), in place, at step `step` (from 1):
 *
 *   AdamW: param *= 1 - lr * weightDecay;   Adam: g = grad + weightDecay * param
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   param -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
 */
export function adamStepF32(
  param: usize,
  grad: usize,
  m: usize,
  v: usize,
  n: i32,
  lr: f64,
  beta1: f64,
  beta2: f64,
  eps: f64,
  weightDecay: f64,
  decoupled: i32,
  step: i32,
): void {
  const stepSize = <f32>(lr / (1 - Math.pow(beta1, <f64>step)));
  const invSqrtCorrection2 = <f32>(1 / Math.sqrt(1 - Math.pow(beta2, <f64>step)));
  const decay = <f32>(decoupled ? 1 - lr * weightDecay : 1);
  const gradDecay = <f32>(decoupled ? 0 : weightDecay);
  const b1 = <f32>beta1;
  const b2 = <f32>beta2;
  const e = <f32>eps;
  const stepSizeV = f32x4.splat(stepSize);
  const correctionV = f32x4.splat(invSqrtCorrection2);
  const decayV = f32x4.splat(decay);
  const gradDecayV = f32x4.splat(gradDecay);
  const b1V = f32x4.splat(b1);
  const b2V = f32x4.splat(b2);
  const oneMinusB1V = f32x4.splat(1 - b1);
  const oneMinusB2V = f32x4.splat(1 - b2);
  const epsV = f32x4.splat(e);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    let p = v128.load(param + at);
    const g = f32x4.add(v128.load(grad + at), f32x4.mul(gradDecayV, p));
    p = f32x4.mul(p, decayV);
    const m1 = f32x4.add(f32x4.mul(b1V, v128.load(m + at)), f32x4.mul(oneMinusB1V, g));
    const v1 = f32x4.add(f32x4.mul(b2V, v128.load(v + at)), f32x4.mul(oneMinusB2V, f32x4.mul(g, g)));
    v128.store(m + at, m1);
    v128.store(v + at, v1);
    const denom = f32x4.add(f32x4.mul(f32x4.sqrt(v1), correctionV), epsV);
    v128.store(param + at, f32x4.sub(p, f32x4.div(f32x4.mul(stepSizeV, m1), denom)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    let p = load<f32>(param + at);
    const g = load<f32>(grad + at) + gradDecay * p;
    p *= decay;
    const m1 = b1 * load<f32>(m + at) + (1 - b1) * g;
    const v1 = b2 * load<f32>(v + at) + (1 - b2) * g * g;
    store<f32>(m + at, m1);
    store<f32>(v + at, v1);
    store<f32>(param + at, p - stepSize * m1 / (Mathf.sqrt(v1) * invSqrtCorrection2 + e));
  }
}
