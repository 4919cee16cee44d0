// int8 max pooling, NHWC, batch 1, bit-exact with TensorFlow Lite Micro's reference kernel.
//
// input: int8 [inH, inW, channels]; output: int8 [outH, outW, channels], same scale and zero
// point. Window geometry as avg_pool_s8: only in-bounds taps count. The maximum starts at -128
// (so an empty window gives clamp(-128)) and is clamped to [actMin, actMax].
import { windowEnd, windowStart } from './pool_window';
import { clampToRange } from './avg_pool_s8';

/** Max over channels [cFrom, channels) of one output pixel, window rows [y0, y1), cols [x0, x1). */
export function maxPoolPixel(input: usize, inW: i32, channels: i32, y0: i32, y1: i32, x0: i32, x1: i32, cFrom: i32, out: usize, actMin: i32, actMax: i32): void {
  for (let c = cFrom; c < channels; c++) {
    let best: i32 = -128;
    for (let iy = y0; iy < y1; iy++) {
      const rowPtr = input + (<usize>(iy * inW) * <usize>channels) + <usize>c;
      for (let ix = x0; ix < x1; ix++) {
        const x = <i32>load<i8>(rowPtr + <usize>ix * <usize>channels);
        if (x > best) best = x;
      }
    }
    store<i8>(out + c, <i8>clampToRange(best, actMin, actMax));
  }
}

export function max_pool_s8(input: usize, inH: i32, inW: i32, channels: i32, output: usize, outH: i32, outW: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  let out = output;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = windowStart(oy, strideH, padTop), y1 = windowEnd(oy, strideH, padTop, filterH, inH);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = windowStart(ox, strideW, padLeft), x1 = windowEnd(ox, strideW, padLeft, filterW, inW);
      maxPoolPixel(input, inW, channels, y0, y1, x0, x1, 0, out, actMin, actMax);
      out += <usize>channels;
    }
  }
}
