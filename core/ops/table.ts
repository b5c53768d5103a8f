/**
 * The elementwise op table: one row an op, its formula for each of the three kernel sets side by
 * side: a TypeScript function (the reference CPU kernels call it), a WGSL expression (the WebGPU
 * kernels are compiled from it) and an AssemblyScript expression (the WebAssembly kernels' op
 * switch is generated from it by `deno task build:wasm`).
 *
 * All kernel sets come from this table, so none can lack an op another has, and the formulas sit
 * next to each other where a reader can compare them. In the expressions, `x` is the input of a
 * unary op, `a` and `b` the inputs of a binary op, `p0` and `p1` scalar parameters (the slope of
 * leaky ReLU, the bounds of clamp). In WGSL, `T` is the element type (`f32` or `i32`), so `T(1)`
 * is a one of the right type.
 *
 * @module
 */

/** What every row of the table gives: the op's expression for the GPU and for WebAssembly. */
export interface ElementwiseOp {
  /** WGSL expression (the WebGPU kernels are compiled from it). */
  wgsl: string;
  /**
   * AssemblyScript expression in float64 arithmetic (`deno task build:wasm` generates the wasm
   * kernels' op switch and op codes from it; see `core/wasm/codegen.ts`).
   */
  wasm: string;
  /** Whether int32 tensors may use the op. */
  int?: boolean;
}

/** A row of the unary table: `cpu` is the reference kernel's function of one value. */
export interface UnaryRow extends ElementwiseOp {
  cpu: (x: number, p0: number, p1: number) => number;
}

/** A row of the binary table: `cpu` is the reference kernel's function of two values. */
export interface BinaryRow extends ElementwiseOp {
  cpu: (a: number, b: number) => number;
}

// NaN in, NaN out, on every device: relu(NaN), maximum(NaN, 1) and maximum(1, NaN) are NaN, as in
// PyTorch. The comparisons are written so that a NaN falls on the side that keeps it (`x > 0`
// is false for NaN, so relu tests `x <= 0` instead).

/** Ops of one tensor. */
export const UNARY_OPS = {
  neg: { cpu: (x) => -x, wgsl: "-x", wasm: "-x", int: true },
  abs: { cpu: (x) => Math.abs(x), wgsl: "abs(x)", wasm: "Math.abs(x)", int: true },
  sign: { cpu: (x) => Math.sign(x), wgsl: "sign(x)", wasm: "sign(x)", int: true },
  exp: { cpu: (x) => Math.exp(x), wgsl: "exp(x)", wasm: "Math.exp(x)" },
  log: { cpu: (x) => Math.log(x), wgsl: "log(x)", wasm: "Math.log(x)" },
  sqrt: { cpu: (x) => Math.sqrt(x), wgsl: "sqrt(x)", wasm: "Math.sqrt(x)" },
  relu: {
    cpu: (x) => (x <= 0 ? 0 : x),
    wgsl: "select(x, T(0), x <= T(0))",
    wasm: "x <= 0 ? 0 : x",
    int: true,
  },
  // 1 where x > 0, else 0: the derivative of relu.
  step: {
    cpu: (x) => (x > 0 ? 1 : 0),
    wgsl: "select(T(0), T(1), x > T(0))",
    wasm: "x > 0 ? 1 : 0",
    int: true,
  },
  leakyRelu: {
    cpu: (x, p0) => (x > 0 ? x : p0 * x),
    wgsl: "select(p0 * x, x, x > 0.0)",
    wasm: "x > 0 ? x : p0 * x",
  },
  leakyReluGrad: {
    cpu: (x, p0) => (x > 0 ? 1 : p0),
    wgsl: "select(p0, 1.0, x > 0.0)",
    wasm: "x > 0 ? 1 : p0",
  },
  sigmoid: {
    cpu: (x) => 1 / (1 + Math.exp(-x)),
    wgsl: "1.0 / (1.0 + exp(-x))",
    wasm: "1 / (1 + Math.exp(-x))",
  },
  // tanh of a large input overflows exp() in some WGSL implementations; it is +-1 there anyway.
  tanh: { cpu: (x) => Math.tanh(x), wgsl: "tanh(clamp(x, -15.0, 15.0))", wasm: "Math.tanh(x)" },
  // GELU as PyTorch computes it by default: x * Phi(x) with the exact normal CDF.
  gelu: {
    cpu: (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2)),
    wgsl: "0.5 * x * (1.0 + erf(x * 0.70710678))",
    wasm: "0.5 * x * (1 + erf(x * Math.SQRT1_2))",
  },
  // d/dx [x * Phi(x)] = Phi(x) + x * phi(x).
  geluGrad: {
    cpu: (x) => 0.5 * (1 + erf(x * Math.SQRT1_2)) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI,
    wgsl: "0.5 * (1.0 + erf(x * 0.70710678)) + x * exp(-0.5 * x * x) * 0.39894228",
    wasm: "0.5 * (1 + erf(x * Math.SQRT1_2)) + x * Math.exp(-0.5 * x * x) * 0.3989422804014327",
  },
  clamp: {
    cpu: (x, p0, p1) => Math.min(Math.max(x, p0), p1),
    wgsl: "clamp(x, T(p0), T(p1))",
    wasm: "Math.min(Math.max(x, p0), p1)",
    int: true,
  },
  // x ** p for a scalar p; a negative base with an integer exponent works as in math.
  powScalar: { cpu: (x, p0) => Math.pow(x, p0), wgsl: "powSigned(x, p0)", wasm: "Math.pow(x, p0)" },
  addScalar: { cpu: (x, p0) => x + p0, wgsl: "x + T(p0)", wasm: "x + p0", int: true },
  mulScalar: { cpu: (x, p0) => x * p0, wgsl: "x * T(p0)", wasm: "x * p0", int: true },
} as const satisfies Record<string, UnaryRow>;

/** Ops of two tensors (broadcast against each other). Comparisons give 1 or 0. */
export const BINARY_OPS = {
  add: { cpu: (a, b) => a + b, wgsl: "a + b", wasm: "a + b", int: true },
  sub: { cpu: (a, b) => a - b, wgsl: "a - b", wasm: "a - b", int: true },
  mul: { cpu: (a, b) => a * b, wgsl: "a * b", wasm: "a * b", int: true },
  div: { cpu: (a, b) => a / b, wgsl: "a / b", wasm: "a / b" },
  pow: { cpu: (a, b) => Math.pow(a, b), wgsl: "powSigned(a, b)", wasm: "Math.pow(a, b)" },
  // `a != a` holds only for NaN (WGSL tests the bits: see gpu/kernels/elementwise.ts): a NaN
  // on either side gives NaN.
  maximum: {
    cpu: (a, b) => (a > b || a !== a ? a : b),
    wgsl: "select(b, a, a > b || isNaN(a))",
    wasm: "a > b || a != a ? a : b",
    int: true,
  },
  minimum: {
    cpu: (a, b) => (a < b || a !== a ? a : b),
    wgsl: "select(b, a, a < b || isNaN(a))",
    wasm: "a < b || a != a ? a : b",
    int: true,
  },
  eq: {
    cpu: (a, b) => (a === b ? 1 : 0),
    wgsl: "select(T(0), T(1), a == b)",
    wasm: "a == b ? 1 : 0",
    int: true,
  },
  gt: {
    cpu: (a, b) => (a > b ? 1 : 0),
    wgsl: "select(T(0), T(1), a > b)",
    wasm: "a > b ? 1 : 0",
    int: true,
  },
  ge: {
    cpu: (a, b) => (a >= b ? 1 : 0),
    wgsl: "select(T(0), T(1), a >= b)",
    wasm: "a >= b ? 1 : 0",
    int: true,
  },
  lt: {
    cpu: (a, b) => (a < b ? 1 : 0),
    wgsl: "select(T(0), T(1), a < b)",
    wasm: "a < b ? 1 : 0",
    int: true,
  },
  le: {
    cpu: (a, b) => (a <= b ? 1 : 0),
    wgsl: "select(T(0), T(1), a <= b)",
    wasm: "a <= b ? 1 : 0",
    int: true,
  },
  // The backward of relu in one pass: the gradient `a` passes where the input `b` was positive.
  reluBackward: {
    cpu: (a, b) => (b > 0 ? a : 0),
    wgsl: "select(T(0), a, b > T(0))",
    wasm: "b > 0 ? a : 0",
  },
} as const satisfies Record<string, BinaryRow>;

/** 1 / sqrt(2 pi), the normal density's constant. */
const INV_SQRT_2PI = 0.3989422804014327;

/** The name of a unary op in the table. */
export type UnaryOp = keyof typeof UNARY_OPS;
/** The name of a binary op in the table. */
export type BinaryOp = keyof typeof BINARY_OPS;

/**
 * The error function, which JavaScript's Math lacks, accurate to float64 precision (within
 * 1 ulp): the rational approximations of fdlibm's `s_erf.c` (Sun Microsystems, 1993, freely
 * redistributable), the same that C libraries and so PyTorch use. Each range of |x| has its
 * own polynomial ratio: near 0 `erf(x) = x + x * P(x^2) / Q(x^2)`; further out `erfc(x)` is
 * `exp(-x^2 - 0.5625 + R / S) / x`, with the exponent split in two so that no digit is lost.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 3.7252902984e-9) return x + 0.128379167095512586316 * x; // x * 2 / sqrt(pi)
    const z = x * x;
    const p = 1.28379167095512558561e-1 + z * (-3.25042107247001499370e-1 +
          z * (-2.84817495755985104766e-2 + z * (-5.77027029648944159157e-3 +
                  z * -2.37630166566501626084e-5)));
    const q = 1 + z * (3.97917223959155352819e-1 + z * (6.50222499887672944485e-2 +
              z * (5.08130628187576562776e-3 + z * (1.32494738004321644526e-4 +
                      z * -3.96022827877536812320e-6))));
    return x + x * (p / q);
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const p = -2.36211856075265944077e-3 + s * (4.14856118683748331666e-1 +
          s * (-3.72207876035701323847e-1 + s * (3.18346619901161753674e-1 +
                  s * (-1.10894694282396677476e-1 + s * (3.54783043256182359371e-2 +
                          s * -2.16637559486879084300e-3)))));
    const q = 1 + s * (1.06420880400844228286e-1 + s * (5.40397917702171048937e-1 +
              s * (7.18286544141962662868e-2 + s * (1.26171219808761642112e-1 +
                      s * (1.36370839120290507362e-2 + s * 1.19844998467991074170e-2)))));
    return sign * (8.45062911510467529297e-1 + p / q);
  }
  if (ax >= 6) return sign * 1;
  const s = 1 / (ax * ax);
  let r: number;
  let q: number;
  if (ax < 1 / 0.35) {
    r = -9.86494403484714822705e-3 + s * (-6.93858572707181764372e-1 +
          s * (-1.05586262253232909814e1 + s * (-6.23753324503260060396e1 +
                  s * (-1.62396669462573470355e2 + s * (-1.84605092906711035994e2 +
                          s * (-8.12874355063065934246e1 + s * -9.81432934416914548592))))));
    q = 1 + s * (1.96512716674392571292e1 + s * (1.37657754143519042600e2 +
              s * (4.34565877475229228821e2 + s * (6.45387271733267880336e2 +
                      s * (4.29008140027567833386e2 + s * (1.08635005541779435134e2 +
                              s * (6.57024977031928170135 + s * -6.04244152148580987438e-2)))))));
  } else {
    r = -9.86494292470009928597e-3 + s * (-7.99283237680523006574e-1 +
          s * (-1.77579549177547519889e1 + s * (-1.60636384855821916062e2 +
                  s * (-6.37566443368389627722e2 + s * (-1.02509513161107724954e3 +
                          s * -4.83519191608651397019e2)))));
    q = 1 + s * (3.03380607434824582924e1 + s * (3.25792512996573918826e2 +
              s * (1.53672958608443695994e3 + s * (3.19985821950859553908e3 +
                      s * (2.55305040643316442583e3 + s * (4.74528541206955367215e2 +
                              s * -2.24409524465858183362e1))))));
  }
  // z is |x| with the low 32 bits of its float64 cleared, so that z * z is exact.
  const z = truncateLowBits(ax);
  const erfc = Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + r / q) / ax;
  return sign * (1 - erfc);
}

const float64Bits = new Float64Array(1);
const wordsOfBits = new Uint32Array(float64Bits.buffer);

/** `value` with the low 32 bits of its float64 representation set to 0. */
function truncateLowBits(value: number): number {
  float64Bits[0] = value;
  wordsOfBits[0] = 0; // little-endian: word 0 holds the low bits of the mantissa
  return float64Bits[0];
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
