// Depthwise int8 convolution, depth multiplier 1, SIMD128; bit-exact with depthwise_conv2d_s8.
//   input int8 [inH][inW][C], filter int8 [1][kH][kW][C], bias int32 [C] or 0,
//   requant int32 [C][2], output int8 [outH][outW][C].
// Contract: actMin <= actMax inside [-128, 127] (the SIMD clamp works on int8 lanes).
//
// Vectorised over channels, a group of 8 channels at a time. 3x3 filters: every pixel of the
// group in depthwiseS8Simd3x3 (weights held in locals, padding taps read as the zero point).
// Other filters: each pixel clips its window to the input (no bounds checks in the tap loops)
// and accumulates (x - inZp) * w widened to i32 (extmul); the group's requantization constants
// stay in locals over all pixels. Channels past the last multiple of 8 use the scalar code.
import { depthwiseS8ChannelRange } from './depthwise_s8_channel_range';
import { depthwiseS8Simd3x3, depthwiseS8Simd3x3Fits } from './depthwise_s8_simd_3x3';
import {
  narrowLanes8, requantFastExponent, requantFastFactors, requantFastSteps, requantFastTerms,
  requantizeGroup, requantMultipliers, requantShifts,
} from './output_stage_s8_simd';

export function depthwise_conv2d_s8_simd(input: usize, inH: i32, inW: i32, channels: i32, inZp: i32, filter: usize, kH: i32, kW: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  if (outH <= 0 || outW <= 0) return;
  const fits3x3 = depthwiseS8Simd3x3Fits(inH, inW, kH, kW, strideH, strideW, padTop, padLeft);
  let c = 0;
  for (; c + 8 <= channels; c += 8) {
    if (fits3x3) {
      depthwiseS8Simd3x3(input, inH, inW, channels, c, inZp, filter, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax);
    } else {
      clippedGroup(input, inH, inW, channels, c, inZp, filter, kH, kW, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax);
    }
  }
  if (c < channels) {
    depthwiseS8ChannelRange(input, inH, inW, channels, inZp, filter, kH, kW, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax, c, channels);
  }
}

/** Channels c..c+7 of every pixel, any filter size, windows clipped to the input. */
function clippedGroup(input: usize, inH: i32, inW: i32, channels: i32, c: i32, inZp: i32, filter: usize, kH: i32, kW: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  const zp = i16x8.splat(<i16>inZp);
  const lo = i8x16.splat(<i8>actMin);
  const hi = i8x16.splat(<i8>actMax);
  const pixelStride = <usize>channels;
  const rowStride = <usize>(inW * channels);
  const eMaxA = requantFastExponent(requant, c);
  const eMaxB = requantFastExponent(requant, c + 4);
  const shiftsA = requantShifts(requant, c);
  const shiftsB = requantShifts(requant, c + 4);
  const multA = requantMultipliers(requant, c);
  const multB = requantMultipliers(requant, c + 4);
  const factorsA = requantFastFactors(shiftsA, eMaxA);
  const factorsB = requantFastFactors(shiftsB, eMaxB);
  const stepsA = requantFastSteps(shiftsA, eMaxA);
  const stepsB = requantFastSteps(shiftsB, eMaxB);
  const termsA0 = requantFastTerms(requant, c, eMaxA, outZp);
  const termsA1 = requantFastTerms(requant, c + 2, eMaxA, outZp);
  const termsB0 = requantFastTerms(requant, c + 4, eMaxB, outZp);
  const termsB1 = requantFastTerms(requant, c + 6, eMaxB, outZp);
  const biasA = bias != 0 ? v128.load(bias + (<usize>c << 2)) : i32x4.splat(0);
  const biasB = bias != 0 ? v128.load(bias + (<usize>c << 2), 16) : i32x4.splat(0);
  const x0 = input + <usize>c;
  const w0 = filter + <usize>c;
  let y = output + <usize>c;
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padTop;
    const kyBegin = iy0 < 0 ? -iy0 : 0;
    const kyEnd = inH - iy0 < kH ? inH - iy0 : kH;
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * strideW - padLeft;
      const kxBegin = ix0 < 0 ? -ix0 : 0;
      const kxEnd = inW - ix0 < kW ? inW - ix0 : kW;
      let accA = biasA;
      let accB = biasB;
      for (let ky = kyBegin; ky < kyEnd; ky++) {
        let x = x0 + <usize>(iy0 + ky) * rowStride + <usize>(ix0 + kxBegin) * pixelStride;
        let w = w0 + <usize>(ky * kW + kxBegin) * pixelStride;
        for (let kx = kxBegin; kx < kxEnd; kx++) {
          const xv = i16x8.sub(v128.load8x8_s(x), zp);
          const wv = v128.load8x8_s(w);
          accA = i32x4.add(accA, i32x4.extmul_low_i16x8_s(xv, wv));
          accB = i32x4.add(accB, i32x4.extmul_high_i16x8_s(xv, wv));
          x += pixelStride;
          w += pixelStride;
        }
      }
      const a = requantizeGroup(accA, requant, c, outZp, eMaxA, multA, factorsA, stepsA, termsA0, termsA1);
      const b = requantizeGroup(accB, requant, c + 4, outZp, eMaxB, multB, factorsB, stepsB, termsB0, termsB1);
      v128.store64_lane(y, narrowLanes8(a, b, lo, hi), 0);
      y += pixelStride;
    }
  }
}
