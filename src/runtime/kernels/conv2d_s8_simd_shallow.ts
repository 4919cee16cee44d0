// conv2d_s8_simd for inputs with few channels (inC < 8, e.g. the first layer on a 1-channel
// image), where a window row is too short for 8-wide steps. Vectorised over output channels
// instead: lanes = 4 output channels, i32x4.dot_i16x8_s over pairs of taps.
//
// Once per call the filter is repacked into PACKED (static scratch, simd build only):
//   packed[group g][pair p] = i16 [w(c,2p), w(c,2p+1)] for c = 4g..4g+3   (16 bytes)
// where t = (ky*kW + kx)*inC + ic indexes the T = kH*kW*inC taps (odd T: last weight 0,
// channels past outC: weight 0). Per output pixel the window becomes COLUMN, i16 (x - inZp)
// in the same tap order with 0 for taps outside the input; a pair of taps is then one
// load32_splat. Shapes whose packed filter does not fit PACKED_BYTES use the scalar kernel.
import { conv2d_s8 } from './conv2d_s8';
import { outputStageS8 } from './output_stage_s8';
import {
  finishLanes, requantizeLanes, requantLeftFactors, requantMultipliers, requantNoRightMask,
  requantRightFactors, requantShifts, storeLanesS8,
} from './output_stage_s8_simd';

// @ts-ignore: decorator
@inline const PACKED_BYTES: i32 = 4096;
// @ts-ignore: decorator
@inline const COLUMN_BYTES: i32 = 2 * (5 * 5 * 7 + 1);
const PACKED: usize = memory.data(PACKED_BYTES, 16);
const COLUMN: usize = memory.data(COLUMN_BYTES, 16);

/** Whether the shallow path takes this shape. */
// @ts-ignore: decorator
@inline
export function conv2dS8SimdShallowFits(kH: i32, kW: i32, inC: i32, outC: i32): bool {
  const taps = kH * kW * inC;
  return inC < 8 && 2 * (taps + 1) <= COLUMN_BYTES && ((taps + 1) >> 1) * ((outC + 3) >> 2) * 16 <= PACKED_BYTES;
}

function packFilter(filter: usize, taps: i32, outC: i32): void {
  const pairs = (taps + 1) >> 1;
  const groups = (outC + 3) >> 2;
  let p = PACKED;
  for (let g = 0; g < groups; g++) {
    for (let q = 0; q < pairs; q++) {
      for (let j = 0; j < 4; j++) {
        const c = g * 4 + j;
        const t = 2 * q;
        const w = filter + <usize>(c * taps);
        store<i16>(p, c < outC ? <i16>load<i8>(w + <usize>t) : 0);
        store<i16>(p, c < outC && t + 1 < taps ? <i16>load<i8>(w + <usize>t, 1) : 0, 2);
        p += 4;
      }
    }
  }
}

// @ts-ignore: decorator
@inline
export function conv2dS8SimdShallow(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, filter: usize, kH: i32, kW: i32, outC: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  const taps = kH * kW * inC;
  const pairs = (taps + 1) >> 1;
  const groups = (outC + 3) >> 2;
  packFilter(filter, taps, outC);
  store<i16>(COLUMN + (<usize>taps << 1), 0); // the odd tap's partner
  const zpOut = i32x4.splat(outZp);
  const lo = i32x4.splat(actMin);
  const hi = i32x4.splat(actMax);
  const c4End = outC & ~3;
  let y = output;
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padTop;
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * strideW - padLeft;
      // the window as (x - inZp) in tap order, 0 outside the input
      let col = COLUMN;
      for (let ky = 0; ky < kH; ky++) {
        const iy = iy0 + ky;
        for (let kx = 0; kx < kW; kx++) {
          const ix = ix0 + kx;
          if (iy >= 0 && iy < inH && ix >= 0 && ix < inW) {
            const x = input + <usize>((iy * inW + ix) * inC);
            for (let ic = 0; ic < inC; ic++) store<i16>(col + (<usize>ic << 1), <i16>(<i32>load<i8>(x + <usize>ic) - inZp));
          } else {
            for (let ic = 0; ic < inC; ic++) store<i16>(col + (<usize>ic << 1), 0);
          }
          col += <usize>(inC << 1);
        }
      }
      let w = PACKED;
      for (let g = 0; g < groups; g++) {
        const c = g << 2;
        let acc = i32x4.splat(0);
        for (let q = 0; q < pairs; q++) {
          acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(w), v128.load32_splat(COLUMN + (<usize>q << 2))));
          w += 16;
        }
        if (c < c4End) {
          // constants rebuilt per pixel: cheap next to the loads above for these shapes
          const shifts = requantShifts(requant, c);
          const b = bias != 0 ? v128.load(bias + (<usize>c << 2)) : i32x4.splat(0);
          const r = requantizeLanes(i32x4.add(acc, b), requantMultipliers(requant, c), requantLeftFactors(shifts), requantRightFactors(shifts), requantNoRightMask(shifts));
          storeLanesS8(y + <usize>c, finishLanes(r, zpOut, lo, hi));
        } else {
          for (let j = 0; j < outC - c; j++) {
            const a = j == 0 ? i32x4.extract_lane(acc, 0) : j == 1 ? i32x4.extract_lane(acc, 1) : i32x4.extract_lane(acc, 2);
            store<i8>(y + <usize>(c + j), <i8>outputStageS8(a, c + j, bias, requant, outZp, actMin, actMax));
          }
        }
      }
      y += <usize>outC;
    }
  }
}

