// The output stage of the int8 MAC kernels for 4 channels at once (lanes = channels c..c+3),
// bit-exact with outputStageS8. SIMD shifts take one count for all lanes, so the per-channel
// shifts become per-lane multiplies by powers of two:
//   x << left                      = x * 2^left                      (wraps like the scalar shift)
//   SaturatingRoundingDoublingHighMul(a, m) = (a*m + 2^30) >> 31    (the +-nudge and truncation of
//                                    gemmlowp fold into this; only a == m == INT32_MIN overflows,
//                                    to INT32_MIN, which no other input produces)
//   RoundingDivideByPOT(s, e >= 1) = (t * 2^(31-e) + 2^30) >> 31, t = s - (s < 0)
// Contract: shift in [-31, 30] (QuantizeMultiplier's range for any multiplier below 2^30).
//
// A group's constants are built once (requantLanes*) and kept in locals by the kernel; the
// per-pixel work is requantizeLanes + finishLanes.

/** 2^p per lane for p in [0, 30], through the exponent field of an f32. */
// @ts-ignore: decorator
@inline
function pow2Lanes(p: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(i32x4.shl(i32x4.add(p, i32x4.splat(127)), 23));
}

/** The shifts of channels c..c+3 (the odd words of requant [channels][2]). */
// @ts-ignore: decorator
@inline
export function requantShifts(requant: usize, c: i32): v128 {
  const p = requant + (<usize>c << 3);
  return i32x4.shuffle(v128.load(p), v128.load(p, 16), 1, 3, 5, 7);
}

/** The Q31 multipliers of channels c..c+3 (the even words). */
// @ts-ignore: decorator
@inline
export function requantMultipliers(requant: usize, c: i32): v128 {
  const p = requant + (<usize>c << 3);
  return i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
}

/** 2^max(shift, 0): the left shift as a multiplier. */
// @ts-ignore: decorator
@inline
export function requantLeftFactors(shifts: v128): v128 {
  return pow2Lanes(i32x4.max_s(shifts, i32x4.splat(0)));
}

/** 2^(31 - e) with e = -shift, for lanes that shift right (other lanes: unused). */
// @ts-ignore: decorator
@inline
export function requantRightFactors(shifts: v128): v128 {
  return pow2Lanes(i32x4.min_s(i32x4.add(shifts, i32x4.splat(31)), i32x4.splat(30)));
}

/** All-ones in lanes with shift >= 0 (no rounding division). */
// @ts-ignore: decorator
@inline
export function requantNoRightMask(shifts: v128): v128 {
  return i32x4.ge_s(shifts, i32x4.splat(0));
}

/** (a * f + 2^30) >> 31 per lane, 64-bit exact; the result must fit 32 bits (except 2^31). */
// @ts-ignore: decorator
@inline
function roundedHighMul(a: v128, f: v128): v128 {
  const lo = i64x2.shl(i64x2.add(i64x2.extmul_low_i32x4_s(a, f), i64x2.splat(1 << 30)), 1);
  const hi = i64x2.shl(i64x2.add(i64x2.extmul_high_i32x4_s(a, f), i64x2.splat(1 << 30)), 1);
  return i32x4.shuffle(lo, hi, 1, 3, 5, 7);
}

/** MultiplyByQuantizedMultiplier per lane. */
// @ts-ignore: decorator
@inline
export function requantizeLanes(acc: v128, multipliers: v128, leftFactors: v128, rightFactors: v128, noRight: v128): v128 {
  let s = roundedHighMul(i32x4.mul(acc, leftFactors), multipliers);
  s = i32x4.add(s, i32x4.eq(s, i32x4.splat(i32.MIN_VALUE))); // saturate INT32_MIN * INT32_MIN
  const t = i32x4.add(s, i32x4.shr_s(s, 31));
  return v128.bitselect(s, roundedHighMul(t, rightFactors), noRight);
}

/** + output zero point, clamp to [actMin, actMax] (splatted). */
// @ts-ignore: decorator
@inline
export function finishLanes(v: v128, outZp: v128, actMin: v128, actMax: v128): v128 {
  return i32x4.min_s(i32x4.max_s(i32x4.add(v, outZp), actMin), actMax);
}

/** Stores 4 int32 lanes already inside [-128, 127] as 4 bytes. */
// @ts-ignore: decorator
@inline
export function storeLanesS8(p: usize, v: v128): void {
  const b = i16x8.narrow_i32x4_s(v, v);
  v128.store32_lane(p, i8x16.narrow_i16x8_s(b, b), 0);
}

/** Lane sums of four i32x4 accumulators: [sum a, sum b, sum c, sum d]. */
// @ts-ignore: decorator
@inline
export function reduceLanes4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 2, 6), i32x4.shuffle(a, b, 1, 5, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 2, 6), i32x4.shuffle(c, d, 1, 5, 3, 7));
  return i32x4.add(i64x2.shuffle(ab, cd, 0, 2), i64x2.shuffle(ab, cd, 1, 3));
}

/** Sum of the 4 lanes of an i32x4. */
// @ts-ignore: decorator
@inline
export function reduceLanes(a: v128): i32 {
  const s = i32x4.add(a, i32x4.shuffle(a, a, 2, 3, 0, 1));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1);
}
