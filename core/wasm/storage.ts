/**
 * The storage of the CPU backend in the WebAssembly memory, and which CPU kernel set is in use.
 *
 * With the `"wasm"` kernel set, float32 and int32 tensors keep their values in the wasm memory
 * ({@link WasmStorage}); float64 tensors stay in JavaScript typed arrays. The helpers below move
 * values between the two, so that the wasm kernels (`backend.ts`, `fused.ts`) and the reference
 * kernels of `core/cpu/` accept storage made by either.
 *
 * @module
 */
import type { Storage } from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
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

export function wasmKernels(): WasmKernels | null {
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
export function wasmFor(...dtypes: DType[]): WasmKernels | null {
  if (kernelSet !== "wasm" || dtypes.some((dtype) => dtype === "float64")) return null;
  return wasmKernels();
}

/** Bytes of wasm storage allocated since reading values last let the event loop run. */
export const allocation = { sinceYield: 0 };
/** Past this, an asynchronous read lets the event loop run once (see {@link readAsync}). */
const YIELD_AFTER_BYTES = 64 * 2 ** 20;

/** New wasm storage of `length` values (contents undefined). */
export function allocate(kernels: WasmKernels, length: number, dtype: "float32" | "int32") {
  const bytes = Math.max(length, 1) * 4;
  allocation.sinceYield += bytes;
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
export async function readAsync(storage: Storage, dtype: DType): Promise<TypedArray> {
  const values = readValues(storage, dtype);
  if (allocation.sinceYield > YIELD_AFTER_BYTES) {
    allocation.sinceYield = 0;
    await nextTask();
  }
  return values;
}

/** Storage as the reference kernels take it: wasm storage becomes a view, without a copy. */
export function asCpu(storage: Storage): CpuStorage {
  if (storage instanceof WasmStorage) return new CpuStorage(storage.data);
  return storage as CpuStorage;
}

/**
 * The address of storage's values in the wasm memory, copying them in when they live in a
 * JavaScript typed array (storage made by the reference kernels). Call `done()` afterwards.
 */
export function inWasm(kernels: WasmKernels, storage: Storage): { ptr: number; done: () => void } {
  if (storage instanceof WasmStorage) return { ptr: storage.ptr, done: () => {} };
  const values = (storage as CpuStorage).data;
  const ptr = kernels.alloc(Math.max(values.length, 1) * 4);
  if (values instanceof Int32Array) kernels.i32(ptr, values.length).set(values);
  else kernels.f32(ptr, values.length).set(values);
  return { ptr, done: () => kernels.free(ptr) };
}

/** A result of the reference kernels, moved into wasm memory when the wasm set is in use. */
export function adopt(storage: Storage, dtype: DType): Storage {
  const kernels = wasmFor(dtype);
  if (!kernels || storage instanceof WasmStorage) return storage;
  const values = (storage as CpuStorage).data;
  const out = allocate(kernels, values.length, dtype as "float32" | "int32");
  out.data.set(values);
  return out;
}

/** Runs a wasm kernel over several inputs, copying in those that are not in wasm memory yet. */
export function withInputs<T>(
  kernels: WasmKernels,
  inputs: Storage[],
  run: (ptrs: number[]) => T,
): T {
  const handles = inputs.map((storage) => inWasm(kernels, storage));
  try {
    return run(handles.map((handle) => handle.ptr));
  } finally {
    handles.forEach((handle) => handle.done());
  }
}

/** A copy of the values, in a typed array of their own (never a view of the wasm memory). */
export function readValues(storage: Storage, dtype: DType): TypedArray {
  if (storage instanceof WasmStorage) return storage.data.slice();
  return cpuBackend.readSync!(storage, dtype);
}
