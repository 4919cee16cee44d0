// SIMD128 sparse x dense product of 4 rows at a time for blocks of G = 4 or 8 channels (rows >= 4);
// part of sparseMatmulS8Simd, bit-exact with sparseMatmulS8. Lanes are output channels:
//
//   weights  two groups a, b of the block as i16 pairs (W[c+j][a], W[c+j][b]) in i32 lane j
//            (sparse_weight_pairs_simd.ts), built once per pair of groups for the 4 rows
//   inputs   the 4 rows' (x[a], x[b]) gathered into one vector (8 load8_lane) and widened
//            once; row r's pair (i32 lane r) is splatted, so i32x4.dot_i16x8_s adds both
//            groups' products for 4 channels
//   zero pt  raw inputs; inZp * sum(w) of each channel is subtracted once per block, in the
//            accumulators' starting value (with the bias)
//
// Accumulators: G = 4: a[r] channels c..c+3 of row r; G = 8: also b[r] for c+4..c+7. The output
// stage is the bounded fast requantization (output_stage_s8_simd_bounded.ts, data bound
// n * 127 * 128) with the group's constants built once per block, else the general one; then
// one G-byte store per row. The last quad starts at rows - 4 (it rewrites identical values).
import { boundedBias, boundedFastExponent } from './output_stage_s8_simd_bounded';
import { weightPairsHigh8, weightPairsLow } from './sparse_weight_pairs_simd';
import {
  narrowLanes8, requantFastFactors, requantFastSteps, requantFastTerms, requantizeFastUnclamped,
  requantizeGeneral, requantMultipliers, requantShifts,
} from './output_stage_s8_simd';

/** Rows per pass. */
// @ts-ignore: decorator
@inline export const QUAD_ROWS: i32 = 4;

/**
 * (x[a], x[b]) of 4 rows (pa, pb: row 0's inputs; row stride s) gathered into byte lanes 0..7
 * and widened: row r's pair is the i16 pair in i32 lane r.
 */
// @ts-ignore: decorator
@inline
function inputPairs(pa: usize, pb: usize, s: usize): v128 {
  let x = v128.load8_lane(pa, i32x4.splat(0), 0); x = v128.load8_lane(pb, x, 1);
  x = v128.load8_lane(pa + s, x, 2); x = v128.load8_lane(pb + s, x, 3);
  x = v128.load8_lane(pa + 2 * s, x, 4); x = v128.load8_lane(pb + 2 * s, x, 5);
  x = v128.load8_lane(pa + 3 * s, x, 6); x = v128.load8_lane(pb + 3 * s, x, 7);
  return i16x8.extend_low_i8x16_s(x);
}

/** Two rows of 8 channels (a: c..c+3, b: c+4..c+7 of each) as bytes 0-7 and 8-15, clamped. */
// @ts-ignore: decorator
@inline
function narrowRows(a0: v128, b0: v128, a1: v128, b1: v128, actLo: v128, actHi: v128): v128 {
  const q = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a0, b0), i16x8.narrow_i32x4_s(a1, b1));
  return i8x16.min_s(i8x16.max_s(q, actLo), actHi);
}

/** inputPairs for a lone group: x[a] of the 4 rows in the low half of each i32 lane. */
// @ts-ignore: decorator
@inline
function inputSingles(pa: usize, s: usize): v128 {
  let x = v128.load8_lane(pa, i32x4.splat(0), 0);
  x = v128.load8_lane(pa + s, x, 2);
  x = v128.load8_lane(pa + 2 * s, x, 4);
  x = v128.load8_lane(pa + 3 * s, x, 6);
  return i16x8.extend_low_i8x16_s(x);
}

// @ts-ignore: decorator
@inline
function mac(acc: v128, x: v128, w: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, w));
}

/**
 * inZp * sum of the block's weights per channel: lanes c..c+3 (`high`: c+4..c+7), exact
 * (|sum| <= 65535 * 127 * 128 < 2^31). A pair's 4 channels are 8 bytes (a_j, b_j).
 */
// @ts-ignore: decorator
@inline
function zeroPointSums(values: usize, n: i32, G: i32, inZp: i32, high: bool): v128 {
  let s = i32x4.splat(0);
  let v = values + (high ? 8 : 0);
  for (let i = 0; i < n >> 1; i++) {
    s = i32x4.add(s, i32x4.extadd_pairwise_i16x8_s(v128.load8x8_s(v)));
    v += <usize>(2 * G);
  }
  if (n & 1) {
    const lone = values + <usize>((n - 1) * G) + (high ? 4 : 0);
    s = i32x4.add(s, i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(lone))));
  }
  return i32x4.mul(s, i32x4.splat(inZp));
}

/**
 * Block of G channels (4 or 8) starting at c over all rows (rows >= 4); G is a constant at each
 * call site. `deltas` u16 [n] and `values` i8 [n * G] of the block (pair-interleaved).
 */
// @ts-ignore: decorator
@inline
export function sparseBlockQuads(input: usize, rows: i32, inStride: usize, inZp: i32, deltas: usize, values: usize, n: i32, G: i32, c: i32, output: usize, outStride: usize, bias: usize, requant: usize, outZp: i32, actLo: v128, actHi: v128): void {
  const zpLow = zeroPointSums(values, n, G, inZp, false);
  const zpHigh = G == 8 ? zeroPointSums(values, n, G, inZp, true) : zpLow;
  const dataBound = n * 127 * 128;
  const eLow = boundedFastExponent(requant, bias, c, zpLow, dataBound);
  const eHigh = G == 8 ? boundedFastExponent(requant, bias, c + 4, zpHigh, dataBound) : eLow;
  if (eLow != 0 && eHigh != 0) quads(input, rows, inStride, deltas, values, n, G, c, output, outStride, bias, requant, outZp, actLo, actHi, zpLow, zpHigh, dataBound, eLow, eHigh, true);
  else quads(input, rows, inStride, deltas, values, n, G, c, output, outStride, bias, requant, outZp, actLo, actHi, zpLow, zpHigh, dataBound, eLow, eHigh, false);
}

/** The row loop, one copy per requantization path (`fast` constant at both call sites). */
// @ts-ignore: decorator
@inline
function quads(input: usize, rows: i32, inStride: usize, deltas: usize, values: usize, n: i32, G: i32, c: i32, output: usize, outStride: usize, bias: usize, requant: usize, outZp: i32, actLo: v128, actHi: v128, zpLow: v128, zpHigh: v128, dataBound: i32, eLow: i32, eHigh: i32, fast: bool): void {
  const s = inStride;
  const pairs = n >> 1, odd = (n & 1) != 0;
  // starting values: B = bias - inZp * sum(w), clamped for the fast path (see its header)
  const zero = i32x4.splat(0);
  const bLow = fast ? boundedBias(bias, requant, c, zpLow, dataBound) : i32x4.sub(bias != 0 ? v128.load(bias + (<usize>c << 2)) : zero, zpLow);
  const bHigh = G != 8 ? zero : fast ? boundedBias(bias, requant, c + 4, zpHigh, dataBound) : i32x4.sub(bias != 0 ? v128.load(bias + (<usize>c << 2), 16) : zero, zpHigh);
  const multLow = fast ? requantMultipliers(requant, c) : zero, multHigh = fast && G == 8 ? requantMultipliers(requant, c + 4) : zero;
  const shiftsLow = fast ? requantShifts(requant, c) : zero, shiftsHigh = fast && G == 8 ? requantShifts(requant, c + 4) : zero;
  const factorsLow = fast ? requantFastFactors(shiftsLow, eLow) : zero, factorsHigh = fast && G == 8 ? requantFastFactors(shiftsHigh, eHigh) : zero;
  const stepsLow = fast ? requantFastSteps(shiftsLow, eLow) : zero, stepsHigh = fast && G == 8 ? requantFastSteps(shiftsHigh, eHigh) : zero;
  const t0 = fast ? requantFastTerms(requant, c, eLow, outZp) : zero, t1 = fast ? requantFastTerms(requant, c + 2, eLow, outZp) : zero;
  const t2 = fast && G == 8 ? requantFastTerms(requant, c + 4, eHigh, outZp) : zero, t3 = fast && G == 8 ? requantFastTerms(requant, c + 6, eHigh, outZp) : zero;
  let r = 0;
  do {
    if (r > rows - QUAD_ROWS) r = rows - QUAD_ROWS;
    const x0 = input + <usize>r * s;
    let a0 = bLow, a1 = bLow, a2 = bLow, a3 = bLow;
    let b0 = bHigh, b1 = bHigh, b2 = bHigh, b3 = bHigh;
    // p: row 0's input at the current group's index; rows 1..3 at p + s, p + 2s, p + 3s
    let p = x0, d = deltas, v = values;
    for (let i = 0; i < pairs; i++) {
      const pa = p + <usize>load<u16>(d);
      const pb = pa + <usize>load<u16>(d, 2);
      p = pb;
      const wl = weightPairsLow(v, G, false);
      const xs = inputPairs(pa, pb, s);
      const u0 = i32x4.shuffle(xs, xs, 0, 0, 0, 0), u1 = i32x4.shuffle(xs, xs, 1, 1, 1, 1);
      const u2 = i32x4.shuffle(xs, xs, 2, 2, 2, 2), u3 = i32x4.shuffle(xs, xs, 3, 3, 3, 3);
      a0 = mac(a0, u0, wl); a1 = mac(a1, u1, wl); a2 = mac(a2, u2, wl); a3 = mac(a3, u3, wl);
      if (G == 8) {
        const wh = weightPairsHigh8(v, false);
        b0 = mac(b0, u0, wh); b1 = mac(b1, u1, wh); b2 = mac(b2, u2, wh); b3 = mac(b3, u3, wh);
      }
      d += 4;
      v += <usize>(2 * G);
    }
    if (odd) { // the lone last group, as a pair with itself and zero weights for the second
      const pa = p + <usize>load<u16>(d);
      const wl = weightPairsLow(v, G, true);
      const xs = inputSingles(pa, s);
      const u0 = i32x4.shuffle(xs, xs, 0, 0, 0, 0), u1 = i32x4.shuffle(xs, xs, 1, 1, 1, 1);
      const u2 = i32x4.shuffle(xs, xs, 2, 2, 2, 2), u3 = i32x4.shuffle(xs, xs, 3, 3, 3, 3);
      a0 = mac(a0, u0, wl); a1 = mac(a1, u1, wl); a2 = mac(a2, u2, wl); a3 = mac(a3, u3, wl);
      if (G == 8) {
        const wh = weightPairsHigh8(v, true);
        b0 = mac(b0, u0, wh); b1 = mac(b1, u1, wh); b2 = mac(b2, u2, wh); b3 = mac(b3, u3, wh);
      }
    }
    const y = output + <usize>r * outStride + <usize>c;
    if (fast) {
      a0 = requantizeFastUnclamped(a0, multLow, factorsLow, stepsLow, t0, t1, eLow);
      a1 = requantizeFastUnclamped(a1, multLow, factorsLow, stepsLow, t0, t1, eLow);
      a2 = requantizeFastUnclamped(a2, multLow, factorsLow, stepsLow, t0, t1, eLow);
      a3 = requantizeFastUnclamped(a3, multLow, factorsLow, stepsLow, t0, t1, eLow);
      if (G == 8) {
        b0 = requantizeFastUnclamped(b0, multHigh, factorsHigh, stepsHigh, t2, t3, eHigh);
        b1 = requantizeFastUnclamped(b1, multHigh, factorsHigh, stepsHigh, t2, t3, eHigh);
        b2 = requantizeFastUnclamped(b2, multHigh, factorsHigh, stepsHigh, t2, t3, eHigh);
        b3 = requantizeFastUnclamped(b3, multHigh, factorsHigh, stepsHigh, t2, t3, eHigh);
      }
    } else {
      a0 = requantizeGeneral(a0, requant, c, outZp); a1 = requantizeGeneral(a1, requant, c, outZp);
      a2 = requantizeGeneral(a2, requant, c, outZp); a3 = requantizeGeneral(a3, requant, c, outZp);
      if (G == 8) {
        b0 = requantizeGeneral(b0, requant, c + 4, outZp); b1 = requantizeGeneral(b1, requant, c + 4, outZp);
        b2 = requantizeGeneral(b2, requant, c + 4, outZp); b3 = requantizeGeneral(b3, requant, c + 4, outZp);
      }
    }
    if (G == 8) {
      const q01 = narrowRows(a0, b0, a1, b1, actLo, actHi), q23 = narrowRows(a2, b2, a3, b3, actLo, actHi);
      v128.store64_lane(y, q01, 0); v128.store64_lane(y + outStride, q01, 1);
      v128.store64_lane(y + 2 * outStride, q23, 0); v128.store64_lane(y + 3 * outStride, q23, 1);
    } else {
      const q01 = narrowLanes8(a0, a1, actLo, actHi), q23 = narrowLanes8(a2, a3, actLo, actHi);
      v128.store32_lane(y, q01, 0); v128.store32_lane(y + outStride, q01, 1);
      v128.store32_lane(y + 2 * outStride, q23, 0); v128.store32_lane(y + 3 * outStride, q23, 1);
    }
    r += QUAD_ROWS;
  } while (r < rows);
}
