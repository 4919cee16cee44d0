// SIMD128 sparse x dense product over tiles of 8 rows (pixels), for rows >= 8; part of
// sparseMatmulS8Simd, bit-exact with sparseMatmulS8. Lanes are pixels:
//
//   gather   two groups (input channels ia, ib) of 8 pixels into one i8x16:
//            [x0[ia] x0[ib] x1[ia] x1[ib] ... x7[ia] x7[ib]]   (16 load8_lane)
//   widen    low/high halves to i16, minus inZp: pixels 0-3 and 4-7, (ia, ib) pairs
//   weights  (W[c][ia], W[c][ib]) as an i16 pair splatted over the 4 i32 lanes, so
//            i32x4.dot_i16x8_s adds both groups' products per pixel: 16 MACs per channel
//
// Up to 4 channels of a block share each gather (2 accumulators each, 8 in all); a block of 8
// channels takes two passes. The requantization constants of a channel are the same in every
// lane, so the output stage is one splatted (multiplier, shift) per channel, then 8 byte stores
// (output stride outC).
import {
  FAST_MAX_EXPONENT, narrowLanes8, requantizeFast, requantizeLanes, requantLeftFactors, requantNoRightMask,
  requantRightFactors,
} from './output_stage_s8_simd';

/** Pixels per tile (the lanes of two i32x4 accumulators). */
// @ts-ignore: decorator
@inline export const TILE_PIXELS: i32 = 8;

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

/**
 * The weights of two consecutive groups a, b for channels j = 0..3 of a pass, as i16 pairs
 * (a_j, b_j) in i32 lane j. `v` points at a's first weight of the pass; b's are G bytes later.
 * Reads exactly the 2 * min(G, 4) bytes it uses.
 */
// @ts-ignore: decorator
@inline
function weightPairs(v: usize, G: i32): v128 {
  if (G == 1) return i16x8.extend_low_i8x16_s(v128.load16_splat(v));
  let w: v128;
  if (G == 2) {
    w = v128.load32_splat(v);
    w = i8x16.shuffle(w, w, 0, 2, 1, 3, 0, 2, 1, 3, 0, 2, 1, 3, 0, 2, 1, 3);
  } else {
    w = G == 4 ? v128.load64_splat(v) : v128.load32_lane(v + 8, v128.load32_zero(v), 1);
    w = i8x16.shuffle(w, w, 0, 4, 1, 5, 2, 6, 3, 7, 0, 4, 1, 5, 2, 6, 3, 7);
  }
  return i16x8.extend_low_i8x16_s(w);
}

/** A lone last group: (a_j, 0) as an i16 pair splatted (the b half of its gather is ignored). */
// @ts-ignore: decorator
@inline
function weightSingle(v: usize, j: usize): v128 {
  return i32x4.splat(<i32>load<i8>(v + j) & 0xffff);
}

// @ts-ignore: decorator
@inline
function mac(acc: v128, x: v128, w: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, w));
}

/**
 * Output stage of channel c for 8 pixels (accumulators lo = pixels 0-3, hi = 4-7), stored at
 * y, y + outStride, ... The fast requantization applies when the channel qualifies
 * (see output_stage_s8_simd.ts; with one channel per vector every lane has the same exponent).
 */
// @ts-ignore: decorator
@inline
function storeChannel(lo: v128, hi: v128, c: i32, y: usize, outStride: usize, bias: usize, requant: usize, outZp: i32, actLo: v128, actHi: v128): void {
  if (bias != 0) {
    const b = i32x4.splat(load<i32>(bias + (<usize>c << 2)));
    lo = i32x4.add(lo, b);
    hi = i32x4.add(hi, b);
  }
  const m = load<i32>(requant + (<usize>c << 3));
  const shift = load<i32>(requant + (<usize>c << 3), 4);
  const mult = i32x4.splat(m);
  let qlo: v128, qhi: v128;
  if (m > (1 << 30) && shift <= -1 && shift >= -FAST_MAX_EXPONENT) {
    const e = -shift;
    // requantFastTerms with eMax = e: 2^31 + 2^(31+e) + outZp * 2^(32+e)
    const terms = i64x2.splat((<i64>1 << 31) + (<i64>1 << <i64>(31 + e)) + (<i64>outZp << <i64>(32 + e)));
    const factors = i32x4.splat(2), steps = i32x4.splat(1);
    qlo = requantizeFast(lo, mult, factors, steps, terms, terms, e);
    qhi = requantizeFast(hi, mult, factors, steps, terms, terms, e);
  } else {
    const shifts = i32x4.splat(shift);
    const left = requantLeftFactors(shifts), right = requantRightFactors(shifts), noRight = requantNoRightMask(shifts);
    const zp = i32x4.splat(outZp);
    qlo = i32x4.add(requantizeLanes(lo, mult, left, right, noRight), zp);
    qhi = i32x4.add(requantizeLanes(hi, mult, left, right, noRight), zp);
  }
  const out = narrowLanes8(qlo, qhi, actLo, actHi);
  v128.store8_lane(y, out, 0); y += outStride;
  v128.store8_lane(y, out, 1); y += outStride;
  v128.store8_lane(y, out, 2); y += outStride;
  v128.store8_lane(y, out, 3); y += outStride;
  v128.store8_lane(y, out, 4); y += outStride;
  v128.store8_lane(y, out, 5); y += outStride;
  v128.store8_lane(y, out, 6); y += outStride;
  v128.store8_lane(y, out, 7);
}

/**
 * Channels c..c+min(G,4)-1 of one block over all rows (rows >= 8) in tiles of 8 pixels; the last
 * tile starts at rows - 8 (overlapping, it rewrites identical values). G is a constant at each
 * call site. `deltas` u16 [n] of the block; `values` its first group's weights + (c - b*G).
 */
// @ts-ignore: decorator
@inline
export function sparsePass8(input: usize, rows: i32, inStride: usize, zp: v128, deltas: usize, values: usize, n: i32, G: i32, c: i32, output: usize, outStride: usize, bias: usize, requant: usize, outZp: i32, actLo: v128, actHi: v128): void {
  const Q = G < 4 ? G : 4;
  const pairs = n >> 1;
  const odd = (n & 1) != 0;
  let r = 0;
  do {
    if (r > rows - TILE_PIXELS) r = rows - TILE_PIXELS;
    const x = input + <usize>r * inStride;
    let l0 = i32x4.splat(0), l1 = i32x4.splat(0), l2 = i32x4.splat(0), l3 = i32x4.splat(0);
    let h0 = i32x4.splat(0), h1 = i32x4.splat(0), h2 = i32x4.splat(0), h3 = i32x4.splat(0);
    let d = deltas, v = values, ci: usize = 0;
    for (let i = 0; i < pairs; i++) {
      const ia = ci + <usize>load<u16>(d);
      ci = ia + <usize>load<u16>(d, 2);
      const xv = gatherPairs(x, ia, ci, inStride);
      const xl = i16x8.sub(i16x8.extend_low_i8x16_s(xv), zp);
      const xh = i16x8.sub(i16x8.extend_high_i8x16_s(xv), zp);
      const w = weightPairs(v, G);
      let wj = i32x4.shuffle(w, w, 0, 0, 0, 0); l0 = mac(l0, xl, wj); h0 = mac(h0, xh, wj);
      if (Q >= 2) { wj = i32x4.shuffle(w, w, 1, 1, 1, 1); l1 = mac(l1, xl, wj); h1 = mac(h1, xh, wj); }
      if (Q >= 4) {
        wj = i32x4.shuffle(w, w, 2, 2, 2, 2); l2 = mac(l2, xl, wj); h2 = mac(h2, xh, wj);
        wj = i32x4.shuffle(w, w, 3, 3, 3, 3); l3 = mac(l3, xl, wj); h3 = mac(h3, xh, wj);
      }
      d += 4;
      v += <usize>(2 * G);
    }
    if (odd) {
      const ia = ci + <usize>load<u16>(d);
      const xv = gatherPairs(x, ia, ia, inStride);
      const xl = i16x8.sub(i16x8.extend_low_i8x16_s(xv), zp);
      const xh = i16x8.sub(i16x8.extend_high_i8x16_s(xv), zp);
      let wj = weightSingle(v, 0); l0 = mac(l0, xl, wj); h0 = mac(h0, xh, wj);
      if (Q >= 2) { wj = weightSingle(v, 1); l1 = mac(l1, xl, wj); h1 = mac(h1, xh, wj); }
      if (Q >= 4) {
        wj = weightSingle(v, 2); l2 = mac(l2, xl, wj); h2 = mac(h2, xh, wj);
        wj = weightSingle(v, 3); l3 = mac(l3, xl, wj); h3 = mac(h3, xh, wj);
      }
    }
    const y = output + <usize>r * outStride + <usize>c;
    storeChannel(l0, h0, c, y, outStride, bias, requant, outZp, actLo, actHi);
    if (Q >= 2) storeChannel(l1, h1, c + 1, y + 1, outStride, bias, requant, outZp, actLo, actHi);
    if (Q >= 4) {
      storeChannel(l2, h2, c + 2, y + 2, outStride, bias, requant, outZp, actLo, actHi);
      storeChannel(l3, h3, c + 3, y + 3, outStride, bias, requant, outZp, actLo, actHi);
    }
    r += TILE_PIXELS;
  } while (r < rows);
}
