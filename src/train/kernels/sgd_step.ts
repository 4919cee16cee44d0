// The in-place parameter update shared by every *_update_s8 kernel: SGD (optional momentum)
// written straight back into an int8 weight or an int32 bias, with or without quantization-aware
// scaling (QAS), with stochastic, nearest or carry rounding. docs/training-math.md derives the
// scales.
//
// Every update kernel takes `flags` (the container's UPDATE_FLAGS param): bit 0 UPDATE_NEAREST
// (else stochastic rounding), bit 1 UPDATE_NO_QAS (else QAS), bit 2 UPDATE_CARRY (int8 weights
// only: error feedback through a fraction state, below; bit 0 then only rounds biases, which
// ignore bit 2), bit 3 UPDATE_COMPACT_ROWS (conv2d and fully connected weights only: the
// filter holds just the selected channels' rows, row i for channel selected[i]; filter scales
// stay indexed by channel); 0 = stochastic with QAS.
//
// For one parameter with quantization scale s (s_w[c] for a weight, s_x * s_w[c] for a bias)
// and real-valued gradient gReal = dL/d(real value), gradScale is the f32 factor
//   QAS:    1 / s    g = (s * gReal) / s^2, the step an fp32 weight would take, in quanta
//   no QAS: s        g = s * gReal = dL/dq, the plain gradient w.r.t. the quantized value
// and then
//   g    = gReal * gradScale
//   g    = momentum * v + g; v = g    only when a momentum state v (f32) is given
//   step = lr * g                    f32 throughout, in this order (no fused multiply-add)
//   q    = saturate(q - round(step))  int8: [-127, 127]; int32: [INT32_MIN, INT32_MAX]
// round(): stochastic: floor(step) + (u < step - floor(step) ? 1 : 0), u = prngUniform()
//          (one draw per parameter, drawn before anything else, even when the step is skipped);
//          UPDATE_NEAREST: nearest integer, ties to even; no draw.
// UPDATE_CARRY (weights, no momentum, no draw): each weight w8 has an int8 fraction f in its
// state, in 1/256 quanta; the master value t = w8 * 256 + f (an i32) takes the exact step
//   t = clamp(t - nearest(clamp(step) * 256), CARRY_MIN, CARRY_MAX)    ties to even
//   w8 = (t + 128) >> 8    the nearest quantum, ties up;    f = t - w8 * 256 in [-128, 127]
// so steps below a quantum accumulate in f until they move w8. Saturation clamps t, i.e. the
// master value stays in [-127.5, 127.5) quanta: w8 in [-127, 127], f up to 127/256 beyond it.
// A non-finite step (NaN or infinite gradient, lr or scale) leaves q and v (or f) untouched and
// the helper returns false; kernels report that as Status.BAD_INPUT after finishing the others.
import { prngUniform } from './prng';

/** Bits of every update kernel's `flags` argument. */
export const UPDATE_NEAREST: i32 = 1;
export const UPDATE_NO_QAS: i32 = 2;
export const UPDATE_CARRY: i32 = 4;
export const UPDATE_COMPACT_ROWS: i32 = 8;
/** The bits every update kernel takes; UPDATE_COMPACT_ROWS only the row-major weight kernels (rowsUpdateModeOk). */
const UPDATE_FLAG_BITS: i32 = UPDATE_NEAREST | UPDATE_NO_QAS | UPDATE_CARRY;

/** Carry: the master value t = w8 * 256 + f is clamped to [-127.5, 127.5) quanta. */
export const CARRY_MIN: i32 = -127 * 256 - 128;
export const CARRY_MAX: i32 = 127 * 256 + 127;

/** Steps beyond this many quanta saturate any int8 weight, and clamping keeps the f32 -> i32 conversion in range. */
export const WEIGHT_STEP_LIMIT: f32 = 1024;
/** Likewise for int32 biases (2^32), keeping the f32 -> i64 conversion in range. */
const BIAS_STEP_LIMIT: f32 = 4294967296;

// @ts-ignore: decorator
@inline
export function isUpdateFlags(flags: i32): bool {
  return (flags & ~UPDATE_FLAG_BITS) == 0;
}

// @ts-ignore: decorator
@inline
export function roundsNearest(flags: i32): bool {
  return (flags & UPDATE_NEAREST) != 0;
}

// @ts-ignore: decorator
@inline
export function carries(flags: i32): bool {
  return (flags & UPDATE_CARRY) != 0;
}

/**
 * A weight kernel's mode is valid: known flag bits, and carry only with its fraction state
 * (`weightState` != 0) and without momentum (the state slot holds one or the other).
 */
export function weightUpdateModeOk(flags: i32, momentum: f32, weightState: usize): bool {
  return isUpdateFlags(flags) && (!carries(flags) || (momentum == 0 && weightState != 0));
}

/** weightUpdateModeOk for the kernels whose filter rows are output channels (conv2d, fully connected): UPDATE_COMPACT_ROWS allowed. */
export function rowsUpdateModeOk(flags: i32, momentum: f32, weightState: usize): bool {
  return weightUpdateModeOk(flags & ~UPDATE_COMPACT_ROWS, momentum, weightState);
}

/** The filter row holding the weights of selected[i] = channel c: i with UPDATE_COMPACT_ROWS, else c. */
// @ts-ignore: decorator
@inline
export function weightRowOf(i: i32, c: i32, flags: i32): i32 {
  return (flags & UPDATE_COMPACT_ROWS) != 0 ? i : c;
}

/**
 * Address of weight j's state in the weight-state array at `base` (0: none, returns 0): f32
 * momentum (4 bytes a weight) or, with UPDATE_CARRY, the int8 fraction (1 byte a weight).
 */
// @ts-ignore: decorator
@inline
export function weightStateAt(base: usize, j: i32, flags: i32): usize {
  return base == 0 ? 0 : base + (<usize>j << (carries(flags) ? 0 : 2));
}

/** gradScale of a parameter with quantization scale `scale`: 1 / scale (QAS) or scale (no QAS), in f32. */
// @ts-ignore: decorator
@inline
export function gradScaleOf(scale: f32, flags: i32): f32 {
  return (flags & UPDATE_NO_QAS) != 0 ? scale : <f32>1 / scale;
}

/** gradScale of the weights of channel c: s_w[c] = filterScales[c] (f32 [channels]). */
// @ts-ignore: decorator
@inline
export function weightGradScale(filterScales: usize, c: i32, flags: i32): f32 {
  return gradScaleOf(load<f32>(filterScales + (<usize>c << 2)), flags);
}

// @ts-ignore: decorator
@inline
function roundStep(step: f32, u: f32, flags: i32): f32 {
  if (roundsNearest(flags)) return nearest<f32>(step);
  const down = floor<f32>(step);
  return u < step - down ? down + 1 : down;
}

/** The step of one parameter, or NaN (non-finite); updates the momentum state `v` (0 = none). */
// @ts-ignore: decorator
@inline
function sgdStep(gradReal: f32, gradScale: f32, lr: f32, momentum: f32, v: usize): f32 {
  let g = gradReal * gradScale;
  if (v != 0) g = momentum * load<f32>(v) + g;
  const step = lr * g;
  if (!isFinite<f32>(step)) return NaN;
  if (v != 0) store<f32>(v, g);
  return step;
}

/**
 * Updates the int8 weight at `weight`; `state`: its momentum (f32) or, with UPDATE_CARRY, its
 * fraction (int8), or 0. False when the step was not finite (nothing written).
 */
// @ts-ignore: decorator
@inline
export function stepWeightS8(weight: usize, gradReal: f32, gradScale: f32, lr: f32, momentum: f32, state: usize, flags: i32): bool {
  if (carries(flags)) return carryWeightS8(weight, state, sgdStep(gradReal, gradScale, lr, 0, 0));
  const v = state;
  const u: f32 = roundsNearest(flags) ? 0 : prngUniform();
  const step = sgdStep(gradReal, gradScale, lr, momentum, v);
  if (isNaN<f32>(step)) return false;
  const r = <i32>min<f32>(max<f32>(roundStep(step, u, flags), -WEIGHT_STEP_LIMIT), WEIGHT_STEP_LIMIT);
  const q = <i32>load<i8>(weight) - r;
  store<i8>(weight, <i8>(q < -127 ? -127 : q > 127 ? 127 : q));
  return true;
}

/** Carry rounding of `step` (quanta, or NaN: nothing written) into the weight and its fraction. */
// @ts-ignore: decorator
@inline
function carryWeightS8(weight: usize, fraction: usize, step: f32): bool {
  if (isNaN<f32>(step)) return false;
  const fine = <i32>nearest<f32>(min<f32>(max<f32>(step, -WEIGHT_STEP_LIMIT), WEIGHT_STEP_LIMIT) * 256);
  let t = (<i32>load<i8>(weight) << 8) + <i32>load<i8>(fraction) - fine;
  t = t < CARRY_MIN ? CARRY_MIN : t > CARRY_MAX ? CARRY_MAX : t;
  const w = (t + 128) >> 8;
  store<i8>(weight, <i8>w);
  store<i8>(fraction, <i8>(t - (w << 8)));
  return true;
}

/** Updates the int32 bias at `bias`; false when the step was not finite (nothing written). */
// @ts-ignore: decorator
@inline
export function stepBiasS32(bias: usize, gradReal: f32, gradScale: f32, lr: f32, momentum: f32, v: usize, flags: i32): bool {
  const u: f32 = roundsNearest(flags) ? 0 : prngUniform();
  const step = sgdStep(gradReal, gradScale, lr, momentum, v);
  if (isNaN<f32>(step)) return false;
  const r = <i64>min<f32>(max<f32>(roundStep(step, u, flags), -BIAS_STEP_LIMIT), BIAS_STEP_LIMIT);
  const q = <i64>load<i32>(bias) - r;
  store<i32>(bias, <i32>(q < <i64>i32.MIN_VALUE ? <i64>i32.MIN_VALUE : q > <i64>i32.MAX_VALUE ? <i64>i32.MAX_VALUE : q));
  return true;
}

/** True when every one of the `count` i32 channel indices at `channels` is in [0, outC). */
export function channelsInRange(channels: usize, count: i32, outC: i32): bool {
  if (count < 0) return false;
  for (let i = 0; i < count; i++) {
    const c = load<i32>(channels + (<usize>i << 2));
    if (c < 0 || c >= outC) return false;
  }
  return true;
}
