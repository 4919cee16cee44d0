// float32 -> int8 quantization, 16 values a step; bit-exact with quantize_f32_s8 (the scalar
// reference: TFLM's AffineQuantize, ties away from zero, non-finite inputs -> zeroPoint and
// counted). Same contract as the scalar kernel; the tail (count % 16) runs the scalar one.
import { quantize_f32_s8 } from './quantize_f32_s8';

/** One f32x4 of inputs -> i32x4 of round(x / scale) + zeroPoint (zeroPoint where x is not finite). */
// @ts-ignore: decorator
@inline
function quantize4(x: v128, scale: v128, zeroPoint: v128, finite: v128): v128 {
  // clamped to +-256 first: beyond that the result saturates anyway, and the i32 sum below cannot overflow
  const ratio = f32x4.max(f32x4.min(f32x4.div(x, scale), f32x4.splat(256)), f32x4.splat(-256));
  const whole = f32x4.trunc(ratio);
  const fraction = f32x4.sub(ratio, whole); // exact
  const signedOne = v128.or(v128.and(ratio, i32x4.splat(0x80000000)), f32x4.splat(1));
  const up = v128.and(f32x4.ge(f32x4.abs(fraction), f32x4.splat(0.5)), signedOne);
  const q = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.add(whole, up)), zeroPoint);
  return v128.bitselect(q, zeroPoint, finite);
}

export function quantize_f32_s8_simd(input: usize, count: i32, scale: f32, zeroPoint: i32, output: usize): i32 {
  const vScale = f32x4.splat(scale);
  const vZero = i32x4.splat(zeroPoint);
  const zero = f32x4.splat(0);
  let nonFinite = 0;
  let i = 0;
  for (; i + 16 <= count; i += 16) {
    const p = input + (<usize>i << 2);
    const x0 = v128.load(p), x1 = v128.load(p, 16), x2 = v128.load(p, 32), x3 = v128.load(p, 48);
    // x - x is 0 for finite x, NaN for NaN and +-inf
    const f0 = f32x4.eq(f32x4.sub(x0, x0), zero), f1 = f32x4.eq(f32x4.sub(x1, x1), zero);
    const f2 = f32x4.eq(f32x4.sub(x2, x2), zero), f3 = f32x4.eq(f32x4.sub(x3, x3), zero);
    const allFinite = v128.and(v128.and(f0, f1), v128.and(f2, f3));
    if (!i32x4.all_true(allFinite)) {
      nonFinite += 16 - <i32>(popcnt(i32x4.bitmask(f0)) + popcnt(i32x4.bitmask(f1)) + popcnt(i32x4.bitmask(f2)) + popcnt(i32x4.bitmask(f3)));
    }
    const q01 = i16x8.narrow_i32x4_s(quantize4(x0, vScale, vZero, f0), quantize4(x1, vScale, vZero, f1));
    const q23 = i16x8.narrow_i32x4_s(quantize4(x2, vScale, vZero, f2), quantize4(x3, vScale, vZero, f3));
    v128.store(output + i, i8x16.narrow_i16x8_s(q01, q23)); // saturating: the clamp to [-128, 127]
  }
  return nonFinite + quantize_f32_s8(input + (<usize>i << 2), count - i, scale, zeroPoint, output + i);
}
