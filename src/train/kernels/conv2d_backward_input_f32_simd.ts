// SIMD128 variant of conv2d_backward_input_f32: same contract, same summation order, so the
// same bits (each lane does the scalar kernel's multiply and add). Vectorised over input
// channels, 4 per step; the last inC % 4 channels are scalar. Pays from inC >= 4; with
// inC < 4 (a first layer, whose input gradient a training plan never needs) it equals scalar.
import { axpyS8x4 } from './simd_f32';

export function conv2d_backward_input_f32_simd(outGrad: usize, outH: i32, outW: i32, outC: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, inGrad: usize, inH: i32, inW: i32, inC: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  memory.fill(inGrad, 0, <usize>(inH * inW * inC) << 2);
  conv2d_backward_input_f32_acc_simd(outGrad, outH, outW, outC, filter, kH, kW, filterScales, inGrad, inH, inW, inC, strideH, strideW, padTop, padLeft);
}

/** As conv2d_backward_input_f32_simd, but adds dL/dx to what inGrad holds (a gradient already there: the input has several consumers). */
export function conv2d_backward_input_f32_acc_simd(outGrad: usize, outH: i32, outW: i32, outC: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, inGrad: usize, inH: i32, inW: i32, inC: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  const filterSize = kH * kW * inC;
  const vecC = inC & ~3;
  let dy = outGrad;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const iy0 = oy * strideH - padTop;
      const ix0 = ox * strideW - padLeft;
      for (let oc = 0; oc < outC; oc++) {
        const d = load<f32>(dy + (<usize>oc << 2)) * load<f32>(filterScales + (<usize>oc << 2));
        if (d == 0) continue;
        const dv = f32x4.splat(d);
        for (let ky = 0; ky < kH; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) continue;
            const dx = inGrad + (<usize>((iy * inW + ix) * inC) << 2);
            const w = filter + <usize>(oc * filterSize + (ky * kW + kx) * inC);
            let ic = 0;
            for (; ic < vecC; ic += 4) axpyS8x4(dx + (<usize>ic << 2), dv, w + <usize>ic);
            for (; ic < inC; ic++) {
              const p = dx + (<usize>ic << 2);
              store<f32>(p, load<f32>(p) + d * <f32>load<i8>(w + <usize>ic));
            }
          }
        }
      }
      dy += <usize>outC << 2;
    }
  }
}
