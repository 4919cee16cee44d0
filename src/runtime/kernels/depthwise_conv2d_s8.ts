// Depthwise int8 convolution, depth multiplier 1, scalar reference. NHWC, batch 1.
//   input int8 [inH][inW][C], filter int8 [1][kH][kW][C], bias int32 [C] or 0,
//   requant int32 [C][2] (multiplier, shift), output int8 [outH][outW][C].
// Output (oy, ox) reads input (oy*strideH - padTop + ky, ox*strideW - padLeft + kx);
// taps outside the input contribute nothing.
import { depthwiseS8ChannelRange } from './depthwise_s8_channel_range';

export function depthwise_conv2d_s8(input: usize, inH: i32, inW: i32, channels: i32, inZp: i32, filter: usize, kH: i32, kW: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  depthwiseS8ChannelRange(input, inH, inW, channels, inZp, filter, kH, kW, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax, 0, channels);
}
