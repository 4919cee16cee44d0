// 2-D int8 convolution (per-channel requantization), scalar reference. NHWC, batch 1.
//   input int8 [inH][inW][inC], filter int8 [outC][kH][kW][inC], bias int32 [outC] or 0,
//   requant int32 [outC][2] (multiplier, shift), output int8 [outH][outW][outC].
// Output (oy, ox) reads input (oy*strideH - padTop + ky, ox*strideW - padLeft + kx);
// taps outside the input contribute nothing.
import { outputStageS8 } from './output_stage_s8';

export function conv2d_s8(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, filter: usize, kH: i32, kW: i32, outC: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  const filterSize = kH * kW * inC;
  let y = output;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const iy0 = oy * strideH - padTop;
      const ix0 = ox * strideW - padLeft;
      for (let oc = 0; oc < outC; oc++) {
        let acc = 0;
        for (let ky = 0; ky < kH; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) continue;
            const x = input + <usize>((iy * inW + ix) * inC);
            const w = filter + <usize>(oc * filterSize + (ky * kW + kx) * inC);
            for (let ic = 0; ic < inC; ic++) {
              acc += <i32>load<i8>(w + <usize>ic) * (<i32>load<i8>(x + <usize>ic) - inZp);
            }
          }
        }
        store<i8>(y + <usize>oc, <i8>outputStageS8(acc, oc, bias, requant, outZp, actMin, actMax));
      }
      y += <usize>outC;
    }
  }
}
