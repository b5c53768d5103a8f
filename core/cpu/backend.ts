/**
 * The CPU backend: storage is a typed array, kernels are the reference loops of `kernels.ts`.
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
import { allocArray, type DType, type TypedArray } from "../dtype.ts";
import type { BinaryOp, UnaryOp } from "../ops/table.ts";
import * as k from "./kernels.ts";
// The reference fused kernels register themselves (max pooling, batch norm).
import "./fused.ts";

/** CPU storage: a typed array of the tensor's dtype. */
export class CpuStorage implements Storage {
  readonly device = "cpu" as const;
  readonly gcManaged = true;
  refs = 0;
  constructor(readonly data: TypedArray) {}
  get length(): number {
    return this.data.length;
  }
}

/**
 * The typed array behind CPU storage: a {@link CpuStorage}'s array, or a view of the wasm memory
 * for storage of the WebAssembly kernels (which has a `data` view too).
 */
export function cpuData(storage: Storage): TypedArray {
  const data = storage.device === "cpu" ? (storage as { data?: TypedArray }).data : undefined;
  if (!data) throw new Error(`expected CPU storage, got storage on "${storage.device}"`);
  return data;
}

const wrap = (data: TypedArray) => new CpuStorage(data);

/** The reference CPU backend (readable TypeScript loops; all dtypes). */
export const cpuBackend: Backend = {
  device: "cpu",
  kernelProvider: () => "reference",
  upload: (values) => wrap(values.slice()),
  read: (storage) => Promise.resolve(cpuData(storage).slice()),
  readSync: (storage) => cpuData(storage).slice(),
  free: () => {},

  fill(length: number, value: number, dtype: DType) {
    const out = allocArray(dtype, length);
    if (value !== 0) out.fill(value);
    return wrap(out);
  },
  cast(x: Storage, length: number, _from: DType, to: DType) {
    const out = allocArray(to, length);
    const src = cpuData(x);
    if (to === "int32") { for (let i = 0; i < length; i++) out[i] = Math.trunc(src[i]); }
    else out.set(src);
    return wrap(out);
  },
  unary(op: UnaryOp, x: Storage, length: number, dtype: DType, params: readonly number[]) {
    const out = allocArray(dtype, length);
    k.unary(op, cpuData(x), out, params[0] ?? 0, params[1] ?? 0);
    return wrap(out);
  },
  binary(op: BinaryOp, a: StridedView, b: StridedView, _inDtype: DType, outDtype: DType) {
    let size = 1;
    for (const d of a.shape) size *= d;
    const out = allocArray(outDtype, size);
    k.binary(
      op,
      cpuData(a.storage),
      cpuData(b.storage),
      out,
      a.strides,
      b.strides,
      a.shape,
      a.offset,
      b.offset,
    );
    return wrap(out);
  },
  where(cond: StridedView, condDtype: DType, a: StridedView, b: StridedView, dtype: DType) {
    const c = k.stridedCopyOf(cond, condDtype);
    const x = k.stridedCopyOf(a, dtype);
    const y = k.stridedCopyOf(b, dtype);
    for (let i = 0; i < x.length; i++) if (c[i] === 0) x[i] = y[i];
    return wrap(x);
  },
  copy: (view: StridedView, dtype: DType) => wrap(k.stridedCopyOf(view, dtype)),
  writeStrided(dst: Storage, view: Omit<StridedView, "storage">, src: Storage) {
    k.stridedWrite(cpuData(dst), cpuData(src), view.shape, view.strides, view.offset);
  },
  reduce(op: "sum" | "max" | "min", x: Storage, dtype: DType, axis: AxisGeometry) {
    const out = allocArray(dtype, axis.outer * axis.inner);
    k.reduceAxis(op, cpuData(x), out, axis);
    return wrap(out);
  },
  argReduce(op: "argmax" | "argmin", x: Storage, _dtype: DType, axis: AxisGeometry) {
    const out = new Int32Array(axis.outer * axis.inner);
    k.argReduceAxis(op, cpuData(x), out, axis);
    return wrap(out);
  },
  argsort(x: Storage, _dtype: DType, axis: AxisGeometry, descending: boolean) {
    const out = new Int32Array(axis.outer * axis.size * axis.inner);
    k.argsortAxis(cpuData(x), out, axis, descending);
    return wrap(out);
  },
  matmul(a: Storage, b: Storage, dtype: DType, spec: MatmulSpec) {
    const out = allocArray(dtype, spec.batch * spec.m * spec.n);
    k.matmul(cpuData(a), cpuData(b), out, spec);
    return wrap(out);
  },
  im2col(x: Storage, dtype: DType, g: Conv2dGeometry) {
    const out = allocArray(dtype, g.n * g.c * g.kernelH * g.kernelW * g.outH * g.outW);
    k.im2col(cpuData(x), out, g);
    return wrap(out);
  },
  col2im(cols: Storage, dtype: DType, g: Conv2dGeometry) {
    const out = allocArray(dtype, g.n * g.c * g.h * g.w);
    k.col2im(cpuData(cols), out, g);
    return wrap(out);
  },
  gather(x: Storage, index: Storage, dtype: DType, axis: AxisGeometry, indexSize: number) {
    const out = allocArray(dtype, axis.outer * indexSize * axis.inner);
    k.gather(cpuData(x), cpuData(index) as Int32Array, out, axis, indexSize);
    return wrap(out);
  },
  scatterAdd(index: Storage, src: Storage, dtype: DType, axis: AxisGeometry, indexSize: number) {
    const out = allocArray(dtype, axis.outer * axis.size * axis.inner);
    k.scatterAdd(cpuData(index) as Int32Array, cpuData(src), out, axis, indexSize);
    return wrap(out);
  },
  indexSelect(x: Storage, index: Storage, dtype: DType, axis: AxisGeometry, count: number) {
    const out = allocArray(dtype, axis.outer * count * axis.inner);
    k.indexSelect(cpuData(x), cpuData(index) as Int32Array, out, axis, count);
    return wrap(out);
  },
  indexAdd(index: Storage, src: Storage, dtype: DType, axis: AxisGeometry, count: number) {
    const out = allocArray(dtype, axis.outer * axis.size * axis.inner);
    k.indexAdd(cpuData(index) as Int32Array, cpuData(src), out, axis, count);
    return wrap(out);
  },
};
