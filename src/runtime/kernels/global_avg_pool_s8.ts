// int8 global average pooling, NHWC, batch 1: output[c] = round(sum over H*W of input[., ., c]
// / (H*W)), ties away from zero (avg_pool_s8's rounding), clamped to [actMin, actMax].
//
// input: int8 [inH, inW, channels]; output: int8 [channels]; same scale and zero point.
// The int32 sum is exact up to H*W = 2^24 pixels. An empty image writes clamp(0).
import { clampToRange, roundedAverage } from './avg_pool_s8';

export function global_avg_pool_s8(input: usize, inH: i32, inW: i32, channels: i32, output: usize, actMin: i32, actMax: i32): void {
  const pixels = inH * inW;
  for (let c = 0; c < channels; c++) {
    let sum: i32 = 0;
    let p = input + <usize>c;
    for (let i = 0; i < pixels; i++) {
      sum += <i32>load<i8>(p);
      p += <usize>channels;
    }
    store<i8>(output + c, <i8>clampToRange(roundedAverage(sum, pixels), actMin, actMax));
  }
}
