/**
 * Elementwise kernels, generated from the core's op table (`core/ops/table.ts`), where each op's
 * WGSL expression sits beside its JavaScript one: the WebGPU backend cannot lack an op that the
 * CPU has, nor compute it with another formula.
 *
 * One generator serves every kernel that reads views through strides (binary ops with
 * broadcasting, `where`, strided copies): each input is read either at the element index
 * (contiguous), at one place (a broadcast scalar), or through strides over the output's
 * coordinates. The shader is specialised on these kinds and on the rank, so the common cases do
 * no index arithmetic at all.
 *
 * @module
 */
import {
  BINARY_OPS,
  type BinaryOp,
  UNARY_OPS,
  type UnaryOp,
  WGSL_HELPERS,
} from "../../core/ops/table.ts";
import {
  elementIndex,
  entryPoint,
  type MergedView,
  paramBlock,
  Params,
  type Scalar,
  type ViewKind,
  viewKind,
} from "./common.ts";

/**
 * The WGSL helpers (erf, powSigned) when an expression calls them, and `isNaN` for the element
 * type `T`: a test of the bits, because a shader compiler may fold `x != x` to false.
 */
function helpersFor(expression: string, type: Scalar): string {
  const nan = /\bisNaN\(/.test(expression)
    ? `fn isNaN(x: T) -> bool { ${
      type === "f32" ? "return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;" : "return false;"
    } }\n`
    : "";
  return nan + (/\b(erf|powSigned)\(/.test(expression) ? WGSL_HELPERS : "");
}

/** `out[i] = op(x[i])` for a unary op of the table; parameters `n, p0, p1`. */
export function unaryShader(op: UnaryOp, type: Scalar): string {
  const expression = UNARY_OPS[op].wgsl;
  return `
alias T = ${type};
${helpersFor(expression, type)}
@group(0) @binding(0) var<storage, read> xs: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
${paramBlock(2, 3)}
${entryPoint()}
${elementIndex("param(0u)")}
  let p0 = bitcast<T>(param(1u));
  let p1 = bitcast<T>(param(2u));
  let x = xs[i];
  out[i] = ${expression};
}`;
}

/** Parameters of {@link unaryShader}. */
export function unaryParams(length: number, type: Scalar, p: readonly number[]): Uint32Array {
  const params = new Params();
  params.u32(length);
  params.scalar(p[0] ?? 0, type);
  params.scalar(p[1] ?? 0, type);
  return params.finish();
}

/** One input of a strided kernel: its name in the expression and its element type. */
export interface StridedInput {
  name: string;
  type: Scalar;
}

/** The layout of a strided kernel's parameters, shared by the shader and the host. */
interface StridedLayout {
  rank: number;
  kinds: ViewKind[];
}

/**
 * `out[i] = expression(inputs at i)` where each input is read through its own strides over
 * the (merged) output shape. Parameters: `n`, each input's offset, the shape, then the strides
 * of each strided input.
 */
export function stridedShader(
  inputs: readonly StridedInput[],
  outType: Scalar,
  expression: string,
  layout: StridedLayout,
  preamble = "",
): string {
  const { rank, kinds } = layout;
  const shapeAt = 1 + inputs.length;
  const bindings = inputs.map((input, k) =>
    `@group(0) @binding(${k}) var<storage, read> in${k}: array<${input.type}>;`
  ).join("\n");
  let stridedCount = 0;
  const strideAt = kinds.map((kind) =>
    kind === "strided" ? shapeAt + rank * (1 + stridedCount++) : -1
  );
  const words = shapeAt + rank * (1 + stridedCount);
  const lines: string[] = [];
  const anyStrided = stridedCount > 0;
  inputs.forEach((_, k) => {
    const offset = `param(${1 + k}u)`;
    if (kinds[k] === "contiguous") lines.push(`  let at${k} = ${offset} + i;`);
    else if (kinds[k] === "scalar") lines.push(`  let at${k} = ${offset};`);
    else lines.push(`  var at${k} = ${offset};`);
  });
  if (anyStrided) {
    // Walk the coordinates of element i from the innermost dimension outwards.
    lines.push(`  var rest = i;`);
    lines.push(`  for (var d = ${rank}u; d > 0u; d--) {`);
    lines.push(`    let size = param(${shapeAt}u + d - 1u);`);
    lines.push(`    let coord = rest % size;`);
    lines.push(`    rest = rest / size;`);
    kinds.forEach((kind, k) => {
      if (kind === "strided") lines.push(`    at${k} += coord * param(${strideAt[k]}u + d - 1u);`);
    });
    lines.push(`  }`);
  }
  inputs.forEach((input, k) => lines.push(`  let ${input.name} = in${k}[at${k}];`));
  return `
${preamble}
${bindings}
@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<${outType}>;
${paramBlock(inputs.length + 1, words)}
${entryPoint()}
${elementIndex("param(0u)")}
${lines.join("\n")}
  out[i] = ${outType}(${expression});
}`;
}

/** The shader key part and parameters of a strided kernel over merged views. */
export function stridedPlan(
  shape: readonly number[],
  views: readonly MergedView[],
): { layout: StridedLayout; key: string; params: Uint32Array; count: number } {
  const kinds = views.map((v) => viewKind(shape, v.strides));
  const params = new Params();
  let count = 1;
  for (const d of shape) count *= d;
  params.u32(count);
  for (const v of views) params.u32(v.offset);
  params.u32s(shape);
  views.forEach((v, k) => {
    if (kinds[k] === "strided") params.u32s(v.strides);
  });
  const layout = { rank: shape.length, kinds };
  return { layout, key: `${shape.length}:${kinds.join(",")}`, params: params.finish(), count };
}

/** `out[i] = op(a[i], b[i])` for a binary op of the table, reading through strides. */
export function binaryShader(
  op: BinaryOp,
  inType: Scalar,
  outType: Scalar,
  layout: StridedLayout,
): string {
  const expression = BINARY_OPS[op].wgsl;
  return stridedShader(
    [{ name: "a", type: inType }, { name: "b", type: inType }],
    outType,
    expression,
    layout,
    `alias T = ${inType};\n${helpersFor(expression, inType)}`,
  );
}

/** `out[i] = cond[i] != 0 ? a[i] : b[i]`, reading through strides. */
export function whereShader(condType: Scalar, type: Scalar, layout: StridedLayout): string {
  return stridedShader(
    [{ name: "cond", type: condType }, { name: "a", type }, { name: "b", type }],
    type,
    `select(b, a, cond != ${condType}(0))`,
    layout,
  );
}

/** `out[i] = x[i]` through strides: transpose, permute, expand, slice. */
export function copyShader(type: Scalar, layout: StridedLayout): string {
  return stridedShader([{ name: "x", type }], type, "x", layout);
}

/**
 * `dst[offset + coords(i) . strides] = src[i]`: writes a contiguous tensor into a strided view
 * of another (cat, slice backward). Parameters: `n, offset, shape[rank], strides[rank]`.
 */
export function writeStridedShader(type: Scalar, rank: number): string {
  return `
@group(0) @binding(0) var<storage, read_write> dst: array<${type}>;
@group(0) @binding(1) var<storage, read> src: array<${type}>;
${paramBlock(2, 2 + 2 * rank)}
${entryPoint()}
${elementIndex("param(0u)")}
  var at = param(1u);
  var rest = i;
  for (var d = ${rank}u; d > 0u; d--) {
    let size = param(2u + d - 1u);
    at += (rest % size) * param(${2 + rank}u + d - 1u);
    rest = rest / size;
  }
  dst[at] = src[i];
}`;
}

/** Fills with one value (given as its bits); parameters `n, value`. */
export function fillShader(type: Scalar): string {
  return `
@group(0) @binding(0) var<storage, read_write> out: array<${type}>;
${paramBlock(1, 2)}
${entryPoint()}
${elementIndex("param(0u)")}
  out[i] = bitcast<${type}>(param(1u));
}`;
}

/**
 * Converts between f32 and i32; `i32(x)` truncates toward zero as the CPU's `Math.trunc`, and
 * saturates out-of-range values. Parameters `n`.
 */
export function castShader(from: Scalar, to: Scalar): string {
  return `
@group(0) @binding(0) var<storage, read> xs: array<${from}>;
@group(0) @binding(1) var<storage, read_write> out: array<${to}>;
${paramBlock(2, 1)}
${entryPoint()}
${elementIndex("param(0u)")}
  out[i] = ${to}(xs[i]);
}`;
}
