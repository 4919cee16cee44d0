// SIMD128 variant of relu_mask_s8: same contract, same bytes. 16 outputs per step: two
// compares, an and, and i8x16.bitmask (lane 0 -> bit 0, the mask's LSB-first order); the
// last count % 16 outputs take the scalar kernel.
import { relu_mask_s8 } from './relu_mask_s8';

export function relu_mask_s8_simd(output: usize, count: i32, actMin: i32, actMax: i32, mask: usize): void {
  // Bounds outside int8 compare like the nearest int8 bound minus/plus one would; clamp them
  // into i8 lanes so that "q > lo" and "q < hi" keep their meaning.
  if (actMin < -128 || actMax > 127 || actMin >= actMax) {
    relu_mask_s8(output, count, actMin, actMax, mask);
    return;
  }
  const lo = i8x16.splat(<i8>actMin);
  const hi = i8x16.splat(<i8>actMax);
  let i = 0;
  for (; i + 16 <= count; i += 16) {
    const q = v128.load(output + <usize>i);
    const inside = v128.and(i8x16.gt_s(q, lo), i8x16.lt_s(q, hi));
    store<u16>(mask + <usize>(i >> 3), <u16>i8x16.bitmask(inside));
  }
  if (i < count) relu_mask_s8(output + <usize>i, count - i, actMin, actMax, mask + <usize>(i >> 3));
}
