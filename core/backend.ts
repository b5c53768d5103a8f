/**
 * The backend interface: what a device must provide so that every op of the core runs on it.
 *
 * The core (tensors, autograd, ops, layers) never touches numbers directly. It asks a backend for
 * kernels: "add these two views", "multiply these matrices", "unfold these image patches". The
 * CPU backend (`core/cpu/`) is the readable reference; the WebGPU backend (`gpu/`) implements the
 * same interface with WGSL compute shaders. Storage is opaque to the core: a typed array on the
 * CPU, a GPU buffer on WebGPU, a block of WebAssembly memory for fast CPU kernels. Reading values
 * back is asynchronous, because a GPU answers later.
 *
 * Fused kernels (max pooling with its argmax, training-mode batch norm) are not methods of a
 * backend: they are registrations in the kernel registry at the end of this file, looked up by
 * (kernel, provider, dtype), as TensorFlow.js's `registerKernel` does.
 *
 * Every kernel returns fresh storage holding a contiguous, row-major result, except
 * {@link Backend.writeStrided} and the optimizer kernels, which write into storage the core owns.
 * Shapes are checked by the core before a kernel is called: kernels may assume valid arguments.
 *
 * @module
 */
import type { Device, DType, TypedArray } from "./dtype.ts";
import type { BinaryOp, UnaryOp } from "./ops/table.ts";

/** Values owned by a backend. `refs` counts the tensors that share it (reshape shares storage). */
export interface Storage {
  readonly device: Device;
  /** Number of elements. */
  readonly length: number;
  /** How many tensors use this storage; the core frees it when the count drops to 0. */
  refs: number;
  /**
   * True when the garbage collector reclaims the values by itself (a JavaScript typed array):
   * such storage needs no finalizer, and a finalizer would only keep it alive longer.
   */
  readonly gcManaged?: boolean;
}

/** A read of storage through strides: element `i` of dimension `d` is `strides[d]` apart. */
export interface StridedView {
  storage: Storage;
  /** The shape being read (the output shape for broadcast reads). */
  shape: readonly number[];
  /** A stride of 0 repeats an element (broadcasting). */
  strides: readonly number[];
  offset: number;
}

/**
 * A batched matrix product `C[b] = op(A[b]) @ op(B[b])` where `op` transposes when asked.
 * `C` is `[batch, m, n]`; `A` is `[m, k]` (or `[k, m]` when `transA`), `B` is `[k, n]` (or
 * `[n, k]` when `transB`). A batch stride of 0 reuses one matrix for every batch entry.
 */
export interface MatmulSpec {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  aOffset: number;
  bOffset: number;
  aBatchStride: number;
  bBatchStride: number;
}

/**
 * Simplifies the common shape of several strided operands, for kernels that walk them: dimensions
 * of size 1 are dropped, and neighbouring dimensions are merged wherever every operand steps
 * through them as through one (`stride[d] == stride[d + 1] * shape[d + 1]`). A transposed matrix
 * stays 2-D; a contiguous tensor of any rank becomes 1-D; a single element becomes `[]`.
 */
export function mergeDims(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const merged: number[] = [];
  const mergedStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = merged.length - 1;
    const canMerge = last >= 0 &&
      strides.every((s, k) => mergedStrides[k][last] === s[d] * shape[d]);
    if (canMerge) {
      merged[last] *= shape[d];
      strides.forEach((s, k) => (mergedStrides[k][last] = s[d]));
    } else {
      merged.push(shape[d]);
      strides.forEach((s, k) => mergedStrides[k].push(s[d]));
    }
  }
  return { shape: merged, strides: mergedStrides };
}

/** The geometry of a 2-D convolution or pooling window sliding over `[n, c, h, w]` images. */
export interface Conv2dGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  outH: number;
  outW: number;
  /** The value read outside the image: 0 for convolution, -Infinity for max pooling. */
  padValue: number;
}

/**
 * A tensor seen as `[outer, size, inner]` around one dimension, for reductions, gather and
 * scatter along that dimension.
 */
export interface AxisGeometry {
  outer: number;
  size: number;
  inner: number;
}

/**
 * The layout of a batch norm's input seen as `[n, c, spatial]`: `n` samples, `c` channels and
 * `spatial` values per channel of each sample (`h * w` for images, 1 for `[N, C]`).
 */
export interface BatchNormGeometry {
  n: number;
  c: number;
  spatial: number;
  /** Added to the variance before the square root. */
  eps: number;
}

/** Hyper-parameters of one optimizer update, applied elementwise to a parameter. */
export type OptimizerUpdate =
  | {
    kind: "sgd";
    lr: number;
    momentum: number;
    dampening: number;
    nesterov: boolean;
    weightDecay: number;
    /** True on the first step, when the momentum buffer is set to the gradient. */
    firstStep: boolean;
  }
  | {
    kind: "adam";
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    /** AdamW: decay the weights directly instead of adding `weightDecay * param` to the grad. */
    decoupled: boolean;
    /** The step number, from 1, for bias correction. */
    step: number;
  }
  | {
    kind: "rmsprop";
    lr: number;
    /** Decay rate of the running average of the squared gradient. */
    alpha: number;
    eps: number;
    weightDecay: number;
    /** With momentum > 0 the state holds a momentum buffer after the square average. */
    momentum: number;
    /** Centered: the state ends with a running average of the gradient (to subtract its mean). */
    centered: boolean;
  };

/** The update of one optimizer kind. */
export type SgdUpdate = Extract<OptimizerUpdate, { kind: "sgd" }>;
/** The update of one optimizer kind. */
export type AdamUpdate = Extract<OptimizerUpdate, { kind: "adam" }>;
/** The update of one optimizer kind. */
export type RmspropUpdate = Extract<OptimizerUpdate, { kind: "rmsprop" }>;

/** The kernels a device provides. */
export interface Backend {
  readonly device: Device;
  /**
   * Whose registered kernels run ops of this dtype now (see {@link findKernel}). The CPU picks
   * the WebAssembly kernels for float32 while they are in use, the reference loops otherwise.
   */
  kernelProvider(dtype: DType): KernelProvider;

  /** Copies values from the host into new storage. */
  upload(values: TypedArray): Storage;
  /** Reads storage back to the host (a copy). */
  read(storage: Storage, dtype: DType): Promise<TypedArray>;
  /** Synchronous read, where the device allows it (the CPU). */
  readSync?(storage: Storage, dtype: DType): TypedArray;
  /** Gives storage back to the backend (called when its last tensor lets go of it). */
  free(storage: Storage): void;

  /** New storage of `length` elements, all equal to `value`. */
  fill(length: number, value: number, dtype: DType): Storage;
  /** Converts between dtypes (float to int32 truncates toward zero). */
  cast(x: Storage, length: number, from: DType, to: DType): Storage;
  /** An elementwise op from the op table with its scalar parameters (`p0`, `p1`). */
  unary(op: UnaryOp, x: Storage, length: number, dtype: DType, params: readonly number[]): Storage;
  /** An elementwise op on two broadcast views; the result has shape `a.shape`. */
  binary(
    op: BinaryOp,
    a: StridedView,
    b: StridedView,
    inDtype: DType,
    outDtype: DType,
  ): Storage;
  /** `cond != 0 ? a : b` elementwise over three broadcast views of the same shape. */
  where(cond: StridedView, condDtype: DType, a: StridedView, b: StridedView, dtype: DType): Storage;
  /** A contiguous copy of a strided view (transpose, permute, expand, slice). */
  copy(view: StridedView, dtype: DType): Storage;
  /** Writes contiguous `src` into `dst` through a strided view (for cat and slice backward). */
  writeStrided(dst: Storage, view: Omit<StridedView, "storage">, src: Storage, dtype: DType): void;

  /** Reduces the middle axis of `[outer, size, inner]` to `[outer, inner]`. */
  reduce(op: "sum" | "max" | "min", x: Storage, dtype: DType, axis: AxisGeometry): Storage;
  /** Index (int32) of the first maximum or minimum along the middle axis. */
  argReduce(op: "argmax" | "argmin", x: Storage, dtype: DType, axis: AxisGeometry): Storage;

  /**
   * The indices (int32, `[outer, size, inner]`) that sort each line along the middle axis,
   * ascending or descending; stable (ties keep their order), NaN sorts as the largest value.
   */
  argsort(x: Storage, dtype: DType, axis: AxisGeometry, descending: boolean): Storage;

  /** Batched matrix product (see {@link MatmulSpec}). */
  matmul(a: Storage, b: Storage, dtype: DType, spec: MatmulSpec): Storage;

  /** Unfolds image patches: `[n, c, h, w]` to `[n, c * kernelH * kernelW, outH * outW]`. */
  im2col(x: Storage, dtype: DType, geom: Conv2dGeometry): Storage;
  /** The adjoint of im2col: sums patch columns back into `[n, c, h, w]` images. */
  col2im(cols: Storage, dtype: DType, geom: Conv2dGeometry): Storage;

  /**
   * `out[o, i, r] = x[o, index[o, i, r], r]` where x is `[outer, size, inner]` and index is
   * `[outer, indexSize, inner]` (int32, already range-checked).
   */
  gather(x: Storage, index: Storage, dtype: DType, axis: AxisGeometry, indexSize: number): Storage;
  /** The adjoint of gather: zeros of `[outer, size, inner]`, `out[o, index[o,i,r], r] += src`. */
  scatterAdd(
    index: Storage,
    src: Storage,
    dtype: DType,
    axis: AxisGeometry,
    indexSize: number,
  ): Storage;
  /** `out[o, j, r] = x[o, index[j], r]`: picks `count` slices along the middle axis. */
  indexSelect(x: Storage, index: Storage, dtype: DType, axis: AxisGeometry, count: number): Storage;
  /** The adjoint of indexSelect: zeros of `[outer, size, inner]`, `out[o, index[j], r] += src`. */
  indexAdd(index: Storage, src: Storage, dtype: DType, axis: AxisGeometry, count: number): Storage;
}

const backends = new Map<Device, Backend>();

/** Makes a backend available under its device name (the WebGPU backend registers itself). */
export function registerBackend(backend: Backend): void {
  backends.set(backend.device, backend);
}

/** The backend of a device, with an error that says how to get one. */
export function getBackend(device: Device): Backend {
  const backend = backends.get(device);
  if (!backend) {
    throw new Error(
      `device "${device}" is not available: ` +
        (device === "webgpu"
          ? `call "await initWebGPU()" (or "await pickDevice()") before using it`
          : `no backend registered`),
    );
  }
  return backend;
}

/** Whether a device's backend has been registered. */
export function hasBackend(device: Device): boolean {
  return backends.has(device);
}

// ---- The kernel registry ----------------------------------------------------------------------

/**
 * Who provides a registered kernel: the readable reference loops of `core/cpu/` (every dtype of
 * the CPU, the oracle the others are tested against), the WebAssembly kernels of `core/wasm/`
 * (float32 on the CPU), or the WGSL kernels of `gpu/`.
 */
export type KernelProvider = "reference" | "wasm" | "webgpu";

/**
 * The fused kernels an op may look up by name, with their signatures. Storage in, storage out:
 * the op records autograd around them.
 */
export interface FusedKernels {
  /**
   * Max pooling (padding reads as -Infinity): the maxima `[n, c, outH, outW]` and, as int32,
   * where each came from (`iy * w + ix` within its image plane). A window holding a NaN gives
   * NaN, and its index points at the first NaN.
   */
  maxPool2d(x: Storage, dtype: DType, geom: Conv2dGeometry): { values: Storage; indices: Storage };
  /** The backward pass of max pooling: each gradient goes to the pixel its maximum came from. */
  maxPool2dBackward(grad: Storage, indices: Storage, dtype: DType, geom: Conv2dGeometry): Storage;
  /**
   * Training-mode batch norm, per channel over `[n, c, spatial]`: the batch `mean`, the biased
   * `variance` (divided by the count), `invStd = 1 / sqrt(variance + eps)` (each `[c]`) and
   * `out = (x - mean) * invStd * weight + bias`. A null weight or bias means 1 or 0.
   */
  batchNormTrain(
    x: Storage,
    weight: Storage | null,
    bias: Storage | null,
    dtype: DType,
    geom: BatchNormGeometry,
  ): { out: Storage; mean: Storage; variance: Storage; invStd: Storage };
  /**
   * The backward pass of batch norm from the saved `mean` and `invStd`: the gradient of the
   * input, and (where `wanted` asks for them, else null) those of the weight and bias, `[c]`.
   */
  batchNormTrainBackward(
    grad: Storage,
    x: Storage,
    weight: Storage | null,
    mean: Storage,
    invStd: Storage,
    dtype: DType,
    geom: BatchNormGeometry,
    wanted: { weight: boolean; bias: boolean },
  ): { dx: Storage; dWeight: Storage | null; dBias: Storage | null };
  /**
   * A convolution computed directly, without unfolding windows into columns (im2col):
   * `out[n, o, outH, outW] = bias[o] + sum over (ci, ky, kx) of weight[o, ci, ky, kx] *
   * x[n, ci, oy + ky - padH, ox + kx - padW]`, reading zeros outside the image. Stride and
   * dilation are 1 (the op asks for it only then) and a null bias means none.
   */
  conv2d(
    x: Storage,
    weight: Storage,
    bias: Storage | null,
    dtype: DType,
    geom: Conv2dGeometry,
    outChannels: number,
  ): Storage;
  /**
   * The backward pass of {@link FusedKernels.conv2d}: the gradients of the input and of the
   * weight, each computed only where `wanted` asks for it (else null). The bias's gradient is
   * the output's gradient summed over everything but the channels, which the op computes.
   */
  conv2dBackward(
    grad: Storage,
    x: Storage,
    weight: Storage,
    dtype: DType,
    geom: Conv2dGeometry,
    outChannels: number,
    wanted: { input: boolean; weight: boolean },
  ): { dx: Storage | null; dWeight: Storage | null };
  /**
   * One SGD update of a parameter, in place (momentum, dampening, Nesterov and weight decay as
   * PyTorch's `torch.optim.SGD`); `state` holds the momentum buffer when momentum is on, also
   * updated in place. Storage identities do not change.
   */
  sgdStep(param: Storage, grad: Storage, state: Storage[], length: number, u: SgdUpdate): void;
  /** One Adam (or AdamW) update in place; `state` holds the first and second moments. */
  adamStep(param: Storage, grad: Storage, state: Storage[], length: number, u: AdamUpdate): void;
  /**
   * One RMSprop update in place; `state` holds the square average, then the momentum buffer
   * (momentum > 0), then the gradient average (centered).
   */
  rmspropStep(
    param: Storage,
    grad: Storage,
    state: Storage[],
    length: number,
    u: RmspropUpdate,
  ): void;
  /**
   * A linear layer with its bias in one kernel: `out = x @ weight^T + bias`, with `x` seen as
   * `[rows, inFeatures]`, `weight` `[outFeatures, inFeatures]` and `bias` `[outFeatures]`.
   */
  linear(
    x: Storage,
    weight: Storage,
    bias: Storage,
    dtype: DType,
    geom: { rows: number; inFeatures: number; outFeatures: number },
  ): Storage;
}

/** The name of a fused kernel. */
export type KernelName = keyof FusedKernels;

const kernels = new Map<string, unknown>();
const kernelKey = (name: string, provider: KernelProvider, dtype: DType) =>
  `${name}/${provider}/${dtype}`;

/** Registers a kernel under (name, provider, dtype), for each of `dtypes`. */
export function registerKernel<K extends KernelName>(
  name: K,
  provider: KernelProvider,
  dtypes: readonly DType[],
  kernel: FusedKernels[K],
): void {
  for (const dtype of dtypes) kernels.set(kernelKey(name, provider, dtype), kernel);
}

/**
 * The kernel registered for an op on a device and dtype: the current provider's (WebAssembly
 * for float32 on the CPU), else, on the CPU, the reference kernel. Undefined where neither is
 * registered (WebGPU has no fused batch norm): the op then composes the same computation from
 * tensor ops, whose kernels every backend has.
 */
export function findKernel<K extends KernelName>(
  name: K,
  device: Device,
  dtype: DType,
): FusedKernels[K] | undefined {
  const provider = getBackend(device).kernelProvider(dtype);
  const kernel = kernels.get(kernelKey(name, provider, dtype)) ??
    (device === "cpu" ? kernels.get(kernelKey(name, "reference", dtype)) : undefined);
  return kernel as FusedKernels[K] | undefined;
}
