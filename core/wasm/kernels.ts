/**
 * The fast float32 CPU kernels, as a JavaScript API over the wasm memory.
 *
 * Values live in the wasm memory; JavaScript refers to them by byte address (`ptr`), allocates
 * and frees them with {@link WasmKernels.alloc} and {@link WasmKernels.free}, and reads or
 * writes them through typed-array views ({@link WasmKernels.f32}). The methods mirror the
 * kernels of the reference CPU backend; they trust their arguments (the core checks shapes before
 * it calls a kernel).
 *
 * @example
 * ```ts
 * import { WasmKernels } from "./kernels.ts";
 * const kernels = WasmKernels.create();
 * const a = kernels.alloc(4 * 4);
 * kernels.f32(a, 4).set([1, 2, 3, 4]);
 * const c = kernels.alloc(4 * 4);
 * // [2, 2] @ [2, 2]
 * kernels.matmul(c, a, a, { m: 2, n: 2, k: 2 });
 * console.log(kernels.f32(c, 4)); // Float32Array [7, 10, 15, 22]
 * ```
 *
 * @module
 */
import { WasmAllocator } from "./alloc.ts";
import { type Conv2dGeometry, mergeDims } from "../backend.ts";
import { type KernelExports, type LoadedKernels, loadKernels, type LoadOptions } from "./loader.ts";
import { type ChunkedTask, CONTROL_BYTES, type HelperKernel, KernelHelper } from "./threads.ts";

/** A matrix product `C[b] (+)= op(A[b]) @ op(B[b])`, C being `[batch, m, n]`. */
export interface WasmMatmulSpec {
  m: number;
  n: number;
  k: number;
  /** Number of products (default 1). */
  batch?: number;
  /** A is stored `[k, m]` (default false). */
  transA?: boolean;
  /** B is stored `[n, k]` (default false). */
  transB?: boolean;
  /** Add to C instead of overwriting it (default false). */
  accumulate?: boolean;
  /** Elements between consecutive A matrices (default m * k; 0 reuses one). */
  aBatchStride?: number;
  /** Elements between consecutive B matrices (default k * n; 0 reuses one). */
  bBatchStride?: number;
}

/** A convolution or pooling window over `[n, c, h, w]` images (the core's geometry). */
export type WasmWindow = Omit<Conv2dGeometry, "padValue">;

/** The geometry of a direct convolution: stride 1, dilation 1, zero padding below the kernel. */
export interface DirectConv {
  n: number;
  c: number;
  h: number;
  w: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  padH: number;
  padW: number;
}

/** The geometry as the direct convolution kernels take it: n, c, h, w, o, kh, kw, ph, pw. */
function directArgs(g: DirectConv): number[] {
  return [g.n, g.c, g.h, g.w, g.outChannels, g.kernelH, g.kernelW, g.padH, g.padW];
}

/**
 * How many images make one chunk of a direct convolution: about eight chunks a batch, so that
 * either thread can take over what the other has not reached. It depends on the batch size
 * alone, never on the threads, because the weight gradient sums chunk by chunk.
 */
function imagesPerChunk(n: number): number {
  return Math.max(1, Math.ceil(n / 8));
}

/** The output size of a direct convolution (stride 1, dilation 1). */
function directOut(g: DirectConv): { outH: number; outW: number } {
  return { outH: g.h + 2 * g.padH - g.kernelH + 1, outW: g.w + 2 * g.padW - g.kernelW + 1 };
}

/** The largest number of dimensions a strided kernel takes (after merging). */
const MAX_DIMS = 16;

/**
 * Products with at least this many multiply-adds use the second thread (when it exists): about
 * 0.1 ms of work on one core, well above the microseconds a handover costs.
 */
const DEFAULT_THREAD_THRESHOLD = 1 << 21;

/** {@link mergeDims} of the core, with at least one dimension (a single element is `[1]`). */
function mergeForKernel(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const merged = mergeDims(shape, strides);
  return merged.shape.length > 0 ? merged : { shape: [1], strides: strides.map(() => [0]) };
}

/** The float32 kernels over one wasm memory. */
export class WasmKernels {
  /** The module's functions, for kernels this class does not wrap. */
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  readonly allocator: WasmAllocator;
  /** Whether the relaxed-SIMD build runs (fused multiply-add). */
  readonly relaxed: boolean;
  /** Whether the memory is shared, so that a second thread can help. */
  readonly shared: boolean;
  /** Multiply-adds from which a product uses two threads. */
  threadThreshold = DEFAULT_THREAD_THRESHOLD;

  readonly #loaded: LoadedKernels;
  readonly #scratch: number;
  readonly #dims: number;
  readonly #counters: number;
  #helper: KernelHelper | undefined;
  #threads = 1;
  #sharedProducts = 0;
  /** Products so far, and the count below which the second thread is not asked to help. */
  #largeProducts = 0;
  #oneThreadUntil = 0;
  /** Shared products in a row where the second thread finished long after this one. */
  #slowHandovers = 0;
  #heapF32: Float32Array;
  #heapI32: Int32Array;

  private constructor(loaded: LoadedKernels) {
    this.#loaded = loaded;
    this.exports = loaded.exports;
    this.memory = loaded.memory;
    this.relaxed = loaded.relaxed;
    this.shared = loaded.shared;
    this.allocator = new WasmAllocator(loaded.memory, loaded.exports.heapBase());
    this.#scratch = this.allocator.alloc(this.exports.matmulScratchBytes());
    this.#dims = this.allocator.alloc(4 * 4 * MAX_DIMS);
    this.#counters = this.allocator.alloc(4 * MAX_DIMS);
    this.#heapF32 = new Float32Array(loaded.memory.buffer);
    this.#heapI32 = new Int32Array(loaded.memory.buffer);
    if (KernelHelper.supported(loaded)) this.setThreads(2);
  }

  /** Loads the kernel module over a fresh memory. */
  static create(options: LoadOptions = {}): WasmKernels {
    return new WasmKernels(loadKernels(options));
  }

  /** How many threads large matrix products use (1 or 2). */
  get threads(): number {
    return this.#threads;
  }

  /**
   * Sets how many threads large matrix products use: 2 where the memory is shared and workers
   * exist (asking for 2 elsewhere gives 1), else 1.
   */
  setThreads(threads: 1 | 2): void {
    if (threads === 2 && KernelHelper.supported(this.#loaded)) {
      this.#helper ??= new KernelHelper(
        this.#loaded,
        this.allocator.alloc(CONTROL_BYTES),
        this.allocator.alloc(this.exports.matmulScratchBytes()),
      );
      this.#threads = 2;
    } else {
      this.#helper?.stop();
      this.#threads = 1;
    }
  }

  /** How many products so far were shared with the second thread. */
  get sharedProducts(): number {
    return this.#sharedProducts;
  }

  /** Stops the helper thread now (it also stops by itself after half a second of idleness). */
  stopThreads(): void {
    this.#helper?.stop();
  }

  /** A block of `bytes` bytes (contents undefined). */
  alloc(bytes: number): number {
    return this.allocator.alloc(bytes);
  }

  /** Gives a block back. */
  free(ptr: number): void {
    this.allocator.free(ptr);
  }

  /** A float32 view of `length` values at `ptr` (valid until the memory next grows). */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  /** An int32 view of `length` values at `ptr` (valid until the memory next grows). */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  /** The whole memory as float32 (indexed by `ptr / 4`), refreshed after growth. */
  get heapF32(): Float32Array {
    if (this.#heapF32.byteLength !== this.memory.buffer.byteLength) {
      this.#heapF32 = new Float32Array(this.memory.buffer);
      this.#heapI32 = new Int32Array(this.memory.buffer);
    }
    return this.#heapF32;
  }

  /** The whole memory as int32 (indexed by `ptr / 4`), refreshed after growth. */
  get heapI32(): Int32Array {
    void this.heapF32;
    return this.#heapI32;
  }

  // ---- Matrix products ----

  /** `C[b] (+)= op(A[b]) @ op(B[b])` (see {@link WasmMatmulSpec}). */
  matmul(c: number, a: number, b: number, spec: WasmMatmulSpec): void {
    const { m, n, k } = spec;
    const batch = spec.batch ?? 1;
    const args = [
      c,
      a,
      b,
      batch,
      m,
      n,
      k,
      spec.transA ? 1 : 0,
      spec.transB ? 1 : 0,
      spec.accumulate ? 1 : 0,
      spec.aBatchStride ?? m * k,
      spec.bBatchStride ?? k * n,
    ];
    const rows = batch * m;
    // Two chunks of rows, cut at a multiple of 4 (the kernel's row block): each call packs B
    // again, which more chunks would repeat.
    const half = Math.max(4, Math.round(rows / 8) * 4);
    const task = { kernel: "matmul" as const, args, total: rows, unit: half };
    this.#share(task, rows >= 8 && batch * m * n * k >= this.threadThreshold, this.#scratch, () => {
      this.exports.matmul(...args, this.#scratch, 0, rows);
    }, this.#helper?.scratch ?? 0);
  }

  /**
   * Runs a chunked task: on both threads where the work is large (`large`), the second thread
   * exists and has kept up lately; else `alone()` does it here. `helperScratch` is the worker's
   * scratch memory.
   */
  #share(
    task: Omit<ChunkedTask, "helperScratch">,
    large: boolean,
    ownScratch: number,
    alone: () => void,
    helperScratch: number,
  ): void {
    this.#largeProducts++;
    if (!(this.#threads === 2 && large && this.#largeProducts >= this.#oneThreadUntil)) {
      alone();
      return;
    }
    const own = this.exports[task.kernel];
    const helped = this.#helper!.run(
      { ...task, helperScratch },
      ownScratch,
      (args) => own(...args),
    );
    if (helped > 0) {
      this.#sharedProducts++;
      this.#judgeHelper(this.#helper!.ownMs, this.#helper!.waitedMs);
    }
  }

  /**
   * Stops handing work to the second thread for a while when it keeps finishing its half long
   * after this thread: on a machine whose other cores are busy it gets no core of its own, and
   * waiting for it is slower than doing the whole product here.
   */
  #judgeHelper(ownPart: number, waited: number): void {
    if (waited > 0.5 * ownPart + 0.05) this.#slowHandovers++;
    else this.#slowHandovers = 0;
    if (this.#slowHandovers >= 3) {
      this.#slowHandovers = 0;
      this.#oneThreadUntil = this.#largeProducts + 200;
    }
  }

  // ---- Elementwise ----

  /** The op code of an op of the table, or undefined when the wasm kernels lack it. */
  opCode(kind: "unary" | "binary" | "reduce", op: string): number | undefined {
    const name = `${kind}_${op}`;
    if (!this.#opCodes.has(name)) {
      const global = this.exports[name];
      this.#opCodes.set(name, global instanceof WebAssembly.Global ? global.value : undefined);
    }
    return this.#opCodes.get(name);
  }
  /** Op codes looked up so far, by export name. */
  #opCodes = new Map<string, number | undefined>();

  /**
   * `out[i] = op(x[i])` for an op of the op table, with its parameters. Returns false (doing
   * nothing) when the wasm kernels lack the op.
   */
  unary(op: string, out: number, x: number, length: number, params: readonly number[] = []) {
    const code = this.opCode("unary", op);
    if (code === undefined) return false;
    this.exports.unaryF32(code, out, x, length, params[0] ?? 0, params[1] ?? 0);
    return true;
  }

  /**
   * `out = a op b` over broadcast views: `shape` is the output's, `aStrides` and `bStrides` the
   * element strides of each input (0 where it is broadcast); `a` and `b` are the addresses of
   * their first elements. Returns false when the wasm kernels lack the op.
   */
  binary(
    op: string,
    out: number,
    a: number,
    aStrides: readonly number[],
    b: number,
    bStrides: readonly number[],
    shape: readonly number[],
  ): boolean {
    const code = this.opCode("binary", op);
    if (code === undefined) return false;
    const merged = mergeForKernel(shape, [aStrides, bStrides]);
    const ndim = this.#writeDims(merged.shape, merged.strides);
    this.exports.binaryF32(code, out, a, b, ndim, this.#dims, this.#counters);
    return true;
  }

  /** `out = cond != 0 ? a : b` over broadcast views (strides in elements, as for binary). */
  where(
    out: number,
    cond: number,
    condIsInt: boolean,
    condStrides: readonly number[],
    a: number,
    aStrides: readonly number[],
    b: number,
    bStrides: readonly number[],
    shape: readonly number[],
  ): void {
    const merged = mergeForKernel(shape, [condStrides, aStrides, bStrides]);
    const ndim = this.#writeDims(merged.shape, merged.strides);
    this.exports.whereF32(out, cond, condIsInt ? 1 : 0, a, b, ndim, this.#dims, this.#counters);
  }

  // ---- Layout ----

  /** Fills `length` float32 values with `value`. */
  fill(out: number, length: number, value: number): void {
    this.exports.fill32(out, length, floatBits(value));
  }

  /** Fills `length` int32 values with `value`. */
  fillInt(out: number, length: number, value: number): void {
    this.exports.fill32(out, length, value | 0);
  }

  /** A contiguous copy of a strided view of 4-byte values starting at `x`. */
  copyStrided(out: number, x: number, shape: readonly number[], strides: readonly number[]): void {
    const merged = mergeForKernel(shape, [strides]);
    const ndim = this.#writeDims(merged.shape, merged.strides);
    this.exports.copyStrided32(out, x, ndim, this.#dims, this.#counters);
  }

  /** Writes contiguous `src` through a strided view starting at `dst`. */
  writeStrided(dst: number, src: number, shape: readonly number[], strides: readonly number[]) {
    const merged = mergeForKernel(shape, [strides]);
    const ndim = this.#writeDims(merged.shape, merged.strides);
    this.exports.writeStrided32(dst, src, ndim, this.#dims, this.#counters);
  }

  /** Writes shapes and strides for a strided kernel; returns the number of dimensions. */
  #writeDims(shape: readonly number[], strides: readonly (readonly number[])[]): number {
    const ndim = shape.length;
    if (ndim > MAX_DIMS) {
      throw new Error(`wasm kernels: ${ndim} dimensions after merging; at most ${MAX_DIMS}`);
    }
    const dims = this.heapI32;
    const base = this.#dims >> 2;
    for (let d = 0; d < ndim; d++) dims[base + d] = shape[d];
    strides.forEach((s, i) => {
      for (let d = 0; d < ndim; d++) dims[base + (i + 1) * ndim + d] = s[d];
    });
    return ndim;
  }

  // ---- Reductions ----

  /** Reduces the middle axis of `[outer, size, inner]` to `[outer, inner]`. */
  reduce(
    op: "sum" | "max" | "min",
    out: number,
    x: number,
    outer: number,
    size: number,
    inner: number,
  ): void {
    this.exports.reduceF32(this.opCode("reduce", op)!, out, x, outer, size, inner);
  }

  /** The index (int32) of the first maximum or minimum along the middle axis. */
  argReduce(
    op: "argmax" | "argmin",
    out: number,
    x: number,
    outer: number,
    size: number,
    inner: number,
  ): void {
    this.exports.argReduceF32(op === "argmax" ? 1 : 0, out, x, outer, size, inner);
  }

  // ---- Convolution and pooling ----

  /** Unfolds patches: `[n, c, h, w]` to `[n, c * kernelH * kernelW, outH * outW]`. */
  im2col(cols: number, x: number, g: WasmWindow, padValue = 0): void {
    this.exports.im2colF32(cols, x, ...windowArgs(g), padValue);
  }

  /** The adjoint of im2col: sums columns back into `[n, c, h, w]` images. */
  col2im(x: number, cols: number, g: WasmWindow): void {
    this.exports.col2imF32(x, cols, ...windowArgs(g));
  }

  /**
   * Direct convolution, stride 1 and dilation 1 (no im2col): `out[n, o, outH, outW]` from
   * `x[n, c, h, w]`, `weight[o, c, kh, kw]` and `bias[o]` (0: none).
   */
  conv2dDirect(out: number, x: number, weight: number, bias: number, g: DirectConv): void {
    const args = [out, x, weight, bias, ...directArgs(g)];
    this.#byImages("conv2dDirectF32", args, g, this.exports.conv2dDirectScratch);
  }

  /** The gradient of {@link conv2dDirect} with respect to its input, `dx[n, c, h, w]`. */
  conv2dDirectBackwardInput(dx: number, dy: number, weight: number, g: DirectConv): void {
    const args = [dx, dy, weight, ...directArgs(g)];
    const scratchBytes = this.exports.conv2dDirectBackwardInputScratch;
    this.#byImages("conv2dDirectBackwardInputF32", args, g, scratchBytes);
  }

  /**
   * The gradient of {@link conv2dDirect} with respect to its weight, `dw[o, c, kh, kw]`: one sum
   * per chunk of images (whichever thread computes it), then the sums added in chunk order, so
   * that the result does not depend on the threads.
   */
  conv2dDirectBackwardWeight(dw: number, dy: number, x: number, g: DirectConv): void {
    const size = g.outChannels * g.c * g.kernelH * g.kernelW;
    const unit = imagesPerChunk(g.n);
    const chunks = Math.ceil(g.n / unit);
    const slots = chunks > 1 ? this.alloc(4 * size * chunks) : dw;
    try {
      const args = [slots, dy, x, ...directArgs(g), unit];
      const scratchBytes = this.exports.conv2dDirectBackwardWeightScratch;
      this.#byImages("conv2dDirectBackwardWeightF32", args, g, scratchBytes, true);
      if (chunks === 1) return;
      this.exports.copy32(dw, slots, size);
      for (let chunk = 1; chunk < chunks; chunk++) {
        this.exports.addInto(dw, slots + 4 * size * chunk, size);
      }
    } finally {
      if (slots !== dw) this.free(slots);
    }
  }

  /**
   * Runs a direct convolution kernel over the `g.n` images, `imagesPerChunk` at a time, shared
   * with the second thread when the work is large. Each thread gets scratch memory of its own.
   * Without `byChunk`, a task that stays on this thread runs as one call over every image.
   */
  #byImages(
    kernel: HelperKernel,
    args: number[],
    g: DirectConv,
    scratchBytes: (...geometry: number[]) => number,
    byChunk = false,
  ): void {
    const { outH, outW } = directOut(g);
    const work = g.n * g.outChannels * outH * outW * g.c * g.kernelH * g.kernelW;
    const bytes = scratchBytes(...directArgs(g));
    const unit = imagesPerChunk(g.n);
    const scratch = this.alloc(bytes);
    const large = work >= this.threadThreshold && g.n > unit;
    const helperScratch = large && this.#threads === 2 ? this.alloc(bytes) : 0;
    const own = this.exports[kernel];
    try {
      this.#share({ kernel, args, total: g.n, unit }, large, scratch, () => {
        if (!byChunk) return own(...args, scratch, 0, g.n);
        for (let start = 0; start < g.n; start += unit) {
          own(...args, scratch, start, Math.min(g.n, start + unit));
        }
      }, helperScratch);
    } finally {
      this.free(scratch);
      if (helperScratch) this.free(helperScratch);
    }
  }

  /** Max pooling with the int32 index (within its plane) of each maximum. */
  maxPool2d(out: number, indices: number, x: number, g: WasmWindow): void {
    const [n, c, ...rest] = windowArgs(g);
    this.exports.maxPool2dF32(out, indices, x, n * c, ...rest);
  }

  /** The backward pass of max pooling, from the indices of the forward pass. */
  maxPool2dBackward(dx: number, dy: number, indices: number, g: WasmWindow): void {
    this.exports.maxPool2dBackwardF32(dx, dy, indices, g.n * g.c, g.h * g.w, g.outH * g.outW);
  }

  // ---- Batch normalization ----

  /** Per-channel mean and biased variance of `[n, c, inner]` (each written as `[c]`). */
  channelMeanVar(mean: number, variance: number, x: number, n: number, c: number, inner: number) {
    this.exports.channelMeanVarF32(mean, variance, x, n, c, inner);
  }

  /** `out = (x - mean) * invStd * weight + bias` per channel; a 0 weight or bias means none. */
  batchNormForward(
    out: number,
    x: number,
    stats: { mean: number; invStd: number; weight: number; bias: number },
    n: number,
    c: number,
    inner: number,
  ): void {
    const { mean, invStd, weight, bias } = stats;
    this.exports.batchNormForwardF32(out, x, mean, invStd, weight, bias, n, c, inner);
  }

  /** The backward pass of training-mode batch norm; a 0 dWeight or dBias is not computed. */
  batchNormBackward(
    grads: { dx: number; dWeight: number; dBias: number },
    dy: number,
    x: number,
    stats: { mean: number; invStd: number; weight: number },
    n: number,
    c: number,
    inner: number,
  ): void {
    const { dx, dWeight, dBias } = grads;
    const { mean, invStd, weight } = stats;
    this.exports.batchNormBackwardF32(dx, dWeight, dBias, dy, x, mean, invStd, weight, n, c, inner);
  }

  // ---- Optimizers ----

  /** SGD with momentum, in place (see optim.ts for the formula). */
  sgdStep(
    param: number,
    grad: number,
    velocity: number,
    length: number,
    o: {
      lr: number;
      momentum: number;
      dampening: number;
      weightDecay: number;
      nesterov: boolean;
      firstStep: boolean;
    },
  ): void {
    this.exports.sgdStepF32(
      param,
      grad,
      velocity,
      length,
      o.lr,
      o.momentum,
      o.dampening,
      o.weightDecay,
      o.nesterov ? 1 : 0,
      o.firstStep ? 1 : 0,
    );
  }

  /** Adam or AdamW, in place, at step `o.step` (from 1). */
  adamStep(
    param: number,
    grad: number,
    m: number,
    v: number,
    length: number,
    o: {
      lr: number;
      beta1: number;
      beta2: number;
      eps: number;
      weightDecay: number;
      decoupled: boolean;
      step: number;
    },
  ): void {
    this.exports.adamStepF32(
      param,
      grad,
      m,
      v,
      length,
      o.lr,
      o.beta1,
      o.beta2,
      o.eps,
      o.weightDecay,
      o.decoupled ? 1 : 0,
      o.step,
    );
  }
}

/** The bit pattern of a float32, as an int32. */
function floatBits(value: number): number {
  floatScratch[0] = value;
  return intScratch[0];
}
const floatScratch = new Float32Array(1);
const intScratch = new Int32Array(floatScratch.buffer);

function windowArgs(g: WasmWindow): number[] {
  return [
    g.n,
    g.c,
    g.h,
    g.w,
    g.kernelH,
    g.kernelW,
    g.strideH,
    g.strideW,
    g.padH,
    g.padW,
    g.dilationH,
    g.dilationW,
    g.outH,
    g.outW,
  ];
}
