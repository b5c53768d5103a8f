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
 * This file only dispatches: storage lives in `storage.ts`, fused kernels are registrations
 * (`fused.ts` here, `core/cpu/fused.ts` for the reference).
 *
 * @module
 */
import type {
  AxisGeometry,
  Backend,
  Conv2dGeometry,
  MatmulSpec,
  Storage,
  StridedView,
} from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import type { BinaryOp, UnaryOp } from "../ops/table.ts";
import { cpuBackend } from "../cpu/backend.ts";
import {
  adopt,
  allocate,
  asCpu,
  getCpuKernels,
  readAsync,
  readValues,
  wasmFor,
  WasmStorage,
  withInputs,
} from "./storage.ts";
import "./fused.ts";

export {
  type CpuKernelSet,
  getCpuKernels,
  setCpuKernels,
  setCpuThreads,
  wasmKernelInfo,
  WasmStorage,
} from "./storage.ts";

// ---- The backend ----

/**
 * The CPU backend: the wasm kernels for float32 (and int32 data movement), the reference
 * kernels for everything else. Register it as the "cpu" backend.
 */
export const wasmCpuBackend: Backend = {
  device: "cpu",
  kernelProvider: (dtype: DType) =>
    dtype === "float32" && getCpuKernels() === "wasm" ? "wasm" : "reference",

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
};

function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}
