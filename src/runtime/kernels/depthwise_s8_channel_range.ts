// Scalar depthwise convolution over channels [c0, c1) only: the body of depthwise_conv2d_s8
// and the tail of depthwise_conv2d_s8_simd (channels past the last SIMD group).
// Layouts and geometry as depthwise_conv2d_s8.
import { outputStageS8 } from './output_stage_s8';

// @ts-ignore: decorator
@inline
export function depthwiseS8ChannelRange(input: usize, inH: i32, inW: i32, channels: i32, inZp: i32, filter: usize, kH: i32, kW: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32, c0: i32, c1: i32): void {
  let y = output;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const iy0 = oy * strideH - padTop;
      const ix0 = ox * strideW - padLeft;
      for (let c = c0; c < c1; c++) {
        let acc = 0;
        for (let ky = 0; ky < kH; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) continue;
            const x = <i32>load<i8>(input + <usize>((iy * inW + ix) * channels + c));
            const w = <i32>load<i8>(filter + <usize>((ky * kW + kx) * channels + c));
            acc += w * (x - inZp);
          }
        }
        store<i8>(y + <usize>c, <i8>outputStageS8(acc, c, bias, requant, outZp, actMin, actMax));
      }
      y += <usize>channels;
    }
  }
}
