// SIMD128 variant of add_s8: same contract, same results bit for bit; 8 elements per step.
//
// The 64-bit product in SaturatingRoundingDoublingHighMul comes from i64x2.extmul. gemmlowp
// rounds (a*b + nudge) / 2^31 toward zero with nudge = 2^30 or 1 - 2^30 by sign; for every
// int64 product this equals floor((a*b + 2^30) / 2^31), one add and one arithmetic shift.
// The only case that differs, a == b == INT32_MIN, needs a multiplier of INT32_MIN, which
// QuantizeMultiplier never produces. Such parameters, and zero points or clamp bounds outside
// int8 (where int16 lanes or saturating narrows would differ from the scalar wrap-around),
// take the scalar kernel.
import { add_s8, addOne } from './add_s8';

// @ts-ignore: decorator
@inline
function srdhm(x: v128, multiplier: v128): v128 {
  const nudge = i64x2.splat(1 << 30);
  const lo = i64x2.shr_s(i64x2.add(i64x2.extmul_low_i32x4_s(x, multiplier), nudge), 31);
  const hi = i64x2.shr_s(i64x2.add(i64x2.extmul_high_i32x4_s(x, multiplier), nudge), 31);
  return i32x4.shuffle(lo, hi, 0, 2, 4, 6);
}

/** roundingDivideByPOT on four lanes; mask = 2^exponent - 1 and half = mask >> 1 are splats. */
// @ts-ignore: decorator
@inline
function rdbpot(x: v128, exponent: i32, mask: v128, half: v128): v128 {
  const remainder = v128.and(x, mask);
  const threshold = i32x4.sub(half, i32x4.lt_s(x, i32x4.splat(0))); // lt_s gives -1 where x < 0
  return i32x4.sub(i32x4.shr_s(x, exponent), i32x4.gt_s(remainder, threshold));
}

/** multiplyByQuantizedMultiplier on four lanes. */
// @ts-ignore: decorator
@inline
function rescale(x: v128, multiplier: v128, left: i32, right: i32, mask: v128, half: v128): v128 {
  return rdbpot(srdhm(i32x4.shl(x, left), multiplier), right, mask, half);
}

// @ts-ignore: decorator
@inline
function isInt8(x: i32): bool {
  return x >= -128 && x <= 127;
}

// @ts-ignore: decorator
@inline
function roundingMask(right: i32): i32 {
  return <i32>((<i64>1 << <i64>right) - 1);
}

export function add_s8_simd(a: usize, aZp: i32, b: usize, bZp: i32, output: usize, outZp: i32, count: i32, leftShift: i32, aMultiplier: i32, aShift: i32, bMultiplier: i32, bShift: i32, outMultiplier: i32, outShift: i32, actMin: i32, actMax: i32): void {
  const simdExact = aMultiplier != i32.MIN_VALUE && bMultiplier != i32.MIN_VALUE && outMultiplier != i32.MIN_VALUE &&
    isInt8(aZp) && isInt8(bZp) && isInt8(actMin) && isInt8(actMax);
  if (!simdExact) {
    add_s8(a, aZp, b, bZp, output, outZp, count, leftShift, aMultiplier, aShift, bMultiplier, bShift, outMultiplier, outShift, actMin, actMax);
    return;
  }
  // As the scalar code: shift left by leftShift, then by max(shift, 0) (two shifts, each count
  // taken mod 32 like scalar <<), then round right by max(-shift, 0).
  const aLeft = aShift > 0 ? aShift : 0, aRight = aShift > 0 ? 0 : -aShift;
  const bLeft = bShift > 0 ? bShift : 0, bRight = bShift > 0 ? 0 : -bShift;
  const oLeft = outShift > 0 ? outShift : 0, oRight = outShift > 0 ? 0 : -outShift;
  const aM = i32x4.splat(aMultiplier), bM = i32x4.splat(bMultiplier), oM = i32x4.splat(outMultiplier);
  const aMask = i32x4.splat(roundingMask(aRight)), aHalf = i32x4.splat(roundingMask(aRight) >> 1);
  const bMask = i32x4.splat(roundingMask(bRight)), bHalf = i32x4.splat(roundingMask(bRight) >> 1);
  const oMask = i32x4.splat(roundingMask(oRight)), oHalf = i32x4.splat(roundingMask(oRight) >> 1);
  const aZpV = i16x8.splat(<i16>aZp), bZpV = i16x8.splat(<i16>bZp);
  const outZpV = i32x4.splat(outZp), lo = i32x4.splat(actMin), hi = i32x4.splat(actMax);

  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const da = i16x8.sub(v128.load8x8_s(a + i), aZpV); // |x - zp| <= 255
    const db = i16x8.sub(v128.load8x8_s(b + i), bZpV);
    const sumLo = i32x4.add(
      rescale(i32x4.shl(i32x4.extend_low_i16x8_s(da), leftShift), aM, aLeft, aRight, aMask, aHalf),
      rescale(i32x4.shl(i32x4.extend_low_i16x8_s(db), leftShift), bM, bLeft, bRight, bMask, bHalf));
    const sumHi = i32x4.add(
      rescale(i32x4.shl(i32x4.extend_high_i16x8_s(da), leftShift), aM, aLeft, aRight, aMask, aHalf),
      rescale(i32x4.shl(i32x4.extend_high_i16x8_s(db), leftShift), bM, bLeft, bRight, bMask, bHalf));
    const outLo = i32x4.min_s(i32x4.max_s(i32x4.add(rescale(sumLo, oM, oLeft, oRight, oMask, oHalf), outZpV), lo), hi);
    const outHi = i32x4.min_s(i32x4.max_s(i32x4.add(rescale(sumHi, oM, oLeft, oRight, oMask, oHalf), outZpV), lo), hi);
    // Saturating narrows are exact for values already clamped into int8 (actMin/actMax in range).
    const packed = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(outLo, outHi), outLo);
    v128.store64_lane(output + i, packed, 0);
  }
  for (; i < count; i++) {
    const out = addOne(<i32>load<i8>(a + i), aZp, <i32>load<i8>(b + i), bZp, outZp, leftShift, aMultiplier, aShift, bMultiplier, bShift, outMultiplier, outShift, actMin, actMax);
    store<i8>(output + i, <i8>out);
  }
}
