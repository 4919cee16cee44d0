// Weights of two consecutive nonzero groups a, b of a block (i8 [G] each, b's G bytes after a's)
// as i16 pairs (W[c+j][a], W[c+j][b]) in i32 lane j, the operand layout of i32x4.dot_i16x8_s in
// the sparse SIMD kernels. Built from sign-extending loads and i16 interleaves (unpack), which
// V8 emits as single instructions; a general byte shuffle costs several (its mask is rebuilt at
// every use). `single`: b does not exist (a lone last group): its weights are 0. Every helper
// reads exactly the bytes of a (and b).

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

/** Channels j = 0 .. min(G, 4) - 1 (lanes past G - 1 hold other channels' or no weights). */
// @ts-ignore: decorator
@inline
export function weightPairsLow(v: usize, G: i32, single: bool): v128 {
  const z = i32x4.splat(0);
  if (G == 8) return interleaveLow16(v128.load8x8_s(v), single ? z : v128.load8x8_s(v + 8));
  if (G == 1) return i16x8.extend_low_i8x16_s(single ? v128.load8_lane(v, z, 0) : v128.load16_lane(v, z, 0));
  if (single) {
    const a = i16x8.extend_low_i8x16_s(G == 4 ? v128.load32_zero(v) : v128.load16_lane(v, z, 0));
    return interleaveLow16(a, z);
  }
  // G = 4: [a0..a3 b0..b3], G = 2: [a0 a1 b0 b1] as i16; move b's half down and interleave
  if (G == 4) {
    const w = v128.load8x8_s(v);
    return interleaveLow16(w, i32x4.shuffle(w, w, 2, 3, 2, 3));
  }
  const w = i16x8.extend_low_i8x16_s(v128.load32_zero(v));
  return interleaveLow16(w, i32x4.shuffle(w, w, 1, 1, 1, 1));
}

/** G = 8: channels 4..7. */
// @ts-ignore: decorator
@inline
export function weightPairsHigh8(v: usize, single: bool): v128 {
  return interleaveHigh16(v128.load8x8_s(v), single ? i32x4.splat(0) : v128.load8x8_s(v + 8));
}
