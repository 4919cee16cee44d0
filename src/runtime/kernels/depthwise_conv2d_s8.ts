// Depthwise int8 convolution, depth multiplier 1, scalar reference. NHWC, batch 1.
//   input int8 [inH][inW][C], filter int8 [1][kH][kW][C], bias int32 [C] or 0,
//   requant int32 [C][2] (multiplier, shift), output int8 [outH][outW][C].
// Geometry as conv2d_s8: taps outside the input contribute nothing.
import { outputStageS8 } from './output_stage_s8';

export function depthwise_conv2d_s8(input: usize, inH: i32, inW: i32, channels: i32, inZp: i32, filter: usize, kH: i32, kW: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  let y = output;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const iy0 = oy * strideH - padTop;
      const ix0 = ox * strideW - padLeft;
      for (let c = 0; c < channels; c++) {
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
