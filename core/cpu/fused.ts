/**
 * The reference fused kernels: max pooling, training-mode batch norm, a linear layer with its
 * bias and a direct convolution, as plain loops over the values, in float32, float64 (and int32 for pooling). They are registered in the kernel registry
 * of `core/backend.ts` under the provider "reference": the CPU runs them when the WebAssembly
 * kernels are not in use (float64, or `setCpuKernels("reference")`), and the tests compare every
 * faster kernel with them.
 *
 * @module
 */
import {
  type AdamUpdate,
  type BatchNormGeometry,
  type Conv2dGeometry,
  registerKernel,
  type RmspropUpdate,
  type SgdUpdate,
  type Storage,
} from "../backend.ts";
import { allocArray, type DType } from "../dtype.ts";
import { cpuData, CpuStorage } from "./backend.ts";
import { optimizerStep } from "./kernels.ts";

/**
 * Max pooling: for every window, the largest value and where it was (`iy * w + ix` within its
 * image plane). Pixels of the padding are skipped, so they never win. Ties go to the first
 * maximum in reading order (as PyTorch); a NaN wins over every number (the result is NaN, as in
 * PyTorch), and the first NaN of a window is the one its gradient goes to.
 */
export function maxPool2d(x: Storage, dtype: DType, g: Conv2dGeometry) {
  const input = cpuData(x);
  const planes = g.n * g.c;
  const values = allocArray(dtype, planes * g.outH * g.outW);
  const indices = new Int32Array(planes * g.outH * g.outW);
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const start = plane * g.h * g.w;
    for (let oy = 0; oy < g.outH; oy++) {
      for (let ox = 0; ox < g.outW; ox++, k++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (let ky = 0; ky < g.kernelH; ky++) {
          const iy = oy * g.strideH - g.padH + ky * g.dilationH;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kernelW; kx++) {
            const ix = ox * g.strideW - g.padW + kx * g.dilationW;
            if (ix < 0 || ix >= g.w) continue;
            const value = input[start + iy * g.w + ix];
            const wins = value > best || (Number.isNaN(value) && !Number.isNaN(best));
            if (wins || bestIndex < 0) {
              best = value;
              bestIndex = iy * g.w + ix;
            }
          }
        }
        values[k] = best;
        indices[k] = bestIndex;
      }
    }
  }
  return { values: new CpuStorage(values), indices: new CpuStorage(indices) };
}

/** The backward pass of {@link maxPool2d}: each window's gradient goes to its maximum. */
export function maxPool2dBackward(
  grad: Storage,
  indices: Storage,
  dtype: DType,
  g: Conv2dGeometry,
): Storage {
  const dy = cpuData(grad);
  const winners = cpuData(indices);
  const planeSize = g.h * g.w;
  const windows = g.outH * g.outW;
  const dx = allocArray(dtype, g.n * g.c * planeSize);
  for (let k = 0; k < dy.length; k++) {
    const plane = Math.floor(k / windows);
    dx[plane * planeSize + winners[k]] += dy[k];
  }
  return new CpuStorage(dx);
}

/**
 * Training-mode batch norm over `[n, c, spatial]`. For each channel, with m = n * spatial values:
 *
 *   mean = sum(x) / m,  var = sum((x - mean)^2) / m,  invStd = 1 / sqrt(var + eps)
 *   out  = (x - mean) * invStd * weight + bias
 */
export function batchNormTrain(
  x: Storage,
  weight: Storage | null,
  bias: Storage | null,
  dtype: DType,
  g: BatchNormGeometry,
) {
  const input = cpuData(x);
  const gamma = weight ? cpuData(weight) : null;
  const beta = bias ? cpuData(bias) : null;
  const out = allocArray(dtype, g.n * g.c * g.spatial);
  const mean = allocArray(dtype, g.c);
  const variance = allocArray(dtype, g.c);
  const invStd = allocArray(dtype, g.c);
  const m = g.n * g.spatial;
  for (let ci = 0; ci < g.c; ci++) {
    let sum = 0;
    for (const k of channel(g, ci)) sum += input[k];
    const mu = sum / m;
    let squares = 0;
    for (const k of channel(g, ci)) squares += (input[k] - mu) ** 2;
    mean[ci] = mu;
    variance[ci] = squares / m;
    invStd[ci] = 1 / Math.sqrt(squares / m + g.eps);
    const scale = invStd[ci] * (gamma ? gamma[ci] : 1);
    const shift = beta ? beta[ci] : 0;
    for (const k of channel(g, ci)) out[k] = (input[k] - mean[ci]) * scale + shift;
  }
  return {
    out: new CpuStorage(out),
    mean: new CpuStorage(mean),
    variance: new CpuStorage(variance),
    invStd: new CpuStorage(invStd),
  };
}

/**
 * The backward pass of {@link batchNormTrain}. With m values per channel and
 * xHat = (x - mean) * invStd:
 *
 *   dBias = sum(dy),  dWeight = sum(dy * xHat)
 *   dx = weight * invStd / m * (m * dy - sum(dy) - xHat * sum(dy * xHat))
 */
export function batchNormTrainBackward(
  grad: Storage,
  x: Storage,
  weight: Storage | null,
  mean: Storage,
  invStd: Storage,
  dtype: DType,
  g: BatchNormGeometry,
  wanted: { weight: boolean; bias: boolean },
) {
  const dy = cpuData(grad);
  const input = cpuData(x);
  const gamma = weight ? cpuData(weight) : null;
  const mu = cpuData(mean);
  const inv = cpuData(invStd);
  const dx = allocArray(dtype, g.n * g.c * g.spatial);
  const dWeight = allocArray(dtype, g.c);
  const dBias = allocArray(dtype, g.c);
  const m = g.n * g.spatial;
  for (let ci = 0; ci < g.c; ci++) {
    let sumDy = 0;
    let sumDyXHat = 0;
    for (const k of channel(g, ci)) {
      sumDy += dy[k];
      sumDyXHat += dy[k] * (input[k] - mu[ci]) * inv[ci];
    }
    dBias[ci] = sumDy;
    dWeight[ci] = sumDyXHat;
    const factor = (gamma ? gamma[ci] : 1) * inv[ci] / m;
    for (const k of channel(g, ci)) {
      const xHat = (input[k] - mu[ci]) * inv[ci];
      dx[k] = factor * (m * dy[k] - sumDy - xHat * sumDyXHat);
    }
  }
  return {
    dx: new CpuStorage(dx),
    dWeight: wanted.weight ? new CpuStorage(dWeight) : null,
    dBias: wanted.bias ? new CpuStorage(dBias) : null,
  };
}

/**
 * A linear layer with its bias: `out[r, o] = bias[o] + sum over i of x[r, i] * weight[o, i]`.
 */
export function linear(
  x: Storage,
  weight: Storage,
  bias: Storage,
  dtype: DType,
  { rows, inFeatures, outFeatures }: { rows: number; inFeatures: number; outFeatures: number },
): Storage {
  const input = cpuData(x);
  const w = cpuData(weight);
  const b = cpuData(bias);
  const out = allocArray(dtype, rows * outFeatures);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outFeatures; o++) {
      let sum = b[o];
      for (let i = 0; i < inFeatures; i++) sum += input[r * inFeatures + i] * w[o * inFeatures + i];
      out[r * outFeatures + o] = sum;
    }
  }
  return new CpuStorage(out);
}

/**
 * A direct convolution (stride 1, dilation 1), the definition written as loops:
 *
 *   out[b, o, oy, ox] = bias[o] + sum over (ci, ky, kx) of
 *                       weight[o, ci, ky, kx] * x[b, ci, oy + ky - padH, ox + kx - padW]
 *
 * where positions outside the image read as 0.
 */
export function conv2d(
  x: Storage,
  weight: Storage,
  bias: Storage | null,
  dtype: DType,
  g: Conv2dGeometry,
  outChannels: number,
): Storage {
  const input = cpuData(x);
  const w = cpuData(weight);
  const b = bias ? cpuData(bias) : null;
  const out = allocArray(dtype, g.n * outChannels * g.outH * g.outW);
  let k = 0;
  for (let n = 0; n < g.n; n++) {
    for (let o = 0; o < outChannels; o++) {
      for (let oy = 0; oy < g.outH; oy++) {
        for (let ox = 0; ox < g.outW; ox++, k++) {
          let sum = b ? b[o] : 0;
          for (let ci = 0; ci < g.c; ci++) {
            for (let ky = 0; ky < g.kernelH; ky++) {
              const iy = oy + ky - g.padH;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kernelW; kx++) {
                const ix = ox + kx - g.padW;
                if (ix < 0 || ix >= g.w) continue;
                const wk = w[((o * g.c + ci) * g.kernelH + ky) * g.kernelW + kx];
                sum += wk * input[((n * g.c + ci) * g.h + iy) * g.w + ix];
              }
            }
          }
          out[k] = sum;
        }
      }
    }
  }
  return new CpuStorage(out);
}

/**
 * The backward pass of {@link conv2d}. Every term `weight[o, ci, ky, kx] * x[b, ci, iy, ix]` of
 * an output sends `grad * weight` to that input pixel and `grad * x` to that weight:
 *
 *   dx[b, ci, iy, ix]     += grad[b, o, oy, ox] * weight[o, ci, ky, kx]
 *   dWeight[o, ci, ky, kx] += grad[b, o, oy, ox] * x[b, ci, iy, ix]
 */
export function conv2dBackward(
  grad: Storage,
  x: Storage,
  weight: Storage,
  dtype: DType,
  g: Conv2dGeometry,
  outChannels: number,
  wanted: { input: boolean; weight: boolean },
) {
  const dy = cpuData(grad);
  const input = cpuData(x);
  const w = cpuData(weight);
  const dx = wanted.input ? allocArray(dtype, input.length) : null;
  const dWeight = wanted.weight ? allocArray(dtype, w.length) : null;
  let k = 0;
  for (let n = 0; n < g.n; n++) {
    for (let o = 0; o < outChannels; o++) {
      for (let oy = 0; oy < g.outH; oy++) {
        for (let ox = 0; ox < g.outW; ox++, k++) {
          const gradient = dy[k];
          for (let ci = 0; ci < g.c; ci++) {
            for (let ky = 0; ky < g.kernelH; ky++) {
              const iy = oy + ky - g.padH;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kernelW; kx++) {
                const ix = ox + kx - g.padW;
                if (ix < 0 || ix >= g.w) continue;
                const at = ((n * g.c + ci) * g.h + iy) * g.w + ix;
                const wAt = ((o * g.c + ci) * g.kernelH + ky) * g.kernelW + kx;
                if (dx) dx[at] += gradient * w[wAt];
                if (dWeight) dWeight[wAt] += gradient * input[at];
              }
            }
          }
        }
      }
    }
  }
  return {
    dx: dx ? new CpuStorage(dx) : null,
    dWeight: dWeight ? new CpuStorage(dWeight) : null,
  };
}

/** The flat index of every value of channel `ci` in `[n, c, spatial]`, sample by sample. */
function* channel(g: BatchNormGeometry, ci: number): Generator<number> {
  for (let b = 0; b < g.n; b++) {
    const start = (b * g.c + ci) * g.spatial;
    for (let k = start; k < start + g.spatial; k++) yield k;
  }
}

registerKernel("maxPool2d", "reference", ["float32", "float64", "int32"], maxPool2d);
registerKernel("maxPool2dBackward", "reference", ["float32", "float64"], maxPool2dBackward);
registerKernel("batchNormTrain", "reference", ["float32", "float64"], batchNormTrain);
registerKernel(
  "batchNormTrainBackward",
  "reference",
  ["float32", "float64"],
  batchNormTrainBackward,
);
registerKernel("linear", "reference", ["float32", "float64"], linear);
registerKernel("conv2d", "reference", ["float32", "float64"], conv2d);
registerKernel("conv2dBackward", "reference", ["float32", "float64"], conv2dBackward);

/**
 * One optimizer update in place, by the loops of `optimizerStep` in `kernels.ts` (which holds
 * the three formulas side by side). Storage of the WebAssembly memory is updated where it lies.
 */
export function referenceStep(
  param: Storage,
  grad: Storage,
  state: Storage[],
  _length: number,
  update: SgdUpdate | AdamUpdate | RmspropUpdate,
): void {
  optimizerStep(cpuData(param), cpuData(grad), state.map(cpuData), update);
}

registerKernel("sgdStep", "reference", ["float32", "float64"], referenceStep);
registerKernel("adamStep", "reference", ["float32", "float64"], referenceStep);
registerKernel("rmspropStep", "reference", ["float32", "float64"], referenceStep);
