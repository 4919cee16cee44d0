// Helpers of the SIMD kernels whose lanes are output pixels (sparse_tiles_s8_simd.ts,
// conv2d_s8_simd_stem.ts): a channel's accumulators hold 8 pixels (two i32x4), its output is 8
// int8 values that land outStride bytes apart in the NHWC output.

/** The bias of channel c splatted over the pixel lanes (0 without bias). */
// @ts-ignore: decorator
@inline
export function biasSplat(bias: usize, c: i32): v128 {
  return bias != 0 ? v128.load32_splat(bias + (<usize>c << 2)) : i32x4.splat(0);
}

/** int8 lanes clamped to [actLo, actHi] (i8 splats of the activation range). */
// @ts-ignore: decorator
@inline
export function clampBytes(v: v128, actLo: v128, actHi: v128): v128 {
  return i8x16.min_s(i8x16.max_s(v, actLo), actHi);
}

/** One channel: bytes 0..7 of `b` (pixels 0..7) to y, y + step, ..., y + 7 step. */
// @ts-ignore: decorator
@inline
export function storePixels1(y: usize, b: v128, step: usize): void {
  let p = y;
  v128.store8_lane(p, b, 0); p += step; v128.store8_lane(p, b, 1); p += step;
  v128.store8_lane(p, b, 2); p += step; v128.store8_lane(p, b, 3); p += step;
  v128.store8_lane(p, b, 4); p += step; v128.store8_lane(p, b, 5); p += step;
  v128.store8_lane(p, b, 6); p += step; v128.store8_lane(p, b, 7);
}

/** Two channels: `a` = [c0 x p0..p7, c1 x p0..p7]; one 2-byte row per pixel. */
// @ts-ignore: decorator
@inline
export function storePixels2(y: usize, a: v128, step: usize): void {
  const t = i8x16.shuffle(a, a, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
  let p = y;
  v128.store16_lane(p, t, 0); p += step; v128.store16_lane(p, t, 1); p += step;
  v128.store16_lane(p, t, 2); p += step; v128.store16_lane(p, t, 3); p += step;
  v128.store16_lane(p, t, 4); p += step; v128.store16_lane(p, t, 5); p += step;
  v128.store16_lane(p, t, 6); p += step; v128.store16_lane(p, t, 7);
}

/** Four channels: `a` = [c0 x p0..p7, c1 x p0..p7], `b` = [c2 .., c3 ..]; one 4-byte row per pixel. */
// @ts-ignore: decorator
@inline
export function storePixels4(y: usize, a: v128, b: v128, step: usize): void {
  const lo = i8x16.shuffle(a, b, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
  const hi = i8x16.shuffle(a, b, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31);
  let p = y;
  v128.store32_lane(p, lo, 0); p += step; v128.store32_lane(p, lo, 1); p += step;
  v128.store32_lane(p, lo, 2); p += step; v128.store32_lane(p, lo, 3); p += step;
  v128.store32_lane(p, hi, 0); p += step; v128.store32_lane(p, hi, 1); p += step;
  v128.store32_lane(p, hi, 2); p += step; v128.store32_lane(p, hi, 3);
}
