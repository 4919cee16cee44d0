// The output stage shared by every int8 multiply-accumulate kernel (scalar form):
// int32 accumulator -> + bias[c] -> requantize with (multiplier, shift) of channel c
// -> + output zero point -> clamp to the fused activation range.
import { multiplyByQuantizedMultiplier } from '../requant';

/**
 * `bias`: int32 [channels] or 0 (no bias). `requant`: int32 pairs [channels][2] =
 * (Q31 multiplier, shift). Returns the int8 value, already clamped to [actMin, actMax].
 */
// @ts-ignore: decorator
@inline
export function outputStageS8(acc: i32, c: i32, bias: usize, requant: usize, outZp: i32, actMin: i32, actMax: i32): i32 {
  if (bias != 0) acc += load<i32>(bias + (<usize>c << 2));
  const pair = requant + (<usize>c << 3);
  let y = multiplyByQuantizedMultiplier(acc, load<i32>(pair), load<i32>(pair, 4)) + outZp;
  if (y < actMin) y = actMin;
  if (y > actMax) y = actMax;
  return y;
}
