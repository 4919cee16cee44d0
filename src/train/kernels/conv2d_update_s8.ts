// Weight (and bias) gradient of the int8 2-D convolution fused with the in-place update
// ("operator reordering": no gradient buffer), for a list of selected output channels.
// Scalar reference. NHWC, batch 1.
//
//   input          int8 [inH][inW][inC]              the forward input x_q (saved activation), read
//   inZp, inScale  its zero point and scale: x = inScale * (x_q - inZp)
//   outGrad        f32 [outH][outW][outC]            dL/dy (pre-clamp: apply the ReLU mask first), read
//   filter         int8 [outC][kH][kW][inC]          W_q, selected channels updated in place; with
//                  UPDATE_COMPACT_ROWS int8 [selectedCount][kH][kW][inC], row i = channel selected[i]
//   filterScales   f32 [outC]                        s_w[c]
//   bias           i32 [outC]                        updated in place for the selected channels, or 0 (bias frozen)
//   geometry       strides and leading padding as the forward record
//   selected       i32 [selectedCount]               output channels to update, each in [0, outC)
//   lrW, lrB       learning rates; momentum: coefficient, used only with state pointers
//   weightState    [selectedCount][kH][kW][inC]      state per updated weight (list order), or 0:
//                  f32 momentum, or with UPDATE_CARRY the int8 carry fraction (then momentum = 0)
//   biasMomentum   f32 [selectedCount]               state per updated bias, or 0
//   flags          UPDATE_NEAREST | UPDATE_NO_QAS | UPDATE_CARRY | UPDATE_COMPACT_ROWS bits (sgd_step.ts); 0 = stochastic, QAS
//
// Per selected channel c, per weight (ky, kx, ic), in filter order:
//   dW = inScale * sum over outputs (oy, ox) whose tap (ky, kx) is in bounds, row-major, of
//        outGrad[oy][ox][c] * (x_q[iy][ix][ic] - inZp)
// then stepWeightS8 with weightGradScale (1 / s_w[c], or s_w[c] without QAS); then, if bias != 0, the bias as bias_update_s32.
// PRNG draws (stochastic rounding): channels in list order; per channel its weights in
// filter order (none with UPDATE_CARRY), then its bias. The updated weights are not read back by this kernel: run
// conv2d_backward_input_f32 first if the input gradient should see the old weights.
// Returns Status.OK; BAD_ARGUMENT (nothing written) for a channel out of range, an unknown
// flag bit, or UPDATE_CARRY with momentum or without weightState; BAD_INPUT when some step was not finite (those parameters unchanged).
import { Status } from '../../formats/schema';
import { biasGradScale, channelGradSum } from './bias_update_s32';
import { channelsInRange, stepBiasS32, stepWeightS8, weightGradScale, weightRowOf, weightStateAt, rowsUpdateModeOk } from './sgd_step';
import { endOutputOfTap, firstOutputOfTap } from './window';

export function conv2d_update_s8(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, inScale: f32, outGrad: usize, outH: i32, outW: i32, outC: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, bias: usize, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, selected: usize, selectedCount: i32, lrW: f32, lrB: f32, momentum: f32, weightState: usize, biasMomentum: usize, flags: i32): i32 {
  if (!channelsInRange(selected, selectedCount, outC) || !rowsUpdateModeOk(flags, momentum, weightState)) return Status.BAD_ARGUMENT;
  const filterSize = kH * kW * inC;
  let finite = true;
  for (let i = 0; i < selectedCount; i++) {
    const c = load<i32>(selected + (<usize>i << 2));
    const gradScale = weightGradScale(filterScales, c, flags);
    const w = filter + <usize>(weightRowOf(i, c, flags) * filterSize);
    const state = weightStateAt(weightState, i * filterSize, flags);
    for (let ky = 0; ky < kH; ky++) {
      const oy0 = firstOutputOfTap(padTop, ky, strideH);
      const oy1 = endOutputOfTap(inH, padTop, ky, strideH, outH);
      for (let kx = 0; kx < kW; kx++) {
        const ox0 = firstOutputOfTap(padLeft, kx, strideW);
        const ox1 = endOutputOfTap(inW, padLeft, kx, strideW, outW);
        for (let ic = 0; ic < inC; ic++) {
          let acc: f32 = 0;
          for (let oy = oy0; oy < oy1; oy++) {
            const iy = oy * strideH - padTop + ky;
            for (let ox = ox0; ox < ox1; ox++) {
              const ix = ox * strideW - padLeft + kx;
              const dy = load<f32>(outGrad + (<usize>((oy * outW + ox) * outC + c) << 2));
              acc += dy * <f32>(<i32>load<i8>(input + <usize>((iy * inW + ix) * inC + ic)) - inZp);
            }
          }
          const k = (ky * kW + kx) * inC + ic;
          const v = weightStateAt(state, k, flags);
          finite = stepWeightS8(w + <usize>k, acc * inScale, gradScale, lrW, momentum, v, flags) && finite;
        }
      }
    }
    if (bias != 0) {
      const v = biasMomentum == 0 ? 0 : biasMomentum + (<usize>i << 2);
      const grad = channelGradSum(outGrad, outH * outW, outC, c);
      finite = stepBiasS32(bias + (<usize>c << 2), grad, biasGradScale(inScale, filterScales, c, flags), lrB, momentum, v, flags) && finite;
    }
  }
  return finite ? Status.OK : Status.BAD_INPUT;
}
