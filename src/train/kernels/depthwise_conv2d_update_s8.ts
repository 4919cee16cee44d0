// Weight (and bias) gradient of the int8 depthwise convolution (depth multiplier 1) fused with
// the in-place update, for a list of selected channels. Scalar. NHWC, batch 1.
//
//   input          int8 [inH][inW][channels]    the forward input x_q (saved activation), read
//   inZp, inScale  x = inScale * (x_q - inZp)
//   outGrad        f32 [outH][outW][channels]   dL/dy (pre-clamp: apply the ReLU mask first), read
//   filter         int8 [1][kH][kW][channels]   W_q, the selected channels updated in place
//   filterScales   f32 [channels]               s_w[c]
//   bias           i32 [channels]               updated in place for the selected channels, or 0 (frozen)
//   selected       i32 [selectedCount]          channels to update, each in [0, channels)
//   weightState    [selectedCount][kH][kW]      state per updated weight (list order), or 0, as conv2d_update_s8
//   biasMomentum   f32 [selectedCount]          state per updated bias, or 0
//   other arguments as conv2d_update_s8
//
// Per selected channel c, per tap (ky, kx) row-major:
//   dW = inScale * sum over outputs (oy, ox) whose tap is in bounds, row-major, of
//        outGrad[oy][ox][c] * (x_q[iy][ix][c] - inZp)
// then stepWeightS8 with weightGradScale (1 / s_w[c], or s_w[c] without QAS); then the bias (bias_update_s32). PRNG draws: channels in
// list order, each channel's taps, then its bias. No SIMD variant: a channel's operands are
// strided by the channel count and the selected channels need not be adjacent.
// Returns as conv2d_update_s8.
import { Status } from '../../formats/schema';
import { biasGradScale, channelGradSum } from './bias_update_s32';
import { channelsInRange, stepBiasS32, stepWeightS8, weightGradScale, weightStateAt, weightUpdateModeOk } from './sgd_step';
import { endOutputOfTap, firstOutputOfTap } from './window';

export function depthwise_conv2d_update_s8(input: usize, inH: i32, inW: i32, channels: i32, inZp: i32, inScale: f32, outGrad: usize, outH: i32, outW: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, bias: usize, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, selected: usize, selectedCount: i32, lrW: f32, lrB: f32, momentum: f32, weightState: usize, biasMomentum: usize, flags: i32): i32 {
  if (!channelsInRange(selected, selectedCount, channels) || !weightUpdateModeOk(flags, momentum, weightState)) return Status.BAD_ARGUMENT;
  const taps = kH * kW;
  let finite = true;
  for (let i = 0; i < selectedCount; i++) {
    const c = load<i32>(selected + (<usize>i << 2));
    const gradScale = weightGradScale(filterScales, c, flags);
    const state = weightStateAt(weightState, i * taps, flags);
    for (let ky = 0; ky < kH; ky++) {
      const oy0 = firstOutputOfTap(padTop, ky, strideH);
      const oy1 = endOutputOfTap(inH, padTop, ky, strideH, outH);
      for (let kx = 0; kx < kW; kx++) {
        const ox0 = firstOutputOfTap(padLeft, kx, strideW);
        const ox1 = endOutputOfTap(inW, padLeft, kx, strideW, outW);
        let acc: f32 = 0;
        for (let oy = oy0; oy < oy1; oy++) {
          const iy = oy * strideH - padTop + ky;
          for (let ox = ox0; ox < ox1; ox++) {
            const ix = ox * strideW - padLeft + kx;
            const dy = load<f32>(outGrad + (<usize>((oy * outW + ox) * channels + c) << 2));
            acc += dy * <f32>(<i32>load<i8>(input + <usize>((iy * inW + ix) * channels + c)) - inZp);
          }
        }
        const t = ky * kW + kx;
        const v = weightStateAt(state, t, flags);
        finite = stepWeightS8(filter + <usize>(t * channels + c), acc * inScale, gradScale, lrW, momentum, v, flags) && finite;
      }
    }
    if (bias != 0) {
      const v = biasMomentum == 0 ? 0 : biasMomentum + (<usize>i << 2);
      const grad = channelGradSum(outGrad, outH * outW, channels, c);
      finite = stepBiasS32(bias + (<usize>c << 2), grad, biasGradScale(inScale, filterScales, c, flags), lrB, momentum, v, flags) && finite;
    }
  }
  return finite ? Status.OK : Status.BAD_INPUT;
}
