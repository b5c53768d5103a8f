// Elementwise ops of the op table (core/ops/table.ts), float32.
//
// Each op has a code, exported as a constant named after the table's row (`unary_relu`,
// `binary_add`), so the JavaScript side finds the code by name. The codes, the float64 formula of
// each op and the switches that dispatch on them are generated from the table by
// `deno task build:wasm` (core/wasm/codegen.ts), between the "generated from the op table"
// markers: edit the table, not those regions. The four-lane forms below are written by hand.
//
// A kernel switches on the op once, outside its loop: every case calls an inlined loop with a
// constant op code, which the optimizer specializes into a loop of its own. Cheap ops run four
// lanes at a time; transcendental ones (exp, log, tanh, ...) run in float64 scalar math, like the
// reference kernels, so both give the same float32 result.

// generated from the op table: op codes
export const unary_neg: i32 = 0;
export const unary_abs: i32 = 1;
export const unary_sign: i32 = 2;
export const unary_exp: i32 = 3;
export const unary_log: i32 = 4;
export const unary_sqrt: i32 = 5;
export const unary_relu: i32 = 6;
export const unary_step: i32 = 7;
export const unary_leakyRelu: i32 = 8;
export const unary_leakyReluGrad: i32 = 9;
export const unary_sigmoid: i32 = 10;
export const unary_tanh: i32 = 11;
export const unary_gelu: i32 = 12;
export const unary_geluGrad: i32 = 13;
export const unary_clamp: i32 = 14;
export const unary_powScalar: i32 = 15;
export const unary_addScalar: i32 = 16;
export const unary_mulScalar: i32 = 17;

export const binary_add: i32 = 0;
export const binary_sub: i32 = 1;
export const binary_mul: i32 = 2;
export const binary_div: i32 = 3;
export const binary_pow: i32 = 4;
export const binary_maximum: i32 = 5;
export const binary_minimum: i32 = 6;
export const binary_eq: i32 = 7;
export const binary_gt: i32 = 8;
export const binary_ge: i32 = 9;
export const binary_lt: i32 = 10;
export const binary_le: i32 = 11;
export const binary_reluBackward: i32 = 12;
// end of generated op codes

/**
 * The error function, to float64 precision: the rational approximations of fdlibm's `s_erf.c`,
 * as the op table's `erf` (see core/ops/table.ts for the ranges).
 */
function erf(x: f64): f64 {
  if (isNaN(x)) return NaN;
  const sign: f64 = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 3.7252902984e-9) return x + 0.128379167095512586316 * x;
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
  if (ax >= 6) return sign;
  const s = 1 / (ax * ax);
  let r: f64;
  let q: f64;
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
  const z = reinterpret<f64>(reinterpret<u64>(ax) & 0xffffffff00000000);
  const erfc = Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + r / q) / ax;
  return sign * (1 - erfc);
}

/** Math.sign of JavaScript: -1, 0 (keeping the sign of a zero), 1, or NaN. */
function sign(x: f64): f64 {
  if (x > 0) return 1;
  if (x < 0) return -1;
  return x;
}

// generated from the op table: scalar ops
/** One unary op of the table on one value, in float64 like the reference kernels. */
// @ts-ignore: decorator
@inline
function unaryScalar(op: i32, value: f32, p0: f64, p1: f64): f32 {
  const x = <f64>value;
  let result: f64 = NaN;
  switch (op) {
    case unary_neg:
      result = -x;
      break;
    case unary_abs:
      result = Math.abs(x);
      break;
    case unary_sign:
      result = sign(x);
      break;
    case unary_exp:
      result = Math.exp(x);
      break;
    case unary_log:
      result = Math.log(x);
      break;
    case unary_sqrt:
      result = Math.sqrt(x);
      break;
    case unary_relu:
      result = x <= 0 ? 0 : x;
      break;
    case unary_step:
      result = x > 0 ? 1 : 0;
      break;
    case unary_leakyRelu:
      result = x > 0 ? x : p0 * x;
      break;
    case unary_leakyReluGrad:
      result = x > 0 ? 1 : p0;
      break;
    case unary_sigmoid:
      result = 1 / (1 + Math.exp(-x));
      break;
    case unary_tanh:
      result = Math.tanh(x);
      break;
    case unary_gelu:
      result = 0.5 * x * (1 + erf(x * Math.SQRT1_2));
      break;
    case unary_geluGrad:
      result = 0.5 * (1 + erf(x * Math.SQRT1_2)) + x * Math.exp(-0.5 * x * x) * 0.3989422804014327;
      break;
    case unary_clamp:
      result = Math.min(Math.max(x, p0), p1);
      break;
    case unary_powScalar:
      result = Math.pow(x, p0);
      break;
    case unary_addScalar:
      result = x + p0;
      break;
    case unary_mulScalar:
      result = x * p0;
      break;
  }
  return <f32>result;
}

/** One binary op of the table on one pair of values, in float64. */
// @ts-ignore: decorator
@inline
function binaryScalar(op: i32, aValue: f32, bValue: f32): f32 {
  const a = <f64>aValue;
  const b = <f64>bValue;
  let result: f64 = NaN;
  switch (op) {
    case binary_add:
      result = a + b;
      break;
    case binary_sub:
      result = a - b;
      break;
    case binary_mul:
      result = a * b;
      break;
    case binary_div:
      result = a / b;
      break;
    case binary_pow:
      result = Math.pow(a, b);
      break;
    case binary_maximum:
      result = a > b || a != a ? a : b;
      break;
    case binary_minimum:
      result = a < b || a != a ? a : b;
      break;
    case binary_eq:
      result = a == b ? 1 : 0;
      break;
    case binary_gt:
      result = a > b ? 1 : 0;
      break;
    case binary_ge:
      result = a >= b ? 1 : 0;
      break;
    case binary_lt:
      result = a < b ? 1 : 0;
      break;
    case binary_le:
      result = a <= b ? 1 : 0;
      break;
    case binary_reluBackward:
      result = b > 0 ? a : 0;
      break;
  }
  return <f32>result;
}
// end of generated scalar ops

/** Whether an op has a four-lane form below (the others go one value at a time). */
// @ts-ignore: decorator
@inline
function unaryHasVector(op: i32): bool {
  return op == unary_neg || op == unary_abs || op == unary_sqrt || op == unary_relu ||
    op == unary_step || op == unary_leakyRelu || op == unary_leakyReluGrad ||
    op == unary_clamp || op == unary_addScalar || op == unary_mulScalar;
}

/**
 * One unary op on four lanes. `v0` and `v1` hold the parameters splatted. Comparisons select as
 * the reference's `x > 0 ? ... : ...` does, so NaN goes the same way.
 */
// @ts-ignore: decorator
@inline
function unaryVector(op: i32, x: v128, v0: v128, v1: v128): v128 {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  switch (op) {
    case unary_neg:
      return f32x4.neg(x);
    case unary_abs:
      return f32x4.abs(x);
    case unary_sqrt:
      return f32x4.sqrt(x);
    case unary_relu:
      // Zero where x <= 0, x elsewhere: a NaN (never <= 0) stays NaN, as in the table.
      return v128.andnot(x, f32x4.le(x, zero));
    case unary_step:
      return v128.and(one, f32x4.gt(x, zero));
    case unary_leakyRelu:
      return v128.bitselect(x, f32x4.mul(x, v0), f32x4.gt(x, zero));
    case unary_leakyReluGrad:
      return v128.bitselect(one, v0, f32x4.gt(x, zero));
    case unary_clamp:
      return f32x4.min(f32x4.max(x, v0), v1);
    case unary_addScalar:
      return f32x4.add(x, v0);
    case unary_mulScalar:
      return f32x4.mul(x, v0);
    default:
      return x;
  }
}

// @ts-ignore: decorator
@inline
function unaryLoop(op: i32, out: usize, x: usize, n: i32, p0: f64, p1: f64): void {
  let i = 0;
  if (unaryHasVector(op)) {
    const v0 = f32x4.splat(<f32>p0);
    const v1 = f32x4.splat(<f32>p1);
    for (; i + 4 <= n; i += 4) {
      const offset = <usize>i << 2;
      v128.store(out + offset, unaryVector(op, v128.load(x + offset), v0, v1));
    }
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    store<f32>(out + offset, unaryScalar(op, load<f32>(x + offset), p0, p1));
  }
}

/** `out[i] = op(x[i])` for `n` float32 values; `p0`, `p1` are the op's scalar parameters. */
export function unaryF32(op: i32, out: usize, x: usize, n: i32, p0: f64, p1: f64): void {
  switch (op) {
    // generated from the op table: unary dispatch
    case unary_neg:
      unaryLoop(unary_neg, out, x, n, p0, p1);
      break;
    case unary_abs:
      unaryLoop(unary_abs, out, x, n, p0, p1);
      break;
    case unary_sign:
      unaryLoop(unary_sign, out, x, n, p0, p1);
      break;
    case unary_exp:
      unaryLoop(unary_exp, out, x, n, p0, p1);
      break;
    case unary_log:
      unaryLoop(unary_log, out, x, n, p0, p1);
      break;
    case unary_sqrt:
      unaryLoop(unary_sqrt, out, x, n, p0, p1);
      break;
    case unary_relu:
      unaryLoop(unary_relu, out, x, n, p0, p1);
      break;
    case unary_step:
      unaryLoop(unary_step, out, x, n, p0, p1);
      break;
    case unary_leakyRelu:
      unaryLoop(unary_leakyRelu, out, x, n, p0, p1);
      break;
    case unary_leakyReluGrad:
      unaryLoop(unary_leakyReluGrad, out, x, n, p0, p1);
      break;
    case unary_sigmoid:
      unaryLoop(unary_sigmoid, out, x, n, p0, p1);
      break;
    case unary_tanh:
      unaryLoop(unary_tanh, out, x, n, p0, p1);
      break;
    case unary_gelu:
      unaryLoop(unary_gelu, out, x, n, p0, p1);
      break;
    case unary_geluGrad:
      unaryLoop(unary_geluGrad, out, x, n, p0, p1);
      break;
    case unary_clamp:
      unaryLoop(unary_clamp, out, x, n, p0, p1);
      break;
    case unary_powScalar:
      unaryLoop(unary_powScalar, out, x, n, p0, p1);
      break;
    case unary_addScalar:
      unaryLoop(unary_addScalar, out, x, n, p0, p1);
      break;
    case unary_mulScalar:
      unaryLoop(unary_mulScalar, out, x, n, p0, p1);
      break;
    // end of generated unary dispatch
  }
}

/** One binary op on four lanes (every op but pow). */
// @ts-ignore: decorator
@inline
function binaryVector(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1);
  switch (op) {
    case binary_add:
      return f32x4.add(a, b);
    case binary_sub:
      return f32x4.sub(a, b);
    case binary_mul:
      return f32x4.mul(a, b);
    case binary_div:
      return f32x4.div(a, b);
    // WebAssembly's max and min give NaN when either lane is NaN, as the table asks.
    case binary_maximum:
      return f32x4.max(a, b);
    case binary_minimum:
      return f32x4.min(a, b);
    case binary_eq:
      return v128.and(one, f32x4.eq(a, b));
    case binary_gt:
      return v128.and(one, f32x4.gt(a, b));
    case binary_ge:
      return v128.and(one, f32x4.ge(a, b));
    case binary_lt:
      return v128.and(one, f32x4.lt(a, b));
    case binary_le:
      return v128.and(one, f32x4.le(a, b));
    case binary_reluBackward:
      return v128.and(a, f32x4.gt(b, f32x4.splat(0)));
    default:
      return a;
  }
}

/**
 * One row of a binary op: `out[i] = a[i * aStride] op b[i * bStride]`. Strides of 1 (contiguous)
 * and 0 (a broadcast value) run four lanes at a time.
 */
// @ts-ignore: decorator
@inline
function binaryRowLoop(
  op: i32,
  out: usize,
  a: usize,
  b: usize,
  n: i32,
  aStride: i32,
  bStride: i32,
): void {
  let i = 0;
  if (op != binary_pow) {
    if (aStride == 1 && bStride == 1) {
      for (; i + 4 <= n; i += 4) {
        const offset = <usize>i << 2;
        v128.store(out + offset, binaryVector(op, v128.load(a + offset), v128.load(b + offset)));
      }
    } else if (aStride == 1 && bStride == 0) {
      const bv = v128.load32_splat(b);
      for (; i + 4 <= n; i += 4) {
        const offset = <usize>i << 2;
        v128.store(out + offset, binaryVector(op, v128.load(a + offset), bv));
      }
    } else if (aStride == 0 && bStride == 1) {
      const av = v128.load32_splat(a);
      for (; i + 4 <= n; i += 4) {
        const offset = <usize>i << 2;
        v128.store(out + offset, binaryVector(op, av, v128.load(b + offset)));
      }
    }
  }
  for (; i < n; i++) {
    const value = binaryScalar(
      op,
      load<f32>(a + (<usize>(i * aStride) << 2)),
      load<f32>(b + (<usize>(i * bStride) << 2)),
    );
    store<f32>(out + (<usize>i << 2), value);
  }
}

function binaryRow(
  op: i32,
  out: usize,
  a: usize,
  b: usize,
  n: i32,
  aStride: i32,
  bStride: i32,
): void {
  switch (op) {
    // generated from the op table: binary dispatch
    case binary_add:
      binaryRowLoop(binary_add, out, a, b, n, aStride, bStride);
      break;
    case binary_sub:
      binaryRowLoop(binary_sub, out, a, b, n, aStride, bStride);
      break;
    case binary_mul:
      binaryRowLoop(binary_mul, out, a, b, n, aStride, bStride);
      break;
    case binary_div:
      binaryRowLoop(binary_div, out, a, b, n, aStride, bStride);
      break;
    case binary_pow:
      binaryRowLoop(binary_pow, out, a, b, n, aStride, bStride);
      break;
    case binary_maximum:
      binaryRowLoop(binary_maximum, out, a, b, n, aStride, bStride);
      break;
    case binary_minimum:
      binaryRowLoop(binary_minimum, out, a, b, n, aStride, bStride);
      break;
    case binary_eq:
      binaryRowLoop(binary_eq, out, a, b, n, aStride, bStride);
      break;
    case binary_gt:
      binaryRowLoop(binary_gt, out, a, b, n, aStride, bStride);
      break;
    case binary_ge:
      binaryRowLoop(binary_ge, out, a, b, n, aStride, bStride);
      break;
    case binary_lt:
      binaryRowLoop(binary_lt, out, a, b, n, aStride, bStride);
      break;
    case binary_le:
      binaryRowLoop(binary_le, out, a, b, n, aStride, bStride);
      break;
    case binary_reluBackward:
      binaryRowLoop(binary_reluBackward, out, a, b, n, aStride, bStride);
      break;
    // end of generated binary dispatch
  }
}

/**
 * `out = a op b` over broadcast views. `dims` points to `3 * ndim` int32 values: the output
 * shape, then the strides of `a`, then the strides of `b` (in elements; 0 where broadcast).
 * `a` and `b` already include their views' offsets. The caller merges dimensions first, so the
 * last dimension is as long as possible. `counters` is room for `ndim` int32 values.
 */
export function binaryF32(
  op: i32,
  out: usize,
  a: usize,
  b: usize,
  ndim: i32,
  dims: usize,
  counters: usize,
): void {
  const last = ndim - 1;
  const rowLength = load<i32>(dims + (<usize>last << 2));
  const aRowStride = load<i32>(dims + (<usize>(ndim + last) << 2));
  const bRowStride = load<i32>(dims + (<usize>(2 * ndim + last) << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) {
    rows *= load<i32>(dims + (<usize>d << 2));
    store<i32>(counters + (<usize>d << 2), 0);
  }
  let aOffset = 0;
  let bOffset = 0;
  for (let row = 0; row < rows; row++) {
    binaryRow(
      op,
      out + (<usize>(row * rowLength) << 2),
      a + (<usize>aOffset << 2),
      b + (<usize>bOffset << 2),
      rowLength,
      aRowStride,
      bRowStride,
    );
    // Advance the outer index like an odometer, keeping both offsets in step.
    for (let d = last - 1; d >= 0; d--) {
      const counter = counters + (<usize>d << 2);
      const size = load<i32>(dims + (<usize>d << 2));
      const aStride = load<i32>(dims + (<usize>(ndim + d) << 2));
      const bStride = load<i32>(dims + (<usize>(2 * ndim + d) << 2));
      const index = load<i32>(counter) + 1;
      if (index < size) {
        store<i32>(counter, index);
        aOffset += aStride;
        bOffset += bStride;
        break;
      }
      store<i32>(counter, 0);
      aOffset -= aStride * (size - 1);
      bOffset -= bStride * (size - 1);
    }
  }
}

/**
 * `out = cond != 0 ? a : b` over broadcast views, like {@link binaryF32}: `dims` holds the shape,
 * then the strides of `cond`, `a` and `b` (`4 * ndim` int32 values). `condIsInt` says whether
 * `cond` holds int32 (else float32) values.
 */
export function whereF32(
  out: usize,
  cond: usize,
  condIsInt: i32,
  a: usize,
  b: usize,
  ndim: i32,
  dims: usize,
  counters: usize,
): void {
  let total = 1;
  for (let d = 0; d < ndim; d++) {
    total *= load<i32>(dims + (<usize>d << 2));
    store<i32>(counters + (<usize>d << 2), 0);
  }
  let condOffset = 0;
  let aOffset = 0;
  let bOffset = 0;
  for (let i = 0; i < total; i++) {
    const condAddress = cond + (<usize>condOffset << 2);
    const pick = condIsInt ? load<i32>(condAddress) != 0 : load<f32>(condAddress) != 0;
    const value = pick
      ? load<f32>(a + (<usize>aOffset << 2))
      : load<f32>(b + (<usize>bOffset << 2));
    store<f32>(out + (<usize>i << 2), value);
    for (let d = ndim - 1; d >= 0; d--) {
      const counter = counters + (<usize>d << 2);
      const size = load<i32>(dims + (<usize>d << 2));
      const condStride = load<i32>(dims + (<usize>(ndim + d) << 2));
      const aStride = load<i32>(dims + (<usize>(2 * ndim + d) << 2));
      const bStride = load<i32>(dims + (<usize>(3 * ndim + d) << 2));
      const index = load<i32>(counter) + 1;
      if (index < size) {
        store<i32>(counter, index);
        condOffset += condStride;
        aOffset += aStride;
        bOffset += bStride;
        break;
      }
      store<i32>(counter, 0);
      condOffset -= condStride * (size - 1);
      aOffset -= aStride * (size - 1);
      bOffset -= bStride * (size - 1);
    }
  }
}
