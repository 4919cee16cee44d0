// The in-place parameter update shared by every *_update_s8 kernel: QAS-scaled SGD (optional
// momentum) written straight back into an int8 weight or an int32 bias, with stochastic or
// nearest rounding. docs/training-math.md derives the scale factors.
//
// For one parameter with quantization scale s (s_w[c] for a weight, s_x * s_w[c] for a bias)
// and real-valued gradient gReal = dL/d(real value):
//   g    = gReal * (1 / s)            the QAS gradient ((s * gReal) / s^2), in quantized units
//   g    = momentum * v + g; v = g    only when a momentum state v (f32) is given
//   step = lr * g                    f32 throughout, in this order (no fused multiply-add)
//   q    = saturate(q - round(step))  int8: [-127, 127]; int32: [INT32_MIN, INT32_MAX]
// round(): ROUND_STOCHASTIC: floor(step) + (u < step - floor(step) ? 1 : 0), u = prngUniform()
//          (one draw per parameter, drawn before anything else, even when the step is skipped);
//          ROUND_NEAREST: nearest integer, ties to even; no draw.
// A non-finite step (NaN or infinite gradient, lr or scale) leaves q and v untouched and the
// helper returns false; kernels report that as Status.BAD_INPUT after finishing the others.
import { prngUniform } from './prng';

/** Rounding modes of every update kernel's `rounding` argument. */
export const ROUND_STOCHASTIC: i32 = 0;
export const ROUND_NEAREST: i32 = 1;

/** Steps beyond this many quanta saturate any int8 weight, and clamping keeps the f32 -> i32 conversion in range. */
export const WEIGHT_STEP_LIMIT: f32 = 1024;
/** Likewise for int32 biases (2^32), keeping the f32 -> i64 conversion in range. */
const BIAS_STEP_LIMIT: f32 = 4294967296;

// @ts-ignore: decorator
@inline
export function isRoundingMode(rounding: i32): bool {
  return rounding == ROUND_STOCHASTIC || rounding == ROUND_NEAREST;
}

// @ts-ignore: decorator
@inline
function roundStep(step: f32, u: f32, rounding: i32): f32 {
  if (rounding == ROUND_NEAREST) return nearest<f32>(step);
  const down = floor<f32>(step);
  return u < step - down ? down + 1 : down;
}

/** The step of one parameter, or NaN (non-finite); updates the momentum state `v` (0 = none). */
// @ts-ignore: decorator
@inline
function qasStep(gradReal: f32, invScale: f32, lr: f32, momentum: f32, v: usize): f32 {
  let g = gradReal * invScale;
  if (v != 0) g = momentum * load<f32>(v) + g;
  const step = lr * g;
  if (!isFinite<f32>(step)) return NaN;
  if (v != 0) store<f32>(v, g);
  return step;
}

/** Updates the int8 weight at `weight`; false when the step was not finite (nothing written). */
// @ts-ignore: decorator
@inline
export function stepWeightS8(weight: usize, gradReal: f32, invScale: f32, lr: f32, momentum: f32, v: usize, rounding: i32): bool {
  const u: f32 = rounding == ROUND_NEAREST ? 0 : prngUniform();
  const step = qasStep(gradReal, invScale, lr, momentum, v);
  if (isNaN<f32>(step)) return false;
  const r = <i32>min<f32>(max<f32>(roundStep(step, u, rounding), -WEIGHT_STEP_LIMIT), WEIGHT_STEP_LIMIT);
  const q = <i32>load<i8>(weight) - r;
  store<i8>(weight, <i8>(q < -127 ? -127 : q > 127 ? 127 : q));
  return true;
}

/** Updates the int32 bias at `bias`; false when the step was not finite (nothing written). */
// @ts-ignore: decorator
@inline
export function stepBiasS32(bias: usize, gradReal: f32, invScale: f32, lr: f32, momentum: f32, v: usize, rounding: i32): bool {
  const u: f32 = rounding == ROUND_NEAREST ? 0 : prngUniform();
  const step = qasStep(gradReal, invScale, lr, momentum, v);
  if (isNaN<f32>(step)) return false;
  const r = <i64>min<f32>(max<f32>(roundStep(step, u, rounding), -BIAS_STEP_LIMIT), BIAS_STEP_LIMIT);
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
