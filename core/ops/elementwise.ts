/**
 * Elementwise ops: each forward beside its backward.
 *
 * Binary ops broadcast with NumPy's rules. Their backward must undo the broadcast: when `b` of
 * shape `[3]` was added to `a` of shape `[2, 3]`, each entry of `b` was used twice, so its
 * gradient is the output gradient summed over the broadcast dimension ({@link sumToShape}).
 *
 * @module
 */
import { record, withNoGrad } from "../autograd.ts";
import { getBackend } from "../backend.ts";
import { type DType, isFloat, promoteTypes } from "../dtype.ts";
import { broadcastShapes, broadcastStrides, fmtShape, sameShape, type Shape } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { BINARY_OPS, type BinaryOp, type ElementwiseOp, UNARY_OPS, type UnaryOp } from "./table.ts";
import { full, reshape, to } from "./shape.ts";
import { sum } from "./reduce.ts";
import { checkAllocation } from "../limits.ts";

// ---- helpers -------------------------------------------------------------------------------

/** A number becomes a 0-d tensor with the dtype and device of `like`. */
export function asTensor(value: TensorLike, like: Tensor, op = "this op"): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value !== "number") {
    throw new TypeError(
      `${op}: expected a tensor or a number, got ${
        typeof value === "string"
          ? `the string "${value}" (convert it with Number(...))`
          : typeof value
      }`,
    );
  }
  const dtype = like.dtype === "int32" && !Number.isInteger(value) ? "float32" : like.dtype;
  return full([], value, dtype, like.device);
}

/**
 * Sums a gradient over the dimensions that broadcasting added or stretched, so that it gets the
 * shape of the input it belongs to.
 */
export function sumToShape(grad: Tensor, shape: Shape): Tensor {
  if (sameShape(grad.shape, shape)) return grad;
  const lead = grad.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < grad.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) dims.push(i);
  }
  const summed = dims.length > 0 ? sum(grad, dims, true) : grad;
  return reshape(summed, shape);
}

/** Runs a unary kernel from the op table on `x`. */
export function unaryKernel(op: UnaryOp, x: Tensor, params: number[] = []): Tensor {
  const row: ElementwiseOp = UNARY_OPS[op];
  if (x.dtype === "int32" && !row.int) {
    throw new TypeError(`${op}: expected a float tensor, got int32 (convert it with .float())`);
  }
  const storage = getBackend(x.device).unary(op, x.storage, x.numel(), x.dtype, params);
  return new Tensor(storage, x.shape, x.dtype);
}

/** Runs a binary kernel from the op table, broadcasting and promoting dtypes. */
export function binaryKernel(op: BinaryOp, a: Tensor, b: Tensor, outDtype?: DType): Tensor {
  if (a.device !== b.device) {
    throw new Error(
      `${op}: tensors are on different devices ("${a.device}" and "${b.device}"); ` +
        `move one with .to("${a.device}")`,
    );
  }
  const dtype = promoteTypes(a.dtype, b.dtype);
  const row: ElementwiseOp = BINARY_OPS[op];
  if (dtype === "int32" && !row.int) {
    a = to(a, "float32");
    b = to(b, "float32");
  } else {
    if (a.dtype !== dtype) a = to(a, dtype);
    if (b.dtype !== dtype) b = to(b, dtype);
  }
  const shape = broadcastShapes(op, a.shape, b.shape);
  checkAllocation(op, shape, outDtype ?? a.dtype, a.device);
  const storage = getBackend(a.device).binary(
    op,
    { storage: a.storage, shape, strides: broadcastStrides(a.shape, shape), offset: 0 },
    { storage: b.storage, shape, strides: broadcastStrides(b.shape, shape), offset: 0 },
    a.dtype,
    outDtype ?? a.dtype,
  );
  return new Tensor(storage, shape, outDtype ?? a.dtype);
}

function checkFloat(op: string, x: Tensor): void {
  if (!isFloat(x.dtype)) {
    throw new TypeError(`${op}: expected a float tensor, got int32 (convert it with .float())`);
  }
}

// ---- arithmetic ----------------------------------------------------------------------------

/** `a + b`, broadcasting. */
export function add(a: Tensor, b: TensorLike): Tensor {
  if (typeof b === "number" && (a.dtype !== "int32" || Number.isInteger(b))) {
    const out = unaryKernel("addScalar", a, [b]);
    return record("add", out, [a], (grad) => [grad], []);
  }
  const other = asTensor(b, a, "add");
  const out = binaryKernel("add", a, other);
  // The gradient of a sum needs no input values: nothing is saved (changing a or b in place
  // before backward() is allowed, as in PyTorch).
  return record("add", out, [a, other], (grad) => [
    sumToShape(grad, a.shape),
    sumToShape(grad, other.shape),
  ], []);
}

/** `a - b`, broadcasting. */
export function sub(a: Tensor, b: TensorLike): Tensor {
  if (typeof b === "number" && (a.dtype !== "int32" || Number.isInteger(b))) {
    const out = unaryKernel("addScalar", a, [-b]);
    return record("sub", out, [a], (grad) => [grad], []);
  }
  const other = asTensor(b, a, "sub");
  const out = binaryKernel("sub", a, other);
  return record("sub", out, [a, other], (grad) => [
    sumToShape(grad, a.shape),
    sumToShape(neg(grad), other.shape),
  ], []);
}

/** `a * b`, broadcasting. */
export function mul(a: Tensor, b: TensorLike): Tensor {
  if (typeof b === "number" && (a.dtype !== "int32" || Number.isInteger(b))) {
    const out = unaryKernel("mulScalar", a, [b]);
    return record("mul", out, [a], (grad) => [mul(grad, b)]);
  }
  const other = asTensor(b, a, "mul");
  const out = binaryKernel("mul", a, other);
  // d(a*b)/da = b and d(a*b)/db = a.
  return record("mul", out, [a, other], (grad) => [
    a.requiresGrad ? sumToShape(mul(grad, other), a.shape) : null,
    other.requiresGrad ? sumToShape(mul(grad, a), other.shape) : null,
  ]);
}

/** `a / b`, broadcasting (int32 inputs give a float32 result, as in PyTorch). */
export function div(a: Tensor, b: TensorLike): Tensor {
  if (typeof b === "number" && isFloat(a.dtype)) {
    const out = unaryKernel("mulScalar", a, [1 / b]);
    return record("div", out, [a], (grad) => [mul(grad, 1 / b)]);
  }
  const other = asTensor(b, a, "div");
  const out = binaryKernel("div", a, other);
  // d(a/b)/da = 1/b and d(a/b)/db = -a/b^2 = -out/b.
  return record("div", out, [a, other], (grad) => [
    a.requiresGrad ? sumToShape(div(grad, other), a.shape) : null,
    other.requiresGrad ? sumToShape(neg(mul(grad, div(out, other))), other.shape) : null,
  ]);
}

/** `a ** b`, broadcasting. */
export function pow(a: Tensor, b: TensorLike): Tensor {
  checkFloat("pow", a);
  if (typeof b === "number") {
    const exponent = b;
    const out = unaryKernel("powScalar", a, [exponent]);
    // d(a^p)/da = p * a^(p-1); for p = 0 that is 0 everywhere (a^-1 would give 0 * inf at 0).
    return record("pow", out, [a], (grad) => [
      exponent === 0 ? mul(grad, 0) : mul(grad, mul(pow(a, exponent - 1), exponent)),
    ]);
  }
  const out = binaryKernel("pow", a, asTensor(b, a, "pow"));
  // d(a^b)/da = b * a^(b-1); d(a^b)/db = a^b * ln(a). Where b = 0 the first is 0, and where
  // a = 0 and b >= 0 the second is 0, as in PyTorch (the formulas would give 0 * inf there).
  return record("pow", out, [a, b], (grad) => [
    a.requiresGrad
      ? sumToShape(mul(grad, where(eq(b, 0), 0, mul(b, pow(a, sub(b, 1))))), a.shape)
      : null,
    b.requiresGrad
      ? sumToShape(mul(grad, where(mul(eq(a, 0), ge(b, 0)), 0, mul(out, log(a)))), b.shape)
      : null,
  ]);
}

/** `-x`. */
export function neg(x: Tensor): Tensor {
  const out = unaryKernel("neg", x);
  return record("neg", out, [x], (grad) => [neg(grad)]);
}

/** `e ** x`. */
export function exp(x: Tensor): Tensor {
  const out = unaryKernel("exp", x);
  // The derivative of e^x is e^x itself: reuse the output.
  return record("exp", out, [x], (grad) => [mul(grad, out)]);
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  const out = unaryKernel("log", x);
  return record("log", out, [x], (grad) => [div(grad, x)]);
}

/** Square root. */
export function sqrt(x: Tensor): Tensor {
  const out = unaryKernel("sqrt", x);
  // d sqrt(x)/dx = 1 / (2 sqrt(x)).
  return record("sqrt", out, [x], (grad) => [div(grad, mul(out, 2))]);
}

/** Absolute value (its gradient at 0 is taken as 0, as in PyTorch). */
export function abs(x: Tensor): Tensor {
  const out = unaryKernel("abs", x);
  return record("abs", out, [x], (grad) => [mul(grad, unaryKernel("sign", x))]);
}

/** Limits values to `[min, max]`; the gradient is 1 inside and 0 where a bound was applied. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min === undefined && max === undefined) {
    throw new Error("clamp: give at least one of min and max");
  }
  if (min !== undefined && max !== undefined && min > max) {
    throw new Error(`clamp: min (${min}) is greater than max (${max})`);
  }
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  const out = unaryKernel("clamp", x, [lo, hi]);
  return record("clamp", out, [x], (grad) => {
    const inside = mul(ge(x, lo), le(x, hi));
    return [mul(grad, inside)];
  });
}

/**
 * The gradients of `maximum(a, b)` (or `minimum`, with `lost` = gt), as PyTorch gives them: all
 * of `grad` to the side that won, half to each at a tie (a tie has no derivative; half each is
 * the average of the two one-sided ones), and all of it to both where a NaN makes the
 * comparisons false.
 */
function extremumGrads(grad: Tensor, a: Tensor, b: Tensor, lost: typeof lt): Tensor[] {
  const tieScale = subFrom(1, mul(eq(a, b), 0.5));
  const shareA = mul(tieScale, subFrom(1, lost(a, b)));
  const shareB = mul(tieScale, subFrom(1, lost(b, a)));
  return [sumToShape(mul(grad, shareA), a.shape), sumToShape(mul(grad, shareB), b.shape)];
}

/** Elementwise maximum; at ties each side gets half the gradient (as PyTorch). */
export function maximum(a: Tensor, b: TensorLike): Tensor {
  const other = asTensor(b, a, "maximum");
  const out = binaryKernel("maximum", a, other);
  return record("maximum", out, [a, other], (grad) => extremumGrads(grad, a, other, lt));
}

/** Elementwise minimum; at ties each side gets half the gradient (as PyTorch). */
export function minimum(a: Tensor, b: TensorLike): Tensor {
  const other = asTensor(b, a, "minimum");
  const out = binaryKernel("minimum", a, other);
  return record("minimum", out, [a, other], (grad) => extremumGrads(grad, a, other, gt));
}

// `1 - t` for a tensor t, used above; a number on the left needs its own helper.
function subFrom(value: number, t: Tensor): Tensor {
  return add(neg(t), value);
}

// ---- activations ---------------------------------------------------------------------------

/** `max(x, 0)`; the gradient passes where x > 0. */
export function relu(x: Tensor): Tensor {
  const out = unaryKernel("relu", x);
  return record("relu", out, [x], (grad) => [binaryKernel("reluBackward", grad, x)]);
}

/** `x` where positive, `slope * x` elsewhere. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  const out = unaryKernel("leakyRelu", x, [slope]);
  return record("leakyRelu", out, [x], (grad) => [
    mul(grad, unaryKernel("leakyReluGrad", x, [slope])),
  ]);
}

/** The logistic function `1 / (1 + e^-x)`. */
export function sigmoid(x: Tensor): Tensor {
  const out = unaryKernel("sigmoid", x);
  // sigmoid' = sigmoid * (1 - sigmoid), written with the output.
  return record("sigmoid", out, [x], (grad) => [mul(grad, mul(out, subFrom(1, out)))]);
}

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  const out = unaryKernel("tanh", x);
  // tanh' = 1 - tanh^2.
  return record("tanh", out, [x], (grad) => [mul(grad, subFrom(1, mul(out, out)))]);
}

/** GELU, `x * Phi(x)` with the standard normal CDF Phi (PyTorch's default, exact form). */
export function gelu(x: Tensor): Tensor {
  const out = unaryKernel("gelu", x);
  return record("gelu", out, [x], (grad) => [mul(grad, unaryKernel("geluGrad", x))]);
}

/** sqrt(2 / pi), the scale inside the tanh approximation of GELU. */
const GELU_TANH_SCALE = Math.sqrt(2 / Math.PI);

/**
 * GELU's tanh approximation (PyTorch's `approximate="tanh"`, GPT-2's form):
 * `0.5 * x * (1 + tanh(u))` with `u = sqrt(2/pi) * (x + 0.044715 * x^3)`. Its derivative is
 * `0.5 * (1 + t) + 0.5 * x * (1 - t^2) * du/dx` with `t = tanh(u)` and
 * `du/dx = sqrt(2/pi) * (1 + 3 * 0.044715 * x^2)`.
 */
export function geluTanh(x: Tensor): Tensor {
  const { out, t } = withNoGrad(() => {
    const cube = mul(mul(x, x), x);
    const t = tanh(mul(add(x, mul(cube, 0.044715)), GELU_TANH_SCALE));
    return { out: mul(mul(x, 0.5), add(t, 1)), t };
  });
  return record("gelu", out, [x], (grad) => {
    const du = mul(add(mul(mul(x, x), 3 * 0.044715), 1), GELU_TANH_SCALE);
    const outer = mul(add(t, 1), 0.5);
    const inner = mul(mul(mul(x, 0.5), subFrom(1, mul(t, t))), du);
    return [mul(grad, add(outer, inner))];
  });
}

/**
 * ELU: `x` where `x > 0`, `alpha * (exp(x) - 1)` elsewhere. Its derivative is 1 for `x > 0` and
 * `alpha * exp(x) = out + alpha` elsewhere (PyTorch computes it from the output the same way).
 * `exp` only ever sees `min(x, 0)`, so a large positive input cannot overflow to Infinity.
 */
export function elu(x: Tensor, alpha = 1): Tensor {
  const { out, positive } = withNoGrad(() => {
    const positive = gt(x, 0);
    const negativePart = mul(add(exp(minimum(x, 0)), -1), alpha);
    return { out: where(positive, x, negativePart), positive };
  });
  return record("elu", out, [x], (grad) => [
    mul(grad, where(positive, 1, add(out, alpha))),
  ]);
}

// ---- comparisons (no gradient) -------------------------------------------------------------

function compare(op: "eq" | "gt" | "ge" | "lt" | "le", a: Tensor, b: TensorLike): Tensor {
  return binaryKernel(op, a, asTensor(b, a, op));
}

/** 1 where `a == b`, else 0 (dtype of the inputs). */
export const eq = (a: Tensor, b: TensorLike): Tensor => compare("eq", a, b);
/** 1 where `a > b`, else 0. */
export const gt = (a: Tensor, b: TensorLike): Tensor => compare("gt", a, b);
/** 1 where `a >= b`, else 0. */
export const ge = (a: Tensor, b: TensorLike): Tensor => compare("ge", a, b);
/** 1 where `a < b`, else 0. */
export const lt = (a: Tensor, b: TensorLike): Tensor => compare("lt", a, b);
/** 1 where `a <= b`, else 0. */
export const le = (a: Tensor, b: TensorLike): Tensor => compare("le", a, b);

/**
 * Picks `a` where `condition` is non-zero and `b` elsewhere, broadcasting all three. The
 * gradient flows to whichever input was picked.
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : condition;
  let x = asTensor(a, like, "where");
  let y = asTensor(b, like, "where");
  const dtype = promoteTypes(x.dtype, y.dtype);
  if (x.dtype !== dtype) x = to(x, dtype);
  if (y.dtype !== dtype) y = to(y, dtype);
  for (const t of [x, y]) {
    if (t.device !== condition.device) {
      throw new Error(
        `where: tensors are on different devices ("${condition.device}", "${t.device}")`,
      );
    }
  }
  const shape = broadcastShapes(
    "where",
    broadcastShapes("where", condition.shape, x.shape),
    y.shape,
  );
  const view = (t: Tensor) => ({
    storage: t.storage,
    shape,
    strides: broadcastStrides(t.shape, shape),
    offset: 0,
  });
  const storage = getBackend(x.device).where(
    view(condition),
    condition.dtype,
    view(x),
    view(y),
    dtype,
  );
  const out = new Tensor(storage, shape, dtype);
  return record("where", out, [x, y], (grad) => {
    const picked = to(gt(abs(to(condition, dtype)), 0), dtype);
    return [
      x.requiresGrad ? sumToShape(mul(grad, picked), x.shape) : null,
      y.requiresGrad ? sumToShape(mul(grad, subFrom(1, picked)), y.shape) : null,
    ];
  });
}

/** Throws unless `t` has exactly the given shape (for ops that do not broadcast). */
export function expectShape(op: string, what: string, t: Tensor, shape: Shape): void {
  if (!sameShape(t.shape, shape)) {
    throw new Error(`${op}: ${what} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
  }
}
