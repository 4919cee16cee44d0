// SIMD128 variant of conv2d_update_s8: same contract, same weights for the same PRNG seed.
// The gradient sums run over four input selected at a time (each lane in the scalar kernel's
// pixel order: same bits); the updates and their PRNG draws stay scalar and in filter order.
// The last inC % 4 selected of each tap are scalar. Pays from inC >= 4.
import { Status } from '../../formats/schema';
import { biasGradScale, channelGradSum } from './bias_update_s32';
import { channelsInRange, stepBiasS32, stepWeightS8, weightGradScale, weightRowOf, weightStateAt, rowsUpdateModeOk } from './sgd_step';
import { stepWeightsS8x4 } from './sgd_step_simd';
import { loadS8x4AsF32 } from './simd_f32';
import { endOutputOfTap, firstOutputOfTap } from './window';

export function conv2d_update_s8_simd(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, inScale: f32, outGrad: usize, outH: i32, outW: i32, outC: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, bias: usize, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, selected: usize, selectedCount: i32, lrW: f32, lrB: f32, momentum: f32, weightState: usize, biasMomentum: usize, flags: i32): i32 {
  if (!channelsInRange(selected, selectedCount, outC) || !rowsUpdateModeOk(flags, momentum, weightState)) return Status.BAD_ARGUMENT;
  const filterSize = kH * kW * inC;
  const vecC = inC & ~3;
  const zp = f32x4.splat(<f32>inZp);
  const scale = f32x4.splat(inScale);
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
        let ic = 0;
        for (; ic < vecC; ic += 4) {
          let acc = f32x4.splat(0);
          for (let oy = oy0; oy < oy1; oy++) {
            const iy = oy * strideH - padTop + ky;
            for (let ox = ox0; ox < ox1; ox++) {
              const ix = ox * strideW - padLeft + kx;
              const dy = f32x4.splat(load<f32>(outGrad + (<usize>((oy * outW + ox) * outC + c) << 2)));
              // x_q - inZp is an exact small integer in f32, as in the scalar kernel
              const x = f32x4.sub(loadS8x4AsF32(input + <usize>((iy * inW + ix) * inC + ic)), zp);
              acc = f32x4.add(acc, f32x4.mul(dy, x));
            }
          }
          const k = (ky * kW + kx) * inC + ic;
          const v = weightStateAt(state, k, flags);
          finite = stepWeightsS8x4(w + <usize>k, f32x4.mul(acc, scale), gradScale, lrW, momentum, v, flags) && finite;
        }
        for (; ic < inC; ic++) {
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
