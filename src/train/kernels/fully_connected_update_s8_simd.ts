// SIMD128 variant of fully_connected_update_s8 (also CONV1X1): same contract, same weights for
// the same PRNG seed. Gradient sums over four input selected at a time (each lane in the scalar
// kernel's row order: same bits); updates and PRNG draws scalar, in weight order. The last
// inC % 4 input selected are scalar.
import { Status } from '../../formats/schema';
import { biasGradScale, channelGradSum } from './bias_update_s32';
import { channelsInRange, stepBiasS32, stepWeightS8, weightGradScale, weightRowOf, weightStateAt, rowsUpdateModeOk } from './sgd_step';
import { stepWeightsS8x4 } from './sgd_step_simd';
import { loadS8x4AsF32 } from './simd_f32';

export function fully_connected_update_s8_simd(input: usize, rows: i32, inC: i32, inZp: i32, inScale: f32, outGrad: usize, outC: i32, filter: usize, filterScales: usize, bias: usize, selected: usize, selectedCount: i32, lrW: f32, lrB: f32, momentum: f32, weightState: usize, biasMomentum: usize, flags: i32): i32 {
  if (!channelsInRange(selected, selectedCount, outC) || !rowsUpdateModeOk(flags, momentum, weightState)) return Status.BAD_ARGUMENT;
  const vecC = inC & ~3;
  const zp = f32x4.splat(<f32>inZp);
  const scale = f32x4.splat(inScale);
  let finite = true;
  for (let n = 0; n < selectedCount; n++) {
    const c = load<i32>(selected + (<usize>n << 2));
    const gradScale = weightGradScale(filterScales, c, flags);
    const w = filter + <usize>(weightRowOf(n, c, flags) * inC);
    const state = weightStateAt(weightState, n * inC, flags);
    let i = 0;
    for (; i < vecC; i += 4) {
      let acc = f32x4.splat(0);
      for (let r = 0; r < rows; r++) {
        const dy = f32x4.splat(load<f32>(outGrad + (<usize>(r * outC + c) << 2)));
        acc = f32x4.add(acc, f32x4.mul(dy, f32x4.sub(loadS8x4AsF32(input + <usize>(r * inC + i)), zp)));
      }
      const v = weightStateAt(state, i, flags);
      finite = stepWeightsS8x4(w + <usize>i, f32x4.mul(acc, scale), gradScale, lrW, momentum, v, flags) && finite;
    }
    for (; i < inC; i++) {
      let acc: f32 = 0;
      for (let r = 0; r < rows; r++) {
        const dy = load<f32>(outGrad + (<usize>(r * outC + c) << 2));
        acc += dy * <f32>(<i32>load<i8>(input + <usize>(r * inC + i)) - inZp);
      }
      const v = weightStateAt(state, i, flags);
      finite = stepWeightS8(w + <usize>i, acc * inScale, gradScale, lrW, momentum, v, flags) && finite;
    }
    if (bias != 0) {
      const v = biasMomentum == 0 ? 0 : biasMomentum + (<usize>n << 2);
      const grad = channelGradSum(outGrad, rows, outC, c);
      finite = stepBiasS32(bias + (<usize>c << 2), grad, biasGradScale(inScale, filterScales, c, flags), lrB, momentum, v, flags) && finite;
    }
  }
  return finite ? Status.OK : Status.BAD_INPUT;
}
