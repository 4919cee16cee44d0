// SIMD128 variant of global_avg_pool_s8: same contract (both semantics), same results bit for
// bit. Vectorised over channels, 16 per step: pixels are summed in int16 lanes in runs of up to
// 256 (exact), each run folded into four int32x4 sums; the final division or requantization is
// scalar (once per channel, globalAverage). Fewer than 16 remaining channels take the scalar path.
import { globalAverage } from './global_avg_pool_s8';

const RUN_PIXELS: i32 = 256; // 256 * -128 = -32768 still fits int16

// @ts-ignore: decorator
@inline
function storeAverages(sums: v128, pixels: i32, out: usize, inZp: i32, outZp: i32, multiplier: i32, shift: i32, actMin: i32, actMax: i32): void {
  store<i8>(out, <i8>globalAverage(i32x4.extract_lane(sums, 0), pixels, inZp, outZp, multiplier, shift, actMin, actMax));
  store<i8>(out + 1, <i8>globalAverage(i32x4.extract_lane(sums, 1), pixels, inZp, outZp, multiplier, shift, actMin, actMax));
  store<i8>(out + 2, <i8>globalAverage(i32x4.extract_lane(sums, 2), pixels, inZp, outZp, multiplier, shift, actMin, actMax));
  store<i8>(out + 3, <i8>globalAverage(i32x4.extract_lane(sums, 3), pixels, inZp, outZp, multiplier, shift, actMin, actMax));
}

export function global_avg_pool_s8_simd(
  input: usize, inH: i32, inW: i32, channels: i32, output: usize, actMin: i32, actMax: i32,
  inZp: i32, outZp: i32, multiplier: i32, shift: i32,
): void {
  const pixels = inH * inW;
  const stride = <usize>channels;
  let c = 0;
  for (; c + 16 <= channels; c += 16) {
    let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
    let p = input + <usize>c;
    for (let done = 0; done < pixels; done += RUN_PIXELS) {
      const run = min(RUN_PIXELS, pixels - done);
      let lowSum = i16x8.splat(0), highSum = i16x8.splat(0);
      for (let i = 0; i < run; i++) {
        const v = v128.load(p);
        lowSum = i16x8.add(lowSum, i16x8.extend_low_i8x16_s(v));
        highSum = i16x8.add(highSum, i16x8.extend_high_i8x16_s(v));
        p += stride;
      }
      s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(lowSum));
      s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(lowSum));
      s2 = i32x4.add(s2, i32x4.extend_low_i16x8_s(highSum));
      s3 = i32x4.add(s3, i32x4.extend_high_i16x8_s(highSum));
    }
    const out = output + <usize>c;
    storeAverages(s0, pixels, out, inZp, outZp, multiplier, shift, actMin, actMax);
    storeAverages(s1, pixels, out + 4, inZp, outZp, multiplier, shift, actMin, actMax);
    storeAverages(s2, pixels, out + 8, inZp, outZp, multiplier, shift, actMin, actMax);
    storeAverages(s3, pixels, out + 12, inZp, outZp, multiplier, shift, actMin, actMax);
  }
  // Remaining channels: the scalar loop, one channel at a time.
  for (; c < channels; c++) {
    let sum: i32 = 0;
    let p = input + <usize>c;
    for (let i = 0; i < pixels; i++) {
      sum += <i32>load<i8>(p);
      p += stride;
    }
    store<i8>(output + c, <i8>globalAverage(sum, pixels, inZp, outZp, multiplier, shift, actMin, actMax));
  }
}
