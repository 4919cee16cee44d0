// SIMD128 variant of max_pool_s8: same contract, same results bit for bit. Vectorised over
// channels, 16 per i8x16.max_s; fewer than 16 remaining channels take the scalar path.
import { windowEnd, windowStart } from './pool_window';
import { maxPoolPixel, max_pool_s8 } from './max_pool_s8';

export function max_pool_s8_simd(input: usize, inH: i32, inW: i32, channels: i32, output: usize, outH: i32, outW: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  if (actMin < -128 || actMax > 127 || actMin > actMax) { // i8 lanes cannot hold such bounds
    max_pool_s8(input, inH, inW, channels, output, outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft, actMin, actMax);
    return;
  }
  const lo = i8x16.splat(<i8>actMin), hi = i8x16.splat(<i8>actMax);
  const rowStride = <usize>inW * <usize>channels;
  let out = output;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = windowStart(oy, strideH, padTop), y1 = windowEnd(oy, strideH, padTop, filterH, inH);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = windowStart(ox, strideW, padLeft), x1 = windowEnd(ox, strideW, padLeft, filterW, inW);
      let c = 0;
      for (; c + 16 <= channels; c += 16) {
        let best = i8x16.splat(-128);
        let rowPtr = input + <usize>y0 * rowStride + <usize>c;
        for (let iy = y0; iy < y1; iy++) {
          let p = rowPtr + <usize>x0 * <usize>channels;
          for (let ix = x0; ix < x1; ix++) {
            best = i8x16.max_s(best, v128.load(p));
            p += <usize>channels;
          }
          rowPtr += rowStride;
        }
        v128.store(out + c, i8x16.min_s(i8x16.max_s(best, lo), hi));
      }
      if (c < channels) maxPoolPixel(input, inW, channels, y0, y1, x0, x1, c, out, actMin, actMax);
      out += <usize>channels;
    }
  }
}
