/**
 * The public API. Lessons, the site and users import only from here.
 *
 * @example
 * ```ts
 * import { tensor } from "./mod.ts";
 * const w = tensor(3, { requiresGrad: true });
 * const loss = w.mul(2).sub(5).pow(2); // (w * x - y)^2 with x = 2, y = 5
 * loss.backward();
 * console.assert((await w.grad!.item()) === 4); // 2 * (3 * 2 - 5) * 2
 * ```
 * @module
 */
import { registerBackend } from "./core/backend.ts";
import { wasmCpuBackend } from "./core/wasm/backend.ts";

// The CPU backend runs float32 on the WebAssembly SIMD kernels and everything else (and, after
// setCpuKernels("reference"), everything) on the readable TypeScript kernels of core/cpu/.
registerBackend(wasmCpuBackend);
export { getCpuKernels, setCpuKernels, setCpuThreads } from "./core/wasm/backend.ts";
export type { CpuKernelSet } from "./core/wasm/backend.ts";

export { Tensor } from "./core/tensor.ts";
export type { NestedArray, TensorLike } from "./core/tensor.ts";
export type { Device, DType, TypedArray } from "./core/dtype.ts";
export type { Shape } from "./core/shape.ts";
export {
  arange,
  eye,
  full,
  linspace,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  tensor,
  zeros,
  zerosLike,
} from "./core/creation.ts";
export type { TensorOptions } from "./core/creation.ts";
export { manualSeed, randperm } from "./core/random.ts";
export { isGradEnabled, noGrad, withNoGrad } from "./core/autograd.ts";
export { where } from "./core/ops/elementwise.ts";
export { cat, stack } from "./core/ops/shape.ts";
export { matmul } from "./core/ops/matmul.ts";
export { kthvalue, sort, topk } from "./core/ops/sort.ts";
export type { KthvalueOptions, SortOptions, SortResult, TopkOptions } from "./core/ops/sort.ts";
export { assertClose, gradcheck } from "./core/testing.ts";
export type { GradcheckOptions, Tolerance } from "./core/testing.ts";
export * as data from "./core/data/index.ts";
export * as F from "./core/nn/functional.ts";
export * as nn from "./core/nn/index.ts";
export { summary } from "./core/nn/summary.ts";
export type { LayerSummary, ModelSummary, SummaryOptions } from "./core/nn/summary.ts";
export * as optim from "./core/optim/index.ts";
export * as metrics from "./core/metrics.ts";
export {
  FASHION_MNIST_CLASSES,
  fetchIdx,
  loadFashionMnist,
  readIdx,
  writeIdx,
} from "./core/io/idx.ts";
export type { FashionMnist, FashionMnistOptions, IdxArray } from "./core/io/idx.ts";
export { csvColumn, csvLabels, csvNumbers, fetchCsv, parseCsv } from "./core/io/csv.ts";
export type { CsvOptions, CsvTable } from "./core/io/csv.ts";
export { fetchSafetensors, load, save } from "./core/io/safetensors.ts";
// Export: ONNX for onnxruntime, PyTorch source plus safetensors weights.
export { exportOnnx } from "./core/export/onnx.ts";
export type { ExportOnnxOptions } from "./core/export/onnx.ts";
export { toPyTorch } from "./core/export/pytorch.ts";
export type { PyTorchExport, ToPyTorchOptions } from "./core/export/pytorch.ts";
// WebGPU: `await initWebGPU()` registers the "webgpu" device; `pickDevice()` falls back to the CPU
// with a one-line reason; `device("webgpu")` gives the name or an error saying why not.
export { device, initWebGPU, isSoftwareWebGPU, pickDevice } from "./gpu/device.ts";
export type { DeviceChoice } from "./gpu/device.ts";
