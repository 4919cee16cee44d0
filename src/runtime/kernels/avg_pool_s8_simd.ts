// SIMD128 variant of avg_pool_s8: same contract, same results bit for bit. Vectorised over
// channels, 8 per step: taps are summed in int16 lanes (exact for windows of up to 256 taps;
// larger windows take the scalar kernel), then round(sum / count) is computed in float32:
// |sum| < 2^15 and the average is within [-128.5, 128.5], so the float quotient is never
// rounded across an integer and truncating it equals C's integer division. Fewer than 8
// remaining channels take the scalar path.
import { windowEnd, windowStart } from './pool_window';
import { avgPoolPixel, avg_pool_s8 } from './avg_pool_s8';

const MAX_TAPS_INT16: i32 = 256; // 256 * -128 = -32768 still fits int16

/** clamp(trunc((sum +- half) / count)) on four int32 lanes; `half` = count >> 1, `count` as f32. */
// @ts-ignore: decorator
@inline
function averageLanes(sum: v128, half: v128, count: v128, lo: v128, hi: v128): v128 {
  const positive = i32x4.gt_s(sum, i32x4.splat(0));
  const nudged = v128.bitselect(i32x4.add(sum, half), i32x4.sub(sum, half), positive);
  const average = i32x4.trunc_sat_f32x4_s(f32x4.div(f32x4.convert_i32x4_s(nudged), count));
  return i32x4.min_s(i32x4.max_s(average, lo), hi);
}

export function avg_pool_s8_simd(input: usize, inH: i32, inW: i32, channels: i32, output: usize, outH: i32, outW: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  const simdExact = filterH > 0 && filterW > 0 && filterH <= MAX_TAPS_INT16 / filterW &&
    actMin >= -128 && actMax <= 127 && actMin <= actMax;
  if (!simdExact) {
    avg_pool_s8(input, inH, inW, channels, output, outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft, actMin, actMax);
    return;
  }
  const lo = i32x4.splat(actMin), hi = i32x4.splat(actMax);
  const rowStride = <usize>inW * <usize>channels;
  let out = output;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = windowStart(oy, strideH, padTop), y1 = windowEnd(oy, strideH, padTop, filterH, inH);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = windowStart(ox, strideW, padLeft), x1 = windowEnd(ox, strideW, padLeft, filterW, inW);
      const taps = (y1 - y0) * (x1 - x0);
      let c = 0;
      if (taps > 0) {
        const half = i32x4.splat(taps >> 1);
        const count = f32x4.splat(<f32>taps);
        for (; c + 8 <= channels; c += 8) {
          let sum = i16x8.splat(0);
          let rowPtr = input + <usize>y0 * rowStride + <usize>c;
          for (let iy = y0; iy < y1; iy++) {
            let p = rowPtr + <usize>x0 * <usize>channels;
            for (let ix = x0; ix < x1; ix++) {
              sum = i16x8.add(sum, v128.load8x8_s(p));
              p += <usize>channels;
            }
            rowPtr += rowStride;
          }
          const low = averageLanes(i32x4.extend_low_i16x8_s(sum), half, count, lo, hi);
          const high = averageLanes(i32x4.extend_high_i16x8_s(sum), half, count, lo, hi);
          const packed = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(low, high), low);
          v128.store64_lane(out + c, packed, 0);
        }
      }
      if (c < channels) avgPoolPixel(input, inW, channels, y0, y1, x0, x1, c, out, actMin, actMax);
      out += <usize>channels;
    }
  }
}
