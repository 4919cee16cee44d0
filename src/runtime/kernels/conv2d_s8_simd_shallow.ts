// conv2d_s8_simd for 3-row windows of at most 4 values per row (kH == 3, kW * inC <= 4: a 3x3
// filter on a 1-channel image, the usual first layer), where a window row is too short for the
// deep path's 8-wide dot products. Vectorised over output channels instead, 8 per pass (two
// groups of 4 lanes), with the whole filter of the pass held in 12 vector locals:
//   w[g][ky][p] lane j = i16 [w(c, ky, 2p), w(c, ky, 2p+1)] for channel c = pass + 4g + j,
// 0 past the row's L = kW * inC values and past outC. Per output pixel each window row becomes
// one i16x8 of (x - inZp) (lanes >= L meet zero weights), and the i32 lane p of that row, splat,
// against w[g][ky][p] is one i32x4.dot_i16x8_s: 12 dot products per pixel and pass.
// Pixels whose window rows can be loaded 8 bytes at a time inside the input take vector loads.
// Windows that cross the bottom or right edge (ix0 >= 0) do too, with rows outside the input
// replaced by 0 and lanes past the right edge masked to 0; only windows crossing the left edge
// and loads that would leave the input (its last bytes) gather their rows value by value.
// No scratch memory: the filter is repacked into registers once per pass.
import { outputStageS8 } from './output_stage_s8';
import {
  narrowLanes8, requantFastExponent, requantFastFactors, requantFastSteps, requantFastTerms,
  requantizeFast, requantizeGroup, requantMultipliers, requantShifts,
} from './output_stage_s8_simd';

/** Whether the shallow path takes this shape (the caller has inC < 8). */
// @ts-ignore: decorator
@inline
export function conv2dS8SimdShallowFits(kH: i32, kW: i32, inC: i32): bool {
  return kH == 3 && kW * inC <= 4 && kW >= 1 && inC >= 1;
}

/** Weight pairs (2p, 2p+1) of window row ky for channels c..c+3 (see the header). */
function weightPairs(filter: usize, rowLength: i32, outC: i32, c: i32, ky: i32, p: i32): v128 {
  let v = i32x4.splat(0);
  const t = 2 * p;
  for (let j = 0; j < 4; j++) {
    if (c + j >= outC) break;
    const w = filter + <usize>((c + j) * 3 * rowLength + ky * rowLength);
    const lo = t < rowLength ? <i32>load<i8>(w + <usize>t) : 0;
    const hi = t + 1 < rowLength ? <i32>load<i8>(w + <usize>(t + 1)) : 0;
    const pair = (lo & 0xffff) | (hi << 16);
    v = j == 0 ? i32x4.replace_lane(v, 0, pair) : j == 1 ? i32x4.replace_lane(v, 1, pair) : j == 2 ? i32x4.replace_lane(v, 2, pair) : i32x4.replace_lane(v, 3, pair);
  }
  return v;
}

/** Window row (iy, ix0..) as i16 lanes 0..L-1 of (x - inZp), 0 outside the input. */
function gatheredRow(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, iy: i32, ix0: i32, kW: i32): v128 {
  let bits: i64 = 0;
  if (iy >= 0 && iy < inH) {
    for (let kx = 0; kx < kW; kx++) {
      const ix = ix0 + kx;
      if (ix < 0 || ix >= inW) continue;
      const x = input + <usize>((iy * inW + ix) * inC);
      for (let ic = 0; ic < inC; ic++) {
        const u = (<i32>load<i8>(x + <usize>ic) - inZp) & 0xffff;
        bits |= <i64>u << <i64>(16 * (kx * inC + ic));
      }
    }
  }
  return i64x2.splat(bits);
}

/**
 * Window row iy as i16 lanes (x - inZp) & mask, 0 when the row is outside the input; the
 * caller checks that 8 bytes from the row's first value lie inside the input.
 */
// @ts-ignore: decorator
@inline
function maskedRow(input: usize, inH: i32, rowStride: usize, iy: i32, column: usize, zp: v128, mask: v128): v128 {
  return iy >= 0 && iy < inH ? v128.and(i16x8.sub(v128.load8x8_s(input + <usize>iy * rowStride + column), zp), mask) : i32x4.splat(0);
}

/** Lane j (0..3) of an i32x4. */
// @ts-ignore: decorator
@inline
function laneOf(v: v128, j: i32): i32 {
  return j == 0 ? i32x4.extract_lane(v, 0) : j == 1 ? i32x4.extract_lane(v, 1) : j == 2 ? i32x4.extract_lane(v, 2) : i32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline
function rowDots(acc: v128, row: v128, w0: v128, w1: v128): v128 {
  const a = i32x4.add(acc, i32x4.dot_i16x8_s(i32x4.shuffle(row, row, 0, 0, 0, 0), w0));
  return i32x4.add(a, i32x4.dot_i16x8_s(i32x4.shuffle(row, row, 1, 1, 1, 1), w1));
}

export function conv2dS8SimdShallow(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, filter: usize, kH: i32, kW: i32, outC: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  if (outH <= 0 || outW <= 0) return;
  for (let c = 0; c < outC; c += 8) {
    const full = c + 8 <= outC;
    if (full && requantFastExponent(requant, c) != 0 && requantFastExponent(requant, c + 4) != 0) {
      shallowPass(input, inH, inW, inC, inZp, filter, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax, c, 1);
    } else {
      shallowPass(input, inH, inW, inC, inZp, filter, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax, c, full ? 0 : -1);
    }
  }
}

/**
 * Output channels c..c+7 (c..outC-1 when `stage` is -1) over all pixels. `stage`, a constant
 * at each call site so that each path gets its own copy of the pixel loop (V8 does not hoist
 * loop invariants out of conditional code, nor out of a for loop's body: hence do-while):
 * 1 = fast requantization for all 8 channels, 0 = per group of 4, -1 = scalar output stage
 * (the last, partial pass: no vector reads of bias or requant past outC).
 */
// @ts-ignore: decorator
@inline
function shallowPass(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, filter: usize, kW: i32, outC: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32, c: i32, stage: i32): void {
  const L = kW * inC;
  const wA00 = weightPairs(filter, L, outC, c, 0, 0), wA01 = weightPairs(filter, L, outC, c, 0, 1);
  const wA10 = weightPairs(filter, L, outC, c, 1, 0), wA11 = weightPairs(filter, L, outC, c, 1, 1);
  const wA20 = weightPairs(filter, L, outC, c, 2, 0), wA21 = weightPairs(filter, L, outC, c, 2, 1);
  const wB00 = weightPairs(filter, L, outC, c + 4, 0, 0), wB01 = weightPairs(filter, L, outC, c + 4, 0, 1);
  const wB10 = weightPairs(filter, L, outC, c + 4, 1, 0), wB11 = weightPairs(filter, L, outC, c + 4, 1, 1);
  const wB20 = weightPairs(filter, L, outC, c + 4, 2, 0), wB21 = weightPairs(filter, L, outC, c + 4, 2, 1);
  const vector = stage >= 0;
  const biasA = vector && bias != 0 ? v128.load(bias + (<usize>c << 2)) : i32x4.splat(0);
  const biasB = vector && bias != 0 ? v128.load(bias + (<usize>c << 2), 16) : i32x4.splat(0);
  const eMaxA = vector ? requantFastExponent(requant, c) : 0, eMaxB = vector ? requantFastExponent(requant, c + 4) : 0;
  const shiftsA = vector ? requantShifts(requant, c) : i32x4.splat(0), shiftsB = vector ? requantShifts(requant, c + 4) : i32x4.splat(0);
  const multA = vector ? requantMultipliers(requant, c) : i32x4.splat(0), multB = vector ? requantMultipliers(requant, c + 4) : i32x4.splat(0);
  const factorsA = requantFastFactors(shiftsA, eMaxA), factorsB = requantFastFactors(shiftsB, eMaxB);
  const stepsA = requantFastSteps(shiftsA, eMaxA), stepsB = requantFastSteps(shiftsB, eMaxB);
  const termsA0 = vector ? requantFastTerms(requant, c, eMaxA, outZp) : i32x4.splat(0), termsA1 = vector ? requantFastTerms(requant, c + 2, eMaxA, outZp) : i32x4.splat(0);
  const termsB0 = vector ? requantFastTerms(requant, c + 4, eMaxB, outZp) : i32x4.splat(0), termsB1 = vector ? requantFastTerms(requant, c + 6, eMaxB, outZp) : i32x4.splat(0);
  const lo = i8x16.splat(<i8>actMin), hi = i8x16.splat(<i8>actMax);
  const zp = i16x8.splat(<i16>inZp);
  const rowStride = <usize>(inW * inC);
  const inputEnd = input + <usize>inH * rowStride;
  let y = output + <usize>c;
  let oy = 0;
  do {
    const iy0 = oy * strideH - padTop;
    const rowsInside = iy0 >= 0 && iy0 + 3 <= inH;
    let ox = 0;
    do {
      const ix0 = ox * strideW - padLeft;
      const x = input + <usize>(iy0 * inW + ix0) * <usize>inC; // meaningful when inside
      let r0: v128, r1: v128, r2: v128;
      if (rowsInside && ix0 >= 0 && ix0 + kW <= inW && x + 2 * rowStride + 8 <= inputEnd) {
        r0 = i16x8.sub(v128.load8x8_s(x), zp);
        r1 = i16x8.sub(v128.load8x8_s(x + rowStride), zp);
        r2 = i16x8.sub(v128.load8x8_s(x + 2 * rowStride), zp);
      } else if (ix0 >= 0 && input + <usize>(min(iy0 + 2, inH - 1) * inW + ix0) * <usize>inC + 8 <= inputEnd) {
        const column = <usize>(ix0 * inC);
        const mask = i16x8.lt_s(i16x8(0, 1, 2, 3, 4, 5, 6, 7), i16x8.splat(<i16>(min(kW, inW - ix0) * inC)));
        r0 = maskedRow(input, inH, rowStride, iy0, column, zp, mask);
        r1 = maskedRow(input, inH, rowStride, iy0 + 1, column, zp, mask);
        r2 = maskedRow(input, inH, rowStride, iy0 + 2, column, zp, mask);
      } else {
        r0 = gatheredRow(input, inH, inW, inC, inZp, iy0, ix0, kW);
        r1 = gatheredRow(input, inH, inW, inC, inZp, iy0 + 1, ix0, kW);
        r2 = gatheredRow(input, inH, inW, inC, inZp, iy0 + 2, ix0, kW);
      }
      const a = rowDots(rowDots(rowDots(biasA, r0, wA00, wA01), r1, wA10, wA11), r2, wA20, wA21);
      const b = rowDots(rowDots(rowDots(biasB, r0, wB00, wB01), r1, wB10, wB11), r2, wB20, wB21);
      if (stage == 1) {
        const qa = requantizeFast(a, multA, factorsA, stepsA, termsA0, termsA1, eMaxA);
        const qb = requantizeFast(b, multB, factorsB, stepsB, termsB0, termsB1, eMaxB);
        v128.store64_lane(y, narrowLanes8(qa, qb, lo, hi), 0);
      } else if (stage == 0) {
        const qa = requantizeGroup(a, requant, c, outZp, eMaxA, multA, factorsA, stepsA, termsA0, termsA1);
        const qb = requantizeGroup(b, requant, c + 4, outZp, eMaxB, multB, factorsB, stepsB, termsB0, termsB1);
        v128.store64_lane(y, narrowLanes8(qa, qb, lo, hi), 0);
      } else {
        for (let j = 0; j < 8 && c + j < outC; j++) {
          const acc = j < 4 ? laneOf(a, j) : laneOf(b, j - 4);
          store<i8>(y + <usize>j, <i8>outputStageS8(acc, c + j, bias, requant, outZp, actMin, actMax));
        }
      }
      y += <usize>outC;
    } while (++ox < outW);
  } while (++oy < outH);
}
