// conv2d_s8_simd for few input channels (inC < 8): the RGB "stem" of vision models (3x3,
// stride 2, 3 channels). A window row of L = kW * inC values is contiguous in NHWC, too short
// for the deep path's 8-wide dot products, and the filter too large to keep in registers as the
// shallow path does. Lanes are output pixels instead:
//
//   tile     8 output pixels whose windows share one clipping to the input: 8 adjacent pixels
//            of an output row whose windows lie inside the input columns (window rows outside
//            the input skipped for the whole row), or 8 adjacent pixels of a border column
//            (padding left or right) whose windows lie inside the input rows (window columns
//            outside the input skipped for the whole column). Pixel p's window starts at
//            x + p * step (step = strideW * inC along a row, strideH * inW * inC down a column).
//   gather   taps (t, t+1) of a window row are adjacent bytes: one load16_lane per pixel puts
//            the pair of pixel p into i16 lanes 2p, 2p+1; widened (minus inZp) that is
//            pixels 0-3 and 4-7 as i32 lanes of i16 pairs. An odd last tap of a row gathers
//            one byte per pixel, its partner lane 0.
//   weights  (w[c][ky][t], w[c][ky][t+1]) splatted over the 4 i32 lanes, so i32x4.dot_i16x8_s
//            adds both taps' products for 4 pixels
//   accum    k[j] pixels 0-3, k[4+j] pixels 4-7 of channel c+j, for a block of 4 channels
//            (8 accumulators: with the two input and one weight vector, 11 of the 16 xmm
//            registers V8 has)
//
// Out-of-image taps are thus skipped exactly as conv2d_s8 skips them. The pixels in neither
// kind of tile (corners, images too small for a tile) go to the scalar kernel one by one. The
// last tile of a row or column and the last channel block overlap their predecessors when the
// counts are not multiples of 8 and 4 (they rewrite identical values). Requantization: each
// channel's constants splatted over the pixel lanes, built once per channel block
// (output_stage_s8_simd.ts, fast path with e = -shift as the group's eMax; general path
// otherwise). No scratch memory; reads only window taps inside the input and the filter's
// own bytes.
import { conv2d_s8 } from './conv2d_s8';
import { biasSplat, clampBytes, storePixels1, storePixels4 } from './pixel_lanes_simd';
import {
  FAST_MAX_EXPONENT, requantizeFast, requantizeLanes, requantLeftFactors, requantNoRightMask, requantRightFactors,
} from './output_stage_s8_simd';

/** Output pixels per tile (lanes of two i32x4 accumulators). */
// @ts-ignore: decorator
@inline const TILE: i32 = 8;

/**
 * Whether the stem path takes this shape (the caller has inC < 8 and ruled out the shallow
 * path). Measured 15-38x the scalar kernel from 1x1 on 1 channel to 7x7 on 7 channels.
 */
// @ts-ignore: decorator
@inline
export function conv2dS8SimdStemFits(kW: i32, inC: i32): bool {
  return inC >= 1 && inC < 8 && kW >= 1;
}

/** Pairs (p[0], p[1]) of the 8 pixels p = x, x + s, ..., x + 7s in i16 lanes 2p, 2p+1. */
// @ts-ignore: decorator
@inline
function gatherPairs(x: usize, s: usize): v128 {
  let p = x;
  let v = v128.load16_lane(p, i32x4.splat(0), 0); p += s;
  v = v128.load16_lane(p, v, 1); p += s;
  v = v128.load16_lane(p, v, 2); p += s;
  v = v128.load16_lane(p, v, 3); p += s;
  v = v128.load16_lane(p, v, 4); p += s;
  v = v128.load16_lane(p, v, 5); p += s;
  v = v128.load16_lane(p, v, 6); p += s;
  return v128.load16_lane(p, v, 7);
}

/** p[0] of the 8 pixels p = x, x + s, ..., x + 7s in byte lanes 2p; odd bytes 0. */
// @ts-ignore: decorator
@inline
function gatherSingles(x: usize, s: usize): v128 {
  let p = x;
  let v = v128.load8_lane(p, i32x4.splat(0), 0); p += s;
  v = v128.load8_lane(p, v, 2); p += s;
  v = v128.load8_lane(p, v, 4); p += s;
  v = v128.load8_lane(p, v, 6); p += s;
  v = v128.load8_lane(p, v, 8); p += s;
  v = v128.load8_lane(p, v, 10); p += s;
  v = v128.load8_lane(p, v, 12); p += s;
  return v128.load8_lane(p, v, 14);
}

// @ts-ignore: decorator
@inline
function mac(acc: v128, x: v128, w: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, w));
}

/** The weight pair (w[0], w[1]) as i16 splatted over the 4 i32 lanes. */
// @ts-ignore: decorator
@inline
function weightPair(w: usize): v128 {
  return i16x8.extend_low_i8x16_s(v128.load16_splat(w));
}

/** The weight w[0] as the low i16 of each i32 lane (the high half meets an input of 0). */
// @ts-ignore: decorator
@inline
function weightSingle(w: usize): v128 {
  return i32x4.splat(<i32>load<i8>(w));
}

/** Whether channel c takes the fast requantization (see output_stage_s8_simd.ts). */
// @ts-ignore: decorator
@inline
function fastChannel(requant: usize, c: i32): bool {
  const p = requant + (<usize>c << 3);
  const m = load<i32>(p), shift = load<i32>(p, 4);
  return m > (1 << 30) && shift <= -1 && shift >= -FAST_MAX_EXPONENT;
}

/** Fast path, channel c alone (eMax = e = -shift): requantFastTerms' 2^31 + 2^(31+e) + zp * 2^(32+e). */
// @ts-ignore: decorator
@inline
function fastTerms(requant: usize, c: i32, outZp: i32): v128 {
  const e = <i64>-load<i32>(requant + (<usize>c << 3), 4);
  return i64x2.splat((<i64>1 << 31) + (<i64>1 << (31 + e)) + (<i64>outZp << (32 + e)));
}

// @ts-ignore: decorator
@inline
function multiplierSplat(requant: usize, c: i32): v128 {
  return v128.load32_splat(requant + (<usize>c << 3));
}

// @ts-ignore: decorator
@inline
function rightShift(requant: usize, c: i32): i32 {
  return -load<i32>(requant + (<usize>c << 3), 4);
}

/** General path for channel c, constants rebuilt at each call: MBQM(acc) + outZp per lane. */
// @ts-ignore: decorator
@inline
function requantGeneral(acc: v128, requant: usize, c: i32, outZp: i32): v128 {
  const shifts = v128.load32_splat(requant + (<usize>c << 3), 4);
  const q = requantizeLanes(acc, multiplierSplat(requant, c), requantLeftFactors(shifts), requantRightFactors(shifts), requantNoRightMask(shifts));
  return i32x4.add(q, i32x4.splat(outZp));
}

/** Channel c's 8 pixels (lo: 0-3, hi: 4-7) requantized, as i16 lanes 0..7. */
// @ts-ignore: decorator
@inline
function fastPixels(lo: v128, hi: v128, mult: v128, terms: v128, e: i32): v128 {
  const two = i32x4.splat(2), one = i32x4.splat(1);
  return i16x8.narrow_i32x4_s(requantizeFast(lo, mult, two, one, terms, terms, e), requantizeFast(hi, mult, two, one, terms, terms, e));
}

// @ts-ignore: decorator
@inline
function generalPixels(lo: v128, hi: v128, requant: usize, c: i32, outZp: i32): v128 {
  return i16x8.narrow_i32x4_s(requantGeneral(lo, requant, c, outZp), requantGeneral(hi, requant, c, outZp));
}

/** First output o whose window starts inside the input: o * stride - pad >= 0 (stride >= 1). */
// @ts-ignore: decorator
@inline
function interiorBegin(pad: i32, stride: i32, outSize: i32): i32 {
  return pad <= 0 ? 0 : min((pad + stride - 1) / stride, outSize);
}

/** One past the last output o >= begin whose window ends inside the input: o * stride - pad + k <= inSize. */
// @ts-ignore: decorator
@inline
function interiorEnd(inSize: i32, k: i32, pad: i32, stride: i32, begin: i32, outSize: i32): i32 {
  const room = inSize - k + pad;
  return room < 0 ? begin : max(begin, min(room / stride + 1, outSize));
}

export function conv2dS8SimdStem(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, filter: usize, kH: i32, kW: i32, outC: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  if (outH <= 0 || outW <= 0 || outC <= 0) return;
  const oxBegin = strideW < 1 ? 0 : interiorBegin(padLeft, strideW, outW);
  const oxEnd = strideW < 1 ? 0 : interiorEnd(inW, kW, padLeft, strideW, oxBegin, outW);
  const oyBegin = strideH < 1 ? 0 : interiorBegin(padTop, strideH, outH);
  const oyEnd = strideH < 1 ? 0 : interiorEnd(inH, kH, padTop, strideH, oyBegin, outH);
  // row tiles: output rows' pixels whose windows lie inside the input columns;
  // column tiles: the other pixels of output rows whose windows lie inside the input rows
  const rowTiles = oxEnd - oxBegin >= TILE, columnTiles = oyEnd - oyBegin >= TILE;
  if (!rowTiles && !columnTiles) {
    conv2d_s8(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax);
    return;
  }
  for (let oy = 0; oy < outH; oy++) { // pixels in neither kind of tile, one by one
    if (columnTiles && oy >= oyBegin && oy < oyEnd) continue;
    for (let ox = 0; ox < outW; ox++) {
      if (rowTiles && ox == oxBegin) ox = oxEnd;
      if (ox >= outW) break;
      conv2d_s8(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output + <usize>((oy * outW + ox) * outC), 1, 1, outZp, strideH, strideW, padTop - oy * strideH, padLeft - ox * strideW, actMin, actMax);
    }
  }
  const G = outC < 4 ? 1 : 4;
  for (let c = 0; c < outC; c += G) {
    if (c + G > outC) c = outC - G; // the last block of 4 overlaps the previous one
    let fast = fastChannel(requant, c);
    if (G == 4) fast = fast && fastChannel(requant, c + 1) && fastChannel(requant, c + 2) && fastChannel(requant, c + 3);
    if (G == 1) {
      if (fast) stemBlock(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax, rowTiles, oxBegin, oxEnd, columnTiles, oyBegin, oyEnd, c, 1, true);
      else stemBlock(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax, rowTiles, oxBegin, oxEnd, columnTiles, oyBegin, oyEnd, c, 1, false);
    } else {
      if (fast) stemBlock(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax, rowTiles, oxBegin, oxEnd, columnTiles, oyBegin, oyEnd, c, 4, true);
      else stemBlock(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax, rowTiles, oxBegin, oxEnd, columnTiles, oyBegin, oyEnd, c, 4, false);
    }
  }
}

/**
 * Channels c..c+G-1 (G = 1 or 4) of every tile: row tiles over the columns [oxBegin, oxEnd)
 * of each output row (its window rows clipped to the input), column tiles over the rows
 * [oyBegin, oyEnd) of each other output column (its window columns clipped to the input).
 * G and `fast` (every channel of the block takes the fast requantization) are constants at
 * each call site, so that each combination gets its own copy of the loops with its constants
 * hoisted (V8 does not hoist loop invariants out of conditional code).
 */
// @ts-ignore: decorator
@inline
function stemBlock(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, filter: usize, kH: i32, kW: i32, outC: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32, rowTiles: bool, oxBegin: i32, oxEnd: i32, columnTiles: bool, oyBegin: i32, oyEnd: i32, c: i32, G: i32, fast: bool): void {
  const L = kW * inC;
  const rowStride = <usize>(inW * inC);
  const filterSize = <usize>(kH * L);
  const zp = i16x8.splat(<i16>inZp);
  const zpLow = i32x4.splat(inZp & 0xffff); // (inZp, 0) pairs for the odd tap
  const actLo = i8x16.splat(<i8>actMin), actHi = i8x16.splat(<i8>actMax);
  // fast requantization constants of the block's channels (unused otherwise)
  const mult0 = fast ? multiplierSplat(requant, c) : i32x4.splat(0), terms0 = fast ? fastTerms(requant, c, outZp) : i32x4.splat(0), e0 = fast ? rightShift(requant, c) : 0;
  const mult1 = fast && G == 4 ? multiplierSplat(requant, c + 1) : i32x4.splat(0), terms1 = fast && G == 4 ? fastTerms(requant, c + 1, outZp) : i32x4.splat(0), e1 = fast && G == 4 ? rightShift(requant, c + 1) : 0;
  const mult2 = fast && G == 4 ? multiplierSplat(requant, c + 2) : i32x4.splat(0), terms2 = fast && G == 4 ? fastTerms(requant, c + 2, outZp) : i32x4.splat(0), e2 = fast && G == 4 ? rightShift(requant, c + 2) : 0;
  const mult3 = fast && G == 4 ? multiplierSplat(requant, c + 3) : i32x4.splat(0), terms3 = fast && G == 4 ? fastTerms(requant, c + 3, outZp) : i32x4.splat(0), e3 = fast && G == 4 ? rightShift(requant, c + 3) : 0;
  const b0 = biasSplat(bias, c);
  const b1 = G == 4 ? biasSplat(bias, c + 1) : b0, b2 = G == 4 ? biasSplat(bias, c + 2) : b0, b3 = G == 4 ? biasSplat(bias, c + 3) : b0;
  const w0 = filter + <usize>c * filterSize;
  const outPixel = <usize>outC;
  if (rowTiles) {
    const pixelStep = <usize>(strideW * inC);
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * strideH - padTop;
      const kyBegin = iy0 < 0 ? -iy0 : 0;
      const kyEnd = inH - iy0 < kH ? inH - iy0 : kH;
      const yRow = output + <usize>(oy * outW) * outPixel + <usize>c;
      let ox = oxBegin;
      do {
        if (ox > oxEnd - TILE) ox = oxEnd - TILE; // the last tile overlaps the previous one
        const x = input + <usize>(iy0 + kyBegin) * rowStride + <usize>((ox * strideW - padLeft) * inC);
        stemTile(x, pixelStep, rowStride, kyEnd - kyBegin, w0 + <usize>(kyBegin * L), filterSize, <usize>L, L, yRow + <usize>ox * outPixel, outPixel,
          zp, zpLow, b0, b1, b2, b3, requant, c, outZp, actLo, actHi, mult0, terms0, e0, mult1, terms1, e1, mult2, terms2, e2, mult3, terms3, e3, G, fast);
        ox += TILE;
      } while (ox < oxEnd);
    }
  }
  if (columnTiles) {
    const pixelStep = <usize>strideH * rowStride;
    const yStep = <usize>outW * outPixel;
    for (let ox = 0; ox < outW; ox++) {
      if (rowTiles && ox == oxBegin) ox = oxEnd;
      if (ox >= outW) break;
      const ix0 = ox * strideW - padLeft;
      const kxBegin = ix0 < 0 ? -ix0 : 0;
      const kxEnd = inW - ix0 < kW ? inW - ix0 : kW;
      const run = (kxEnd - kxBegin) * inC; // <= 0: no tap inside the input
      let oy = oyBegin;
      do {
        if (oy > oyEnd - TILE) oy = oyEnd - TILE;
        const x = input + <usize>(oy * strideH - padTop) * rowStride + <usize>((ix0 + kxBegin) * inC);
        stemTile(x, pixelStep, rowStride, kH, w0 + <usize>(kxBegin * inC), filterSize, <usize>L, run, output + <usize>(oy * outW + ox) * outPixel + <usize>c, yStep,
          zp, zpLow, b0, b1, b2, b3, requant, c, outZp, actLo, actHi, mult0, terms0, e0, mult1, terms1, e1, mult2, terms2, e2, mult3, terms3, e3, G, fast);
        oy += TILE;
      } while (oy < oyEnd);
    }
  }
}

/**
 * One tile: 8 output pixels p whose windows start at x + p * pixelStep (the first of `rows`
 * window rows, rowStride apart, each a run of `run` input bytes; the filter's matching bytes
 * start at w + f for channel c, w + f + filterSize for c+1, ...; filter rows are L bytes apart).
 * Stores channels c..c+G-1 of pixel p at y + p * yStep.
 */
// @ts-ignore: decorator
@inline
function stemTile(x: usize, pixelStep: usize, rowStride: usize, rows: i32, w: usize, filterSize: usize, L: usize, run: i32, y: usize, yStep: usize,
  zp: v128, zpLow: v128, b0: v128, b1: v128, b2: v128, b3: v128, requant: usize, c: i32, outZp: i32, actLo: v128, actHi: v128,
  mult0: v128, terms0: v128, e0: i32, mult1: v128, terms1: v128, e1: i32, mult2: v128, terms2: v128, e2: i32, mult3: v128, terms3: v128, e3: i32, G: i32, fast: bool): void {
  let k0 = b0, k1 = b1, k2 = b2, k3 = b3;
  let k4 = b0, k5 = b1, k6 = b2, k7 = b3;
  let xr = x, wr = w;
  for (let r = 0; r < rows; r++) {
    let t = 0;
    for (; t + 1 < run; t += 2) {
      const v = gatherPairs(xr + <usize>t, pixelStep);
      const lo = i16x8.sub(i16x8.extend_low_i8x16_s(v), zp), hi = i16x8.sub(i16x8.extend_high_i8x16_s(v), zp);
      const q = wr + <usize>t;
      const u0 = weightPair(q);
      k0 = mac(k0, lo, u0); k4 = mac(k4, hi, u0);
      if (G == 4) {
        const u1 = weightPair(q + filterSize);
        k1 = mac(k1, lo, u1); k5 = mac(k5, hi, u1);
        const u2 = weightPair(q + 2 * filterSize);
        k2 = mac(k2, lo, u2); k6 = mac(k6, hi, u2);
        const u3 = weightPair(q + 3 * filterSize);
        k3 = mac(k3, lo, u3); k7 = mac(k7, hi, u3);
      }
    }
    if (t < run) { // odd run: the last tap alone
      const v = gatherSingles(xr + <usize>t, pixelStep);
      const lo = i16x8.sub(i16x8.extend_low_i8x16_s(v), zpLow), hi = i16x8.sub(i16x8.extend_high_i8x16_s(v), zpLow);
      const q = wr + <usize>t;
      const u0 = weightSingle(q);
      k0 = mac(k0, lo, u0); k4 = mac(k4, hi, u0);
      if (G == 4) {
        const u1 = weightSingle(q + filterSize);
        k1 = mac(k1, lo, u1); k5 = mac(k5, hi, u1);
        const u2 = weightSingle(q + 2 * filterSize);
        k2 = mac(k2, lo, u2); k6 = mac(k6, hi, u2);
        const u3 = weightSingle(q + 3 * filterSize);
        k3 = mac(k3, lo, u3); k7 = mac(k7, hi, u3);
      }
    }
    xr += rowStride;
    wr += L;
  }
  if (G == 1) {
    const q = fast ? fastPixels(k0, k4, mult0, terms0, e0) : generalPixels(k0, k4, requant, c, outZp);
    storePixels1(y, clampBytes(i8x16.narrow_i16x8_s(q, q), actLo, actHi), yStep);
  } else {
    const q0 = fast ? fastPixels(k0, k4, mult0, terms0, e0) : generalPixels(k0, k4, requant, c, outZp);
    const q1 = fast ? fastPixels(k1, k5, mult1, terms1, e1) : generalPixels(k1, k5, requant, c + 1, outZp);
    const q2 = fast ? fastPixels(k2, k6, mult2, terms2, e2) : generalPixels(k2, k6, requant, c + 2, outZp);
    const q3 = fast ? fastPixels(k3, k7, mult3, terms3, e3) : generalPixels(k3, k7, requant, c + 3, outZp);
    const a = clampBytes(i8x16.narrow_i16x8_s(q0, q1), actLo, actHi);
    const b = clampBytes(i8x16.narrow_i16x8_s(q2, q3), actLo, actHi);
    storePixels4(y, a, b, yStep);
  }
}
