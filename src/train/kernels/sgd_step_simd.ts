// stepWeightS8 (sgd_step.ts) over four consecutive int8 weights whose gradients are the lanes
// of an f32x4, lane 0 first, all lanes at once. Every lane does the scalar helper's f32
// operations in the same order, and the four PRNG draws are the scalar order's (prng_simd.ts),
// so both builds give the same weights and momentum for the same seed.
import { prngUniformX4 } from './prng_simd';
import { WEIGHT_STEP_LIMIT, roundsNearest } from './sgd_step';

/** 1.5 * 2^23 and its bit pattern: x + MAGIC holds the integer x (|x| < 2^22) in its low bits. */
const MAGIC: f32 = 12582912;
const MAGIC_BITS: i32 = 0x4b400000;

/** Updates weight[0..4) (int8) with lanes 0..3 of `grads`; v: f32 [4] momentum state or 0. False if any step was not finite (those lanes unchanged). */
// @ts-ignore: decorator
@inline
export function stepWeightsS8x4(weight: usize, grads: v128, gradScale: f32, lr: f32, momentum: f32, v: usize, flags: i32): bool {
  const u = roundsNearest(flags) ? f32x4.splat(0) : prngUniformX4();
  let g = f32x4.mul(grads, f32x4.splat(gradScale));
  if (v != 0) g = f32x4.add(f32x4.mul(f32x4.splat(momentum), v128.load(v)), g);
  const step = f32x4.mul(f32x4.splat(lr), g);
  const finite = f32x4.eq(f32x4.sub(step, step), f32x4.splat(0)); // false for NaN and +-inf
  if (v != 0) v128.store(v, v128.bitselect(g, v128.load(v), finite));
  let r: v128;
  if (roundsNearest(flags)) {
    r = f32x4.nearest(step);
  } else {
    const down = f32x4.floor(step);
    r = v128.bitselect(f32x4.add(down, f32x4.splat(1)), down, f32x4.lt(u, f32x4.sub(step, down)));
  }
  r = f32x4.min(f32x4.max(r, f32x4.splat(-WEIGHT_STEP_LIMIT)), f32x4.splat(WEIGHT_STEP_LIMIT));
  // r is a whole number in [-1024, 1024]: adding 1.5 * 2^23 puts it in the low mantissa bits
  // exactly, a cheaper f32 -> i32 than trunc_sat on x86 (NaN lanes are discarded below)
  const asInt = i32x4.sub(f32x4.add(r, f32x4.splat(MAGIC)), i32x4.splat(MAGIC_BITS));
  const was = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(weight)));
  let q = i32x4.sub(was, asInt);
  q = i32x4.min_s(i32x4.max_s(q, i32x4.splat(-127)), i32x4.splat(127));
  q = v128.bitselect(q, was, finite);
  const bytes = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), i16x8.splat(0));
  v128.store32_lane(weight, bytes, 0);
  return i32x4.all_true(finite);
}
