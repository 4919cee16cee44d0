// int8 global average pooling, NHWC, batch 1. Two semantics, chosen by `multiplier`:
//
// - multiplier 0 (same scale): the output keeps the input's scale and zero point, as TFLite's
//   AVERAGE_POOL_2D over the whole image: output[c] = round(sum_p q[p][c] / P), ties away
//   from zero (avg_pool_s8's rounding). inZp and outZp are not read.
// - multiplier in [2^30, 2^31) (requantizing): TFLM's int8 MEAN over H and W
//   (reference_integer_ops::Mean), with the output's own scale and zero point and
//   (multiplier, shift) = QuantizeMultiplier(s_in / s_out):
//     acc = sum_p (q[p][c] - inZp)
//     acc = MultiplyByQuantizedMultiplier(acc, multiplier, shift)
//     acc = (acc +- P / 2) / P           (C division: toward zero, so ties away from zero)
//     output[c] = acc + outZp
//   Every int32 step wraps as two's complement, as the reference's int32 arithmetic does on
//   every target (the sum cannot leave int32 below P = 2^23 pixels).
// Both clamp to [actMin, actMax] (for MEAN, PTQ gives [-128, 127]).
//
// input: int8 [inH, inW, channels]; output: int8 [channels]. An empty image (P = 0) writes
// clamp(0) (same scale) or clamp(outZp) (requantizing).
import { clampToRange, roundedAverage } from './avg_pool_s8';
import { multiplyByQuantizedMultiplier } from '../requant';

/** One output value from a channel's sum of raw int8 inputs over `pixels` pixels (either semantics). */
// @ts-ignore: decorator
@inline
export function globalAverage(sum: i32, pixels: i32, inZp: i32, outZp: i32, multiplier: i32, shift: i32, actMin: i32, actMax: i32): i32 {
  if (multiplier == 0) return clampToRange(roundedAverage(sum, pixels), actMin, actMax);
  let acc = multiplyByQuantizedMultiplier(sum - pixels * inZp, multiplier, shift);
  if (pixels > 0) {
    const half = pixels >> 1;
    acc = (acc > 0 ? acc + half : acc - half) / pixels; // pixels > 0: no trap
  }
  return clampToRange(acc + outZp, actMin, actMax);
}

export function global_avg_pool_s8(
  input: usize, inH: i32, inW: i32, channels: i32, output: usize, actMin: i32, actMax: i32,
  inZp: i32, outZp: i32, multiplier: i32, shift: i32,
): void {
  const pixels = inH * inW;
  for (let c = 0; c < channels; c++) {
    let sum: i32 = 0;
    let p = input + <usize>c;
    for (let i = 0; i < pixels; i++) {
      sum += <i32>load<i8>(p);
      p += <usize>channels;
    }
    store<i8>(output + c, <i8>globalAverage(sum, pixels, inZp, outZp, multiplier, shift, actMin, actMax));
  }
}
