// Small SIMD helpers shared by the kernels.

/**
 * `a * b + c` on four lanes: one fused instruction where relaxed SIMD is on. The same source
 * builds twice, with and without relaxed SIMD; `ASC_FEATURE_RELAXED_SIMD` is a compile-time
 * constant, so the branch not taken is never compiled.
 */
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}
