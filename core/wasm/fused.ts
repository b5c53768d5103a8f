/**
 * The WebAssembly fused kernels (float32): max pooling with its argmax and training-mode batch
 * norm, each with its backward pass, a linear layer with its bias, and a direct convolution
 * (stride 1) with its backward pass, and the SGD and Adam steps, registered under the provider
 * "wasm" (RMSprop has no wasm kernel: the registry falls back to the reference loop). They compute what
 * the reference kernels of `core/cpu/fused.ts` compute, and the tests hold them to it.
 *
 * @module
 */
import {
  type AdamUpdate,
  type BatchNormGeometry,
  type Conv2dGeometry,
  registerKernel,
  type SgdUpdate,
  type Storage,
} from "../backend.ts";
import { referenceStep } from "../cpu/fused.ts";
import type { DType } from "../dtype.ts";
import type { DirectConv } from "./kernels.ts";
import { allocate, wasmFor, WasmStorage, withInputs } from "./storage.ts";

/** The kernels, which the registry only asks for while the wasm set runs float32. */
function kernels() {
  const loaded = wasmFor("float32");
  if (!loaded) throw new Error("the WebAssembly kernels are not in use");
  return loaded;
}

registerKernel("maxPool2d", "wasm", ["float32"], (x: Storage, _dtype: DType, g: Conv2dGeometry) => {
  const wasm = kernels();
  const length = g.n * g.c * g.outH * g.outW;
  const values = allocate(wasm, length, "float32");
  const indices = allocate(wasm, length, "int32");
  withInputs(wasm, [x], ([src]) => wasm.maxPool2d(values.ptr, indices.ptr, src, g));
  return { values, indices };
});

registerKernel(
  "maxPool2dBackward",
  "wasm",
  ["float32"],
  (grad: Storage, indices: Storage, _dtype: DType, g: Conv2dGeometry) => {
    const wasm = kernels();
    const dx = allocate(wasm, g.n * g.c * g.h * g.w, "float32");
    withInputs(wasm, [grad, indices], ([pg, pi]) => wasm.maxPool2dBackward(dx.ptr, pg, pi, g));
    return dx;
  },
);

registerKernel(
  "batchNormTrain",
  "wasm",
  ["float32"],
  (
    x: Storage,
    weight: Storage | null,
    bias: Storage | null,
    _dtype: DType,
    g: BatchNormGeometry,
  ) => {
    const wasm = kernels();
    const out = allocate(wasm, g.n * g.c * g.spatial, "float32");
    const mean = allocate(wasm, g.c, "float32");
    const variance = allocate(wasm, g.c, "float32");
    const invStd = allocate(wasm, g.c, "float32");
    const params = [weight, bias].filter((p): p is Storage => p !== null);
    withInputs(wasm, [x, ...params], ([px, ...pp]) => {
      wasm.channelMeanVar(mean.ptr, variance.ptr, px, g.n, g.c, g.spatial);
      // invStd = 1 / sqrt(var + eps), one value per channel. (Views of the wasm memory, taken
      // with no allocation in between.)
      const v = variance.data;
      const inv = invStd.data;
      for (let ci = 0; ci < g.c; ci++) inv[ci] = 1 / Math.sqrt(v[ci] + g.eps);
      const stats = {
        mean: mean.ptr,
        invStd: invStd.ptr,
        weight: weight ? pp[0] : 0,
        bias: bias ? pp[weight ? 1 : 0] : 0,
      };
      wasm.batchNormForward(out.ptr, px, stats, g.n, g.c, g.spatial);
    });
    return { out, mean, variance, invStd };
  },
);

registerKernel(
  "batchNormTrainBackward",
  "wasm",
  ["float32"],
  (
    grad: Storage,
    x: Storage,
    weight: Storage | null,
    mean: Storage,
    invStd: Storage,
    _dtype: DType,
    g: BatchNormGeometry,
    wanted: { weight: boolean; bias: boolean },
  ) => {
    const wasm = kernels();
    const dx = allocate(wasm, g.n * g.c * g.spatial, "float32");
    const dWeight = wanted.weight ? allocate(wasm, g.c, "float32") : null;
    const dBias = wanted.bias ? allocate(wasm, g.c, "float32") : null;
    const inputs = [grad, x, mean, invStd, ...(weight ? [weight] : [])];
    withInputs(wasm, inputs, ([pg, px, pm, pi, pw = 0]) => {
      const grads = { dx: dx.ptr, dWeight: dWeight?.ptr ?? 0, dBias: dBias?.ptr ?? 0 };
      const stats = { mean: pm, invStd: pi, weight: pw };
      wasm.batchNormBackward(grads, pg, px, stats, g.n, g.c, g.spatial);
    });
    return { dx, dWeight, dBias };
  },
);

registerKernel(
  "linear",
  "wasm",
  ["float32"],
  (
    x: Storage,
    weight: Storage,
    bias: Storage,
    _dtype: DType,
    { rows, inFeatures, outFeatures }: { rows: number; inFeatures: number; outFeatures: number },
  ) => {
    const wasm = kernels();
    const out = allocate(wasm, rows * outFeatures, "float32");
    withInputs(wasm, [x, weight, bias], ([px, pw, pb]) => {
      // The bias in every row, then the product added to it: out = bias + x @ weight^T.
      wasm.copyStrided(out.ptr, pb, [rows, outFeatures], [0, 1]);
      const spec = { m: rows, n: outFeatures, k: inFeatures, transB: true, accumulate: true };
      wasm.matmul(out.ptr, px, pw, spec);
    });
    return out;
  },
);

/** The geometry of a direct convolution as the wasm kernels take it. */
function direct(g: Conv2dGeometry, outChannels: number): DirectConv {
  const { n, c, h, w, kernelH, kernelW, padH, padW } = g;
  return { n, c, h, w, outChannels, kernelH, kernelW, padH, padW };
}

registerKernel(
  "conv2d",
  "wasm",
  ["float32"],
  (
    x: Storage,
    weight: Storage,
    bias: Storage | null,
    _dtype: DType,
    g: Conv2dGeometry,
    outChannels: number,
  ) => {
    const wasm = kernels();
    const out = allocate(wasm, g.n * outChannels * g.outH * g.outW, "float32");
    const inputs = bias ? [x, weight, bias] : [x, weight];
    withInputs(wasm, inputs, ([px, pw, pb]) => {
      wasm.conv2dDirect(out.ptr, px, pw, pb ?? 0, direct(g, outChannels));
    });
    return out;
  },
);

registerKernel(
  "conv2dBackward",
  "wasm",
  ["float32"],
  (
    grad: Storage,
    x: Storage,
    weight: Storage,
    _dtype: DType,
    g: Conv2dGeometry,
    outChannels: number,
    wanted: { input: boolean; weight: boolean },
  ) => {
    const wasm = kernels();
    const geom = direct(g, outChannels);
    const dx = wanted.input ? allocate(wasm, g.n * g.c * g.h * g.w, "float32") : null;
    const dWeight = wanted.weight
      ? allocate(wasm, outChannels * g.c * g.kernelH * g.kernelW, "float32")
      : null;
    withInputs(wasm, [grad, x, weight], ([pg, px, pw]) => {
      if (dx) wasm.conv2dDirectBackwardInput(dx.ptr, pg, pw, geom);
      if (dWeight) wasm.conv2dDirectBackwardWeight(dWeight.ptr, pg, px, geom);
    });
    return { dx, dWeight };
  },
);

/**
 * The parameter and the state as wasm storage, when all of them are: an optimizer step updates
 * them in place, which the wasm kernels can do only in their own memory (tensors made while the
 * reference kernels ran live in JavaScript arrays; the reference step updates those).
 */
function inWasmMemory(param: Storage, state: Storage[]): WasmStorage[] | null {
  const all = [param, ...state];
  return all.every((s) => s instanceof WasmStorage) ? all as WasmStorage[] : null;
}

registerKernel(
  "sgdStep",
  "wasm",
  ["float32"],
  (param: Storage, grad: Storage, state: Storage[], length: number, u: SgdUpdate) => {
    const own = inWasmMemory(param, state);
    if (!own) return referenceStep(param, grad, state, length, u);
    const wasm = kernels();
    withInputs(wasm, [grad], ([pg]) => wasm.sgdStep(own[0].ptr, pg, own[1]?.ptr ?? 0, length, u));
  },
);

registerKernel(
  "adamStep",
  "wasm",
  ["float32"],
  (param: Storage, grad: Storage, state: Storage[], length: number, u: AdamUpdate) => {
    const own = inWasmMemory(param, state);
    if (!own) return referenceStep(param, grad, state, length, u);
    const wasm = kernels();
    withInputs(wasm, [grad], ([pg]) => {
      wasm.adamStep(own[0].ptr, pg, own[1].ptr, own[2].ptr, length, u);
    });
  },
);
