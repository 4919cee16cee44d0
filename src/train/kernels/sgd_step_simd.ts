// stepWeightS8 over four consecutive weights whose gradients are the lanes of an f32x4, lane 0
// first: the SIMD kernels compute gradients four at a time but update (and draw random numbers)
// in the scalar kernels' order, so both builds give the same weights for the same seed.
import { stepWeightS8 } from './sgd_step';

/** Updates weight[0..4) (int8) with lanes 0..3 of `grads`; v: f32 [4] momentum state or 0. False if any step was not finite. */
// @ts-ignore: decorator
@inline
export function stepWeightsS8x4(weight: usize, grads: v128, invScale: f32, lr: f32, momentum: f32, v: usize, rounding: i32): bool {
  const ok0 = stepWeightS8(weight, f32x4.extract_lane(grads, 0), invScale, lr, momentum, v, rounding);
  const ok1 = stepWeightS8(weight + 1, f32x4.extract_lane(grads, 1), invScale, lr, momentum, v == 0 ? 0 : v + 4, rounding);
  const ok2 = stepWeightS8(weight + 2, f32x4.extract_lane(grads, 2), invScale, lr, momentum, v == 0 ? 0 : v + 8, rounding);
  const ok3 = stepWeightS8(weight + 3, f32x4.extract_lane(grads, 3), invScale, lr, momentum, v == 0 ? 0 : v + 12, rounding);
  return ok0 && ok1 && ok2 && ok3;
}
