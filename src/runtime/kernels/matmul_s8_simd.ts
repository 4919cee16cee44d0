// SIMD128 int8 matrix product shared by conv1x1_s8_simd and fully_connected_s8_simd,
// bit-exact with matmulS8:  output[r][c] = stage(sum_k filter[c][k] * (input[r][k] - inZp)).
//   input int8 [rows][inC], filter int8 [outC][inC], output int8 [rows][outC].
//
// Inner step: 8 values of k. Input and weights are loaded sign-extended to i16 (load8x8_s);
// (x - inZp) fits i16 and i32x4.dot_i16x8_s adds pairs of products exactly. The widened
// input is reused by 4 output channels, the widened weights by 2 rows (tile 2 rows x 4
// channels, 8 accumulators). When inC is not a multiple of 8, one more step loads the last 8
// values [inC-8, inC) and masks the input lanes already counted, so no load leaves a row.
// Output channel groups are the outer loop so the group's requantization constants are built
// once. inC < 8 goes to the scalar product; channels past the last multiple of 4 use a
// 1-channel tile with the scalar output stage.
import { matmulS8 } from './matmul_s8';
import { outputStageS8 } from './output_stage_s8';
import {
  narrowLanes4, narrowLanes8, reduceLanes, reduceLanes4, requantFastExponent, requantFastFactors, requantFastSteps,
  requantFastTerms, requantizeFast, requantizeGeneral, requantMultipliers, requantShifts,
} from './output_stage_s8_simd';

/** Rows from which a channel group builds the fast requantization constants. */
// @ts-ignore: decorator
@inline const FAST_MIN_ROWS: i32 = 4;

/** i16 lanes of the last step that the full steps did not cover (all-ones), for inC % 8 != 0. */
// @ts-ignore: decorator
@inline
function tailLaneMask(inC: i32): v128 {
  return i16x8.ge_s(i16x8(0, 1, 2, 3, 4, 5, 6, 7), i16x8.splat(<i16>(8 - (inC & 7))));
}

// @ts-ignore: decorator
@inline
function widenedInput(p: usize, zp: v128): v128 {
  return i16x8.sub(v128.load8x8_s(p), zp);
}

// @ts-ignore: decorator
@inline
function macStep(acc: v128, w: v128, x: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(w, x));
}

/**
 * Output channels c..c+3 over all rows. One copy per requantization path (`fast` is a constant
 * at both call sites): V8 hoists loop-invariant vector values out of a loop only from blocks
 * that every iteration runs, so a branch in the row loop would rebuild the constants per row.
 * For the same reason the row loops are do-while loops.
 */
// @ts-ignore: decorator
@inline
function channelGroup(input: usize, rows: i32, inStride: usize, zp: v128, filter: usize, c: i32, outStride: usize, bias: usize, requant: usize, output: usize, outZp: i32, lo: v128, hi: v128, fast: bool): void {
  const inC = <i32>inStride;
  const fullEnd = <usize>(inC & ~7);
  const hasTail = (inC & 7) != 0;
  const tailAt = <usize>(inC - 8);
  const tailMask = tailLaneMask(inC);
  const eMax = fast ? requantFastExponent(requant, c) : 0;
  const shifts = fast ? requantShifts(requant, c) : i32x4.splat(0);
  const mult = fast ? requantMultipliers(requant, c) : i32x4.splat(0);
  const factors = fast ? requantFastFactors(shifts, eMax) : i32x4.splat(0);
  const steps = fast ? requantFastSteps(shifts, eMax) : i32x4.splat(0);
  const termsLow = fast ? requantFastTerms(requant, c, eMax, outZp) : i32x4.splat(0);
  const termsHigh = fast ? requantFastTerms(requant, c + 2, eMax, outZp) : i32x4.splat(0);
  const b = bias != 0 ? v128.load(bias + (<usize>c << 2)) : i32x4.splat(0);
  const w0 = filter + <usize>c * inStride;
  const w1 = w0 + inStride;
  const w2 = w1 + inStride;
  const w3 = w2 + inStride;
  let x0 = input;
  let y = output + <usize>c;
  let r = 0;
  if (rows >= 2) {
    do {
      const x1 = x0 + inStride;
      let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
      let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
      let k: usize = 0;
      do { // inC >= 8
        const u = widenedInput(x0 + k, zp);
        const v = widenedInput(x1 + k, zp);
        let w = v128.load8x8_s(w0 + k); a00 = macStep(a00, w, u); a10 = macStep(a10, w, v);
        w = v128.load8x8_s(w1 + k); a01 = macStep(a01, w, u); a11 = macStep(a11, w, v);
        w = v128.load8x8_s(w2 + k); a02 = macStep(a02, w, u); a12 = macStep(a12, w, v);
        w = v128.load8x8_s(w3 + k); a03 = macStep(a03, w, u); a13 = macStep(a13, w, v);
        k += 8;
      } while (k < fullEnd);
      if (hasTail) {
        const u = v128.and(widenedInput(x0 + tailAt, zp), tailMask);
        const v = v128.and(widenedInput(x1 + tailAt, zp), tailMask);
        let w = v128.load8x8_s(w0 + tailAt); a00 = macStep(a00, w, u); a10 = macStep(a10, w, v);
        w = v128.load8x8_s(w1 + tailAt); a01 = macStep(a01, w, u); a11 = macStep(a11, w, v);
        w = v128.load8x8_s(w2 + tailAt); a02 = macStep(a02, w, u); a12 = macStep(a12, w, v);
        w = v128.load8x8_s(w3 + tailAt); a03 = macStep(a03, w, u); a13 = macStep(a13, w, v);
      }
      const s0 = i32x4.add(reduceLanes4(a00, a01, a02, a03), b);
      const s1 = i32x4.add(reduceLanes4(a10, a11, a12, a13), b);
      const q0 = fast ? requantizeFast(s0, mult, factors, steps, termsLow, termsHigh, eMax) : requantizeGeneral(s0, requant, c, outZp);
      const q1 = fast ? requantizeFast(s1, mult, factors, steps, termsLow, termsHigh, eMax) : requantizeGeneral(s1, requant, c, outZp);
      const out = narrowLanes8(q0, q1, lo, hi);
      v128.store32_lane(y, out, 0);
      v128.store32_lane(y + outStride, out, 1);
      x0 += inStride << 1;
      y += outStride << 1;
      r += 2;
    } while (r + 2 <= rows);
  }
  if (r < rows) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let k: usize = 0;
    do {
      const u = widenedInput(x0 + k, zp);
      a0 = macStep(a0, v128.load8x8_s(w0 + k), u);
      a1 = macStep(a1, v128.load8x8_s(w1 + k), u);
      a2 = macStep(a2, v128.load8x8_s(w2 + k), u);
      a3 = macStep(a3, v128.load8x8_s(w3 + k), u);
      k += 8;
    } while (k < fullEnd);
    if (hasTail) {
      const u = v128.and(widenedInput(x0 + tailAt, zp), tailMask);
      a0 = macStep(a0, v128.load8x8_s(w0 + tailAt), u);
      a1 = macStep(a1, v128.load8x8_s(w1 + tailAt), u);
      a2 = macStep(a2, v128.load8x8_s(w2 + tailAt), u);
      a3 = macStep(a3, v128.load8x8_s(w3 + tailAt), u);
    }
    const s = i32x4.add(reduceLanes4(a0, a1, a2, a3), b);
    const q = fast ? requantizeFast(s, mult, factors, steps, termsLow, termsHigh, eMax) : requantizeGeneral(s, requant, c, outZp);
    v128.store32_lane(y, narrowLanes4(q, lo, hi), 0);
  }
}

// @ts-ignore: decorator
@inline
export function matmulS8Simd(input: usize, rows: i32, inC: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): void {
  if (inC < 8) {
    matmulS8(input, rows, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax);
  } else {
    matmulS8SimdChannels(input, rows, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax, 0);
  }
}

/** Output channels [c0, outC) only (other channels are left as they are); inC >= 8. */
// @ts-ignore: decorator
@inline
export function matmulS8SimdChannels(input: usize, rows: i32, inC: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32, c0: i32): void {
  const zp = i16x8.splat(<i16>inZp);
  const fullEnd = <usize>(inC & ~7);
  const hasTail = (inC & 7) != 0;
  const tailAt = <usize>(inC - 8);
  const tailMask = tailLaneMask(inC);
  const lo = i8x16.splat(<i8>actMin);
  const hi = i8x16.splat(<i8>actMax);
  const inStride = <usize>inC;
  const outStride = <usize>outC;

  let c = c0;
  for (; c + 4 <= outC; c += 4) {
    // the fast path's constants cost more than they save when there are only a few rows
    if (rows >= FAST_MIN_ROWS && requantFastExponent(requant, c) != 0) {
      channelGroup(input, rows, inStride, zp, filter, c, outStride, bias, requant, output, outZp, lo, hi, true);
    } else {
      channelGroup(input, rows, inStride, zp, filter, c, outStride, bias, requant, output, outZp, lo, hi, false);
    }
  }
  // channels past the last multiple of 4: one channel at a time
  for (; c < outC; c++) {
    const w = filter + <usize>c * inStride;
    let x = input;
    for (let r = 0; r < rows; r++) {
      let a = i32x4.splat(0);
      for (let k: usize = 0; k < fullEnd; k += 8) a = macStep(a, v128.load8x8_s(w + k), widenedInput(x + k, zp));
      if (hasTail) a = macStep(a, v128.load8x8_s(w + tailAt), v128.and(widenedInput(x + tailAt, zp), tailMask));
      const v = outputStageS8(reduceLanes(a), c, bias, requant, outZp, actMin, actMax);
      store<i8>(output + <usize>r * outStride + <usize>c, <i8>v);
      x += inStride;
    }
  }
}
