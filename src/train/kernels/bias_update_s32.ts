// Bias gradient fused with its in-place update, for any op whose output gradient is laid out
// [pixels][outC] (conv2d, depthwise, 1x1, fully connected): for each selected channel c,
//   db[c] = sum over pixels of outGrad[p][c]      (pixels ascending)
// then the SGD step of sgd_step.ts with scale s_x * s_w[c], into the int32 bias.
//
//   outGrad        f32 [pixels][outC]   dL/dy (pre-clamp: apply the ReLU mask first), read
//   bias           i32 [outC]           b_q, updated in place for the selected channels only
//   inScale        f32                  s_x, the op's input scale (bias scale = s_x * s_w[c])
//   filterScales   f32 [outC]           s_w[c]
//   selected       i32 [selectedCount]  output channels to update, each in [0, outC), in order
//   biasMomentum   f32 [selectedCount]  momentum state per selected channel (list order), or 0
//   flags          UPDATE_NEAREST | UPDATE_NO_QAS bits (sgd_step.ts); stochastic rounding draws
//                  once per channel, list order; UPDATE_CARRY is ignored (int32 biases round
//                  by bit 0: their quanta are s_x s_w[c], fine enough to need no fraction)
// Returns Status.OK; BAD_ARGUMENT (nothing written) for a channel out of range or an unknown
// flag bit; BAD_INPUT when some step was not finite (those biases unchanged).
import { Status } from '../../formats/schema';
import { channelsInRange, gradScaleOf, isUpdateFlags, stepBiasS32 } from './sgd_step';

/** sum over pixels of outGrad[p][c], pixels ascending. */
// @ts-ignore: decorator
@inline
export function channelGradSum(outGrad: usize, pixels: i32, outC: i32, c: i32): f32 {
  let sum: f32 = 0;
  let p = outGrad + (<usize>c << 2);
  const stride = <usize>outC << 2;
  for (let i = 0; i < pixels; i++) {
    sum += load<f32>(p);
    p += stride;
  }
  return sum;
}

/** gradScale of bias c, whose quantization scale is s_x * s_w[c] (f32 product). */
// @ts-ignore: decorator
@inline
export function biasGradScale(inScale: f32, filterScales: usize, c: i32, flags: i32): f32 {
  return gradScaleOf(inScale * load<f32>(filterScales + (<usize>c << 2)), flags);
}

export function bias_update_s32(outGrad: usize, pixels: i32, outC: i32, bias: usize, inScale: f32, filterScales: usize, selected: usize, selectedCount: i32, lrB: f32, momentum: f32, biasMomentum: usize, flags: i32): i32 {
  if (!channelsInRange(selected, selectedCount, outC) || !isUpdateFlags(flags)) return Status.BAD_ARGUMENT;
  let finite = true;
  for (let i = 0; i < selectedCount; i++) {
    const c = load<i32>(selected + (<usize>i << 2));
    const v = biasMomentum == 0 ? 0 : biasMomentum + (<usize>i << 2);
    const grad = channelGradSum(outGrad, pixels, outC, c);
    finite = stepBiasS32(bias + (<usize>c << 2), grad, biasGradScale(inScale, filterScales, c, flags), lrB, momentum, v, flags) && finite;
  }
  return finite ? Status.OK : Status.BAD_INPUT;
}
