// conv2d_s8_simd for inC >= 8. NHWC makes the part of a window row that lies inside the input
// one contiguous run of (kxEnd - kxBegin) * inC bytes, and the filter row [ky][kxBegin..][..]
// one contiguous run of the same length: a dot product, done 8 values per step with
// load8x8_s + dot_i16x8_s, 4 output channels per widened input (as matmul_s8_simd). A run
// whose length is not a multiple of 8 ends with an overlapping step at its last 8 values,
// input lanes already counted masked off. Output channel groups are the outer loop so the
// requantization constants stay in locals; channels past the last multiple of 4 go one by one.
import { outputStageS8 } from './output_stage_s8';
import {
  finishLanes, reduceLanes, reduceLanes4, requantizeLanes, requantLeftFactors, requantMultipliers,
  requantNoRightMask, requantRightFactors, requantShifts, storeLanesS8,
} from './output_stage_s8_simd';

/** Lanes of the overlapping last step not covered by the full steps (none if length % 8 == 0). */
// @ts-ignore: decorator
@inline
function runTailMask(length: i32): v128 {
  return i16x8.ge_s(i16x8(0, 1, 2, 3, 4, 5, 6, 7), i16x8.splat(<i16>(8 - (length & 7))));
}

// @ts-ignore: decorator
@inline
function macStep(acc: v128, w: usize, x: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(v128.load8x8_s(w), x));
}

// @ts-ignore: decorator
@inline
export function conv2dS8SimdDeep(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, filter: usize, kH: i32, kW: i32, outC: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  const zp = i16x8.splat(<i16>inZp);
  const zpOut = i32x4.splat(outZp);
  const lo = i32x4.splat(actMin);
  const hi = i32x4.splat(actMax);
  const filterSize = <usize>(kH * kW * inC);
  const rowStride = <usize>(inW * inC);
  const kRowSize = <usize>(kW * inC);
  const c4End = outC & ~3;
  for (let c = 0; c < outC; c += 4) {
    const group = c < c4End;
    // constants of a full group (unused by the 1-channel tail)
    const shifts = group ? requantShifts(requant, c) : i32x4.splat(0);
    const mult = group ? requantMultipliers(requant, c) : i32x4.splat(0);
    const left = requantLeftFactors(shifts);
    const right = requantRightFactors(shifts);
    const noRight = requantNoRightMask(shifts);
    const b = group && bias != 0 ? v128.load(bias + (<usize>c << 2)) : i32x4.splat(0);
    const lanes = group ? 4 : outC - c;
    for (let j = 0; j < lanes; j += group ? 4 : 1) {
      const w0 = filter + <usize>(c + j) * filterSize;
      const w1 = w0 + filterSize;
      const w2 = w1 + filterSize;
      const w3 = w2 + filterSize;
      let y = output + <usize>(c + j);
      for (let oy = 0; oy < outH; oy++) {
        const iy0 = oy * strideH - padTop;
        const kyBegin = iy0 < 0 ? -iy0 : 0;
        const kyEnd = inH - iy0 < kH ? inH - iy0 : kH;
        for (let ox = 0; ox < outW; ox++) {
          const ix0 = ox * strideW - padLeft;
          const kxBegin = ix0 < 0 ? -ix0 : 0;
          const kxEnd = inW - ix0 < kW ? inW - ix0 : kW;
          const run = (kxEnd - kxBegin) * inC; // >= 8 when not empty
          const fullEnd = <usize>(run & ~7);
          const tailAt = <usize>(run - 8);
          const hasTail = (run & 7) != 0;
          const tailMask = runTailMask(run);
          let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
          if (run > 0) {
            for (let ky = kyBegin; ky < kyEnd; ky++) {
              const x = input + <usize>(iy0 + ky) * rowStride + <usize>((ix0 + kxBegin) * inC);
              const f = <usize>ky * kRowSize + <usize>(kxBegin * inC);
              if (group) {
                for (let k: usize = 0; k < fullEnd; k += 8) {
                  const u = i16x8.sub(v128.load8x8_s(x + k), zp);
                  a0 = macStep(a0, w0 + f + k, u);
                  a1 = macStep(a1, w1 + f + k, u);
                  a2 = macStep(a2, w2 + f + k, u);
                  a3 = macStep(a3, w3 + f + k, u);
                }
                if (hasTail) {
                  const u = v128.and(i16x8.sub(v128.load8x8_s(x + tailAt), zp), tailMask);
                  a0 = macStep(a0, w0 + f + tailAt, u);
                  a1 = macStep(a1, w1 + f + tailAt, u);
                  a2 = macStep(a2, w2 + f + tailAt, u);
                  a3 = macStep(a3, w3 + f + tailAt, u);
                }
              } else {
                for (let k: usize = 0; k < fullEnd; k += 8) a0 = macStep(a0, w0 + f + k, i16x8.sub(v128.load8x8_s(x + k), zp));
                if (hasTail) a0 = macStep(a0, w0 + f + tailAt, v128.and(i16x8.sub(v128.load8x8_s(x + tailAt), zp), tailMask));
              }
            }
          }
          if (group) {
            const s = i32x4.add(reduceLanes4(a0, a1, a2, a3), b);
            storeLanesS8(y, finishLanes(requantizeLanes(s, mult, left, right, noRight), zpOut, lo, hi));
          } else {
            store<i8>(y, <i8>outputStageS8(reduceLanes(a0), c + j, bias, requant, outZp, actMin, actMax));
          }
          y += <usize>outC;
        }
      }
    }
  }
}
