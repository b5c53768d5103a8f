/**
 * The CPU backend with two kernel sets: the WebAssembly kernels (fast, float32) and the
 * reference TypeScript loops of `core/cpu/` (readable, every dtype).
 *
 * With the default kernel set, `"wasm"`, float32 and int32 tensors keep their values in the wasm
 * memory ({@link WasmStorage}) and float32 ops run on the SIMD kernels; float64 tensors, int32
 * arithmetic and anything the wasm kernels lack run on the reference kernels. With
 * `setCpuKernels("reference")` every op runs on the reference kernels, so that a student can read
 * and step through the code that computes a result; results agree within float32 rounding.
 *
 * Either kernel set accepts storage made by the other, so the switch can be flipped at any time.
 *
 * @module
 */
import type {
  AxisGeometry,
  Backend,
  BatchNormGeometry,
  Conv2dGeometry,
  MatmulSpec,
  OptimizerUpdate,
  Storage,
  StridedView,
} from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import type { BinaryOp, UnaryOp } from "../ops/table.ts";
import { cpuBackend, CpuStorage } from "../cpu/backend.ts";
import { WasmKernels } from "./kernels.ts";

/** The kernel sets of the CPU backend. */
export type CpuKernelSet = "wasm" | "reference";

/** CPU storage in the wasm memory: `length` float32 or int32 values at byte address `ptr`. */
export class WasmStorage implements Storage {
  readonly device = "cpu" as const;
  refs = 0;
  #freed = false;

  constructor(
    readonly kernels: WasmKernels,
    readonly ptr: number,
    readonly length: number,
    readonly dtype: "float32" | "int32",
  ) {}

  /** A view of the values (valid until the wasm memory next grows: do not keep it). */
  get data(): Float32Array | Int32Array {
    if (this.#freed) throw new Error("wasm storage: used after it was freed");
    return this.dtype === "float32"
      ? this.kernels.f32(this.ptr, this.length)
      : this.kernels.i32(this.ptr, this.length);
  }

  /** Gives the block back to the allocator (once). */
  release(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.kernels.free(this.ptr);
  }
}

let kernelSet: CpuKernelSet = "wasm";
/** The kernels, loaded on first use; null where the engine cannot run them. */
let loaded: WasmKernels | null | undefined;

function wasmKernels(): WasmKernels | null {
  if (loaded === undefined) {
    try {
      loaded = WasmKernels.create();
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * Chooses the CPU kernels: `"wasm"` (the default: WebAssembly SIMD for float32) or
 * `"reference"` (the readable TypeScript loops of `core/cpu/kernels.ts` for every dtype).
 */
export function setCpuKernels(kernels: CpuKernelSet): void {
  if (kernels !== "wasm" && kernels !== "reference") {
    throw new Error(`setCpuKernels: unknown kernel set "${kernels}": use "wasm" or "reference"`);
  }
  kernelSet = kernels;
}

/**
 * The CPU kernel set in use: `"wasm"`, or `"reference"` when chosen or when this engine cannot
 * run the wasm kernels (no WebAssembly SIMD).
 */
export function getCpuKernels(): CpuKernelSet {
  return kernelSet === "wasm" && wasmKernels() ? "wasm" : "reference";
}

/**
 * How many threads large float32 matrix products use on the CPU: 2 (the default where the
 * engine can share memory with a worker) or 1.
 */
export function setCpuThreads(threads: 1 | 2): void {
  wasmKernels()?.setThreads(threads);
}

/** What the wasm kernels run with, and how much of their memory is used (bytes). */
export function wasmKernelInfo(): {
  available: boolean;
  relaxedSimd: boolean;
  threads: number;
  memoryBytes: number;
  inUseBytes: number;
} {
  const kernels = wasmKernels();
  const stats = kernels?.allocator.stats();
  return {
    available: kernels !== null,
    relaxedSimd: kernels?.relaxed ?? false,
    threads: kernels?.threads ?? 1,
    memoryBytes: stats?.memory ?? 0,
    inUseBytes: stats?.inUse ?? 0,
  };
}

// ---- Moving between the two kinds of storage ----

/** The kernels when this op should run in wasm: the wasm set, and a float32 or int32 dtype. */
function wasmFor(...dtypes: DType[]): WasmKernels | null {
  if (kernelSet !== "wasm" || dtypes.some((dtype) => dtype === "float64")) return null;
  return wasmKernels();
}

/** Bytes of wasm storage allocated since reading values last let the event loop run. */
let allocatedSinceYield = 0;
/** Past this, an asynchronous read lets the event loop run once (see {@link readAsync}). */
const YIELD_AFTER_BYTES = 16 * 2 ** 20;

/** New wasm storage of `length` values (contents undefined). */
function allocate(kernels: WasmKernels, length: number, dtype: "float32" | "int32") {
  const bytes = Math.max(length, 1) * 4;
  allocatedSinceYield += bytes;
  return new WasmStorage(kernels, kernels.alloc(bytes), length, dtype);
}

/**
 * Resolves after one turn of the event loop, so that pending finalizers run. Two things that
 * look right do not work well in Deno: once an npm package is loaded, Deno installs Node's
 * MessageChannel, whose messages do not give finalizers a turn; and a chain of `setTimeout(0)`
 * is clamped (about 2 ms a turn, more than a whole training step of a small model). An
 * asynchronous digest of one byte completes as a task of its own in about 0.1 ms, in Deno and
 * in browsers; where `crypto.subtle` is missing (a page served over plain http), a timer does.
 */
function nextTask(): Promise<unknown> {
  if (globalThis.crypto?.subtle) return crypto.subtle.digest("SHA-256", oneByte);
  return new Promise((resolve) => setTimeout(resolve, 0));
}
const oneByte = new Uint8Array(1);

/**
 * Reads values asynchronously. Most memory comes back deterministically (backward() releases
 * the graph, zeroGrad() the old gradients); what is left, tensors a user dropped, comes back
 * when the garbage collector finds them, in a task of its own. So after much allocation, a read
 * lets the event loop run once before it returns, which gives those finalizers their turn.
 */
async function readAsync(storage: Storage, dtype: DType): Promise<TypedArray> {
  const values = readValues(storage, dtype);
  if (allocatedSinceYield > YIELD_AFTER_BYTES) {
    allocatedSinceYield = 0;
    await nextTask();
  }
  return values;
}

/** Storage as the reference kernels take it: wasm storage becomes a view, without a copy. */
function asCpu(storage: Storage): CpuStorage {
  if (storage instanceof WasmStorage) return new CpuStorage(storage.data);
  return storage as CpuStorage;
}

/**
 * The address of storage's values in the wasm memory, copying them in when they live in a
 * JavaScript typed array (storage made by the reference kernels). Call `done()` afterwards.
 */
function inWasm(kernels: WasmKernels, storage: Storage): { ptr: number; done: () => void } {
  if (storage instanceof WasmStorage) return { ptr: storage.ptr, done: () => {} };
  const values = (storage as CpuStorage).data;
  const ptr = kernels.alloc(Math.max(values.length, 1) * 4);
  if (values instanceof Int32Array) kernels.i32(ptr, values.length).set(values);
  else kernels.f32(ptr, values.length).set(values);
  return { ptr, done: () => kernels.free(ptr) };
}

/** A result of the reference kernels, moved into wasm memory when the wasm set is in use. */
function adopt(storage: Storage, dtype: DType): Storage {
  const kernels = wasmFor(dtype);
  if (!kernels || storage instanceof WasmStorage) return storage;
  const values = (storage as CpuStorage).data;
  const out = allocate(kernels, values.length, dtype as "float32" | "int32");
  out.data.set(values);
  return out;
}

/** Runs a wasm kernel over several inputs, copying in those that are not in wasm memory yet. */
function withInputs<T>(kernels: WasmKernels, inputs: Storage[], run: (ptrs: number[]) => T): T {
  const handles = inputs.map((storage) => inWasm(kernels, storage));
  try {
    return run(handles.map((handle) => handle.ptr));
  } finally {
    handles.forEach((handle) => handle.done());
  }
}

// ---- The backend ----

/**
 * The CPU backend: the wasm kernels for float32 (and int32 data movement), the reference
 * kernels for everything else. Register it as the "cpu" backend.
 */
export const wasmCpuBackend: Backend = {
  device: "cpu",

  upload(values: TypedArray): Storage {
    const dtype = values instanceof Float64Array
      ? "float64"
      : values instanceof Int32Array
      ? "int32"
      : "float32";
    const kernels = wasmFor(dtype);
    if (!kernels) return cpuBackend.upload(values);
    const out = allocate(kernels, values.length, dtype as "float32" | "int32");
    out.data.set(values);
    return out;
  },
  read: readAsync,
  readSync: (storage: Storage, dtype: DType) => readValues(storage, dtype),
  free(storage: Storage): void {
    if (storage instanceof WasmStorage) storage.release();
  },

  fill(length: number, value: number, dtype: DType): Storage {
    const kernels = wasmFor(dtype);
    if (!kernels) return cpuBackend.fill(length, value, dtype);
    const out = allocate(kernels, length, dtype as "float32" | "int32");
    if (dtype === "int32") kernels.fillInt(out.ptr, length, value);
    else kernels.fill(out.ptr, length, value);
    return out;
  },
  cast(x: Storage, length: number, from: DType, to: DType): Storage {
    const kernels = wasmFor(from, to);
    if (!kernels) return adopt(cpuBackend.cast(asCpu(x), length, from, to), to);
    const out = allocate(kernels, length, to as "float32" | "int32");
    withInputs(kernels, [x], ([src]) => {
      if (from === to) kernels.copyStrided(out.ptr, src, [length], [1]);
      else if (to === "int32") kernels.exports.castF32ToI32(out.ptr, src, length);
      else kernels.exports.castI32ToF32(out.ptr, src, length);
    });
    return out;
  },
  unary(op: UnaryOp, x: Storage, length: number, dtype: DType, params: readonly number[]) {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (kernels && kernels.opCode("unary", op) !== undefined) {
      const out = allocate(kernels, length, "float32");
      withInputs(kernels, [x], ([src]) => kernels.unary(op, out.ptr, src, length, params));
      return out;
    }
    return adopt(cpuBackend.unary(op, asCpu(x), length, dtype, params), dtype);
  },
  binary(op: BinaryOp, a: StridedView, b: StridedView, inDtype: DType, outDtype: DType) {
    const kernels = inDtype === "float32" && outDtype === "float32" ? wasmFor(inDtype) : null;
    if (kernels && kernels.opCode("binary", op) !== undefined) {
      const out = allocate(kernels, sizeOf(a.shape), "float32");
      withInputs(kernels, [a.storage, b.storage], ([pa, pb]) => {
        kernels.binary(
          op,
          out.ptr,
          pa + 4 * a.offset,
          a.strides,
          pb + 4 * b.offset,
          b.strides,
          a.shape,
        );
      });
      return out;
    }
    const result = cpuBackend.binary(
      op,
      { ...a, storage: asCpu(a.storage) },
      { ...b, storage: asCpu(b.storage) },
      inDtype,
      outDtype,
    );
    return adopt(result, outDtype);
  },
  where(cond: StridedView, condDtype: DType, a: StridedView, b: StridedView, dtype: DType) {
    const kernels = dtype === "float32" ? wasmFor(condDtype, dtype) : null;
    if (kernels) {
      const out = allocate(kernels, sizeOf(cond.shape), "float32");
      withInputs(kernels, [cond.storage, a.storage, b.storage], ([pc, pa, pb]) => {
        kernels.where(
          out.ptr,
          pc + 4 * cond.offset,
          condDtype === "int32",
          cond.strides,
          pa + 4 * a.offset,
          a.strides,
          pb + 4 * b.offset,
          b.strides,
          cond.shape,
        );
      });
      return out;
    }
    const result = cpuBackend.where(
      { ...cond, storage: asCpu(cond.storage) },
      condDtype,
      { ...a, storage: asCpu(a.storage) },
      { ...b, storage: asCpu(b.storage) },
      dtype,
    );
    return adopt(result, dtype);
  },
  copy(view: StridedView, dtype: DType): Storage {
    const kernels = wasmFor(dtype);
    if (!kernels) return cpuBackend.copy({ ...view, storage: asCpu(view.storage) }, dtype);
    const out = allocate(kernels, sizeOf(view.shape), dtype as "float32" | "int32");
    withInputs(kernels, [view.storage], ([src]) => {
      kernels.copyStrided(out.ptr, src + 4 * view.offset, view.shape, view.strides);
    });
    return out;
  },
  writeStrided(dst: Storage, view: Omit<StridedView, "storage">, src: Storage, dtype: DType) {
    const kernels = wasmFor(dtype);
    if (kernels && dst instanceof WasmStorage) {
      withInputs(kernels, [src], ([from]) => {
        kernels.writeStrided(dst.ptr + 4 * view.offset, from, view.shape, view.strides);
      });
      return;
    }
    cpuBackend.writeStrided(asCpu(dst), view, asCpu(src), dtype);
  },

  reduce(op: "sum" | "max" | "min", x: Storage, dtype: DType, axis: AxisGeometry): Storage {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels || axis.size === 0) {
      return adopt(cpuBackend.reduce(op, asCpu(x), dtype, axis), dtype);
    }
    const out = allocate(kernels, axis.outer * axis.inner, "float32");
    withInputs(kernels, [x], ([src]) => {
      kernels.reduce(op, out.ptr, src, axis.outer, axis.size, axis.inner);
    });
    return out;
  },
  argReduce(op: "argmax" | "argmin", x: Storage, dtype: DType, axis: AxisGeometry): Storage {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels || axis.size === 0) {
      return adopt(cpuBackend.argReduce(op, asCpu(x), dtype, axis), "int32");
    }
    const out = allocate(kernels, axis.outer * axis.inner, "int32");
    withInputs(kernels, [x], ([src]) => {
      kernels.argReduce(op, out.ptr, src, axis.outer, axis.size, axis.inner);
    });
    return out;
  },

  argsort(x: Storage, dtype: DType, axis: AxisGeometry, descending: boolean): Storage {
    // Sorting is not a hot path of training: the reference kernel does it.
    return adopt(cpuBackend.argsort(asCpu(x), dtype, axis, descending), "int32");
  },

  matmul(a: Storage, b: Storage, dtype: DType, spec: MatmulSpec): Storage {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels) return cpuBackend.matmul(asCpu(a), asCpu(b), dtype, spec);
    const out = allocate(kernels, spec.batch * spec.m * spec.n, "float32");
    withInputs(kernels, [a, b], ([pa, pb]) => {
      kernels.matmul(out.ptr, pa + 4 * spec.aOffset, pb + 4 * spec.bOffset, spec);
    });
    return out;
  },

  im2col(x: Storage, dtype: DType, g: Conv2dGeometry): Storage {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels) return cpuBackend.im2col(asCpu(x), dtype, g);
    const length = g.n * g.c * g.kernelH * g.kernelW * g.outH * g.outW;
    const out = allocate(kernels, length, "float32");
    withInputs(kernels, [x], ([src]) => kernels.im2col(out.ptr, src, g, g.padValue));
    return out;
  },
  col2im(cols: Storage, dtype: DType, g: Conv2dGeometry): Storage {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels) return cpuBackend.col2im(asCpu(cols), dtype, g);
    const out = allocate(kernels, g.n * g.c * g.h * g.w, "float32");
    withInputs(kernels, [cols], ([src]) => kernels.col2im(out.ptr, src, g));
    return out;
  },

  gather(x: Storage, index: Storage, dtype: DType, axis: AxisGeometry, indexSize: number) {
    const kernels = wasmFor(dtype);
    if (!kernels) return cpuBackend.gather(asCpu(x), asCpu(index), dtype, axis, indexSize);
    const length = axis.outer * indexSize * axis.inner;
    const out = allocate(kernels, length, dtype as "float32" | "int32");
    withInputs(kernels, [x, index], ([px, pi]) => {
      kernels.exports.gather32(out.ptr, px, pi, axis.outer, axis.size, axis.inner, indexSize);
    });
    return out;
  },
  scatterAdd(index: Storage, src: Storage, dtype: DType, axis: AxisGeometry, indexSize: number) {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels) {
      const result = cpuBackend.scatterAdd(asCpu(index), asCpu(src), dtype, axis, indexSize);
      return adopt(result, dtype);
    }
    const out = allocate(kernels, axis.outer * axis.size * axis.inner, "float32");
    withInputs(kernels, [index, src], ([pi, ps]) => {
      kernels.exports.scatterAddF32(out.ptr, pi, ps, axis.outer, axis.size, axis.inner, indexSize);
    });
    return out;
  },
  indexSelect(x: Storage, index: Storage, dtype: DType, axis: AxisGeometry, count: number) {
    const kernels = wasmFor(dtype);
    if (!kernels) return cpuBackend.indexSelect(asCpu(x), asCpu(index), dtype, axis, count);
    const out = allocate(kernels, axis.outer * count * axis.inner, dtype as "float32" | "int32");
    withInputs(kernels, [x, index], ([px, pi]) => {
      kernels.exports.indexSelect32(out.ptr, px, pi, axis.outer, axis.size, axis.inner, count);
    });
    return out;
  },
  indexAdd(index: Storage, src: Storage, dtype: DType, axis: AxisGeometry, count: number) {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels) {
      return adopt(cpuBackend.indexAdd(asCpu(index), asCpu(src), dtype, axis, count), dtype);
    }
    const out = allocate(kernels, axis.outer * axis.size * axis.inner, "float32");
    withInputs(kernels, [index, src], ([pi, ps]) => {
      kernels.exports.indexAddF32(out.ptr, pi, ps, axis.outer, axis.size, axis.inner, count);
    });
    return out;
  },

  maxPool2d(x: Storage, dtype: DType, g: Conv2dGeometry) {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels) return maxPool2dReference(x, dtype, g);
    const length = g.n * g.c * g.outH * g.outW;
    const values = allocate(kernels, length, "float32");
    const indices = allocate(kernels, length, "int32");
    withInputs(kernels, [x], ([src]) => kernels.maxPool2d(values.ptr, indices.ptr, src, g));
    return { values, indices };
  },
  maxPool2dBackward(grad: Storage, indices: Storage, dtype: DType, g: Conv2dGeometry) {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels) return maxPool2dBackwardReference(grad, indices, dtype, g);
    const dx = allocate(kernels, g.n * g.c * g.h * g.w, "float32");
    withInputs(kernels, [grad, indices], ([pg, pi]) => {
      kernels.maxPool2dBackward(dx.ptr, pg, pi, g);
    });
    return dx;
  },

  batchNormTrain(
    x: Storage,
    weight: Storage | null,
    bias: Storage | null,
    dtype: DType,
    g: BatchNormGeometry,
  ) {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels) return batchNormTrainReference(x, weight, bias, dtype, g);
    const out = allocate(kernels, g.n * g.c * g.spatial, "float32");
    const mean = allocate(kernels, g.c, "float32");
    const variance = allocate(kernels, g.c, "float32");
    const invStd = allocate(kernels, g.c, "float32");
    const params = [weight, bias].filter((p): p is Storage => p !== null);
    withInputs(kernels, [x, ...params], ([px, ...pp]) => {
      kernels.channelMeanVar(mean.ptr, variance.ptr, px, g.n, g.c, g.spatial);
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
      kernels.batchNormForward(out.ptr, px, stats, g.n, g.c, g.spatial);
    });
    return { out, mean, variance, invStd };
  },
  batchNormTrainBackward(
    grad: Storage,
    x: Storage,
    weight: Storage | null,
    mean: Storage,
    invStd: Storage,
    dtype: DType,
    g: BatchNormGeometry,
    wanted: { weight: boolean; bias: boolean },
  ) {
    const kernels = dtype === "float32" ? wasmFor(dtype) : null;
    if (!kernels) {
      return batchNormTrainBackwardReference(grad, x, weight, mean, invStd, dtype, g, wanted);
    }
    const dx = allocate(kernels, g.n * g.c * g.spatial, "float32");
    const dWeight = wanted.weight ? allocate(kernels, g.c, "float32") : null;
    const dBias = wanted.bias ? allocate(kernels, g.c, "float32") : null;
    const inputs = [grad, x, mean, invStd, ...(weight ? [weight] : [])];
    withInputs(kernels, inputs, ([pg, px, pm, pi, pw = 0]) => {
      const grads = { dx: dx.ptr, dWeight: dWeight?.ptr ?? 0, dBias: dBias?.ptr ?? 0 };
      const stats = { mean: pm, invStd: pi, weight: pw };
      kernels.batchNormBackward(grads, pg, px, stats, g.n, g.c, g.spatial);
    });
    return { dx, dWeight, dBias };
  },

  optimizerStep(
    param: Storage,
    grad: Storage,
    state: Storage[],
    length: number,
    update: OptimizerUpdate,
  ): void {
    const kernels = wasmFor("float32");
    const inPlace = [param, ...state].every((storage) => storage instanceof WasmStorage);
    const isFloat32 = param instanceof WasmStorage && param.dtype === "float32";
    // RMSprop has no wasm kernel: the reference loop updates the wasm memory in place.
    if (!kernels || !inPlace || !isFloat32 || update.kind === "rmsprop") {
      cpuBackend.optimizerStep(asCpu(param), asCpu(grad), state.map(asCpu), length, update);
      return;
    }
    const [first, second] = state as WasmStorage[];
    withInputs(kernels, [grad], ([pg]) => {
      if (update.kind === "sgd") {
        kernels.sgdStep(param.ptr, pg, first?.ptr ?? 0, length, update);
      } else {
        kernels.adamStep(param.ptr, pg, first.ptr, second.ptr, length, update);
      }
    });
  },
};

/**
 * Max pooling with the reference kernels (float64, or the reference set): a plain loop over each
 * window, in the same order as the wasm kernel, so that ties pick the same pixel.
 */
function maxPool2dReference(x: Storage, dtype: DType, g: Conv2dGeometry) {
  const input = asCpu(x).data;
  const planes = g.n * g.c;
  const pixels = g.outH * g.outW;
  const values = cpuBackend.fill(planes * pixels, 0, dtype) as CpuStorage;
  const indices = new Int32Array(planes * pixels);
  for (let plane = 0, k = 0; plane < planes; plane++) {
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
            const value = input[plane * g.h * g.w + iy * g.w + ix];
            if (value > best || bestIndex < 0) {
              best = value;
              bestIndex = iy * g.w + ix;
            }
          }
        }
        values.data[k] = best;
        indices[k] = bestIndex;
      }
    }
  }
  return { values: adopt(values, dtype), indices: adopt(new CpuStorage(indices), "int32") };
}

/** The backward pass of {@link maxPool2dReference}. */
function maxPool2dBackwardReference(
  grad: Storage,
  indices: Storage,
  dtype: DType,
  g: Conv2dGeometry,
): Storage {
  const dy = asCpu(grad).data;
  const at = asCpu(indices).data;
  const pixels = g.outH * g.outW;
  const dx = cpuBackend.fill(g.n * g.c * g.h * g.w, 0, dtype) as CpuStorage;
  for (let k = 0; k < dy.length; k++) {
    dx.data[Math.floor(k / pixels) * g.h * g.w + at[k]] += dy[k];
  }
  return adopt(dx, dtype);
}

/**
 * Training-mode batch norm with the reference kernels (float64, or the reference set): the same
 * computation as the wasm kernels, as plain loops over `[n, c, spatial]`. For each channel:
 *
 *   mean = sum(x) / m,  var = sum((x - mean)^2) / m,  invStd = 1 / sqrt(var + eps)
 *   out  = (x - mean) * invStd * weight + bias
 */
function batchNormTrainReference(
  x: Storage,
  weight: Storage | null,
  bias: Storage | null,
  dtype: DType,
  g: BatchNormGeometry,
) {
  const input = asCpu(x).data;
  const gamma = weight ? asCpu(weight).data : null;
  const beta = bias ? asCpu(bias).data : null;
  const out = cpuBackend.fill(g.n * g.c * g.spatial, 0, dtype) as CpuStorage;
  const mean = cpuBackend.fill(g.c, 0, dtype) as CpuStorage;
  const variance = cpuBackend.fill(g.c, 0, dtype) as CpuStorage;
  const invStd = cpuBackend.fill(g.c, 0, dtype) as CpuStorage;
  const m = g.n * g.spatial;
  for (let ci = 0; ci < g.c; ci++) {
    let sum = 0;
    forChannel(g, ci, (k) => (sum += input[k]));
    const mu = sum / m;
    let squares = 0;
    forChannel(g, ci, (k) => (squares += (input[k] - mu) ** 2));
    mean.data[ci] = mu;
    variance.data[ci] = squares / m;
    invStd.data[ci] = 1 / Math.sqrt(squares / m + g.eps);
    const scale = invStd.data[ci] * (gamma ? gamma[ci] : 1);
    const shift = beta ? beta[ci] : 0;
    forChannel(g, ci, (k) => (out.data[k] = (input[k] - mean.data[ci]) * scale + shift));
  }
  return {
    out: adopt(out, dtype),
    mean: adopt(mean, dtype),
    variance: adopt(variance, dtype),
    invStd: adopt(invStd, dtype),
  };
}

/**
 * The backward pass of {@link batchNormTrainReference}. With m values per channel and
 * xHat = (x - mean) * invStd:
 *
 *   dBias = sum(dy),  dWeight = sum(dy * xHat)
 *   dx = weight * invStd / m * (m * dy - sum(dy) - xHat * sum(dy * xHat))
 */
function batchNormTrainBackwardReference(
  grad: Storage,
  x: Storage,
  weight: Storage | null,
  mean: Storage,
  invStd: Storage,
  dtype: DType,
  g: BatchNormGeometry,
  wanted: { weight: boolean; bias: boolean },
) {
  const dy = asCpu(grad).data;
  const input = asCpu(x).data;
  const gamma = weight ? asCpu(weight).data : null;
  const mu = asCpu(mean).data;
  const inv = asCpu(invStd).data;
  const dx = cpuBackend.fill(g.n * g.c * g.spatial, 0, dtype) as CpuStorage;
  const dWeight = cpuBackend.fill(g.c, 0, dtype) as CpuStorage;
  const dBias = cpuBackend.fill(g.c, 0, dtype) as CpuStorage;
  const m = g.n * g.spatial;
  for (let ci = 0; ci < g.c; ci++) {
    let sumDy = 0;
    let sumDyXHat = 0;
    forChannel(g, ci, (k) => {
      sumDy += dy[k];
      sumDyXHat += dy[k] * (input[k] - mu[ci]) * inv[ci];
    });
    dBias.data[ci] = sumDy;
    dWeight.data[ci] = sumDyXHat;
    const factor = (gamma ? gamma[ci] : 1) * inv[ci] / m;
    forChannel(g, ci, (k) => {
      const xHat = (input[k] - mu[ci]) * inv[ci];
      dx.data[k] = factor * (m * dy[k] - sumDy - xHat * sumDyXHat);
    });
  }
  return {
    dx: adopt(dx, dtype),
    dWeight: wanted.weight ? adopt(dWeight, dtype) : null,
    dBias: wanted.bias ? adopt(dBias, dtype) : null,
  };
}

/** Calls `visit` with the flat index of every value of channel `ci` in `[n, c, spatial]`. */
function forChannel(g: BatchNormGeometry, ci: number, visit: (k: number) => void): void {
  for (let b = 0; b < g.n; b++) {
    const start = (b * g.c + ci) * g.spatial;
    for (let k = start; k < start + g.spatial; k++) visit(k);
  }
}

function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** A copy of the values, in a typed array of their own (never a view of the wasm memory). */
function readValues(storage: Storage, dtype: DType): TypedArray {
  if (storage instanceof WasmStorage) return storage.data.slice();
  return cpuBackend.readSync!(storage, dtype);
}
