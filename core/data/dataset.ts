/**
 * Datasets: numbered collections of samples, and the loader that groups them into batches.
 *
 * A dataset only needs a `length` and a `get(i)` that returns sample `i`: one tensor, or a tuple
 * such as `[image, label]`. A {@link DataLoader} walks a dataset in batches, stacking the rows of
 * each field into one batch tensor, optionally in a new random order every epoch (drawn from the
 * seeded generator, so `manualSeed` makes the order repeat).
 *
 * @module
 */
import { tensor } from "../creation.ts";
import type { Device } from "../dtype.ts";
import { randperm } from "../random.ts";
import { fmtShape } from "../shape.ts";
import { expectTensor, type Tensor } from "../tensor.ts";
import { stack } from "../ops/shape.ts";
import { checkOptions } from "../options.ts";
import { labelValues, stratifiedPositions, type StratifyLabels } from "./stratify.ts";

/** One field of a sample: a tensor, or a plain number such as a class label. */
export type Field = Tensor | number;

/** A sample: one field, or a tuple of fields (`[image, label]`). */
export type Sample = Field | readonly Field[];

/**
 * What a batch of samples of type `S` looks like: each field becomes one tensor whose first
 * dimension is the batch (`[image, label]` samples give `[images, labels]` batches).
 */
export type Batch<S> = S extends readonly unknown[] ? { -readonly [K in keyof S]: Tensor } : Tensor;

/**
 * A numbered collection of samples, like PyTorch's map-style `Dataset`.
 *
 * @example
 * ```ts
 * import { data, tensor, type Tensor } from "../../mod.ts";
 * // Squares of 0..9 as [x, x^2] pairs, computed on demand.
 * const squares: data.Dataset<[Tensor, Tensor]> = {
 *   length: 10,
 *   get: (i) => [tensor([i]), tensor([i * i])],
 * };
 * const loader = new data.DataLoader(squares, { batchSize: 4 });
 * console.assert(loader.length === 3);
 * ```
 */
export interface Dataset<S extends Sample = Sample> {
  /** The number of samples. */
  readonly length: number;
  /** Sample `index`, for `0 <= index < length`. */
  get(index: number): S;
  /**
   * Optional fast path: the batch of the samples at `indices` in one go (for example by
   * indexing whole tensors), equal to stacking `get(i)` for each index.
   */
  getBatch?(indices: readonly number[]): Batch<S>;
}

function checkIndex(op: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(
      `${op}: index ${index} is out of range for a dataset of ${length} samples ` +
        `(expected 0 to ${length - 1})`,
    );
  }
}

/** An int32 index tensor on `device`. */
function indexTensor(indices: readonly number[], device: Device): Tensor {
  return tensor(indices, { dtype: "int32", device });
}

/**
 * A dataset made of tensors that share their first dimension: sample `i` is the tuple of row
 * `i` of each tensor, like PyTorch's `TensorDataset(images, labels)`.
 *
 * @example
 * ```ts
 * import { data, tensor } from "../../mod.ts";
 * const inputs = tensor([[1, 2], [3, 4], [5, 6]]);
 * const labels = tensor([0, 1, 0], { dtype: "int32" });
 * const dataset = new data.TensorDataset(inputs, labels);
 * const [x, y] = dataset.get(1);
 * console.assert(x.shape.join() === "2" && y.shape.length === 0);
 * ```
 */
export class TensorDataset implements Dataset<Tensor[]> {
  /** The tensors, each with the samples along its first dimension. */
  readonly tensors: readonly Tensor[];

  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) {
      throw new Error("TensorDataset: give at least one tensor, e.g. TensorDataset(x, y)");
    }
    if (tensors.length === 1 && Array.isArray(tensors[0])) {
      throw new TypeError(
        "TensorDataset: pass the tensors as separate arguments, new data.TensorDataset(x, y), " +
          "not one array",
      );
    }
    for (const [k, t] of tensors.entries()) expectTensor("TensorDataset", `argument ${k}`, t);
    for (const [k, t] of tensors.entries()) {
      if (t.ndim === 0 || t.shape[0] !== tensors[0].shape[0]) {
        throw new Error(
          `TensorDataset: all tensors need the same size in their first dimension (the ` +
            `samples); tensor 0 has shape ${fmtShape(tensors[0].shape)}, tensor ${k} has ` +
            `shape ${fmtShape(t.shape)}`,
        );
      }
    }
    this.tensors = tensors;
  }

  /** The number of samples (the size of the first dimension). */
  get length(): number {
    return this.tensors[0].shape[0];
  }

  /** Row `index` of every tensor. */
  get(index: number): Tensor[] {
    checkIndex("TensorDataset.get", index, this.length);
    return this.tensors.map((t) => t.narrow(0, index, 1).reshape(t.shape.slice(1)));
  }

  /** The rows at `indices` of every tensor, picked with one `indexSelect` per tensor. */
  getBatch(indices: readonly number[]): Tensor[] {
    for (const i of indices) checkIndex("TensorDataset.getBatch", i, this.length);
    const byDevice = new Map<Device, Tensor>();
    return this.tensors.map((t) => {
      let index = byDevice.get(t.device);
      if (!index) {
        index = indexTensor(indices, t.device);
        byDevice.set(t.device, index);
      }
      return t.indexSelect(0, index);
    });
  }
}

/** The samples of `dataset` at the given positions, in that order (what randomSplit returns). */
export class Subset<S extends Sample = Sample> implements Dataset<S> {
  /** Fast batches, when the underlying dataset has them. */
  readonly getBatch?: (indices: readonly number[]) => Batch<S>;

  constructor(readonly dataset: Dataset<S>, readonly indices: readonly number[]) {
    for (const i of indices) checkIndex("Subset", i, dataset.length);
    const parentBatch = dataset.getBatch;
    if (parentBatch) {
      this.getBatch = (positions) =>
        parentBatch.call(dataset, positions.map((p) => this.#parentIndex(p)));
    }
  }

  /** The number of samples in the subset. */
  get length(): number {
    return this.indices.length;
  }

  /** Sample `index` of the subset, i.e. sample `indices[index]` of the dataset. */
  get(index: number): S {
    return this.dataset.get(this.#parentIndex(index));
  }

  #parentIndex(index: number): number {
    checkIndex("Subset.get", index, this.indices.length);
    return this.indices[index];
  }
}

/**
 * A dataset whose samples pass through a transform: the first field of each sample (the input,
 * such as an image) is replaced by `transform(field)`; the other fields (labels) are kept.
 * Transforms that draw random numbers draw new ones each time a sample is read, so every epoch
 * sees a new augmentation.
 *
 * @example
 * ```ts
 * import { data, tensor } from "../../mod.ts";
 * const images = tensor([[[[0, 1], [2, 3]]]]); // one 1x2x2 image
 * const labels = tensor([1], { dtype: "int32" });
 * const flipped = new data.TransformedDataset(
 *   new data.TensorDataset(images, labels),
 *   data.transforms.randomHorizontalFlip(1),
 * );
 * const [image] = flipped.get(0);
 * console.assert((await image.toArray()).toString() === "1,0,3,2");
 * ```
 */
export class TransformedDataset<S extends Sample = Sample> implements Dataset<S> {
  constructor(readonly dataset: Dataset<S>, readonly transform: (input: Tensor) => Tensor) {}

  /** The number of samples (that of the underlying dataset). */
  get length(): number {
    return this.dataset.length;
  }

  /** Sample `index` with its first field transformed. */
  get(index: number): S {
    const sample = this.dataset.get(index);
    if (Array.isArray(sample)) {
      const [first, ...rest] = sample as readonly Field[];
      return [this.#apply(first), ...rest] as unknown as S;
    }
    return this.#apply(sample as Field) as unknown as S;
  }

  #apply(field: Field): Tensor {
    if (typeof field === "number") {
      throw new TypeError(
        `TransformedDataset: the first field of a sample must be a tensor to transform, got ` +
          `the number ${field}`,
      );
    }
    return this.transform(field);
  }
}

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions {
  /** Samples per batch (the last batch may be smaller, see `dropLast`); 1 by default. */
  batchSize?: number;
  /** Visit the samples in a new random order every epoch (seeded); false by default. */
  shuffle?: boolean;
  /** Skip the last batch when it is smaller than `batchSize`; false by default. */
  dropLast?: boolean;
}

/**
 * Walks a dataset in batches, like PyTorch's `DataLoader`. Iterate over it once per epoch,
 * with `for (const [images, labels] of loader)` or `for await (...)`; each batch holds one
 * tensor per field of the samples, with the batch along the first dimension. With `shuffle`,
 * every epoch visits every sample exactly once, in an order drawn from the seeded generator.
 *
 * @example
 * ```ts
 * import { data, manualSeed, randn, randint } from "../../mod.ts";
 * manualSeed(0);
 * const dataset = new data.TensorDataset(randn([10, 3]), randint(0, 2, [10]));
 * const trainLoader = new data.DataLoader(dataset, { batchSize: 4, shuffle: true });
 * console.assert(trainLoader.length === 3);
 * for (const [inputs, targets] of trainLoader) {
 *   console.assert(inputs.shape[1] === 3 && targets.shape[0] === inputs.shape[0]);
 * }
 * ```
 */
export class DataLoader<S extends Sample = Sample>
  implements Iterable<Batch<S>>, AsyncIterable<Batch<S>> {
  /** The dataset being loaded. */
  readonly dataset: Dataset<S>;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch draws a new order. */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is skipped. */
  readonly dropLast: boolean;

  /**
   * Creates the loader.
   * @param dataset the samples to load (anything with a `length` and a `get(index)`)
   * @param options `batchSize` (1 by default), `shuffle` and `dropLast` (false by default)
   */
  constructor(dataset: Dataset<S>, options: DataLoaderOptions = {}) {
    const asOptions = dataset as unknown as { dataset?: unknown; get?: unknown };
    if (asOptions && typeof asOptions === "object" && "dataset" in asOptions && !asOptions.get) {
      throw new TypeError(
        "DataLoader: the dataset comes first and the options second, as in PyTorch: " +
          "new data.DataLoader(dataset, { batchSize: 16, shuffle: true })",
      );
    }
    if (!dataset || typeof dataset.get !== "function" || !Number.isInteger(dataset.length)) {
      throw new TypeError(
        "DataLoader: the first argument, the dataset, must have a `length` and a " +
          "`get(index)` method (for tensors, wrap them: new data.TensorDataset(inputs, " +
          "targets)); the options come second: new data.DataLoader(dataset, { batchSize })",
      );
    }
    checkOptions("DataLoader", arguments, 1, ["batchSize", "shuffle", "dropLast"]);
    const { batchSize = 1, shuffle = false, dropLast = false } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (typeof shuffle !== "boolean" || typeof dropLast !== "boolean") {
      throw new TypeError(
        `DataLoader: shuffle and dropLast must be true or false, got ${shuffle} and ${dropLast}`,
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
  }

  /** The number of batches in one epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** One epoch of batches (a new order each time, when shuffling). */
  *[Symbol.iterator](): Iterator<Batch<S>> {
    const n = this.dataset.length;
    const order = this.shuffle ? randperm(n) : Array.from({ length: n }, (_, i) => i);
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      yield this.#load(order.slice(b * this.batchSize, (b + 1) * this.batchSize));
    }
  }

  /** The same batches for `for await`, as a loader of a streaming source would give them. */
  async *[Symbol.asyncIterator](): AsyncIterator<Batch<S>> {
    for (const batch of this) yield await Promise.resolve(batch);
  }

  /** The batch of the samples at `indices`. */
  #load(indices: number[]): Batch<S> {
    if (this.dataset.getBatch) return this.dataset.getBatch(indices);
    return collate(indices.map((i) => this.dataset.get(i)));
  }
}

/**
 * Stacks samples into a batch: each field's rows become one tensor with the batch first;
 * numbers become a 1-D tensor (int32 when they are all integers, like class labels).
 */
export function collate<S extends Sample>(samples: S[]): Batch<S> {
  if (samples.length === 0) throw new Error("collate: cannot make a batch of no samples");
  const first = samples[0];
  if (!Array.isArray(first)) {
    return collateField(samples as Field[], "the samples") as Batch<S>;
  }
  const width = (first as readonly Field[]).length;
  const fields: Tensor[] = [];
  for (let k = 0; k < width; k++) {
    const column = samples.map((sample, i) => {
      const tuple = sample as readonly Field[];
      if (!Array.isArray(tuple) || tuple.length !== width) {
        throw new Error(
          `collate: sample ${i} has ${Array.isArray(tuple) ? tuple.length : 1} field(s), ` +
            `sample 0 has ${width}; every sample needs the same fields`,
        );
      }
      return tuple[k];
    });
    fields.push(collateField(column, `field ${k}`));
  }
  return fields as unknown as Batch<S>;
}

function collateField(values: Field[], what: string): Tensor {
  if (values.every((v) => typeof v === "number")) {
    const numbers = values as number[];
    return tensor(numbers, { dtype: numbers.every(Number.isInteger) ? "int32" : "float32" });
  }
  const tensors = values.map((v, i) => {
    if (typeof v === "number") {
      throw new TypeError(
        `collate: ${what} mixes tensors and numbers (sample ${i} is the number ${v})`,
      );
    }
    return v;
  });
  const shape = tensors[0].shape;
  tensors.forEach((t, i) => {
    if (t.ndim !== shape.length || t.shape.some((d, j) => d !== shape[j])) {
      throw new Error(
        `collate: ${what} of sample ${i} has shape ${fmtShape(t.shape)} but that of sample 0 ` +
          `has ${fmtShape(shape)}; samples in a batch must have the same shape`,
      );
    }
  });
  return stack(tensors, 0);
}

/** Options of {@link randomSplit}. */
export interface RandomSplitOptions {
  /**
   * The class label of every sample: each subset then holds every class in (nearly) the
   * proportion it has in the whole dataset (a stratified split, as scikit-learn's
   * `train_test_split(..., stratify=y)`).
   */
  stratify?: StratifyLabels;
}

/**
 * Splits a dataset into disjoint random subsets, like `torch.utils.data.random_split`. Give the
 * sizes (summing to the dataset's length) or fractions (summing to 1; rounding leftovers go
 * to the first subsets one each). The permutation comes from the seeded generator. With
 * `{ stratify: labels }` every subset keeps the class proportions of the whole.
 *
 * @example
 * ```ts
 * import { data, manualSeed, randn } from "../../mod.ts";
 * manualSeed(0);
 * const dataset = new data.TensorDataset(randn([10, 2]));
 * const [train, test] = data.randomSplit(dataset, [0.8, 0.2]);
 * console.assert(train.length === 8 && test.length === 2);
 * // Stratified: both halves get five samples of each of the two classes.
 * const labels = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
 * const twenty = new data.TensorDataset(randn([20, 2]));
 * const [a, b] = data.randomSplit(twenty, [0.5, 0.5], { stratify: labels });
 * console.assert(a.indices.filter((i) => labels[i] === 1).length === 5);
 * ```
 */
export function randomSplit<S extends Sample>(
  dataset: Dataset<S>,
  lengths: readonly number[],
  options: RandomSplitOptions = {},
): Subset<S>[] {
  checkOptions("randomSplit", arguments, 2, ["stratify"]);
  const { stratify } = options;
  const n = dataset.length;
  const total = lengths.reduce((s, v) => s + v, 0);
  let sizes: number[];
  const fractions = lengths.length > 0 && Math.abs(total - 1) < 1e-9 &&
    lengths.every((f) => f >= 0 && f <= 1);
  if (fractions) {
    sizes = lengths.map((f) => Math.floor(n * f));
    const left = n - sizes.reduce((s, v) => s + v, 0);
    for (let i = 0; i < left; i++) sizes[i % sizes.length]++;
  } else {
    if (lengths.some((v) => !Number.isInteger(v) || v < 0) || total !== n) {
      throw new Error(
        `randomSplit: lengths [${lengths.join(", ")}] must be non-negative integers summing ` +
          `to the dataset's length ${n} (they sum to ${total}), or fractions summing to 1`,
      );
    }
    sizes = [...lengths];
  }
  if (stratify !== undefined) {
    const labels = labelValues("randomSplit", stratify, n);
    return stratifiedPositions(labels, sizes).map((positions) => new Subset(dataset, positions));
  }
  const order = randperm(n);
  const subsets: Subset<S>[] = [];
  let start = 0;
  for (const size of sizes) {
    subsets.push(new Subset(dataset, order.slice(start, start + size)));
    start += size;
  }
  return subsets;
}
