// Weight (and bias) gradient of the int8 fully connected layer and of the 1x1 convolution
// (CONV1X1: rows = H*W pixels) fused with the in-place update, for a list of selected output
// channels. Scalar reference.
//
//   input          int8 [rows][inC]          the forward input x_q (saved activation), read
//   inZp, inScale  x = inScale * (x_q - inZp)
//   outGrad        f32 [rows][outC]          dL/dy (pre-clamp: apply the ReLU mask first), read
//   filter         int8 [outC][inC]          W_q, the selected rows updated in place; with
//                  UPDATE_COMPACT_ROWS int8 [selectedCount][inC], row n = channel selected[n]
//   filterScales   f32 [outC]                s_w[c]
//   bias           i32 [outC]                updated in place for the selected channels, or 0 (frozen)
//   selected       i32 [selectedCount]       output channels to update, each in [0, outC)
//   weightState    [selectedCount][inC]      state per updated weight (list order), or 0, as conv2d_update_s8
//   biasMomentum   f32 [selectedCount]       state per updated bias, or 0
//   other arguments as conv2d_update_s8
//
// Per selected channel c, per input channel i ascending:
//   dW = inScale * sum over rows r ascending of outGrad[r][c] * (x_q[r][i] - inZp)
// then stepWeightS8 with weightGradScale (1 / s_w[c], or s_w[c] without QAS); then the bias (bias_update_s32). PRNG draws: channels in
// list order, each channel's weights, then its bias. Returns as conv2d_update_s8.
import { Status } from '../../formats/schema';
import { biasGradScale, channelGradSum } from './bias_update_s32';
import { channelsInRange, stepBiasS32, stepWeightS8, weightGradScale, weightRowOf, weightStateAt, rowsUpdateModeOk } from './sgd_step';

export function fully_connected_update_s8(input: usize, rows: i32, inC: i32, inZp: i32, inScale: f32, outGrad: usize, outC: i32, filter: usize, filterScales: usize, bias: usize, selected: usize, selectedCount: i32, lrW: f32, lrB: f32, momentum: f32, weightState: usize, biasMomentum: usize, flags: i32): i32 {
  if (!channelsInRange(selected, selectedCount, outC) || !rowsUpdateModeOk(flags, momentum, weightState)) return Status.BAD_ARGUMENT;
  let finite = true;
  for (let n = 0; n < selectedCount; n++) {
    const c = load<i32>(selected + (<usize>n << 2));
    const gradScale = weightGradScale(filterScales, c, flags);
    const w = filter + <usize>(weightRowOf(n, c, flags) * inC);
    const state = weightStateAt(weightState, n * inC, flags);
    for (let i = 0; i < inC; i++) {
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
