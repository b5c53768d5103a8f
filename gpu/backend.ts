/**
 * The WebGPU backend: the core's kernels (`core/backend.ts`) as WGSL compute shaders.
 *
 * Storage is a pooled GPU buffer of 32-bit elements (`f32` for float32, `i32` for int32; WGSL
 * has no 64-bit floats, so float64 gets an error that says so). Every kernel records its work
 * and returns at once; only `read` waits for the GPU. Kernels are generated from small WGSL
 * templates in `kernels/`, compiled once per variant and cached by a key that names the variant
 * (`binary:add:f32:f32:2:contiguous,scalar`).
 *
 * @module
 */
import {
  type AxisGeometry,
  type Backend,
  type Conv2dGeometry,
  type KernelProvider,
  type MatmulSpec,
  type OptimizerUpdate,
  registerKernel,
  type Storage,
  type StridedView,
} from "../core/backend.ts";
import type { DType, TypedArray } from "../core/dtype.ts";
import type { BinaryOp, UnaryOp } from "../core/ops/table.ts";
import { type Binding, GpuRuntime } from "./runtime.ts";
import type { PooledBuffer, PoolStats } from "./pool.ts";
import { groupsFor, mergeDims, type Scalar, scalarOf, viewKind } from "./kernels/common.ts";
import {
  binaryShader,
  castShader,
  copyShader,
  fillShader,
  stridedPlan,
  unaryParams,
  unaryShader,
  whereShader,
  writeStridedShader,
} from "./kernels/elementwise.ts";
import { argReduceShader, planReduce, type ReduceMode, reduceShader } from "./kernels/reduce.ts";
import { matmulKey, matmulLaunch, matmulShader, matmulVariant } from "./kernels/matmul.ts";
import { col2imShader, convParams, im2colShader } from "./kernels/conv.ts";
import {
  argsortShader,
  gatherShader,
  indexAddShader,
  indexingParams,
  indexSelectShader,
  scatterAddShader,
} from "./kernels/indexing.ts";
import { adamShader, optimizerParams, rmspropShader, sgdShader } from "./kernels/optimizer.ts";
import { Params } from "./kernels/common.ts";

/** WebGPU storage: a pooled GPU buffer holding `length` 32-bit elements. */
export class GpuStorage implements Storage {
  readonly device = "webgpu" as const;
  refs = 0;
  #buffer: PooledBuffer | null;

  constructor(readonly length: number, buffer: PooledBuffer, readonly owner: WebGPUBackend) {
    this.#buffer = buffer;
  }

  /** The buffer (an error once the storage was freed). */
  get buffer(): PooledBuffer {
    if (!this.#buffer) {
      throw new Error(`webgpu: this storage of ${this.length} elements was already freed`);
    }
    return this.#buffer;
  }

  /** Detaches the buffer (for the pool); returns null when already freed. */
  take(): PooledBuffer | null {
    const buffer = this.#buffer;
    this.#buffer = null;
    return buffer;
  }
}

/** A strided view without its storage, as the kernels index it. */
type Layout = Omit<StridedView, "storage">;

/** The WebGPU implementation of the core's {@link Backend} interface. */
export class WebGPUBackend implements Backend {
  readonly device = "webgpu" as const;
  /**
   * WebGPU registers the optimizer steps (see the end of this file); every other fused kernel
   * is composed by the ops from the kernels below.
   */
  kernelProvider(): KernelProvider {
    return "webgpu";
  }
  /** The runtime that records and submits GPU work (exposed for tests and benchmarks). */
  readonly runtime: GpuRuntime;
  /** The largest tensor binding the device allows, in bytes. */
  readonly maxBindingBytes: number;

  /**
   * @param gpu the device to run on
   * @param adapterName a human-readable name of the adapter, for messages and benchmarks
   */
  constructor(readonly gpu: GPUDevice, readonly adapterName = "WebGPU adapter") {
    this.runtime = new GpuRuntime(gpu);
    this.maxBindingBytes = gpu.limits.maxStorageBufferBindingSize;
  }

  /** Counts of live and pooled tensor buffers. */
  stats(): PoolStats {
    return this.runtime.stats();
  }

  /** Submits recorded work now (it is also submitted at the next await, and by `read`). */
  flush(): void {
    this.runtime.flush();
  }

  // ---- storage -------------------------------------------------------------------------------

  upload(values: TypedArray): Storage {
    if (values instanceof Float64Array) scalarOf("float64", "upload");
    const out = this.#alloc(values.length, "upload");
    this.runtime.write(out.buffer, values);
    return out;
  }

  async read(storage: Storage, dtype: DType): Promise<TypedArray> {
    const type = scalarOf(dtype, "read");
    const s = this.#own(storage, "read");
    const bytes = await this.runtime.read(s.buffer, s.length * 4);
    return type === "i32" ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  free(storage: Storage): void {
    if (!(storage instanceof GpuStorage) || storage.owner !== this) return;
    const buffer = storage.take();
    if (buffer && !this.runtime.isLost) this.runtime.storage.release(buffer);
  }

  fill(length: number, value: number, dtype: DType): Storage {
    const type = scalarOf(dtype, "fill");
    const out = this.#alloc(length, "fill");
    if (value === 0) {
      this.runtime.clear(out.buffer, length * 4);
      return out;
    }
    const params = new Params();
    params.u32(length);
    params.scalar(value, type);
    this.#launch(`fill:${type}`, () => fillShader(type), [out], params.finish(), groupsFor(length));
    return out;
  }

  cast(x: Storage, length: number, from: DType, to: DType): Storage {
    const source = scalarOf(from, "cast");
    const target = scalarOf(to, "cast");
    const input = this.#own(x, "cast");
    const out = this.#alloc(length, "cast");
    if (source === target) {
      this.runtime.copy(input.buffer, 0, out.buffer, 0, length * 4);
      return out;
    }
    const params = Uint32Array.of(length);
    this.#launch(
      `cast:${source}:${target}`,
      () => castShader(source, target),
      [input, out],
      params,
      groupsFor(length),
    );
    return out;
  }

  // ---- elementwise ---------------------------------------------------------------------------

  unary(op: UnaryOp, x: Storage, length: number, dtype: DType, params: readonly number[]) {
    const type = scalarOf(dtype, op);
    const input = this.#own(x, op);
    const out = this.#alloc(length, op);
    this.#launch(
      `unary:${op}:${type}`,
      () => unaryShader(op, type),
      [input, out],
      unaryParams(length, type, params),
      groupsFor(length),
    );
    return out;
  }

  binary(op: BinaryOp, a: StridedView, b: StridedView, inDtype: DType, outDtype: DType) {
    const inType = scalarOf(inDtype, op);
    const outType = scalarOf(outDtype, op);
    const merged = mergeDims(a.shape, [a, b]);
    const plan = stridedPlan(merged.shape, merged.views);
    const inputs = [this.#own(a.storage, op), this.#own(b.storage, op)];
    const out = this.#alloc(plan.count, op);
    this.#launch(
      `binary:${op}:${inType}:${outType}:${plan.key}`,
      () => binaryShader(op, inType, outType, plan.layout),
      [...inputs, out],
      plan.params,
      groupsFor(plan.count),
    );
    return out;
  }

  where(cond: StridedView, condDtype: DType, a: StridedView, b: StridedView, dtype: DType) {
    const condType = scalarOf(condDtype, "where");
    const type = scalarOf(dtype, "where");
    const merged = mergeDims(a.shape, [cond, a, b]);
    const plan = stridedPlan(merged.shape, merged.views);
    const inputs = [cond, a, b].map((v) => this.#own(v.storage, "where"));
    const out = this.#alloc(plan.count, "where");
    this.#launch(
      `where:${condType}:${type}:${plan.key}`,
      () => whereShader(condType, type, plan.layout),
      [...inputs, out],
      plan.params,
      groupsFor(plan.count),
    );
    return out;
  }

  copy(view: StridedView, dtype: DType): Storage {
    const type = scalarOf(dtype, "copy");
    const input = this.#own(view.storage, "copy");
    const merged = mergeDims(view.shape, [view]);
    const plan = stridedPlan(merged.shape, merged.views);
    const out = this.#alloc(plan.count, "copy");
    if (plan.layout.kinds[0] === "contiguous" || plan.count === 1) {
      // A contiguous range (a reshape-like slice): one buffer copy, no kernel.
      this.runtime.copy(input.buffer, view.offset * 4, out.buffer, 0, plan.count * 4);
      return out;
    }
    this.#launch(
      `copy:${type}:${plan.key}`,
      () => copyShader(type, plan.layout),
      [input, out],
      plan.params,
      groupsFor(plan.count),
    );
    return out;
  }

  writeStrided(dst: Storage, view: Layout, src: Storage, dtype: DType): void {
    const type = scalarOf(dtype, "writeStrided");
    const target = this.#own(dst, "writeStrided");
    const source = this.#own(src, "writeStrided");
    const merged = mergeDims(view.shape, [view]);
    const { shape } = merged;
    const { strides } = merged.views[0];
    const count = shape.reduce((n, d) => n * d, 1);
    if (count === 0) return;
    if (viewKind(shape, strides) === "contiguous" || count === 1) {
      this.runtime.copy(source.buffer, 0, target.buffer, view.offset * 4, count * 4);
      return;
    }
    const params = new Params();
    params.u32s([count, view.offset, ...shape, ...strides]);
    this.#launch(
      `writeStrided:${type}:${shape.length}`,
      () => writeStridedShader(type, shape.length),
      [target, source],
      params.finish(),
      groupsFor(count),
    );
  }

  // ---- reductions ----------------------------------------------------------------------------

  reduce(op: "sum" | "max" | "min", x: Storage, dtype: DType, axis: AxisGeometry): Storage {
    const type = scalarOf(dtype, op);
    const input = this.#own(x, op);
    const { outer, size, inner } = axis;
    if (size === 0) return this.fill(outer * inner, 0, dtype);
    if (size === 1) return this.cast(input, outer * inner, dtype, dtype);
    const plan = planReduce(outer, size, inner);
    const partial = this.#reducePass(op, type, input, axis, plan);
    if (plan.chunks === 1) return partial;
    // A second pass reduces the partial results of the chunks.
    const out = this.reduce(op, partial, dtype, { outer, size: plan.chunks, inner });
    this.free(partial);
    return out;
  }

  argReduce(op: "argmax" | "argmin", x: Storage, dtype: DType, axis: AxisGeometry): Storage {
    const type = scalarOf(dtype, op);
    const input = this.#own(x, op);
    const { outer, size, inner } = axis;
    const plan = planReduce(outer, size, inner, false);
    const outputs = outer * inner;
    const out = this.#alloc(outputs, op);
    this.#launch(
      `${op}:${type}:${plan.mode}`,
      () => argReduceShader(op, type, plan.mode),
      [input, out],
      reduceParams(axis, size, 1, outputs),
      plan.mode === "loop" ? groupsFor(outputs) : outputs,
    );
    return out;
  }

  argsort(x: Storage, dtype: DType, axis: AxisGeometry, descending: boolean): Storage {
    const type = scalarOf(dtype, "sort");
    const input = this.#own(x, "sort");
    const outputs = axis.outer * axis.size * axis.inner;
    const out = this.#alloc(outputs, "sort");
    if (outputs === 0) return out;
    const params = new Params();
    params.u32s([axis.outer, axis.size, axis.inner, descending ? 1 : 0, outputs]);
    this.#launch(
      `argsort:${type}`,
      () => argsortShader(type),
      [input, out],
      params.finish(),
      groupsFor(outputs),
    );
    return out;
  }

  #reducePass(
    op: "sum" | "max" | "min",
    type: Scalar,
    input: GpuStorage,
    axis: AxisGeometry,
    plan: { mode: ReduceMode; chunks: number; chunkLength: number },
  ): GpuStorage {
    const outputs = axis.outer * plan.chunks * axis.inner;
    const out = this.#alloc(outputs, op);
    this.#launch(
      `${op}:${type}:${plan.mode}`,
      () => reduceShader(op, type, plan.mode),
      [input, out],
      reduceParams(axis, plan.chunkLength, plan.chunks, outputs),
      plan.mode === "loop" ? groupsFor(outputs) : outputs,
    );
    return out;
  }

  // ---- linear algebra and convolution --------------------------------------------------------

  matmul(a: Storage, b: Storage, dtype: DType, spec: MatmulSpec): Storage {
    const type = scalarOf(dtype, "matmul");
    if (type !== "f32") throw new TypeError(`matmul: expected float32 tensors, got ${dtype}`);
    const left = this.#own(a, "matmul");
    const right = this.#own(b, "matmul");
    const count = spec.batch * spec.m * spec.n;
    if (spec.k === 0) return this.fill(count, 0, dtype);
    const out = this.#alloc(count, "matmul");
    const variant = matmulVariant(spec);
    const { groups, params } = matmulLaunch(spec, variant);
    this.#launch(
      `matmul:${matmulKey(variant)}`,
      () => matmulShader(variant),
      [left, right, out],
      params,
      groups,
    );
    return out;
  }

  im2col(x: Storage, dtype: DType, g: Conv2dGeometry): Storage {
    const type = scalarOf(dtype, "im2col");
    const count = g.n * g.c * g.kernelH * g.kernelW * g.outH * g.outW;
    const input = this.#own(x, "im2col");
    const out = this.#alloc(count, "im2col");
    this.#launch(
      `im2col:${type}`,
      () => im2colShader(type),
      [input, out],
      convParams(g, type, count),
      groupsFor(count),
    );
    return out;
  }

  col2im(cols: Storage, dtype: DType, g: Conv2dGeometry): Storage {
    const type = scalarOf(dtype, "col2im");
    const count = g.n * g.c * g.h * g.w;
    const input = this.#own(cols, "col2im");
    const out = this.#alloc(count, "col2im");
    this.#launch(
      `col2im:${type}`,
      () => col2imShader(type),
      [input, out],
      convParams(g, type, count),
      groupsFor(count),
    );
    return out;
  }

  // ---- indexing ------------------------------------------------------------------------------

  gather(x: Storage, index: Storage, dtype: DType, axis: AxisGeometry, indexSize: number) {
    const count = axis.outer * indexSize * axis.inner;
    return this.#indexing("gather", gatherShader, x, index, dtype, axis, indexSize, count);
  }

  scatterAdd(index: Storage, src: Storage, dtype: DType, axis: AxisGeometry, indexSize: number) {
    const count = axis.outer * axis.size * axis.inner;
    return this.#indexing(
      "scatterAdd",
      scatterAddShader,
      src,
      index,
      dtype,
      axis,
      indexSize,
      count,
    );
  }

  indexSelect(x: Storage, index: Storage, dtype: DType, axis: AxisGeometry, count: number) {
    const outputs = axis.outer * count * axis.inner;
    return this.#indexing("indexSelect", indexSelectShader, x, index, dtype, axis, count, outputs);
  }

  indexAdd(index: Storage, src: Storage, dtype: DType, axis: AxisGeometry, count: number) {
    const outputs = axis.outer * axis.size * axis.inner;
    return this.#indexing("indexAdd", indexAddShader, src, index, dtype, axis, count, outputs);
  }

  #indexing(
    op: string,
    shader: (type: Scalar) => string,
    values: Storage,
    index: Storage,
    dtype: DType,
    axis: AxisGeometry,
    indexSize: number,
    outputs: number,
  ): Storage {
    const type = scalarOf(dtype, op);
    const inputs = [this.#own(values, op), this.#own(index, op)];
    const out = this.#alloc(outputs, op);
    if (axis.size === 0 && outputs > 0) {
      throw new RangeError(`${op}: cannot index into a dimension of size 0`);
    }
    this.#launch(
      `${op}:${type}`,
      () => shader(type),
      [...inputs, out],
      indexingParams(axis, indexSize, outputs),
      groupsFor(outputs),
    );
    return out;
  }

  // ---- optimizers ----------------------------------------------------------------------------

  optimizerStep(
    param: Storage,
    grad: Storage,
    state: Storage[],
    length: number,
    update: OptimizerUpdate,
  ): void {
    const op = `optimizerStep(${update.kind})`;
    const buffers = [param, grad, ...state].map((s) => this.#own(s, op));
    const params = optimizerParams(length, update);
    if (update.kind === "adam") {
      if (state.length < 2) throw new Error(`${op}: expected 2 state buffers (m, v)`);
      this.#launch("adam", adamShader, buffers.slice(0, 4), params, groupsFor(length));
      return;
    }
    if (update.kind === "rmsprop") {
      const withMomentum = update.momentum > 0;
      const needed = 1 + (withMomentum ? 1 : 0) + (update.centered ? 1 : 0);
      if (state.length < needed) throw new Error(`${op}: expected ${needed} state buffers`);
      this.#launch(
        `rmsprop:${withMomentum}:${update.centered}`,
        () => rmspropShader(withMomentum, update.centered),
        buffers.slice(0, 2 + needed),
        params,
        groupsFor(length),
      );
      return;
    }
    const withMomentum = update.momentum !== 0;
    if (withMomentum && state.length < 1) throw new Error(`${op}: expected a momentum buffer`);
    this.#launch(
      `sgd:${withMomentum}`,
      () => sgdShader(withMomentum),
      buffers.slice(0, withMomentum ? 3 : 2),
      params,
      groupsFor(length),
    );
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** New storage of `length` elements, with the device's binding limit checked. */
  #alloc(length: number, op: string): GpuStorage {
    this.runtime.check();
    const bytes = length * 4;
    if (bytes > this.maxBindingBytes) {
      throw new RangeError(
        `${op}: a tensor of ${length} elements (${bytes} bytes) exceeds this WebGPU device's ` +
          `maxStorageBufferBindingSize of ${this.maxBindingBytes} bytes; split the work into ` +
          `smaller tensors (a smaller batch) or keep it on the CPU`,
      );
    }
    return new GpuStorage(length, this.runtime.storage.acquire(Math.max(bytes, 4)), this);
  }

  /** `storage` as this backend's storage, or an error naming the op. */
  #own(storage: Storage, op: string): GpuStorage {
    if (!(storage instanceof GpuStorage)) {
      throw new Error(`${op}: expected a tensor on "webgpu", got one on "${storage.device}"`);
    }
    if (storage.owner !== this) {
      throw new Error(
        `${op}: this tensor belongs to an earlier WebGPU device (lost or replaced); ` +
          `create it again on the current one`,
      );
    }
    return storage;
  }

  #launch(
    key: string,
    code: () => string,
    storages: GpuStorage[],
    params: Uint32Array,
    workgroups: number,
  ): void {
    const pipeline = this.runtime.pipeline(key, code);
    const bindings: Binding[] = storages.map((s) => ({ buffer: s.buffer, bytes: s.length * 4 }));
    this.runtime.launch(pipeline, bindings, params, workgroups);
  }
}

/** Parameters of a reduction kernel (see `kernels/reduce.ts`). */
function reduceParams(axis: AxisGeometry, chunkLength: number, chunks: number, outputs: number) {
  const params = new Params();
  params.u32s([axis.outer, axis.size, axis.inner, chunkLength, chunks, outputs]);
  return params.finish();
}

// The optimizer steps, as registered kernels: each runs on the backend that owns the parameter.
const gpuStep = (param: Storage, ...rest: [Storage, Storage[], number, OptimizerUpdate]) =>
  (param as GpuStorage).owner.optimizerStep(param, ...rest);
registerKernel("sgdStep", "webgpu", ["float32"], gpuStep);
registerKernel("adamStep", "webgpu", ["float32"], gpuStep);
registerKernel("rmspropStep", "webgpu", ["float32"], gpuStep);
