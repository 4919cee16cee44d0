// SIMD128 sparse x dense product over tiles of 8 pixels for blocks of G = 1, 2 or 4 channels,
// rows >= TILE_MIN_ROWS; part of sparseMatmulS8Simd, bit-exact with sparseMatmulS8. Lanes are
// pixels; one pass covers the whole block, so each gathered input serves all G channels:
//
//   gather   two groups (input channels ia, ib) of 8 pixels into one i8x16 (16 load8_lane):
//            [x0[ia] x0[ib] x1[ia] x1[ib] ...], widened to i16, minus inZp: (ia, ib) pairs
//   accum    k[j] pixels 0-3, k[4+j] pixels 4-7 of channel c+j (i32x4)
//   weights  (W[c+j][ia], W[c+j][ib]) as an i16 pair (sparse_weight_pairs_simd.ts) splatted over
//            the 4 i32 lanes, so i32x4.dot_i16x8_s adds both groups' products per pixel
//
// Accumulators start at the bias. The output stage requantizes each channel's vector with that
// channel's splatted constants, narrows, and transposes the bytes so that a pixel's G outputs
// are one G-byte store (output stride outC).
import { biasSplat, clampBytes, storePixels1, storePixels2, storePixels4 } from './pixel_lanes_simd';
import { weightPairsLow } from './sparse_weight_pairs_simd';
import { FAST_MAX_EXPONENT, requantizeFast, requantizeLanes, requantLeftFactors, requantNoRightMask, requantRightFactors } from './output_stage_s8_simd';

/** Rows from which sparseMatmulS8Simd takes this path. */
// @ts-ignore: decorator
@inline export const TILE_MIN_ROWS: i32 = 8;

/** Pixels per tile. */
// @ts-ignore: decorator
@inline const TILE_PIXELS: i32 = 8;

/** [p[ia] p[ib]] for the 8 pixels p = x, x + s, ..., x + 7s. */
// @ts-ignore: decorator
@inline
function gatherPairs(x: usize, ia: usize, ib: usize, s: usize): v128 {
  let pa = x + ia, pb = x + ib;
  let v = v128.load8_lane(pa, i32x4.splat(0), 0);
  v = v128.load8_lane(pb, v, 1); pa += s; pb += s;
  v = v128.load8_lane(pa, v, 2); v = v128.load8_lane(pb, v, 3); pa += s; pb += s;
  v = v128.load8_lane(pa, v, 4); v = v128.load8_lane(pb, v, 5); pa += s; pb += s;
  v = v128.load8_lane(pa, v, 6); v = v128.load8_lane(pb, v, 7); pa += s; pb += s;
  v = v128.load8_lane(pa, v, 8); v = v128.load8_lane(pb, v, 9); pa += s; pb += s;
  v = v128.load8_lane(pa, v, 10); v = v128.load8_lane(pb, v, 11); pa += s; pb += s;
  v = v128.load8_lane(pa, v, 12); v = v128.load8_lane(pb, v, 13); pa += s; pb += s;
  v = v128.load8_lane(pa, v, 14); return v128.load8_lane(pb, v, 15);
}

// @ts-ignore: decorator
@inline
function mac(acc: v128, x: v128, w: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, w));
}

/**
 * MultiplyByQuantizedMultiplier(acc) + outZp per lane, for one channel (multiplier m, shift):
 * the fast requantization (exact after saturation to int8) when the channel qualifies, with
 * e = -shift as its own eMax (see output_stage_s8_simd.ts), else the general one.
 */
// @ts-ignore: decorator
@inline
function requantChannel(acc: v128, m: i32, shift: i32, outZp: i32): v128 {
  const mult = i32x4.splat(m);
  if (m > (1 << 30) && shift <= -1 && shift >= -FAST_MAX_EXPONENT) {
    const e = -shift;
    // requantFastTerms with eMax = e: 2^31 + 2^(31+e) + outZp * 2^(32+e)
    const terms = i64x2.splat((<i64>1 << 31) + (<i64>1 << <i64>(31 + e)) + (<i64>outZp << <i64>(32 + e)));
    return requantizeFast(acc, mult, i32x4.splat(2), i32x4.splat(1), terms, terms, e);
  }
  const shifts = i32x4.splat(shift);
  const q = requantizeLanes(acc, mult, requantLeftFactors(shifts), requantRightFactors(shifts), requantNoRightMask(shifts));
  return i32x4.add(q, i32x4.splat(outZp));
}

/** Channel c's 8 pixels (lo: 0-3, hi: 4-7) requantized and narrowed to i16 lanes 0..7. */
// @ts-ignore: decorator
@inline
function channel8(lo: v128, hi: v128, c: i32, requant: usize, outZp: i32): v128 {
  const p = requant + (<usize>c << 3);
  const m = load<i32>(p), shift = load<i32>(p, 4);
  return i16x8.narrow_i32x4_s(requantChannel(lo, m, shift, outZp), requantChannel(hi, m, shift, outZp));
}

/**
 * The block of G channels (1, 2 or 4) starting at c over all rows (rows >= TILE_MIN_ROWS) in
 * tiles; the last tile starts at rows - 8 (overlapping, it rewrites identical values). G is a
 * constant at each call site. `deltas` u16 [n] and `values` i8 [n * G] of the block (pair-interleaved).
 */
// @ts-ignore: decorator
@inline
export function sparseBlockTiles(input: usize, rows: i32, inStride: usize, zp: v128, deltas: usize, values: usize, n: i32, G: i32, c: i32, output: usize, outStride: usize, bias: usize, requant: usize, outZp: i32, actLo: v128, actHi: v128): void {
  const pairs = n >> 1;
  const odd = (n & 1) != 0;
  let r = 0;
  do {
    if (r > rows - TILE_PIXELS) r = rows - TILE_PIXELS;
    const x = input + <usize>r * inStride;
    // k0..k3: pixels 0-3, k4..k7: pixels 4-7 of channels c..c+G-1
    let k0 = biasSplat(bias, c), k1 = k0, k2 = k0, k3 = k0;
    if (G >= 2) k1 = biasSplat(bias, c + 1);
    if (G >= 4) { k2 = biasSplat(bias, c + 2); k3 = biasSplat(bias, c + 3); }
    let k4 = k0, k5 = k1, k6 = k2, k7 = k3;
    let d = deltas, v = values, ci: usize = 0;
    for (let i = 0; i < pairs; i++) {
      const ia = ci + <usize>load<u16>(d);
      ci = ia + <usize>load<u16>(d, 2);
      const xv = gatherPairs(x, ia, ci, inStride);
      const wl = weightPairsLow(v, G, false);
      const xl = i16x8.sub(i16x8.extend_low_i8x16_s(xv), zp), xh = i16x8.sub(i16x8.extend_high_i8x16_s(xv), zp);
      // channel j's pair splatted (G = 1: a splatting load)
      const w0 = G == 1 ? i16x8.extend_low_i8x16_s(v128.load16_splat(v)) : i32x4.shuffle(wl, wl, 0, 0, 0, 0);
      k0 = mac(k0, xl, w0); k4 = mac(k4, xh, w0);
      if (G >= 2) { const w1 = i32x4.shuffle(wl, wl, 1, 1, 1, 1); k1 = mac(k1, xl, w1); k5 = mac(k5, xh, w1); }
      if (G >= 4) {
        const w2 = i32x4.shuffle(wl, wl, 2, 2, 2, 2), w3 = i32x4.shuffle(wl, wl, 3, 3, 3, 3);
        k2 = mac(k2, xl, w2); k6 = mac(k6, xh, w2); k3 = mac(k3, xl, w3); k7 = mac(k7, xh, w3);
      }
      d += 4;
      v += <usize>(2 * G);
    }
    if (odd) { // the lone last group, as a pair with itself and zero weights for the second
      const ia = ci + <usize>load<u16>(d);
      const xv = gatherPairs(x, ia, ia, inStride);
      const wl = weightPairsLow(v, G, true);
      const xl = i16x8.sub(i16x8.extend_low_i8x16_s(xv), zp), xh = i16x8.sub(i16x8.extend_high_i8x16_s(xv), zp);
      const w0 = i32x4.shuffle(wl, wl, 0, 0, 0, 0);
      k0 = mac(k0, xl, w0); k4 = mac(k4, xh, w0);
      if (G >= 2) { const w1 = i32x4.shuffle(wl, wl, 1, 1, 1, 1); k1 = mac(k1, xl, w1); k5 = mac(k5, xh, w1); }
      if (G >= 4) {
        const w2 = i32x4.shuffle(wl, wl, 2, 2, 2, 2), w3 = i32x4.shuffle(wl, wl, 3, 3, 3, 3);
        k2 = mac(k2, xl, w2); k6 = mac(k6, xh, w2); k3 = mac(k3, xl, w3); k7 = mac(k7, xh, w3);
      }
    }
    const y = output + <usize>r * outStride + <usize>c;
    if (G == 1) {
      const q = channel8(k0, k4, c, requant, outZp);
      storePixels1(y, clampBytes(i8x16.narrow_i16x8_s(q, q), actLo, actHi), outStride);
    } else if (G == 2) {
      storePixels2(y, clampBytes(i8x16.narrow_i16x8_s(channel8(k0, k4, c, requant, outZp), channel8(k1, k5, c + 1, requant, outZp)), actLo, actHi), outStride);
    } else {
      const a = clampBytes(i8x16.narrow_i16x8_s(channel8(k0, k4, c, requant, outZp), channel8(k1, k5, c + 1, requant, outZp)), actLo, actHi);
      const b = clampBytes(i8x16.narrow_i16x8_s(channel8(k2, k6, c + 2, requant, outZp), channel8(k3, k7, c + 3, requant, outZp)), actLo, actHi);
      storePixels4(y, a, b, outStride);
    }
    r += TILE_PIXELS;
  } while (r < rows);
}
