// Weights of two consecutive nonzero groups a, b of a block as i16 pairs (W[c+j][a], W[c+j][b])
// in i32 lane j, the operand layout of i32x4.dot_i16x8_s in the sparse SIMD kernels. The blob
// stores a pair already interleaved (a0 b0 a1 b1 .., docs/sparse.md), so a pair is one
// sign-extending load per 4 channels. `single`: the lone last group of an odd count (its g
// weights in order, no b): b's weights are 0. Every helper reads exactly the bytes of the pair
// (or of the lone group).

// @ts-ignore: decorator
@inline
function interleaveLow16(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
}

// @ts-ignore: decorator
@inline
function interleaveHigh16(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
}

/** Channels j = 0 .. min(G, 4) - 1 (lanes past G - 1 hold no weights). */
// @ts-ignore: decorator
@inline
export function weightPairsLow(v: usize, G: i32, single: bool): v128 {
  const z = i32x4.splat(0);
  if (!single) {
    if (G >= 4) return v128.load8x8_s(v);
    if (G == 2) return i16x8.extend_low_i8x16_s(v128.load32_zero(v));
    return i16x8.extend_low_i8x16_s(v128.load16_lane(v, z, 0));
  }
  if (G == 8) return interleaveLow16(v128.load8x8_s(v), z);
  if (G == 4) return interleaveLow16(i16x8.extend_low_i8x16_s(v128.load32_zero(v)), z);
  if (G == 2) return interleaveLow16(i16x8.extend_low_i8x16_s(v128.load16_lane(v, z, 0)), z);
  return i16x8.extend_low_i8x16_s(v128.load8_lane(v, z, 0));
}

/** G = 8: channels 4..7. */
// @ts-ignore: decorator
@inline
export function weightPairsHigh8(v: usize, single: bool): v128 {
  return single ? interleaveHigh16(v128.load8x8_s(v), i32x4.splat(0)) : v128.load8x8_s(v, 8);
}
