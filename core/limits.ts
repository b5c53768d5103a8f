/**
 * How large a tensor a backend can hold, checked before any work: a mistyped size
 * (`linspace(0, 1, 1e9)`, `zeros([1e6, 1e6])`, a broadcast of `[n, 1]` against `[1, n]`) gets
 * an error naming the op and the shape at once, instead of a long wait and an unnamed
 * `RangeError` from deep inside a kernel.
 *
 * @module
 */
import { getBackend, hasBackend } from "./backend.ts";
import type { Device, DType } from "./dtype.ts";
import { fmtShape, numel, type Shape } from "./shape.ts";

/** Bytes of one element of each dtype. */
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

/**
 * The largest tensor the CPU holds, in bytes: float32 tensors live in WebAssembly's memory,
 * which has at most 4 GiB for everything; one tensor may take half of it.
 */
export const CPU_MAX_TENSOR_BYTES = 2 ** 31;

/** The largest tensor `device` can hold, in bytes. */
export function maxTensorBytes(device: Device): number {
  if (device === "cpu" || !hasBackend(device)) return CPU_MAX_TENSOR_BYTES;
  // The WebGPU backend knows its device's binding limit (maxStorageBufferBindingSize).
  const backend = getBackend(device) as { maxBindingBytes?: number };
  return backend.maxBindingBytes ?? CPU_MAX_TENSOR_BYTES;
}

function fmtBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * Throws if a tensor of `shape` and `dtype` would not fit on `device`. Call it before making a
 * large result (creation functions, broadcasting, matmul), naming the op the user called.
 */
export function checkAllocation(op: string, shape: Shape, dtype: DType, device: Device): void {
  const count = numel(shape);
  checkCount(op, count, dtype, device, fmtShape(shape));
}

/** As {@link checkAllocation}, for a count of elements (`linspace`'s steps, `arange`'s range). */
export function checkCount(
  op: string,
  count: number,
  dtype: DType,
  device: Device,
  what = `${count} elements`,
): void {
  const bytes = count * (BYTES[dtype] ?? 8);
  const limit = maxTensorBytes(device);
  if (bytes > limit) {
    throw new RangeError(
      `${op}: a ${dtype} tensor of ${what} (${count.toExponential(2)} elements, ` +
        `${fmtBytes(bytes)}) is larger than the ${fmtBytes(limit)} one tensor may take on ` +
        `"${device}"; check the sizes (a swapped or mistyped dimension?), or work in smaller ` +
        `pieces (batches)`,
    );
  }
}
