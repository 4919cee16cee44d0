// Input gradient of int8 max pooling. NHWC, batch 1. Needs the saved int8 forward input.
//
//   input   int8 [inH][inW][channels]  the forward input (saved activation), read
//   outGrad f32 [outH][outW][channels] dL/dy, read
//   inGrad  f32 [inH][inW][channels]   dL/dx, overwritten (must not overlap outGrad)
// Window geometry as max_pool_s8 (only in-bounds taps). Each output's gradient goes to its
// window's maximum; ties go to the first maximum in window order (rows, then columns: the
// fp32 reference's rule). A window with no in-bounds tap passes nothing back. A fused clamp on
// the output is handled by the ReLU mask, applied to outGrad before this kernel.

import { windowEnd, windowStart } from '../../runtime/kernels/pool_window';

export function max_pool_backward_f32(input: usize, inH: i32, inW: i32, channels: i32, outGrad: usize, outH: i32, outW: i32, inGrad: usize, filterH: i32, filterW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  memory.fill(inGrad, 0, <usize>(inH * inW * channels) << 2);
  max_pool_backward_f32_acc(input, inH, inW, channels, outGrad, outH, outW, inGrad, filterH, filterW, strideH, strideW, padTop, padLeft);
}

/** As max_pool_backward_f32, but adds dL/dx to what inGrad holds (a gradient already there: the input has several consumers). */
export function max_pool_backward_f32_acc(input: usize, inH: i32, inW: i32, channels: i32, outGrad: usize, outH: i32, outW: i32, inGrad: usize, filterH: i32, filterW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  let dy = outGrad;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = windowStart(oy, strideH, padTop), y1 = windowEnd(oy, strideH, padTop, filterH, inH);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = windowStart(ox, strideW, padLeft), x1 = windowEnd(ox, strideW, padLeft, filterW, inW);
      if (y1 > y0 && x1 > x0) {
        for (let c = 0; c < channels; c++) {
          let best: i32 = -129;
          let winner: i32 = 0;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const at = (iy * inW + ix) * channels + c;
              const q = <i32>load<i8>(input + <usize>at);
              if (q > best) {
                best = q;
                winner = at;
              }
            }
          }
          const p = inGrad + (<usize>winner << 2);
          store<f32>(p, load<f32>(p) + load<f32>(dy + (<usize>c << 2)));
        }
      }
      dy += <usize>channels << 2;
    }
  }
}
