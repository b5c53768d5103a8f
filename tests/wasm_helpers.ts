/**
 * Helpers for the wasm kernel tests: seeded inputs, copying to and from wasm memory, and a
 * comparison that says which kernel, which case and which element disagree.
 *
 * @module
 */
import type { WasmKernels } from "../core/wasm/kernels.ts";

/** A seeded generator of uniform numbers in [0, 1) (mulberry32), so inputs repeat exactly. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` float32 values uniform in [low, high). */
export function randomF32(random: () => number, length: number, low = -1, high = 1) {
  return Float32Array.from({ length }, () => low + (high - low) * random());
}

/** Copies float32 values into a new block of wasm memory; returns its address. */
export function upload(kernels: WasmKernels, values: Float32Array | number[]): number {
  const ptr = kernels.alloc(Math.max(values.length, 1) * 4);
  kernels.f32(ptr, values.length).set(values);
  return ptr;
}

/** Copies int32 values into a new block of wasm memory; returns its address. */
export function uploadInt(kernels: WasmKernels, values: Int32Array | number[]): number {
  const ptr = kernels.alloc(Math.max(values.length, 1) * 4);
  kernels.i32(ptr, values.length).set(values);
  return ptr;
}

/** A copy of `length` float32 values at `ptr`. */
export function download(kernels: WasmKernels, ptr: number, length: number): Float32Array {
  return kernels.f32(ptr, length).slice();
}

/**
 * Fails unless `actual` matches `expected` within `atol + rtol * |expected|` everywhere (NaN
 * matches NaN), naming the case, the first bad index, both values and the tolerance.
 */
export function assertAllClose(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  atol = 1e-6,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(
        `${what}: element ${i} is ${a}, expected ${e} ` +
          `(difference ${Math.abs(a - e)}, tolerance ${atol} + ${rtol} * |expected|)`,
      );
    }
  }
}
