/**
 * Making tensors: from values, constant fills, ranges, and random draws from the seeded
 * generator.
 * @module
 */
import { getBackend } from "./backend.ts";
import { checkDType, type Device, type DType, toTypedArray, type TypedArray } from "./dtype.ts";
import { checkShape, fmtShape, numel, type Shape } from "./shape.ts";
import { type NestedArray, Tensor } from "./tensor.ts";
import { full as fullOp, to } from "./ops/shape.ts";
import { nextFloat, nextInt, nextNormal } from "./random.ts";
import { checkAllocation, checkCount } from "./limits.ts";
import { checkOptions } from "./options.ts";

const TENSOR_KEYS = ["dtype", "device", "requiresGrad"];

/**
 * Checks the arguments of a creation function that takes a shape first: PyTorch's
 * `zeros(2, 3)` is `zeros([2, 3])` here, and the options object comes second.
 */
function shapeFirst(
  op: string,
  args: ArrayLike<unknown>,
  index = 0,
  optionsIndex = index + 1,
): TensorOptions {
  const shape = args[index];
  if (typeof shape === "number") {
    const before = Array.from(args).slice(0, index).map((a) => `${a}, `).join("");
    const sizes = Array.from(args).slice(index).filter((a) => typeof a === "number").join(", ");
    throw new TypeError(
      `${op}: the shape is one array, ${op}(${before}[${sizes}]) (PyTorch's ` +
        `${op}(${before}${sizes})); options such as the dtype come after it: ` +
        `${op}(${before}[${sizes}], { dtype: "float64" })`,
    );
  }
  if (!Array.isArray(shape)) {
    throw new TypeError(
      `${op}: expected a shape (an array of sizes, e.g. [2, 3]), got ` +
        `${shape === null ? "null" : typeof shape}`,
    );
  }
  checkShape(op, shape);
  const options = checkOptions<TensorOptions>(op, args, optionsIndex, TENSOR_KEYS);
  checkAllocation(op, shape, options.dtype ?? "float32", options.device ?? "cpu");
  return options;
}

/**
 * Reads trailing optional numbers and an options object, so that `arange(5, { dtype })` and
 * `eye(3, { dtype })` work as in PyTorch: the first plain object among the arguments after
 * `from` is the options object, and nothing may follow it.
 */
function numbersThenOptions(op: string, args: IArguments, from: number, last: number) {
  const all = Array.from(args);
  let index = all.findIndex((a, i) => i >= from && typeof a === "object" && a !== null);
  if (index < 0 || index > last) index = last;
  const options = checkOptions<TensorOptions>(op, all, index, TENSOR_KEYS);
  const numbers = all.slice(0, index) as (number | undefined)[];
  return { numbers, options };
}

/** Options shared by the creation functions. */
export interface TensorOptions {
  /** Element type; `float32` by default. */
  dtype?: DType;
  /** Where the values live; `cpu` by default. */
  device?: Device;
  /** Whether gradients should flow back to this tensor. */
  requiresGrad?: boolean;
}

function finish(t: Tensor, options: TensorOptions): Tensor {
  let out = t;
  if (options.device && options.device !== out.device) out = to(out, options.device);
  if (options.requiresGrad) out.requiresGrad_(true);
  return out;
}

function fromValues(values: TypedArray, shape: Shape, options: TensorOptions): Tensor {
  const dtype = options.dtype ?? "float32";
  if (options.requiresGrad && dtype === "int32") {
    throw new Error("tensor: only float tensors can require gradients, this one is int32");
  }
  if (dtype === "float64" && options.device === "webgpu") {
    throw new Error("tensor: WebGPU has no float64 (WGSL has no 64-bit floats); use float32");
  }
  const backend = getBackend(options.device ?? "cpu");
  return finish(new Tensor(backend.upload(values), shape, dtype), {
    ...options,
    device: undefined,
  });
}

/** Reads the shape of nested arrays, checking that they are rectangular. */
function shapeOfNested(values: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flattenNested(values: NestedArray, shape: number[], out: number[], depth = 0): void {
  if (depth === shape.length) {
    if (typeof values !== "number") {
      throw new TypeError(`tensor: expected a number at depth ${depth}, got ${typeof values}`);
    }
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[depth]) {
    throw new Error(
      `tensor: the nested arrays are not rectangular: expected ${shape[depth]} entries at ` +
        `depth ${depth} (shape ${fmtShape(shape)})`,
    );
  }
  for (const v of values) flattenNested(v, shape, out, depth + 1);
}

/**
 * A tensor from values: a number, nested arrays, or a flat array / typed array with a `shape`.
 *
 * @example
 * ```ts
 * import { tensor } from "../mod.ts";
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * console.assert(x.shape.join() === "2,3");
 * const labels = tensor([0, 2, 1], { dtype: "int32" });
 * const image = tensor(new Float32Array(784), { shape: [1, 28, 28] });
 * ```
 */
export function tensor(
  values: NestedArray | TypedArray | readonly number[],
  options: TensorOptions & { shape?: Shape } = {},
): Tensor {
  checkOptions("tensor", arguments, 1, ["dtype", "device", "requiresGrad", "shape"]);
  if (options.dtype) checkDType(options.dtype);
  const dtype = options.dtype ?? "float32";
  if (options.shape) checkAllocation("tensor", options.shape, dtype, options.device ?? "cpu");
  if (ArrayBuffer.isView(values)) {
    const shape = options.shape ?? [values.length];
    checkShape("tensor", shape);
    if (numel(shape) !== values.length) {
      throw new Error(
        `tensor: shape ${fmtShape(shape)} needs ${numel(shape)} values, got ${values.length}`,
      );
    }
    return fromValues(toTypedArray(dtype, values), shape, options);
  }
  const nestedShape = shapeOfNested(values as NestedArray);
  const flat: number[] = [];
  flattenNested(values as NestedArray, nestedShape, flat);
  const shape = options.shape ?? nestedShape;
  if (numel(shape) !== flat.length) {
    throw new Error(
      `tensor: shape ${fmtShape(shape)} needs ${numel(shape)} values, got ${flat.length}`,
    );
  }
  return fromValues(toTypedArray(dtype, flat), shape, options);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  shapeFirst("full", arguments, 0, 2);
  if (typeof value !== "number") {
    throw new TypeError(`full: the fill value must be a number, got ${typeof value}`);
  }
  return finish(fullOp(shape, value, options.dtype ?? "float32", options.device ?? "cpu"), {
    requiresGrad: options.requiresGrad,
  });
}

/** A tensor of zeros. */
export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  shapeFirst("zeros", arguments);
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  shapeFirst("ones", arguments);
  return full(shape, 1, options);
}

/** Zeros with the shape, dtype and device of `t`. */
export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  checkOptions("zerosLike", arguments, 1, TENSOR_KEYS);
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...options });
}

/** Ones with the shape, dtype and device of `t`. */
export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  checkOptions("onesLike", arguments, 1, TENSOR_KEYS);
  return full(t.shape, 1, { dtype: t.dtype, device: t.device, ...options });
}

/**
 * `start, start + step, ...` below `end`, like `torch.arange`. With one argument, `0..end`.
 * Integer arguments give int32 unless a dtype is given.
 */
export function arange(start: number, end?: number, step?: number, options?: TensorOptions): Tensor;
export function arange(): Tensor {
  const { numbers, options } = numbersThenOptions("arange", arguments, 1, 3);
  let [start, end, step = 1] = numbers as number[];
  if (end === undefined) [start, end] = [0, start];
  for (const [name, value] of [["start", start], ["end", end], ["step", step]] as const) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new TypeError(`arange: ${name} must be a finite number, got ${value}`);
    }
  }
  if (step === 0) throw new Error("arange: step must not be zero");
  const count = Math.max(0, Math.ceil((end - start) / step));
  checkCount("arange", count, options.dtype ?? "float32", options.device ?? "cpu");
  const values = Array.from({ length: count }, (_, i) => start + i * step);
  const allInts = [start, end, step].every(Number.isInteger);
  const dtype = options.dtype ?? (allInts ? "int32" : "float32");
  return tensor(values, { ...options, dtype });
}

/** `steps` evenly spaced values from `start` to `end`, both included. */
export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}) {
  checkOptions("linspace", arguments, 3, TENSOR_KEYS);
  if (!Number.isInteger(steps) || steps < 0) {
    throw new Error(`linspace: steps must be a non-negative integer, got ${steps}`);
  }
  checkCount("linspace", steps, options.dtype ?? "float32", options.device ?? "cpu");
  const values = Array.from(
    { length: steps },
    (_, i) => (steps === 1 ? start : start + (end - start) * (i / (steps - 1))),
  );
  return tensor(values, options);
}

/** The identity matrix of `n` rows (and `m` columns). */
export function eye(n: number, m?: number, options?: TensorOptions): Tensor;
export function eye(): Tensor {
  const { numbers, options } = numbersThenOptions("eye", arguments, 1, 2);
  const [n, m = n] = numbers as number[];
  checkShape("eye", [n, m]);
  checkAllocation("eye", [n, m], options.dtype ?? "float32", options.device ?? "cpu");
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return tensor(values, { ...options, shape: [n, m] });
}

function random(shape: Shape, options: TensorOptions, draw: () => number, op = "random"): Tensor {
  checkShape(op, shape);
  checkAllocation(op, shape, options.dtype ?? "float32", options.device ?? "cpu");
  const values = new Float64Array(numel(shape));
  for (let i = 0; i < values.length; i++) values[i] = draw();
  return tensor(values, { ...options, shape });
}

/** Uniform random values in [0, 1), from the seeded generator. */
export function rand(shape: Shape, options: TensorOptions = {}): Tensor {
  shapeFirst("rand", arguments);
  return random(shape, options, nextFloat, "rand");
}

/** Standard normal random values, from the seeded generator. */
export function randn(shape: Shape, options: TensorOptions = {}): Tensor {
  shapeFirst("randn", arguments);
  return random(shape, options, nextNormal, "randn");
}

/** Uniform random integers in [low, high) (int32 unless a dtype is given). */
export function randint(low: number, high: number, shape: Shape, options: TensorOptions = {}) {
  shapeFirst("randint", arguments, 2);
  if (!(high > low)) throw new Error(`randint: high (${high}) must be greater than low (${low})`);
  return random(shape, { dtype: "int32", ...options }, () => nextInt(low, high), "randint");
}
