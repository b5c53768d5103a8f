/**
 * The elementwise op table: one row an op, its JavaScript and WGSL expressions side by side.
 *
 * Both backends generate their kernels from this table, so neither can lack an op the other has,
 * and the two formulas sit next to each other where a reader can compare them. In the
 * expressions, `x` is the input of a unary op, `a` and `b` the inputs of a binary op, `p0` and
 * `p1` scalar parameters (the slope of leaky ReLU, the bounds of clamp). In WGSL, `T` is the
 * element type (`f32` or `i32`), so `T(1)` is a one of the right type.
 *
 * @module
 */

/** A row of the table. */
export interface ElementwiseOp {
  /** JavaScript expression (the CPU kernels are compiled from it). */
  js: string;
  /** WGSL expression (the WebGPU kernels are compiled from it). */
  wgsl: string;
  /** Whether int32 tensors may use the op. */
  int?: boolean;
}

/** Ops of one tensor. */
export const UNARY_OPS = {
  neg: { js: "-x", wgsl: "-x", int: true },
  abs: { js: "Math.abs(x)", wgsl: "abs(x)", int: true },
  sign: { js: "Math.sign(x)", wgsl: "sign(x)", int: true },
  exp: { js: "Math.exp(x)", wgsl: "exp(x)" },
  log: { js: "Math.log(x)", wgsl: "log(x)" },
  sqrt: { js: "Math.sqrt(x)", wgsl: "sqrt(x)" },
  // select(ifFalse, ifTrue, condition) picks without a branch, which a CPU cannot mispredict.
  relu: { js: "select(0, x, x > 0)", wgsl: "max(x, T(0))", int: true },
  // 1 where x > 0, else 0: the derivative of relu.
  step: { js: "(x > 0 ? 1 : 0)", wgsl: "select(T(0), T(1), x > T(0))", int: true },
  leakyRelu: { js: "(x > 0 ? x : p0 * x)", wgsl: "select(p0 * x, x, x > 0.0)" },
  leakyReluGrad: { js: "(x > 0 ? 1 : p0)", wgsl: "select(p0, 1.0, x > 0.0)" },
  sigmoid: { js: "1 / (1 + Math.exp(-x))", wgsl: "1.0 / (1.0 + exp(-x))" },
  // tanh of a large input overflows exp() in some WGSL implementations; it is +-1 there anyway.
  tanh: { js: "Math.tanh(x)", wgsl: "tanh(clamp(x, -15.0, 15.0))" },
  // GELU as PyTorch computes it by default: x * Phi(x) with the exact normal CDF.
  gelu: {
    js: "0.5 * x * (1 + erf(x * Math.SQRT1_2))",
    wgsl: "0.5 * x * (1.0 + erf(x * 0.70710678))",
  },
  // d/dx [x * Phi(x)] = Phi(x) + x * phi(x).
  geluGrad: {
    js: "0.5 * (1 + erf(x * Math.SQRT1_2)) + x * Math.exp(-0.5 * x * x) * 0.3989422804014327",
    wgsl: "0.5 * (1.0 + erf(x * 0.70710678)) + x * exp(-0.5 * x * x) * 0.39894228",
  },
  clamp: { js: "Math.min(Math.max(x, p0), p1)", wgsl: "clamp(x, T(p0), T(p1))", int: true },
  // x ** p for a scalar p; a negative base with an integer exponent works as in math.
  powScalar: { js: "Math.pow(x, p0)", wgsl: "powSigned(x, p0)" },
  addScalar: { js: "x + p0", wgsl: "x + T(p0)", int: true },
  mulScalar: { js: "x * p0", wgsl: "x * T(p0)", int: true },
} as const satisfies Record<string, ElementwiseOp>;

/** Ops of two tensors (broadcast against each other). Comparisons give 1 or 0. */
export const BINARY_OPS = {
  add: { js: "a + b", wgsl: "a + b", int: true },
  sub: { js: "a - b", wgsl: "a - b", int: true },
  mul: { js: "a * b", wgsl: "a * b", int: true },
  div: { js: "a / b", wgsl: "a / b" },
  pow: { js: "Math.pow(a, b)", wgsl: "powSigned(a, b)" },
  maximum: { js: "(a > b ? a : b)", wgsl: "max(a, b)", int: true },
  minimum: { js: "(a < b ? a : b)", wgsl: "min(a, b)", int: true },
  eq: { js: "(a === b ? 1 : 0)", wgsl: "select(T(0), T(1), a == b)", int: true },
  gt: { js: "(a > b ? 1 : 0)", wgsl: "select(T(0), T(1), a > b)", int: true },
  ge: { js: "(a >= b ? 1 : 0)", wgsl: "select(T(0), T(1), a >= b)", int: true },
  lt: { js: "(a < b ? 1 : 0)", wgsl: "select(T(0), T(1), a < b)", int: true },
  le: { js: "(a <= b ? 1 : 0)", wgsl: "select(T(0), T(1), a <= b)", int: true },
  // The backward of relu in one pass: the gradient `a` passes where the input `b` was positive.
  reluBackward: { js: "select(0, a, b > 0)", wgsl: "select(T(0), a, b > T(0))" },
} as const satisfies Record<string, ElementwiseOp>;

/** The name of a unary op in the table. */
export type UnaryOp = keyof typeof UNARY_OPS;
/** The name of a binary op in the table. */
export type BinaryOp = keyof typeof BINARY_OPS;

/**
 * The error function, which JavaScript's Math lacks (Abramowitz and Stegun 7.1.26, absolute
 * error below 1.5e-7, enough for float32 and for GELU's gradient checks).
 */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t +
    0.254829592) * t;
  return sign * (1 - poly * Math.exp(-ax * ax));
}

/** The two slots of {@link select}. */
const selectSlots = new Float64Array(2);

/**
 * `condition ? ifTrue : ifFalse`, with the arguments in the order of WGSL's `select`, computed
 * without a branch (a helper the JavaScript expressions may use, like `erf`).
 *
 * A CPU guesses which way each `if` goes before it knows, and a wrong guess costs about as much
 * as a dozen additions. When the condition is true at random about half the time (is this
 * value the largest of its pooling window so far?), half the guesses are wrong and the loop
 * runs about three times slower than it needs to. Here the condition becomes an index instead
 * (false is 0, true is 1), which costs the same whatever the data.
 */
export function select(ifFalse: number, ifTrue: number, condition: boolean): number {
  selectSlots[0] = ifFalse;
  selectSlots[1] = ifTrue;
  return selectSlots[+condition];
}

/** WGSL helpers the expressions above use (`erf`, `powSigned`); shaders include this text. */
export const WGSL_HELPERS = `
fn erf(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
    + 0.254829592) * t;
  return sign(x) * (1.0 - poly * exp(-ax * ax));
}
fn powSigned(base: f32, e: f32) -> f32 {
  if (base >= 0.0) { return pow(base, e); }
  if (e != floor(e)) { return bitcast<f32>(0x7fc00000u); }
  let magnitude = pow(-base, e);
  if (abs(e % 2.0) == 1.0) { return -magnitude; }
  return magnitude;
}
`;
