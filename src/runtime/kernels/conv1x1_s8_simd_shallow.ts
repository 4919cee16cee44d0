// conv1x1_s8_simd for 8 or 16 input channels, where matmul_s8_simd's per-output reduction of
// 8-wide dot products would cost more than the products. Vectorised over output channels
// instead, 8 per pass (groups A = c..c+3 and B = c+4..c+7), with the pass's filter held in
// vector locals as interleaved pairs:
//   wA[p] lane j = i16 [w(c + j, 2p), w(c + j, 2p + 1)]   (wB: channel c + 4 + j)
// Per pixel the inputs are widened once, input pair p is splat to all 4 i32 lanes, and one
// i32x4.dot_i16x8_s against wA[p] adds both products for 4 channels: no reduction, no shuffles
// per output. The raw input is used (sum w * (x - inZp) = sum w * x - inZp * sum w); the second
// term joins the bias once per pass, so |sum w * x| <= inC * 127 * 128 bounds the data part of
// every accumulator and the requantization can skip its clamp (output_stage_s8_simd_bounded.ts).
// No scratch memory. Channels past the last multiple of 8 are left to the caller.
import { boundedBias, boundedFastExponent } from './output_stage_s8_simd_bounded';
import {
  narrowLanes8, requantFastFactors, requantFastSteps, requantFastTerms, requantizeFastUnclamped,
  requantizeGeneral, requantMultipliers, requantShifts,
} from './output_stage_s8_simd';

/** Whether the shallow path takes this shape. */
// @ts-ignore: decorator
@inline
export function conv1x1S8SimdShallowFits(rows: i32, inC: i32, outC: i32): bool {
  return (inC == 8 || inC == 16) && outC >= 8 && rows >= 1;
}

/** Interleaved weight pairs (2p, 2p + 1) of channels c..c+3 (see the header). */
// @ts-ignore: decorator
@inline
function weightPairs(filter: usize, inC: i32, c: i32, p: i32): v128 {
  const w = filter + <usize>(c * inC + 2 * p);
  const s = <usize>inC;
  let pairs = i32x4.splat(<i32>load<u16>(w));
  pairs = i32x4.replace_lane(pairs, 1, <i32>load<u16>(w + s));
  pairs = i32x4.replace_lane(pairs, 2, <i32>load<u16>(w + 2 * s));
  pairs = i32x4.replace_lane(pairs, 3, <i32>load<u16>(w + 3 * s));
  // bytes [lo, hi, 0, 0] per lane -> i16 [lo, hi] sign-extended
  return i16x8.extend_low_i8x16_s(i8x16.shuffle(pairs, pairs, 0, 1, 4, 5, 8, 9, 12, 13, 0, 0, 0, 0, 0, 0, 0, 0));
}

// @ts-ignore: decorator
@inline
function pairDot(acc: v128, x: v128, pair: i32, w: v128): v128 {
  const s = pair == 0 ? i32x4.shuffle(x, x, 0, 0, 0, 0) : pair == 1 ? i32x4.shuffle(x, x, 1, 1, 1, 1) : pair == 2 ? i32x4.shuffle(x, x, 2, 2, 2, 2) : i32x4.shuffle(x, x, 3, 3, 3, 3);
  return i32x4.add(acc, i32x4.dot_i16x8_s(s, w));
}

/** inZp * (w0 + w1) per lane of one weight-pair vector. */
// @ts-ignore: decorator
@inline
function zpDot(w: v128, zp: v128): v128 {
  return i32x4.dot_i16x8_s(w, zp);
}

/** Output channels [0, 8 * floor(outC / 8)) of every pixel; returns that channel count. */
export function conv1x1S8SimdShallow(input: usize, rows: i32, inC: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): i32 {
  let c = 0;
  for (; c + 8 <= outC; c += 8) {
    if (inC == 8) shallowPass(input, rows, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax, c, false);
    else shallowPass(input, rows, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax, c, true);
  }
  return c;
}

/**
 * Output channels c..c+7 of every pixel. `wide` (constant at each call site): inC 16, else 8.
 * One of two copies of the pixel loop runs: bounded fast requantization for both groups, or the
 * general one (a branch inside the loop would keep V8 from hoisting the constants).
 */
// @ts-ignore: decorator
@inline
function shallowPass(input: usize, rows: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32, c: i32, wide: bool): void {
  const inC = wide ? 16 : 8;
  const zero = i32x4.splat(0);
  const wA0 = weightPairs(filter, inC, c, 0), wA1 = weightPairs(filter, inC, c, 1);
  const wA2 = weightPairs(filter, inC, c, 2), wA3 = weightPairs(filter, inC, c, 3);
  const wB0 = weightPairs(filter, inC, c + 4, 0), wB1 = weightPairs(filter, inC, c + 4, 1);
  const wB2 = weightPairs(filter, inC, c + 4, 2), wB3 = weightPairs(filter, inC, c + 4, 3);
  const wA4 = wide ? weightPairs(filter, inC, c, 4) : zero, wA5 = wide ? weightPairs(filter, inC, c, 5) : zero;
  const wA6 = wide ? weightPairs(filter, inC, c, 6) : zero, wA7 = wide ? weightPairs(filter, inC, c, 7) : zero;
  const wB4 = wide ? weightPairs(filter, inC, c + 4, 4) : zero, wB5 = wide ? weightPairs(filter, inC, c + 4, 5) : zero;
  const wB6 = wide ? weightPairs(filter, inC, c + 4, 6) : zero, wB7 = wide ? weightPairs(filter, inC, c + 4, 7) : zero;
  const z = i16x8.splat(<i16>inZp);
  let zA = i32x4.add(i32x4.add(zpDot(wA0, z), zpDot(wA1, z)), i32x4.add(zpDot(wA2, z), zpDot(wA3, z)));
  let zB = i32x4.add(i32x4.add(zpDot(wB0, z), zpDot(wB1, z)), i32x4.add(zpDot(wB2, z), zpDot(wB3, z)));
  if (wide) {
    zA = i32x4.add(zA, i32x4.add(i32x4.add(zpDot(wA4, z), zpDot(wA5, z)), i32x4.add(zpDot(wA6, z), zpDot(wA7, z))));
    zB = i32x4.add(zB, i32x4.add(i32x4.add(zpDot(wB4, z), zpDot(wB5, z)), i32x4.add(zpDot(wB6, z), zpDot(wB7, z))));
  }
  const dataBound = inC * 127 * 128;
  const eMaxA = boundedFastExponent(requant, bias, c, zA, dataBound);
  const eMaxB = boundedFastExponent(requant, bias, c + 4, zB, dataBound);
  const lo = i8x16.splat(<i8>actMin), hi = i8x16.splat(<i8>actMax);
  const inStride = <usize>inC, outStride = <usize>outC;
  let x = input;
  let y = output + <usize>c;
  const end = input + <usize>rows * inStride;
  if (eMaxA != 0 && eMaxB != 0) {
    const shiftsA = requantShifts(requant, c), shiftsB = requantShifts(requant, c + 4);
    const multA = requantMultipliers(requant, c), multB = requantMultipliers(requant, c + 4);
    const factorsA = requantFastFactors(shiftsA, eMaxA), factorsB = requantFastFactors(shiftsB, eMaxB);
    const stepsA = requantFastSteps(shiftsA, eMaxA), stepsB = requantFastSteps(shiftsB, eMaxB);
    const termsA0 = requantFastTerms(requant, c, eMaxA, outZp), termsA1 = requantFastTerms(requant, c + 2, eMaxA, outZp);
    const termsB0 = requantFastTerms(requant, c + 4, eMaxB, outZp), termsB1 = requantFastTerms(requant, c + 6, eMaxB, outZp);
    const biasA = boundedBias(bias, requant, c, zA, dataBound);
    const biasB = boundedBias(bias, requant, c + 4, zB, dataBound);
    do { // rows >= 1; a do-while so V8 hoists the constants above out of the loop
      const x0 = v128.load8x8_s(x);
      let a = pairDot(pairDot(pairDot(pairDot(biasA, x0, 0, wA0), x0, 1, wA1), x0, 2, wA2), x0, 3, wA3);
      let b = pairDot(pairDot(pairDot(pairDot(biasB, x0, 0, wB0), x0, 1, wB1), x0, 2, wB2), x0, 3, wB3);
      if (wide) {
        const x1 = v128.load8x8_s(x, 8);
        a = pairDot(pairDot(pairDot(pairDot(a, x1, 0, wA4), x1, 1, wA5), x1, 2, wA6), x1, 3, wA7);
        b = pairDot(pairDot(pairDot(pairDot(b, x1, 0, wB4), x1, 1, wB5), x1, 2, wB6), x1, 3, wB7);
      }
      const qa = requantizeFastUnclamped(a, multA, factorsA, stepsA, termsA0, termsA1, eMaxA);
      const qb = requantizeFastUnclamped(b, multB, factorsB, stepsB, termsB0, termsB1, eMaxB);
      v128.store64_lane(y, narrowLanes8(qa, qb, lo, hi), 0);
      x += inStride;
      y += outStride;
    } while (x < end);
  } else {
    // int32 wrap-around like the scalar kernel: bias - inZp * sum w + sum w * x
    const biasA = i32x4.sub(bias != 0 ? v128.load(bias + (<usize>c << 2)) : zero, zA);
    const biasB = i32x4.sub(bias != 0 ? v128.load(bias + (<usize>c << 2), 16) : zero, zB);
    do {
      const x0 = v128.load8x8_s(x);
      let a = pairDot(pairDot(pairDot(pairDot(biasA, x0, 0, wA0), x0, 1, wA1), x0, 2, wA2), x0, 3, wA3);
      let b = pairDot(pairDot(pairDot(pairDot(biasB, x0, 0, wB0), x0, 1, wB1), x0, 2, wB2), x0, 3, wB3);
      if (wide) {
        const x1 = v128.load8x8_s(x, 8);
        a = pairDot(pairDot(pairDot(pairDot(a, x1, 0, wA4), x1, 1, wA5), x1, 2, wA6), x1, 3, wA7);
        b = pairDot(pairDot(pairDot(pairDot(b, x1, 0, wB4), x1, 1, wB5), x1, 2, wB6), x1, 3, wB7);
      }
      const qa = requantizeGeneral(a, requant, c, outZp);
      const qb = requantizeGeneral(b, requant, c + 4, outZp);
      v128.store64_lane(y, narrowLanes8(qa, qb, lo, hi), 0);
      x += inStride;
      y += outStride;
    } while (x < end);
  }
}
