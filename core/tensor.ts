/**
 * The tensor: an n-dimensional array with a shape, a dtype, a device, and (when it requires a
 * gradient) the record of how it was made.
 *
 * Tensors are contiguous and row-major. Their values live in a backend's storage, so reading them
 * is asynchronous on every device: `await t.data()`, `await t.item()`, `await t.toArray()`. The
 * methods below are thin: each one calls the op of the same name in `core/ops/`, where forward and
 * backward sit side by side.
 *
 * @module
 */
import {
  type BackwardOptions,
  checkInPlace,
  type GradNode,
  madeInBackward,
  noGradReason,
  runBackward,
} from "./autograd.ts";
import { getBackend, type Storage } from "./backend.ts";
import { type Device, type DType, isFloat, type TypedArray } from "./dtype.ts";
import { fmtShape, numel, type Shape } from "./shape.ts";
import * as ew from "./ops/elementwise.ts";
import * as red from "./ops/reduce.ts";
import * as sh from "./ops/shape.ts";
import { matmul } from "./ops/matmul.ts";
import { checkArgCount, checkOptions } from "./options.ts";
import { runDeviceChecks } from "./device_checks.ts";
import { norm } from "./ops/norm.ts";
import * as sorting from "./ops/sort.ts";

/** A nested array of numbers, as `toArray()` returns and `tensor()` accepts. */
export type NestedArray = number | NestedArray[];

/** Gives storage back to its backend when the last tensor using it is collected. */
const finalizer = new FinalizationRegistry<Storage>((storage) => releaseStorage(storage));

function releaseStorage(storage: Storage): void {
  storage.refs--;
  if (storage.refs === 0) getBackend(storage.device).free(storage);
}

/** Something that is a tensor or a plain number (a scalar). */
export type TensorLike = Tensor | number;

/** An n-dimensional array of numbers that can track gradients. */
export class Tensor {
  /** The size of each dimension. */
  readonly shape: readonly number[];
  #dtype: DType;
  /** Whether gradients flow back to this tensor. */
  requiresGrad = false;
  /** The accumulated gradient (for leaves, and for tensors that called `retainGrad()`). */
  grad: Tensor | null = null;
  /** How this tensor was computed (null for leaves: inputs and parameters). */
  node: GradNode | null = null;
  /** Whether `backward()` keeps this non-leaf tensor's gradient in `grad`. */
  retainsGrad = false;
  #storage: Storage;
  #disposed = false;
  /** Why the values were given back, for the error a later use gets. */
  #releasedBy: "dispose" | "backward" | "zeroGrad" = "dispose";

  /** Wraps backend storage. Use `tensor()`, `zeros()` and friends to make tensors. */
  constructor(storage: Storage, shape: Shape, dtype: DType) {
    if (storage.length !== numel(shape)) {
      throw new Error(
        `Tensor: storage holds ${storage.length} elements but shape ${fmtShape(shape)} ` +
          `needs ${numel(shape)}`,
      );
    }
    this.#storage = storage;
    this.shape = Object.freeze([...shape]);
    this.#dtype = dtype;
    storage.refs++;
    if (!storage.gcManaged) finalizer.register(this, storage, this);
    madeInBackward.list?.push(this);
  }

  /** The backend storage (for kernels and backends; users read values with `data()`). */
  get storage(): Storage {
    if (this.#disposed) throw new Error(releasedMessage(this.shape, this.#releasedBy));
    return this.#storage;
  }

  /** The element type. */
  get dtype(): DType {
    return this.#dtype;
  }

  /** The device holding the values. */
  get device(): Device {
    return this.#storage.device;
  }

  /** The number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /**
   * The shape, as PyTorch's `x.size()`; `x.size(dim)` is the size of one dimension (negative
   * counts from the end). The number of elements is {@link numel}.
   */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): readonly number[] | number {
    if (dim === undefined) return this.shape;
    const ndim = this.shape.length;
    if (!Number.isInteger(dim) || dim < -ndim || dim >= ndim) {
      throw new RangeError(
        `size: dimension ${dim} is out of range for a tensor of shape ${fmtShape(this.shape)} ` +
          `(expected ${-ndim} to ${ndim - 1})`,
      );
    }
    return this.shape[dim < 0 ? dim + ndim : dim];
  }

  /** The number of elements (PyTorch's name). */
  numel(): number {
    return this.#storage.length;
  }

  /** Whether this tensor was created by the user rather than computed by an op. */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /**
   * Replaces the values of this tensor with those of `source` (same shape), keeping its
   * identity: what optimizers and `loadStateDict` use to update parameters in place.
   */
  assign(source: Tensor): this {
    checkInPlace("assign", this);
    if (
      source.shape.length !== this.shape.length || source.shape.some((d, i) => d !== this.shape[i])
    ) {
      throw new Error(
        `assign: cannot copy a tensor of shape ${fmtShape(source.shape)} into one of shape ` +
          `${fmtShape(this.shape)}`,
      );
    }
    let storage = source.storage;
    if (source.device !== this.device || source.dtype !== this.dtype) {
      storage = source.to(this.device).to(this.dtype).storage;
    }
    storage.refs++;
    releaseStorage(this.#storage);
    finalizer.unregister(this);
    this.#storage = storage;
    if (!storage.gcManaged) finalizer.register(this, storage, this);
    return this;
  }

  /**
   * Moves the values (and the gradient, if any) to another device in place, keeping this
   * tensor's identity: what `module.to(device)` uses, so that an optimizer made before the move
   * still holds the right tensors.
   */
  moveTo(device: Device): this {
    if (device === this.device) return this;
    const storage = sh.to(this.detach(), device).storage;
    storage.refs++;
    releaseStorage(this.#storage);
    finalizer.unregister(this);
    this.#storage = storage;
    if (!storage.gcManaged) finalizer.register(this, storage, this);
    if (this.grad) this.grad = sh.to(this.grad, device);
    return this;
  }

  /**
   * Converts the values (and the gradient, if any) to another float dtype in place, keeping
   * this tensor's identity: what `module.double()` uses, so that an optimizer made before
   * still holds the right tensors.
   */
  castTo(dtype: DType): this {
    if (dtype === this.#dtype) return this;
    const storage = sh.to(this.detach(), dtype).storage;
    storage.refs++;
    releaseStorage(this.#storage);
    finalizer.unregister(this);
    this.#storage = storage;
    this.#dtype = dtype;
    if (!storage.gcManaged) finalizer.register(this, storage, this);
    if (this.grad) this.grad = sh.to(this.grad, dtype);
    return this;
  }

  /** Gives this tensor's storage back now instead of waiting for garbage collection. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    finalizer.unregister(this);
    releaseStorage(this.#storage);
  }

  /**
   * Gives the storage back on behalf of the framework: `backward()` releases the intermediate
   * results it has gone through, `optimizer.zeroGrad()` the old gradients. A later use of the
   * tensor gets an error that says which released it and how to keep it.
   */
  releaseBy(by: "backward" | "zeroGrad"): void {
    if (this.#disposed) return;
    this.#releasedBy = by;
    this.dispose();
  }

  /** Whether {@link dispose} was called. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  // ---- reading values ------------------------------------------------------------------------

  /** The values as a flat typed array (a copy). */
  data(): Promise<TypedArray> {
    return readback("data", "t.dataSync()", async () => {
      // Index checks that a GPU ran since the last read back report first (device_checks.ts).
      await runDeviceChecks();
      return await getBackend(this.device).read(this.storage, this.dtype);
    });
  }

  /** The values as a flat typed array, synchronously (CPU tensors only). */
  dataSync(): TypedArray {
    const backend = getBackend(this.device);
    if (!backend.readSync) {
      throw new Error(
        `dataSync: tensors on "${this.device}" can only be read asynchronously: ` +
          `use "await t.data()"`,
      );
    }
    return backend.readSync(this.storage, this.dtype);
  }

  /** The single value of a one-element tensor. */
  item(): Promise<number> {
    return readback("item", "t.itemSync()", async () => {
      checkOneElement("item", this);
      return (await this.data())[0];
    });
  }

  /** The single value of a one-element tensor, synchronously (CPU tensors only). */
  itemSync(): number {
    checkOneElement("itemSync", this);
    if (!getBackend(this.device).readSync) {
      throw new Error(
        `itemSync: tensors on "${this.device}" can only be read asynchronously: ` +
          `use "await t.item()"`,
      );
    }
    return this.dataSync()[0];
  }

  /** The values as nested arrays (a number for a scalar). */
  toArray(): Promise<NestedArray> {
    return readback("toArray", null, async () => nest(await this.data(), this.shape));
  }

  /** A short description: `Tensor(shape=[2, 3], dtype=float32, device=cpu)`. */
  toString(): string {
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}, device=${this.device}` +
      (this.requiresGrad ? ", requiresGrad=true)" : ")");
  }

  // ---- autograd ------------------------------------------------------------------------------

  /**
   * Computes gradients of this tensor with respect to every leaf that requires one. A scalar
   * needs no argument; any other shape needs the gradient of some scalar with respect to it.
   */
  backward(gradient?: Tensor, options?: BackwardOptions): void {
    checkOptions("backward", arguments, 1, ["retainGraph"]);
    if (gradient !== undefined && !(gradient instanceof Tensor)) {
      throw new TypeError(
        `backward: the gradient must be a tensor of the output's shape, got ` +
          `${typeof gradient === "object" ? "an object" : typeof gradient}; for options ` +
          `without a gradient write t.backward(undefined, { retainGraph: true })`,
      );
    }
    if (!this.requiresGrad) {
      const reason = noGradReason();
      throw new Error(
        `backward: this tensor does not require a gradient and has no graph: ` +
          (reason ||
            `did you forget { requiresGrad: true } on the inputs, or compute it inside ` +
              `noGrad()?`),
      );
    }
    if (gradient === undefined) {
      if (this.numel() !== 1) {
        throw new Error(
          `backward: a gradient can be created implicitly only for a scalar output; this ` +
            `tensor has shape ${fmtShape(this.shape)}. Pass the gradient explicitly: ` +
            `t.backward(onesLike(t)), or reduce first: t.sum().backward()`,
        );
      }
      gradient = sh.full(this.shape, 1, this.dtype, this.device);
    } else if (
      gradient.shape.length !== this.shape.length ||
      gradient.shape.some((d, i) => d !== this.shape[i])
    ) {
      throw new Error(
        `backward: the gradient has shape ${fmtShape(gradient.shape)} but the tensor has ` +
          `shape ${fmtShape(this.shape)}; they must match`,
      );
    }
    runBackward(this, gradient, options);
  }

  /** A tensor with the same values, cut from the graph (no gradient flows through it). */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.dtype);
  }

  /** Sets whether this leaf tracks gradients, in place; returns this tensor. */
  requiresGrad_(requiresGrad = true): this {
    if (!this.isLeaf && !requiresGrad) {
      throw new Error(
        "requiresGrad_: only a leaf tensor's flag can be turned off; use detach() instead",
      );
    }
    if (requiresGrad && this.dtype === "int32") {
      throw new Error("requiresGrad_: only float tensors can require gradients, this is int32");
    }
    this.requiresGrad = requiresGrad;
    return this;
  }

  /** Asks `backward()` to keep the gradient of this non-leaf tensor in `grad`. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /** Clears the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  // ---- devices and dtypes --------------------------------------------------------------------

  /**
   * A copy on another device, or in another dtype (the same tensor if nothing changes):
   * `t.to("webgpu")`, `t.to("float64")`, or both at once, `t.to({ device, dtype })`.
   */
  to(target: Device | DType | { device?: Device; dtype?: DType }): Tensor {
    if (typeof target === "object" && target !== null) {
      const { device, dtype } = checkOptions<{ device?: Device; dtype?: DType }>(
        "to",
        arguments,
        0,
        ["dtype", "device"],
      );
      const moved = device ? sh.to(this, device) : this;
      return dtype ? sh.to(moved, dtype) : moved;
    }
    checkArgCount(
      "to",
      arguments,
      1,
      "give the device and dtype together: t.to({ device, dtype })",
    );
    return sh.to(this, target);
  }
  /** As float32. */
  float(): Tensor {
    return sh.to(this, "float32");
  }
  /** As float64. */
  double(): Tensor {
    return sh.to(this, "float64");
  }
  /** As int32 (truncating toward zero). */
  int(): Tensor {
    return sh.to(this, "int32");
  }
  /** A copy of the values on the CPU (reads back from a GPU, so it is asynchronous). */
  cpu(): Promise<Tensor> {
    return readback("cpu", null, async () => {
      if (this.device === "cpu") return this;
      const values = await this.data();
      return new Tensor(getBackend("cpu").upload(values), this.shape, this.dtype);
    });
  }
  /** A copy with its own storage (gradients flow through it). */
  clone(): Tensor {
    return sh.clone(this);
  }

  // ---- elementwise ---------------------------------------------------------------------------

  /** `this + other`, broadcasting. */
  add(other: TensorLike): Tensor {
    return ew.add(this, other);
  }
  /** `this - other`, broadcasting. */
  sub(other: TensorLike): Tensor {
    return ew.sub(this, other);
  }
  /** `this * other`, broadcasting. */
  mul(other: TensorLike): Tensor {
    return ew.mul(this, other);
  }
  /** `this / other`, broadcasting. */
  div(other: TensorLike): Tensor {
    return ew.div(this, other);
  }
  /** `this ** exponent`, broadcasting. */
  pow(exponent: TensorLike): Tensor {
    return ew.pow(this, exponent);
  }
  /** Elementwise maximum with `other`. */
  maximum(other: TensorLike): Tensor {
    return ew.maximum(this, other);
  }
  /** Elementwise minimum with `other`. */
  minimum(other: TensorLike): Tensor {
    return ew.minimum(this, other);
  }
  /** `-this`. */
  neg(): Tensor {
    return ew.neg(this);
  }
  /** `e ** this`. */
  exp(): Tensor {
    return ew.exp(this);
  }
  /** Natural logarithm. */
  log(): Tensor {
    return ew.log(this);
  }
  /** Square root. */
  sqrt(): Tensor {
    return ew.sqrt(this);
  }
  /** Absolute value. */
  abs(): Tensor {
    return ew.abs(this);
  }
  /** `this * this`. */
  square(): Tensor {
    return ew.mul(this, this);
  }
  /** Limits values to `[min, max]` (either bound may be omitted with `undefined`). */
  clamp(min?: number, max?: number): Tensor {
    return ew.clamp(this, min, max);
  }
  /** `max(this, 0)`. */
  relu(): Tensor {
    return ew.relu(this);
  }
  /** `this` where positive, `slope * this` elsewhere. */
  leakyRelu(slope = 0.01): Tensor {
    return ew.leakyRelu(this, slope);
  }
  /** `1 / (1 + e ** -this)`. */
  sigmoid(): Tensor {
    return ew.sigmoid(this);
  }
  /** Hyperbolic tangent. */
  tanh(): Tensor {
    return ew.tanh(this);
  }
  /** Gaussian error linear unit, `x * Phi(x)` (see `F.gelu` for the tanh approximation). */
  gelu(): Tensor {
    return ew.gelu(this);
  }
  /** 1 where `this == other`, else 0 (no gradient). */
  eq(other: TensorLike): Tensor {
    checkNotMaximaVsLabels("eq", this, other);
    return ew.eq(this, other);
  }
  /** 1 where `this != other`, else 0 (no gradient). */
  ne(other: TensorLike): Tensor {
    checkNotMaximaVsLabels("ne", this, other);
    return ew.where(ew.eq(this, other), 0, 1);
  }
  /** 1 where `this > other`, else 0 (no gradient). */
  gt(other: TensorLike): Tensor {
    return ew.gt(this, other);
  }
  /** 1 where `this >= other`, else 0 (no gradient). */
  ge(other: TensorLike): Tensor {
    return ew.ge(this, other);
  }
  /** 1 where `this < other`, else 0 (no gradient). */
  lt(other: TensorLike): Tensor {
    return ew.lt(this, other);
  }
  /** 1 where `this <= other`, else 0 (no gradient). */
  le(other: TensorLike): Tensor {
    return ew.le(this, other);
  }

  // ---- reductions ----------------------------------------------------------------------------

  /** Sum over `dim` (one or several; all when omitted). */
  sum(dim?: number | number[], keepdim = false): Tensor {
    return red.sum(this, dim, keepdim);
  }
  /** Mean over `dim` (one or several; all when omitted). */
  mean(dim?: number | number[], keepdim = false): Tensor {
    return red.mean(this, dim, keepdim);
  }
  /** Maximum over `dim` (one or several; all when omitted). */
  max(dim?: number | number[], keepdim = false): Tensor {
    const out = red.max(this, dim, keepdim);
    if (dim !== undefined && isFloat(out.dtype)) extremes.set(out, "max");
    return out;
  }
  /** Minimum over `dim` (one or several; all when omitted). */
  min(dim?: number | number[], keepdim = false): Tensor {
    const out = red.min(this, dim, keepdim);
    if (dim !== undefined && isFloat(out.dtype)) extremes.set(out, "min");
    return out;
  }
  /**
   * Variance over `dim` (all when omitted); unbiased (divides by n - 1) unless
   * `{ unbiased: false }` or `{ correction: 0 }`: `x.var(1, { unbiased: false })`.
   */
  var(...args: [dim?: number | number[] | red.VarianceOptions, options?: red.VarianceOptions]) {
    return red.variance(this, ...args);
  }
  /** Standard deviation over `dim`; unbiased unless `{ unbiased: false }` (see {@link var}). */
  std(...args: [dim?: number | number[] | red.VarianceOptions, options?: red.VarianceOptions]) {
    return red.std(this, ...args);
  }
  /** The cumulative sum along `dim`: `out[i] = x[0] + ... + x[i]`. */
  cumsum(dim: number): Tensor {
    return red.cumsum(this, dim);
  }
  /** `log(sum(exp(this)))` over `dim`, computed without overflow. */
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return red.logsumexp(this, dim, keepdim);
  }
  /**
   * The `p`-norm over `dim` (all elements when omitted): p = 1 sums absolute values, p = 2
   * (default) is the Euclidean length, p = Infinity the largest absolute value.
   */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return norm(this, p, dim, keepdim);
  }
  /** Index of the maximum along `dim` (of the flattened tensor when omitted); int32. */
  argmax(dim?: number, keepdim = false): Tensor {
    return red.argmax(this, dim, keepdim);
  }
  /** Index of the minimum along `dim` (of the flattened tensor when omitted); int32. */
  argmin(dim?: number, keepdim = false): Tensor {
    return red.argmin(this, dim, keepdim);
  }
  /** `exp(this) / sum(exp(this))` along `dim`. */
  softmax(dim: number): Tensor {
    return red.softmax(this, dim);
  }
  /** `log(softmax(this))` along `dim`, computed stably. */
  logSoftmax(dim: number): Tensor {
    return red.logSoftmax(this, dim);
  }
  /** Sorted values and their indices along a dimension (see {@link sorting.sort}). */
  sort(...options: [options?: sorting.SortOptions]): sorting.SortResult {
    return sorting.sort(this, ...options);
  }
  /** The `k` largest (or smallest) entries and their indices (see {@link sorting.topk}). */
  topk(k: number, ...options: [options?: sorting.TopkOptions]): sorting.SortResult {
    return sorting.topk(this, k, ...options);
  }
  /** The `k`-th smallest entry (from 1) and its index (see {@link sorting.kthvalue}). */
  kthvalue(k: number, ...options: [options?: sorting.KthvalueOptions]): sorting.SortResult {
    return sorting.kthvalue(this, k, ...options);
  }

  // ---- shapes --------------------------------------------------------------------------------

  /** The same values in a new shape (one size may be -1, inferred). Shares storage. */
  reshape(shape: Shape): Tensor {
    checkShapeArray("reshape", arguments);
    return sh.reshape(this, shape);
  }
  /** Same as {@link reshape} (tensors here are always contiguous). */
  view(shape: Shape): Tensor {
    checkShapeArray("view", arguments);
    return sh.reshape(this, shape);
  }
  /** Merges dimensions `startDim..endDim` into one. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return sh.flatten(this, startDim, endDim);
  }
  /** Removes dimensions of size 1 (only `dim` when given). */
  squeeze(dim?: number | number[]): Tensor {
    return sh.squeeze(this, dim);
  }
  /** Inserts a dimension of size 1 at `dim`. */
  unsqueeze(dim: number): Tensor {
    return sh.unsqueeze(this, dim);
  }
  /** Swaps two dimensions. */
  transpose(dim0: number, dim1: number): Tensor {
    return sh.transpose(this, dim0, dim1);
  }
  /** The transpose of a 2-D tensor. */
  get T(): Tensor {
    if (this.ndim !== 2) {
      throw new Error(`T: expected a 2-D tensor, got shape ${fmtShape(this.shape)}`);
    }
    return sh.transpose(this, 0, 1);
  }
  /** Reorders the dimensions. */
  permute(dims: number[]): Tensor {
    checkShapeArray("permute", arguments);
    return sh.permute(this, dims);
  }
  /** Repeats size-1 dimensions to a larger shape (-1 keeps a size). */
  expand(shape: Shape): Tensor {
    checkShapeArray("expand", arguments);
    return sh.expand(this, shape);
  }

  /**
   * Tensors are not iterable here (PyTorch's are, by rows): the error says what to write,
   * for `const [values, indices] = x.max(1)` (PyTorch's torch.max) and `for (const row of x)`.
   */
  [Symbol.iterator](): Iterator<number> {
    throw new TypeError(
      `Tensor: a tensor of shape ${fmtShape(this.shape)} cannot be iterated or destructured. ` +
        `x.max(dim) gives only the values (PyTorch's torch.max also gives indices: use ` +
        `x.argmax(dim)); to loop over values read them first: for (const v of await x.data())`,
    );
  }
  /** `length` entries of `dim` starting at `start`. */
  narrow(dim: number, start: number, length: number): Tensor {
    return sh.narrow(this, dim, start, length);
  }
  /** Entries `start` (inclusive) to `end` (exclusive) of `dim`, every `step`-th. */
  slice(dim: number, start = 0, end?: number, step = 1): Tensor {
    return sh.slice(this, dim, start, end, step);
  }
  /** Picks entries along `dim` by an int32 index vector. */
  indexSelect(dim: number, index: Tensor): Tensor {
    return sh.indexSelect(this, dim, index);
  }
  /** Picks one entry along `dim` per position of an int32 index of the same rank. */
  gather(dim: number, index: Tensor): Tensor {
    return sh.gather(this, dim, index);
  }

  // ---- linear algebra ------------------------------------------------------------------------

  /** Matrix product (batched, broadcasting batch dimensions). */
  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }
}

/** The float results of `x.max(dim)` and `x.min(dim)`, for {@link checkNotMaximaVsLabels}. */
const extremes = new WeakMap<Tensor, "max" | "min">();

/**
 * PyTorch's `out.max(1)` gives (values, indices); here it gives the values, so
 * `out.max(1).eq(labels)` would compare the maxima with class labels and give 0 almost
 * everywhere without a word. Throws for an equality test of such maxima with an int32 tensor.
 */
function checkNotMaximaVsLabels(op: string, a: Tensor, b: TensorLike): void {
  if (!(b instanceof Tensor)) return;
  for (const [x, y] of [[a, b], [b, a]]) {
    const which = extremes.get(x);
    if (!which || y.dtype !== "int32") continue;
    throw new TypeError(
      `${op}: comparing the ${which}ima of x.${which}(dim) (${x.dtype}) with an int32 tensor ` +
        `(class labels?): here x.${which}(dim) gives only the values, not PyTorch's (values, ` +
        `indices). For the predicted classes write x.arg${which}(dim).${op}(labels); to compare ` +
        `the values themselves, convert the int32 tensor with .float()`,
    );
  }
}

function checkOneElement(op: string, t: Tensor): void {
  if (t.numel() !== 1) {
    throw new Error(
      `${op}: only a tensor with one element can be converted to a number, ` +
        `this one has shape ${fmtShape(t.shape)} (${t.numel()} elements)`,
    );
  }
}

/**
 * The Promise that a read back (`t.item()`, `t.data()`, ...) returns: `await` and `then` work as
 * for any Promise, but a use as a value, without `await` (`total += loss.item()` would give
 * "0[object Promise]", `Number(t.item())` NaN, `loss.item().toFixed(3)` "is not a function"),
 * is an error that says to await it.
 */
class Readback<T> extends Promise<T> {
  // `then` and `catch` give plain Promises (they are awaited already).
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }
  /** The error message for a use without `await`, set by {@link readback}. */
  declare unawaited: string;
}

function notAwaited(this: Readback<unknown>): never {
  throw new TypeError(this.unawaited);
}
for (const name of [Symbol.toPrimitive, "valueOf", "toString", "toFixed", "map", "forEach"]) {
  Object.defineProperty(Readback.prototype, name, { value: notAwaited });
}
for (const name of [Symbol.iterator, "length"]) {
  Object.defineProperty(Readback.prototype, name, {
    get(this: Readback<unknown>) {
      throw new TypeError(this.unawaited);
    },
  });
}

/** Runs an asynchronous read back, returning a {@link Readback} that names `op`. */
function readback<T>(op: string, sync: string | null, work: () => Promise<T>): Promise<T> {
  const promise = new Readback<T>((resolve, reject) => work().then(resolve, reject));
  Object.defineProperty(promise, "unawaited", {
    value: `${op}: t.${op}() is asynchronous (it returns a Promise), so it cannot be used as ` +
      `a value: write "await t.${op}()"` + (sync ? ` (or ${sync} on the CPU)` : ""),
  });
  return promise;
}

/** The error for a use of released storage, with the way to keep the values. */
function releasedMessage(shape: readonly number[], by: "dispose" | "backward" | "zeroGrad") {
  const what = `this tensor of shape ${fmtShape(shape)}`;
  if (by === "backward") {
    return `${what} is an intermediate result whose values backward() released to save ` +
      `memory (as PyTorch frees its graph). To keep it: read it before backward(), keep ` +
      `"const kept = t.detach()" made before backward(), or pass { retainGraph: true } to ` +
      `backward()`;
  }
  if (by === "zeroGrad") {
    return `${what} is a gradient that zeroGrad() released. Read it before zeroGrad(), or keep ` +
      `a copy made before: "const kept = p.grad.clone()"`;
  }
  return `${what} was disposed and is unusable`;
}

/**
 * Throws when an argument that must be a tensor is not one (a number, an array, undefined from
 * a forgotten argument), naming the op and the argument.
 */
export function expectTensor(op: string, what: string, value: unknown): asserts value is Tensor {
  if (value instanceof Tensor) return;
  const got = value === undefined
    ? "nothing (undefined)"
    : Array.isArray(value)
    ? "an array (make it a tensor with tensor([...]))"
    : value instanceof Promise
    ? "a Promise (did you forget await?)"
    : typeof value === "number"
    ? `the number ${value} (make it a tensor with tensor(${value}))`
    : typeof value;
  throw new TypeError(`${op}: the ${what} must be a tensor, got ${got}`);
}

/** PyTorch's `x.view(2, 3)`: here the shape (or order of dims) is one array, `x.view([2, 3])`. */
function checkShapeArray(op: string, args: IArguments): void {
  if (Array.isArray(args[0]) && args.length === 1) return;
  const given = Array.from(args);
  if (given.every((a) => typeof a === "number")) {
    throw new TypeError(
      `${op}: the ${op === "permute" ? "order of dimensions" : "shape"} is one array: ` +
        `x.${op}([${given.join(", ")}]) (PyTorch's x.${op}(${given.join(", ")}))`,
    );
  }
  throw new TypeError(
    `${op}: expected one array of sizes, e.g. x.${op}([2, 3]), got ` +
      given.map((a) => (Array.isArray(a) ? "an array" : typeof a)).join(", "),
  );
}

/**
 * PyTorch's snake_case names, each pointing to its name here: without a type checker a student
 * who types `optimizer.zero_grad()` learns the name instead of reading "is not a function".
 */
export function sayWhereNamesWent(target: object, kind: string, names: Record<string, string>) {
  for (const [name, instead] of Object.entries(names)) {
    const fail = () => {
      throw new TypeError(
        `${kind}.${name}: the names here are PyTorch's in camelCase: use ${instead}`,
      );
    };
    // The setter too: `t.requires_grad = true` would otherwise say "has only a getter".
    Object.defineProperty(target, name, { enumerable: false, get: fail, set: fail });
  }
}

sayWhereNamesWent(Tensor.prototype, "Tensor", {
  requires_grad: "t.requiresGrad",
  requires_grad_: "t.requiresGrad_()",
  retain_grad: "t.retainGrad()",
  zero_grad: "t.zeroGrad()",
  log_softmax: "t.logSoftmax(dim)",
  index_select: "t.indexSelect(dim, index)",
  leaky_relu: "t.leakyRelu(slope)",
  is_leaf: "t.isLeaf",
  numpy: "await t.data() (a typed array) or await t.toArray() (nested arrays)",
  tolist: "await t.toArray()",
  dim: "t.ndim",
});

/** Turns a flat array into nested arrays of the given shape. */
function nest(values: ArrayLike<number>, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return values[0];
  const build = (dim: number, offset: number): NestedArray[] => {
    const size = shape[dim];
    const stride = numel(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < size; i++) {
      out.push(
        dim === shape.length - 1 ? values[offset + i] : build(dim + 1, offset + i * stride),
      );
    }
    return out;
  };
  return build(0, 0);
}

// `x.size` used as a number (`count + p.size`, from the days when it was the element count, or
// from NumPy's habit) would silently give NaN or a string: say where the count went instead.
Object.defineProperty(Tensor.prototype.size, Symbol.toPrimitive, {
  value: () => {
    throw new TypeError(
      "size: x.size is a method, PyTorch's shape (x.size(), x.size(0)); for the number of " +
        "elements use x.numel()",
    );
  },
});

// PyTorch's `w.data -= lr * w.grad`, written `w.data = w.sub(0.1)`, would silently replace the
// method `data()` of this tensor: say how to change values here instead.
const readData = Tensor.prototype.data;
Object.defineProperty(Tensor.prototype, "data", {
  configurable: true,
  enumerable: false,
  get: () => readData,
  set() {
    throw new TypeError(
      "data: t.data is a method here (await t.data() reads the values), not PyTorch's " +
        "t.data to assign to. To change a tensor's values in place write " +
        "{ using _ = noGrad(); w.assign(w.sub(0.1)); } (PyTorch's w.data -= 0.1), " +
        "or let an optimizer do it: optimizer.step()",
    );
  },
});

// PyTorch's `torch.max(out, 1)[1]` and `out.max(1).indices`: a tensor here has neither, and
// `[1]` would silently be undefined.
for (const name of ["0", "1", "values", "indices"]) {
  Object.defineProperty(Tensor.prototype, name, {
    configurable: true,
    enumerable: false,
    get(this: Tensor) {
      const index = name === "0" || name === "1";
      throw new TypeError(
        `Tensor: ${index ? `x[${name}]` : `x.${name}`}: a tensor of shape ` +
          `${fmtShape(this.shape)} has no ${index ? "[] indexing" : `"${name}"`}. ` +
          `x.max(dim) and x.min(dim) give only the values here (PyTorch's also give the ` +
          `indices): for the indices use x.argmax(dim). ` +
          (index
            ? `To pick entries use x.narrow(dim, start, length), x.slice(dim, start, end) or ` +
              `x.indexSelect(dim, index); to read values, (await x.data())[i]`
            : `sort, topk and kthvalue return { values, indices }`),
      );
    },
  });
}
