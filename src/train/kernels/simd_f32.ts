// Small SIMD128 helpers shared by the f32 training kernels.

/** Four int8 values at `p` (any alignment) as f32x4, lane i = p[i]. */
// @ts-ignore: decorator
@inline
export function loadS8x4AsF32(p: usize): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p))));
}

/** dst[0..4) += d * w[0..4) for f32 dst and int8 w: the same two roundings per lane as scalar code. */
// @ts-ignore: decorator
@inline
export function axpyS8x4(dst: usize, d: v128, w: usize): void {
  v128.store(dst, f32x4.add(v128.load(dst), f32x4.mul(d, loadS8x4AsF32(w))));
}
