/**
 * Optimizer updates on the device: SGD (with momentum, dampening, Nesterov, weight decay),
 * Adam / AdamW and RMSprop, one thread per parameter element, updating the parameter and its state buffers in
 * place. Parameters never travel to the host during training.
 *
 * The formulas are those of the CPU reference (`core/cpu/kernels.ts`, `optimizerStep`), which
 * follow PyTorch. Scalars that depend only on the step (Adam's bias corrections) are computed on
 * the host in double precision and passed in.
 *
 * @module
 */
import type { OptimizerUpdate } from "../../core/backend.ts";
import { elementIndex, entryPoint, paramBlock, Params } from "./common.ts";

/** SGD. Parameters: `n, lr, momentum, dampening, weightDecay, nesterov, firstStep`. */
export function sgdShader(withMomentum: boolean): string {
  const momentum = withMomentum
    ? `
  // PyTorch: the first step sets the buffer to the gradient, later steps blend it in.
  var buf = g;
  if (param(6u) == 0u) { buf = momentum * velocity[i] + (1.0 - dampening) * g; }
  velocity[i] = buf;
  if (param(5u) != 0u) { g = g + momentum * buf; } else { g = buf; }`
    : "";
  return `
@group(0) @binding(0) var<storage, read_write> weights: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
${withMomentum ? "@group(0) @binding(2) var<storage, read_write> velocity: array<f32>;" : ""}
${paramBlock(withMomentum ? 3 : 2, 7)}
${entryPoint()}
${elementIndex("param(0u)")}
  let lr = paramF(1u);
  let momentum = paramF(2u);
  let dampening = paramF(3u);
  let weightDecay = paramF(4u);
  var g = grads[i] + weightDecay * weights[i];${momentum}
  weights[i] = weights[i] - lr * g;
}`;
}

/**
 * Adam and AdamW. Parameters: `n, beta1, beta2, eps, weightDecay, decoupled, decayFactor,
 * stepSize, sqrtCorrection2`, where `decayFactor = 1 - lr * weightDecay` (AdamW),
 * `stepSize = lr / (1 - beta1^step)` and `sqrtCorrection2 = sqrt(1 - beta2^step)`.
 */
export function adamShader(): string {
  return `
@group(0) @binding(0) var<storage, read_write> weights: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
${paramBlock(4, 9)}
${entryPoint()}
${elementIndex("param(0u)")}
  let beta1 = paramF(1u);
  let beta2 = paramF(2u);
  let eps = paramF(3u);
  let weightDecay = paramF(4u);
  var w = weights[i];
  var g = grads[i];
  if (param(5u) != 0u) { w = w * paramF(6u); } else { g = g + weightDecay * w; }
  let m1 = beta1 * m[i] + (1.0 - beta1) * g;
  let v1 = beta2 * v[i] + (1.0 - beta2) * g * g;
  m[i] = m1;
  v[i] = v1;
  weights[i] = w - paramF(7u) * m1 / (sqrt(v1) / paramF(8u) + eps);
}`;
}

/**
 * RMSprop. Parameters: `n, lr, alpha, eps, weightDecay, momentum`. The momentum buffer and the
 * centered gradient average are bound only when used, in the order of the CPU reference's state:
 * `squareAvg`, then `momentumBuffer`, then `gradAvg`.
 */
export function rmspropShader(withMomentum: boolean, centered: boolean): string {
  let binding = 3;
  const bufferBinding = withMomentum ? binding++ : -1;
  const gradAvgBinding = centered ? binding++ : -1;
  return `
@group(0) @binding(0) var<storage, read_write> weights: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> squareAvg: array<f32>;
${
    withMomentum
      ? `@group(0) @binding(${bufferBinding}) var<storage, read_write> buf: array<f32>;`
      : ""
  }
${
    centered
      ? `@group(0) @binding(${gradAvgBinding}) var<storage, read_write> gradAvg: array<f32>;`
      : ""
  }
${paramBlock(binding, 6)}
${entryPoint()}
${elementIndex("param(0u)")}
  let lr = paramF(1u);
  let alpha = paramF(2u);
  let eps = paramF(3u);
  let weightDecay = paramF(4u);
  let momentum = paramF(5u);
  let g = grads[i] + weightDecay * weights[i];
  let sq = alpha * squareAvg[i] + (1.0 - alpha) * g * g;
  squareAvg[i] = sq;
  var variance = sq;${
    centered
      ? `
  let ga = alpha * gradAvg[i] + (1.0 - alpha) * g;
  gradAvg[i] = ga;
  variance = variance - ga * ga;`
      : ""
  }
  let scaled = g / (sqrt(variance) + eps);${
    withMomentum
      ? `
  let b = momentum * buf[i] + scaled;
  buf[i] = b;
  weights[i] = weights[i] - lr * b;`
      : `
  weights[i] = weights[i] - lr * scaled;`
  }
}`;
}

/** The parameters of an update of `length` elements. */
export function optimizerParams(length: number, update: OptimizerUpdate): Uint32Array {
  const params = new Params();
  params.u32(length);
  if (update.kind === "sgd") {
    params.f32(update.lr);
    params.f32(update.momentum);
    params.f32(update.dampening);
    params.f32(update.weightDecay);
    params.u32(update.nesterov ? 1 : 0);
    params.u32(update.firstStep ? 1 : 0);
  } else if (update.kind === "rmsprop") {
    params.f32(update.lr);
    params.f32(update.alpha);
    params.f32(update.eps);
    params.f32(update.weightDecay);
    params.f32(update.momentum);
  } else {
    params.f32(update.beta1);
    params.f32(update.beta2);
    params.f32(update.eps);
    params.f32(update.weightDecay);
    params.u32(update.decoupled ? 1 : 0);
    params.f32(1 - update.lr * update.weightDecay);
    params.f32(update.lr / (1 - Math.pow(update.beta1, update.step)));
    params.f32(Math.sqrt(1 - Math.pow(update.beta2, update.step)));
  }
  return params.finish();
}
