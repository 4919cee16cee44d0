// Depthwise int8 convolution, depth multiplier 1, SIMD128; bit-exact with depthwise_conv2d_s8.
//   input int8 [inH][inW][C], filter int8 [1][kH][kW][C], bias int32 [C] or 0,
//   requant int32 [C][2], output int8 [outH][outW][C].
//
// Vectorised over channels: a group of 8 channels is one i16x8 of (x - inZp) per tap, times
// the tap's weights, widened to two i32x4 accumulators (extmul). Channel groups are the outer
// loop so the group's requantization constants stay in locals over all pixels. Each pixel
// first clips its window to the input, so the tap loops have no bounds checks and padding
// costs nothing. Channels past the last multiple of 8 use the scalar code.
import { depthwiseS8ChannelRange } from './depthwise_s8_channel_range';
import {
  finishLanes, requantizeLanes, requantLeftFactors, requantMultipliers, requantNoRightMask,
  requantRightFactors, requantShifts,
} from './output_stage_s8_simd';

export function depthwise_conv2d_s8_simd(input: usize, inH: i32, inW: i32, channels: i32, inZp: i32, filter: usize, kH: i32, kW: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  const zp = i16x8.splat(<i16>inZp);
  const zpOut = i32x4.splat(outZp);
  const lo = i32x4.splat(actMin);
  const hi = i32x4.splat(actMax);
  const pixelStride = <usize>channels;
  const rowStride = <usize>(inW * channels);
  let c = 0;
  for (; c + 8 <= channels; c += 8) {
    const shiftsA = requantShifts(requant, c);
    const multA = requantMultipliers(requant, c);
    const leftA = requantLeftFactors(shiftsA);
    const rightA = requantRightFactors(shiftsA);
    const noRightA = requantNoRightMask(shiftsA);
    const shiftsB = requantShifts(requant, c + 4);
    const multB = requantMultipliers(requant, c + 4);
    const leftB = requantLeftFactors(shiftsB);
    const rightB = requantRightFactors(shiftsB);
    const noRightB = requantNoRightMask(shiftsB);
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
        const a = finishLanes(requantizeLanes(accA, multA, leftA, rightA, noRightA), zpOut, lo, hi);
        const b = finishLanes(requantizeLanes(accB, multB, leftB, rightB, noRightB), zpOut, lo, hi);
        const h = i16x8.narrow_i32x4_s(a, b);
        v128.store64_lane(y, i8x16.narrow_i16x8_s(h, h), 0);
        y += pixelStride;
      }
    }
  }
  if (c < channels) {
    depthwiseS8ChannelRange(input, inH, inW, channels, inZp, filter, kH, kW, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax, c, channels);
  }
}
