// int8 average pooling, NHWC, batch 1, bit-exact with TensorFlow Lite Micro's reference kernel.
//
// input: int8 [inH, inW, channels]; output: int8 [outH, outW, channels], same scale and zero
// point (so no requantization). Output (oy, ox) covers input rows oy*strideH - padTop + fy,
// fy in [0, filterH), and likewise columns; only in-bounds taps are summed and counted.
// average = round(sum / count), ties away from zero, then clamped to [actMin, actMax].
// A window with no in-bounds tap (padding >= filter size; the container reader rejects it;
// TFLM returns an error) writes clamp(0).

/** round(sum / count) with ties away from zero, via C's truncating division; 0 when count <= 0. */
import { windowEnd, windowStart } from './pool_window';

// @ts-ignore: decorator
@inline
export function roundedAverage(sum: i32, count: i32): i32 {
  if (count <= 0) return 0;
  const half = count >> 1;
  return (sum > 0 ? sum + half : sum - half) / count;
}

/** min(max(x, lo), hi), the order TFLM and the SIMD kernels apply the activation bounds. */
// @ts-ignore: decorator
@inline
export function clampToRange(x: i32, lo: i32, hi: i32): i32 {
  const atLeastLo = x < lo ? lo : x;
  return atLeastLo > hi ? hi : atLeastLo;
}

/**
 * Averages channels [cFrom, channels) of one output pixel whose window is rows [y0, y1) and
 * columns [x0, x1) of the input (already clipped to the image). Shared with the SIMD kernel.
 */
export function avgPoolPixel(input: usize, inW: i32, channels: i32, y0: i32, y1: i32, x0: i32, x1: i32, cFrom: i32, out: usize, actMin: i32, actMax: i32): void {
  const count = (y1 - y0) * (x1 - x0);
  for (let c = cFrom; c < channels; c++) {
    let sum: i32 = 0;
    for (let iy = y0; iy < y1; iy++) {
      const rowPtr = input + (<usize>(iy * inW) * <usize>channels) + <usize>c;
      for (let ix = x0; ix < x1; ix++) sum += <i32>load<i8>(rowPtr + <usize>ix * <usize>channels);
    }
    store<i8>(out + c, <i8>clampToRange(roundedAverage(sum, count), actMin, actMax));
  }
}

export function avg_pool_s8(input: usize, inH: i32, inW: i32, channels: i32, output: usize, outH: i32, outW: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  let out = output;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = windowStart(oy, strideH, padTop), y1 = windowEnd(oy, strideH, padTop, filterH, inH);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = windowStart(ox, strideW, padLeft), x1 = windowEnd(ox, strideW, padLeft, filterW, inW);
      avgPoolPixel(input, inW, channels, y0, y1, x0, x1, 0, out, actMin, actMax);
      out += <usize>channels;
    }
  }
}
