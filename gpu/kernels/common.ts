/**
 * Pieces shared by the WGSL kernel generators: element types, the parameter block, the entry
 * point with its linear workgroup index, and dimension merging for strided views.
 *
 * Every kernel receives its small parameters (sizes, strides, scalars) as 32-bit words in a
 * uniform array, read with `param(i)` (and `paramF(i)` / `paramI(i)` for floats and signed
 * integers, stored as their bits). Every kernel also computes a linear workgroup index
 * `x + y * numWorkgroups.x`, because a launch of more than 65,535 workgroups is spread over a
 * 2-D grid (see `GpuRuntime.grid`).
 *
 * @module
 */
import type { DType } from "../../core/dtype.ts";
import { mergeDims as coreMergeDims } from "../../core/backend.ts";

/** The WGSL scalar types tensors use. */
export type Scalar = "f32" | "i32";

/** Threads per workgroup of the one-thread-per-element kernels. */
export const WORKGROUP_SIZE = 256;

/** The WGSL type of a dtype; float64 gets an error that names the op and the fix. */
export function scalarOf(dtype: DType, op: string): Scalar {
  if (dtype === "float32") return "f32";
  if (dtype === "int32") return "i32";
  throw new TypeError(
    `${op}: WebGPU has no float64 (WGSL has no 64-bit floats); convert with .float() or keep ` +
      `the tensor on the CPU`,
  );
}

/** The uniform parameter block at `binding`, holding `words` 32-bit words, and its readers. */
export function paramBlock(binding: number, words: number): string {
  const vectors = Math.max(1, Math.ceil(words / 4));
  return `
@group(0) @binding(${binding}) var<uniform> params: array<vec4<u32>, ${vectors}>;
fn param(i: u32) -> u32 { return params[i / 4u][i % 4u]; }
fn paramF(i: u32) -> f32 { return bitcast<f32>(param(i)); }
fn paramI(i: u32) -> i32 { return bitcast<i32>(param(i)); }
`;
}

/** The entry point's signature; the body can use `group` (linear workgroup index) and `lid`. */
export function entryPoint(workgroupSize = WORKGROUP_SIZE): string {
  return `
@compute @workgroup_size(${workgroupSize})
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCount: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let group = workgroupId.x + workgroupId.y * workgroupCount.x;`;
}

/** The element index of a one-thread-per-element kernel, returning past `count`. */
export function elementIndex(count: string, workgroupSize = WORKGROUP_SIZE): string {
  return `
  let i = group * ${workgroupSize}u + lid;
  if (i >= ${count}) { return; }`;
}

/** Workgroups needed for `count` elements at one thread each. */
export function groupsFor(count: number, workgroupSize = WORKGROUP_SIZE): number {
  return Math.ceil(count / workgroupSize);
}

/** Packs kernel parameters into 32-bit words (floats and signed integers as their bits). */
export class Params {
  readonly #words: number[] = [];
  static readonly #scratch = new DataView(new ArrayBuffer(4));

  /** Appends an unsigned integer; returns its word index. */
  u32(value: number): number {
    this.#words.push(value >>> 0);
    return this.#words.length - 1;
  }

  /** Appends a signed integer (saturated to the int32 range; NaN becomes 0). */
  i32(value: number): number {
    const clamped = Number.isNaN(value)
      ? 0
      : Math.max(-2147483648, Math.min(2147483647, Math.trunc(value)));
    this.#words.push(clamped >>> 0);
    return this.#words.length - 1;
  }

  /** Appends a float32 (its bits). */
  f32(value: number): number {
    Params.#scratch.setFloat32(0, value, true);
    this.#words.push(Params.#scratch.getUint32(0, true));
    return this.#words.length - 1;
  }

  /** Appends a value of a tensor's type: its float32 bits, or a saturated int32. */
  scalar(value: number, type: Scalar): number {
    return type === "f32" ? this.f32(value) : this.i32(value);
  }

  /** Appends several unsigned integers; returns the index of the first. */
  u32s(values: readonly number[]): number {
    const first = this.#words.length;
    for (const v of values) this.#words.push(v >>> 0);
    return first;
  }

  /** The number of words so far. */
  get length(): number {
    return this.#words.length;
  }

  /** The words, ready to upload. */
  finish(): Uint32Array {
    return Uint32Array.from(this.#words);
  }
}

/** A strided read after merging: its offset and strides over the merged shape. */
export interface MergedView {
  offset: number;
  strides: number[];
}

/**
 * The core's {@link coreMergeDims} over views: the merged shape, and each view's offset with its
 * strides over that shape.
 */
export function mergeDims(
  shape: readonly number[],
  views: readonly { strides: readonly number[]; offset: number }[],
): { shape: number[]; views: MergedView[] } {
  const merged = coreMergeDims(shape, views.map((v) => v.strides));
  return {
    shape: merged.shape,
    views: views.map((v, k) => ({ offset: v.offset, strides: merged.strides[k] })),
  };
}

/** How a kernel indexes a view: by the element index, at one fixed place, or by strides. */
export type ViewKind = "contiguous" | "scalar" | "strided";

/** Classifies a merged view over a merged shape. */
export function viewKind(shape: readonly number[], strides: readonly number[]): ViewKind {
  if (strides.every((s) => s === 0)) return "scalar";
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (strides[d] !== expected) return "strided";
    expected *= shape[d];
  }
  return "contiguous";
}
