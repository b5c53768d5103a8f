/**
 * Element types and devices.
 *
 * `float32` is the default everywhere. `float64` exists on the CPU so that gradient checks can use
 * central differences without drowning in rounding error. `int32` holds labels and indices.
 * @module
 */

/** The element type of a tensor. */
export type DType = "float32" | "float64" | "int32";

/** Where a tensor's storage lives. */
export type Device = "cpu" | "webgpu";

/** The typed array that holds each dtype's values on the CPU. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** Makes an empty typed array of `length` elements for `dtype`. */
export function allocArray(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int32":
      return new Int32Array(length);
  }
}

/** Copies numbers into a new typed array of the given dtype. */
export function toTypedArray(dtype: DType, values: ArrayLike<number>): TypedArray {
  switch (dtype) {
    case "float32":
      return Float32Array.from(values);
    case "float64":
      return Float64Array.from(values);
    case "int32":
      return Int32Array.from(values);
  }
}

/** The dtype of a typed array. */
export function dtypeOfArray(values: TypedArray): DType {
  if (values instanceof Float32Array) return "float32";
  if (values instanceof Float64Array) return "float64";
  return "int32";
}

/** Whether a dtype holds real numbers (gradients only flow through these). */
export function isFloat(dtype: DType): boolean {
  return dtype !== "int32";
}

/**
 * The dtype of the result of a binary op, as in PyTorch: any float beats int32, and float64 beats
 * float32.
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === "float64" || b === "float64") return "float64";
  return "float32";
}

/** Checks that a string names a dtype, with an error that lists the valid ones. */
export function checkDType(dtype: string, op?: string): DType {
  if (dtype === "float32" || dtype === "float64" || dtype === "int32") return dtype;
  // PyTorch's and other libraries' devices ("cuda", "cuda:0", "mps") reach here through
  // t.to(target), which takes a device or a dtype.
  checkDevice(op ?? "to", dtype);
  throw new TypeError(
    `${op ? `${op}: ` : ""}unknown dtype "${dtype}": expected "float32", "float64" or "int32"`,
  );
}

const OTHER_DEVICES =
  /^(cuda|gpu|mps|xpu|tpu|npu|hip|rocm|metal|vulkan|opengl|webgl|wasm|cpu|webgpu)(:\d+)?$/i;

/**
 * Throws for a device name this framework does not have ("cuda", "gpu", "mps", "cuda:0",
 * "CPU"), naming the op and the devices it has; other strings are left to the caller.
 */
export function checkDevice(op: string, device: unknown): void {
  if (device === "cpu" || device === "webgpu") return;
  if (typeof device !== "string" || !OTHER_DEVICES.test(device)) return;
  throw new TypeError(
    `${op}: unknown device "${device}": the devices here are "cpu" and "webgpu"; for a GPU ` +
      `use "webgpu" (after "await initWebGPU()", or "await pickDevice()", which falls back to ` +
      `the CPU with the reason)`,
  );
}
