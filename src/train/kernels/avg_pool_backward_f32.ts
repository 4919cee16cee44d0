// Input gradient of int8 average pooling, in real values (input and output share scale and
// zero point, so the real average's derivative is used: straight through the rounding). NHWC.
//
//   outGrad f32 [outH][outW][channels] dL/dy, read
//   inGrad  f32 [inH][inW][channels]   dL/dx, overwritten (must not overlap outGrad)
// Window geometry as avg_pool_s8: only in-bounds taps count, so every in-bounds tap of a
// window with n taps receives outGrad / n (a window with no tap passes nothing back).
// Summation order: output pixels row-major, then the window's taps row-major.

import { windowEnd, windowStart } from '../../runtime/kernels/pool_window';

export function avg_pool_backward_f32(outGrad: usize, outH: i32, outW: i32, channels: i32, inGrad: usize, inH: i32, inW: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  memory.fill(inGrad, 0, <usize>(inH * inW * channels) << 2);
  avg_pool_backward_f32_acc(outGrad, outH, outW, channels, inGrad, inH, inW, filterH, filterW, strideH, strideW, padTop, padLeft);
}

/** As avg_pool_backward_f32, but adds dL/dx to what inGrad holds (a gradient already there: the input has several consumers). */
export function avg_pool_backward_f32_acc(outGrad: usize, outH: i32, outW: i32, channels: i32, inGrad: usize, inH: i32, inW: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  let dy = outGrad;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = windowStart(oy, strideH, padTop), y1 = windowEnd(oy, strideH, padTop, filterH, inH);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = windowStart(ox, strideW, padLeft), x1 = windowEnd(ox, strideW, padLeft, filterW, inW);
      const taps = <f32>((y1 - y0) * (x1 - x0));
      for (let iy = y0; iy < y1; iy++) {
        for (let ix = x0; ix < x1; ix++) {
          const dx = inGrad + (<usize>((iy * inW + ix) * channels) << 2);
          for (let c = 0; c < channels; c++) {
            const p = dx + (<usize>c << 2);
            store<f32>(p, load<f32>(p) + load<f32>(dy + (<usize>c << 2)) / taps);
          }
        }
      }
      dy += <usize>channels << 2;
    }
  }
}
