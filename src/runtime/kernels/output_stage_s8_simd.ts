// The output stage of the int8 MAC kernels for 4 channels at once (lanes = channels c..c+3),
// bit-exact with outputStageS8. SIMD shifts take one count for all lanes, so the per-channel
// shifts become per-lane multiplies by powers of two. Two forms:
//
// General (requantizeLanes, any channel):
//   x << left                      = x * 2^left                      (wraps like the scalar shift)
//   SaturatingRoundingDoublingHighMul(a, m) = (a*m + 2^30) >> 31    (the +-nudge and truncation of
//                                    gemmlowp fold into this; its one saturating case, a == m ==
//                                    INT32_MIN, cannot occur: m is never negative)
//   RoundingDivideByPOT(s, e >= 1) = (t * 2^(31-e) + 2^30) >> 31, t = s - (s < 0)
// Contract: multiplier 0 or in [2^30, 2^31), shift in [-31, 30] (QuantizeMultiplier's ranges;
// the container reader rejects anything else).
//
// Fast (requantizeFast, about half the work): when all 4 channels have multiplier m > 2^30 and
// a right shift e = -shift in [1, FAST_MAX_EXPONENT] with eMax - eMin <= FAST_MAX_SPREAD
// (requantFastExponent != 0; the usual case). Both roundings fold into one 64-bit product:
//   floor(floor(y / 2^31) / 2^e) = floor(y / 2^(31+e)) for integer y, so
//   MBQM(a) + zp = floor((a*m + 2^30 + 2^(30+e) - [a < 0] * 2^31 + zp * 2^(31+e)) / 2^(31+e))
// ([s < 0] of RoundingDivideByPOT equals [a < 0] because m > 2^30). Per lane, a is first scaled
// by 2^(1 + eMax - e) so that every lane divides by the same 2^(32 + eMax): the high word of the
// 64-bit sum, then one uniform shift by eMax. To keep a * 2^(1 + eMax - e) inside int32, a is
// clamped to [-2^27, 2^27): for e <= FAST_MAX_EXPONENT a clamped accumulator still lands at
// |MBQM| >= 256, so after the output zero point it saturates to the same int8 value.
// The fast result is therefore exact only after saturation to int8 (narrowLanes*).
//
// A group's constants are built once (requantLanes*, requantFast*) and kept in locals by the
// kernel; the per-pixel work is requantize* and a narrowing store.

/** Largest right shift of the fast path (|MBQM(clamped a)| >= 256 needs e + spread <= 21). */
// @ts-ignore: decorator
@inline export const FAST_MAX_EXPONENT: i32 = 18;
/** Largest eMax - eMin of a fast group (a * 2^(1 + spread) must fit int32 for |a| <= 2^27). */
// @ts-ignore: decorator
@inline export const FAST_MAX_SPREAD: i32 = 3;
// @ts-ignore: decorator
@inline const FAST_CLAMP: i32 = 1 << 27;

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
  const s = roundedHighMul(i32x4.mul(acc, leftFactors), multipliers);
  const t = i32x4.add(s, i32x4.shr_s(s, 31));
  return v128.bitselect(s, roundedHighMul(t, rightFactors), noRight);
}

/**
 * eMax of channels c..c+3 when all of them take the fast path, else 0.
 * Scalar work, once per channel group.
 */
export function requantFastExponent(requant: usize, c: i32): i32 {
  let eMin = FAST_MAX_EXPONENT, eMax = 1;
  for (let j = 0; j < 4; j++) {
    const p = requant + (<usize>(c + j) << 3);
    const m = load<i32>(p), e = -load<i32>(p, 4);
    if (m <= (1 << 30) || e < 1 || e > FAST_MAX_EXPONENT) return 0;
    if (e < eMin) eMin = e;
    if (e > eMax) eMax = e;
  }
  return eMax - eMin <= FAST_MAX_SPREAD ? eMax : 0;
}

/** Fast path: 2^(1 + eMax - e) per lane, the scale that aligns every lane on eMax. */
// @ts-ignore: decorator
@inline
export function requantFastFactors(shifts: v128, eMax: i32): v128 {
  return pow2Lanes(i32x4.add(shifts, i32x4.splat(1 + eMax)));
}

/** Fast path: 2^(eMax - e) per lane, one unit of the [a < 0] correction after the high word. */
// @ts-ignore: decorator
@inline
export function requantFastSteps(shifts: v128, eMax: i32): v128 {
  return pow2Lanes(i32x4.add(shifts, i32x4.splat(eMax)));
}

/**
 * Fast path: the 64-bit rounding terms of channels c, c+1 (lanes 0, 1):
 * 2 * 2^(eMax - e) * (2^30 + 2^(30+e) + zp * 2^(31+e)).
 */
// @ts-ignore: decorator
@inline
export function requantFastTerms(requant: usize, c: i32, eMax: i32, outZp: i32): v128 {
  const p = requant + (<usize>c << 3);
  const t0 = (<i64>1 << <i64>(31 + eMax + load<i32>(p, 4))) + (<i64>1 << <i64>(31 + eMax)) + (<i64>outZp << <i64>(32 + eMax));
  const t1 = (<i64>1 << <i64>(31 + eMax + load<i32>(p, 12))) + (<i64>1 << <i64>(31 + eMax)) + (<i64>outZp << <i64>(32 + eMax));
  return i64x2.replace_lane(i64x2.splat(t0), 1, t1);
}

/**
 * Fast path: MBQM(acc) + outZp per lane, exact after saturation to int8 (see the header).
 * `termsLow`/`termsHigh`: requantFastTerms of channels c, c+1 and c+2, c+3.
 */
// @ts-ignore: decorator
@inline
export function requantizeFast(acc: v128, multipliers: v128, factors: v128, steps: v128, termsLow: v128, termsHigh: v128, eMax: i32): v128 {
  const a = i32x4.min_s(i32x4.max_s(acc, i32x4.splat(-FAST_CLAMP)), i32x4.splat(FAST_CLAMP - 1));
  return requantizeFastUnclamped(a, multipliers, factors, steps, termsLow, termsHigh, eMax);
}

/**
 * requantizeFast for accumulators the caller keeps inside [-2^(30 - spread), 2^(30 - spread))
 * (so that a * factors fits int32): output_stage_s8_simd_bounded.ts.
 */
// @ts-ignore: decorator
@inline
export function requantizeFastUnclamped(a: v128, multipliers: v128, factors: v128, steps: v128, termsLow: v128, termsHigh: v128, eMax: i32): v128 {
  const scaled = i32x4.mul(a, factors);
  const lo = i64x2.add(i64x2.extmul_low_i32x4_s(scaled, multipliers), termsLow);
  const hi = i64x2.add(i64x2.extmul_high_i32x4_s(scaled, multipliers), termsHigh);
  const high = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
  return i32x4.shr_s(i32x4.sub(high, v128.and(steps, i32x4.shr_s(a, 31))), eMax);
}

/**
 * The general path with its constants rebuilt from `requant` (for groups the fast path does not
 * take): MBQM(acc) + outZp per lane, channels c..c+3. Inlined, not called: a call inside a pixel
 * loop makes V8 spill every live vector register around it.
 */
// @ts-ignore: decorator
@inline
export function requantizeGeneral(acc: v128, requant: usize, c: i32, outZp: i32): v128 {
  const shifts = requantShifts(requant, c);
  const r = requantizeLanes(acc, requantMultipliers(requant, c), requantLeftFactors(shifts), requantRightFactors(shifts), requantNoRightMask(shifts));
  return i32x4.add(r, i32x4.splat(outZp));
}

/**
 * requantizeGeneral for a group requantized once per call (the batch-1 fully connected paths,
 * where no constant can be hoisted): the left-shift multiply is skipped when no channel of the
 * group shifts left (the usual case). In a pixel loop the branch costs more than it saves.
 */
// @ts-ignore: decorator
@inline
export function requantizeOnce(acc: v128, requant: usize, c: i32, outZp: i32): v128 {
  const shifts = requantShifts(requant, c);
  const m = requantMultipliers(requant, c);
  const s = v128.any_true(i32x4.gt_s(shifts, i32x4.splat(0)))
    ? roundedHighMul(i32x4.mul(acc, requantLeftFactors(shifts)), m)
    : roundedHighMul(acc, m);
  const t = i32x4.add(s, i32x4.shr_s(s, 31));
  const r = v128.bitselect(s, roundedHighMul(t, requantRightFactors(shifts)), requantNoRightMask(shifts));
  return i32x4.add(r, i32x4.splat(outZp));
}

/**
 * MBQM(acc) + outZp for channels c..c+3 (exact after saturation to int8): the fast path when
 * eMax != 0 (constants from requantFast*), else the general one. For loops that mix both; hot
 * loops come in one copy per path instead (V8 does not hoist loop-invariant values out of
 * conditional code in a loop body, so a branch here would rebuild the constants per pixel).
 */
// @ts-ignore: decorator
@inline
export function requantizeGroup(acc: v128, requant: usize, c: i32, outZp: i32, eMax: i32, multipliers: v128, factors: v128, steps: v128, termsLow: v128, termsHigh: v128): v128 {
  return eMax != 0 ? requantizeFast(acc, multipliers, factors, steps, termsLow, termsHigh, eMax) : requantizeGeneral(acc, requant, c, outZp);
}

/** int32 lanes of a and b as 8 int8 values, saturated, then clamped to [actMin, actMax] (i8 splats). */
// @ts-ignore: decorator
@inline
export function narrowLanes8(a: v128, b: v128, actMin: v128, actMax: v128): v128 {
  const h = i16x8.narrow_i32x4_s(a, b);
  return i8x16.min_s(i8x16.max_s(i8x16.narrow_i16x8_s(h, h), actMin), actMax);
}

/** int32 lanes of a as 4 int8 values (in lanes 0..3), saturated, then clamped to [actMin, actMax]. */
// @ts-ignore: decorator
@inline
export function narrowLanes4(a: v128, actMin: v128, actMax: v128): v128 {
  return narrowLanes8(a, a, actMin, actMax);
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
