/**
 * Shapes, strides and broadcasting.
 * @module
 */

/** A tensor's shape: the length of each dimension, outermost first. */
export type Shape = readonly number[];

/** The number of elements in a tensor of this shape (1 for a scalar). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: how many elements to skip to move one step along each dimension. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/** Formats a shape like PyTorch prints it: `[64, 784]`. */
export function fmtShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** Whether two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The shape two operands broadcast to under NumPy's rules: align shapes on the right; each pair
 * of sizes must be equal or one of them 1.
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together ` +
          `(dimension ${i - rank} has sizes ${da} and ${db}; each pair must be equal or 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides for reading a tensor of shape `shape` as if it had the (broadcast) shape `target`:
 * broadcast dimensions get stride 0, so the same element is read again.
 */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = stridesOf(shape);
  const offset = target.length - shape.length;
  return target.map((_, i) => {
    const j = i - offset;
    if (j < 0 || shape[j] === 1) return 0;
    return own[j];
  });
}

/** Turns a possibly negative dimension into its index, checking the range. */
export function normDim(op: string, dim: number, rank: number): number {
  if (typeof dim !== "number") {
    throw new TypeError(
      `${op}: a dimension is an integer, got ` +
        (dim === undefined
          ? "none (give the dim, e.g. 1 for [batch, classes])"
          : `${typeof dim} ${JSON.stringify(dim)}`),
    );
  }
  const d = dim < 0 ? dim + rank : dim;
  if (!Number.isInteger(dim) || d < 0 || d >= Math.max(rank, 1)) {
    throw new RangeError(
      `${op}: dimension ${dim} is out of range for a tensor with ${rank} dimensions ` +
        `(expected ${-Math.max(rank, 1)} to ${Math.max(rank, 1) - 1})`,
    );
  }
  return d;
}

/** Normalizes a list of dimensions (or all of them when `dims` is undefined), sorted, unique. */
export function normDims(op: string, dims: number | number[] | undefined, rank: number): number[] {
  if (dims === undefined) return [...Array(rank).keys()];
  const list = Array.isArray(dims) ? dims : [dims];
  const out = [...new Set(list.map((d) => normDim(op, d, rank)))].sort((x, y) => x - y);
  if (out.length !== list.length) {
    throw new Error(`${op}: dimension list [${list.join(", ")}] repeats a dimension`);
  }
  return out;
}

/** Checks that every entry of a shape is a non-negative integer. */
export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: invalid shape ${fmtShape(shape)}: sizes must be integers >= 0`);
    }
  }
}
