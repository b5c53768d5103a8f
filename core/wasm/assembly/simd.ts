// Small SIMD helpers shared by the kernels.
//
// The same sources build twice: once with relaxed SIMD (where `f32x4.relaxed_madd` becomes one
// fused multiply-add instruction) and once without it, for engines where relaxed SIMD does not
// validate. `ASC_FEATURE_RELAXED_SIMD` is a compile-time constant, so the branch not taken is
// never compiled.

/** `a * b + c` on four lanes: one fused instruction where relaxed SIMD is on. */
// @ts-ignore: decorator

export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** The sum of the four lanes of a vector. */
// @ts-ignore: decorator

export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) +
    f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** The largest of the four lanes of a vector. */
// @ts-ignore: decorator

export function hmax(v: v128): f32 {
  return max(
    max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)),
  );
}
