// depthwise_conv2d_s8_simd for 3x3 filters, one group of 8 channels, every output pixel.
//
// Taps go in pairs (t, t+1) in the order t = ky*3 + kx, the ninth with a zero partner.
// The i16 inputs of a pair are interleaved per channel, [x_t c0, x_t+1 c0, x_t c1, ...]
// (unpack low = channels 0..3, high = 4..7), so one i32x4.dot_i16x8_s against the
// equally interleaved weights adds both taps' products for 4 channels, widened and exact.
// The raw input is used: sum w * (x - inZp) = sum w * x - inZp * sum w, and the second term
// joins the bias once per group. The 10 interleaved weight vectors stay in locals.
// Output pixels [oyBegin, oyEnd) x [oxBegin, oxEnd) have their window inside the input and load
// their 9 taps directly; for the others a tap outside the input reads as inZp (the padding
// value), which the bias term cancels, so both kinds share the products and the output stage.
import {
  narrowLanes8, requantFastExponent, requantFastFactors, requantFastSteps, requantFastTerms,
  requantizeFast, requantizeGroup, requantMultipliers, requantShifts,
} from './output_stage_s8_simd';

// @ts-ignore: decorator
@inline
function interleaveLow(a: v128, b: v128): v128 {
  return i16x8.shuffle(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
}

// @ts-ignore: decorator
@inline
function interleaveHigh(a: v128, b: v128): v128 {
  return i16x8.shuffle(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
}

/** Whether depthwise_conv2d_s8_simd can use depthwiseS8Simd3x3 for this geometry. */
// @ts-ignore: decorator
@inline
export function depthwiseS8Simd3x3Fits(inH: i32, inW: i32, kH: i32, kW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): bool {
  return kH == 3 && kW == 3 && inH >= 3 && inW >= 3 && padTop >= 0 && padLeft >= 0 && strideH >= 1 && strideW >= 1;
}

/** Channels c..c+7 of every output pixel (depthwiseS8Simd3x3Fits holds, outH, outW >= 1). */
export function depthwiseS8Simd3x3(input: usize, inH: i32, inW: i32, channels: i32, c: i32, inZp: i32, filter: usize, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  // output pixels [oyBegin, oyEnd) x [oxBegin, oxEnd) have their window inside the input
  const oyBegin = min(outH, (padTop + strideH - 1) / strideH);
  const oyEnd = max(oyBegin, min(outH, (inH - 3 + padTop) / strideH + 1));
  const oxBegin = min(outW, (padLeft + strideW - 1) / strideW);
  const oxEnd = max(oxBegin, min(outW, (inW - 3 + padLeft) / strideW + 1));
  if (requantFastExponent(requant, c) != 0 && requantFastExponent(requant, c + 4) != 0) {
    block3x3<FastRequant>(input, inH, inW, channels, c, inZp, filter, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, oyBegin, oyEnd, oxBegin, oxEnd, actMin, actMax);
  } else {
    block3x3<GroupRequant>(input, inH, inW, channels, c, inZp, filter, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, oyBegin, oyEnd, oxBegin, oxEnd, actMin, actMax);
  }
}

/** Tap (ky, kx) of the window at (iy0, ix0) as raw i16 lanes, inZp when outside the input. */
// @ts-ignore: decorator
@inline
function tapOrPadding(r0: usize, rs: usize, ps: usize, iy0: i32, ix0: i32, inH: i32, inW: i32, ky: i32, kx: i32, padding: v128): v128 {
  const iy = iy0 + ky, ix = ix0 + kx;
  return iy >= 0 && iy < inH && ix >= 0 && ix < inW ? v128.load8x8_s(r0 + <usize>ky * rs + <usize>kx * ps) : padding;
}

/**
 * block3x3's requantization path, as its type argument: each instantiation is its own function
 * with the other path removed at compile time. (A `fast: bool` argument of an inlined function
 * was not enough: the optimizer merged the two copies back into one loop that tested it per
 * pixel and rebuilt the general path's constants there.)
 */
type FastRequant = u8;
type GroupRequant = u16;

function block3x3<Path>(input: usize, inH: i32, inW: i32, channels: i32, c: i32, inZp: i32, filter: usize, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, oyBegin: i32, oyEnd: i32, oxBegin: i32, oxEnd: i32, actMin: i32, actMax: i32): void {
  const fast = sizeof<Path>() == sizeof<FastRequant>();
  const ps = <usize>channels; // pixel stride
  const rs = <usize>(inW * channels); // row stride
  const w = filter + <usize>c;
  const t0 = v128.load8x8_s(w), t1 = v128.load8x8_s(w + ps), t2 = v128.load8x8_s(w + 2 * ps);
  const t3 = v128.load8x8_s(w + 3 * ps), t4 = v128.load8x8_s(w + 4 * ps), t5 = v128.load8x8_s(w + 5 * ps);
  const t6 = v128.load8x8_s(w + 6 * ps), t7 = v128.load8x8_s(w + 7 * ps), t8 = v128.load8x8_s(w + 8 * ps);
  const zero = i16x8.splat(0);
  const w01A = interleaveLow(t0, t1), w01B = interleaveHigh(t0, t1);
  const w23A = interleaveLow(t2, t3), w23B = interleaveHigh(t2, t3);
  const w45A = interleaveLow(t4, t5), w45B = interleaveHigh(t4, t5);
  const w67A = interleaveLow(t6, t7), w67B = interleaveHigh(t6, t7);
  const w8A = interleaveLow(t8, zero), w8B = interleaveHigh(t8, zero);

  // bias - inZp * sum of the 9 weights (int32 wrap-around, as the scalar kernel's sums)
  const z = i16x8.splat(<i16>inZp);
  let biasA = bias != 0 ? v128.load(bias + (<usize>c << 2)) : i32x4.splat(0);
  let biasB = bias != 0 ? v128.load(bias + (<usize>c << 2), 16) : i32x4.splat(0);
  biasA = i32x4.sub(biasA, i32x4.add(i32x4.add(i32x4.dot_i16x8_s(w01A, z), i32x4.dot_i16x8_s(w23A, z)), i32x4.add(i32x4.add(i32x4.dot_i16x8_s(w45A, z), i32x4.dot_i16x8_s(w67A, z)), i32x4.dot_i16x8_s(w8A, z))));
  biasB = i32x4.sub(biasB, i32x4.add(i32x4.add(i32x4.dot_i16x8_s(w01B, z), i32x4.dot_i16x8_s(w23B, z)), i32x4.add(i32x4.add(i32x4.dot_i16x8_s(w45B, z), i32x4.dot_i16x8_s(w67B, z)), i32x4.dot_i16x8_s(w8B, z))));

  const eMaxA = requantFastExponent(requant, c), eMaxB = requantFastExponent(requant, c + 4);
  const shiftsA = requantShifts(requant, c), shiftsB = requantShifts(requant, c + 4);
  const multA = requantMultipliers(requant, c), multB = requantMultipliers(requant, c + 4);
  const factorsA = requantFastFactors(shiftsA, eMaxA), factorsB = requantFastFactors(shiftsB, eMaxB);
  const stepsA = requantFastSteps(shiftsA, eMaxA), stepsB = requantFastSteps(shiftsB, eMaxB);
  const termsA0 = requantFastTerms(requant, c, eMaxA, outZp), termsA1 = requantFastTerms(requant, c + 2, eMaxA, outZp);
  const termsB0 = requantFastTerms(requant, c + 4, eMaxB, outZp), termsB1 = requantFastTerms(requant, c + 6, eMaxB, outZp);
  const lo = i8x16.splat(<i8>actMin), hi = i8x16.splat(<i8>actMax);

  // do-while loops (outH, outW >= 1): V8 hoists loop-invariant vector values out of a loop only
  // from blocks that every iteration runs, which in a for loop's body is not the case, so the
  // constants above would be rebuilt per pixel.
  let y = output + <usize>c;
  let oy = 0;
  do {
    const iy0 = oy * strideH - padTop;
    const rowInside = oy >= oyBegin && oy < oyEnd;
    let ox = 0;
    do {
      const ix0 = ox * strideW - padLeft;
      const r0 = input + <usize>c + <usize>iy0 * rs + <usize>ix0 * ps; // wraps when outside; read only inside
      let x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, x6: v128, x7: v128, x8: v128;
      if (rowInside && ox >= oxBegin && ox < oxEnd) {
        const r1 = r0 + rs, r2 = r1 + rs;
        x0 = v128.load8x8_s(r0); x1 = v128.load8x8_s(r0 + ps); x2 = v128.load8x8_s(r0 + 2 * ps);
        x3 = v128.load8x8_s(r1); x4 = v128.load8x8_s(r1 + ps); x5 = v128.load8x8_s(r1 + 2 * ps);
        x6 = v128.load8x8_s(r2); x7 = v128.load8x8_s(r2 + ps); x8 = v128.load8x8_s(r2 + 2 * ps);
      } else {
        x0 = tapOrPadding(r0, rs, ps, iy0, ix0, inH, inW, 0, 0, z); x1 = tapOrPadding(r0, rs, ps, iy0, ix0, inH, inW, 0, 1, z);
        x2 = tapOrPadding(r0, rs, ps, iy0, ix0, inH, inW, 0, 2, z); x3 = tapOrPadding(r0, rs, ps, iy0, ix0, inH, inW, 1, 0, z);
        x4 = tapOrPadding(r0, rs, ps, iy0, ix0, inH, inW, 1, 1, z); x5 = tapOrPadding(r0, rs, ps, iy0, ix0, inH, inW, 1, 2, z);
        x6 = tapOrPadding(r0, rs, ps, iy0, ix0, inH, inW, 2, 0, z); x7 = tapOrPadding(r0, rs, ps, iy0, ix0, inH, inW, 2, 1, z);
        x8 = tapOrPadding(r0, rs, ps, iy0, ix0, inH, inW, 2, 2, z);
      }
      let a = i32x4.add(biasA, i32x4.dot_i16x8_s(interleaveLow(x0, x1), w01A));
      let b = i32x4.add(biasB, i32x4.dot_i16x8_s(interleaveHigh(x0, x1), w01B));
      a = i32x4.add(a, i32x4.dot_i16x8_s(interleaveLow(x2, x3), w23A));
      b = i32x4.add(b, i32x4.dot_i16x8_s(interleaveHigh(x2, x3), w23B));
      a = i32x4.add(a, i32x4.dot_i16x8_s(interleaveLow(x4, x5), w45A));
      b = i32x4.add(b, i32x4.dot_i16x8_s(interleaveHigh(x4, x5), w45B));
      a = i32x4.add(a, i32x4.dot_i16x8_s(interleaveLow(x6, x7), w67A));
      b = i32x4.add(b, i32x4.dot_i16x8_s(interleaveHigh(x6, x7), w67B));
      a = i32x4.add(a, i32x4.dot_i16x8_s(interleaveLow(x8, zero), w8A));
      b = i32x4.add(b, i32x4.dot_i16x8_s(interleaveHigh(x8, zero), w8B));
      const qa = fast ? requantizeFast(a, multA, factorsA, stepsA, termsA0, termsA1, eMaxA) : requantizeGroup(a, requant, c, outZp, eMaxA, multA, factorsA, stepsA, termsA0, termsA1);
      const qb = fast ? requantizeFast(b, multB, factorsB, stepsB, termsB0, termsB1, eMaxB) : requantizeGroup(b, requant, c + 4, outZp, eMaxB, multB, factorsB, stepsB, termsB0, termsB1);
      v128.store64_lane(y, narrowLanes8(qa, qb, lo, hi), 0);
      y += ps;
    } while (++ox < outW);
  } while (++oy < outH);
}
