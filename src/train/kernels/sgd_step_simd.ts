// stepWeightS8 (sgd_step.ts) over four consecutive int8 weights whose gradients are the lanes
// of an f32x4, lane 0 first, all lanes at once. Every lane does the scalar helper's f32
// operations in the same order, and the four PRNG draws are the scalar order's (prng_simd.ts),
// so both builds give the same weights and momentum (or carry fractions) for the same seed.
import { prngUniformX4 } from './prng_simd';
import { CARRY_MAX, CARRY_MIN, WEIGHT_STEP_LIMIT, carries, roundsNearest } from './sgd_step';

/** 1.5 * 2^23 and its bit pattern: x + MAGIC holds the integer x (|x| < 2^22) in its low bits. */
const MAGIC: f32 = 12582912;
const MAGIC_BITS: i32 = 0x4b400000;

/**
 * Updates weight[0..4) (int8) with lanes 0..3 of `grads`; state: f32 [4] momentum, or with
 * UPDATE_CARRY int8 [4] fractions, or 0. False if any step was not finite (those lanes unchanged).
 */
// @ts-ignore: decorator
@inline
export function stepWeightsS8x4(weight: usize, grads: v128, gradScale: f32, lr: f32, momentum: f32, state: usize, flags: i32): bool {
  if (carries(flags)) return carryWeightsS8x4(weight, state, f32x4.mul(f32x4.splat(lr), f32x4.mul(grads, f32x4.splat(gradScale))));
  const v = state;
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
  // r: whole numbers in [-1024, 1024] (NaN lanes are discarded below)
  const was = loadS8x4(weight);
  let q = i32x4.sub(was, wholeToI32x4(r));
  q = i32x4.min_s(i32x4.max_s(q, i32x4.splat(-127)), i32x4.splat(127));
  storeS8x4(weight, v128.bitselect(q, was, finite));
  return i32x4.all_true(finite);
}

/** carryWeightS8 (sgd_step.ts) lane by lane: steps (quanta) into weight[0..4) and fraction[0..4), int8 each. */
// @ts-ignore: decorator
@inline
function carryWeightsS8x4(weight: usize, fraction: usize, step: v128): bool {
  const finite = f32x4.eq(f32x4.sub(step, step), f32x4.splat(0)); // false for NaN and +-inf
  const limited = f32x4.min(f32x4.max(step, f32x4.splat(-WEIGHT_STEP_LIMIT)), f32x4.splat(WEIGHT_STEP_LIMIT));
  // whole numbers in [-2^18, 2^18] after nearest: exact through wholeToI32x4
  const fine = wholeToI32x4(f32x4.nearest(f32x4.mul(limited, f32x4.splat(256))));
  const w = loadS8x4(weight), f = loadS8x4(fraction);
  let t = i32x4.sub(i32x4.add(i32x4.shl(w, 8), f), fine);
  t = i32x4.min_s(i32x4.max_s(t, i32x4.splat(CARRY_MIN)), i32x4.splat(CARRY_MAX));
  const w2 = i32x4.shr_s(i32x4.add(t, i32x4.splat(128)), 8);
  storeS8x4(weight, v128.bitselect(w2, w, finite));
  storeS8x4(fraction, v128.bitselect(i32x4.sub(t, i32x4.shl(w2, 8)), f, finite));
  return i32x4.all_true(finite);
}

/**
 * A whole-numbered f32x4 (|x| < 2^22) as i32x4: adding 1.5 * 2^23 puts x in the low mantissa
 * bits exactly, a cheaper f32 -> i32 than trunc_sat on x86.
 */
// @ts-ignore: decorator
@inline
function wholeToI32x4(x: v128): v128 {
  return i32x4.sub(f32x4.add(x, f32x4.splat(MAGIC)), i32x4.splat(MAGIC_BITS));
}

/** Four int8 at `at` as i32x4 lanes. */
// @ts-ignore: decorator
@inline
function loadS8x4(at: usize): v128 {
  return i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(at)));
}

/** Stores four i32 lanes, each in [-128, 127], as int8 at `at`. */
// @ts-ignore: decorator
@inline
function storeS8x4(at: usize, lanes: v128): void {
  v128.store32_lane(at, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(lanes, lanes), i16x8.splat(0)), 0);
}
