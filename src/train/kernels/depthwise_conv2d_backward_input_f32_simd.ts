// SIMD128 variant of depthwise_conv2d_backward_input_f32: same contract, same summation order,
// same bits. Vectorised over channels, 4 per step; the last channels % 4 are scalar.
import { loadS8x4AsF32 } from './simd_f32';

export function depthwise_conv2d_backward_input_f32_simd(outGrad: usize, outH: i32, outW: i32, channels: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, inGrad: usize, inH: i32, inW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  memory.fill(inGrad, 0, <usize>(inH * inW * channels) << 2);
  depthwise_conv2d_backward_input_f32_acc_simd(outGrad, outH, outW, channels, filter, kH, kW, filterScales, inGrad, inH, inW, strideH, strideW, padTop, padLeft);
}

/** As depthwise_conv2d_backward_input_f32_simd, but adds dL/dx to what inGrad holds (a gradient already there: the input has several consumers). */
export function depthwise_conv2d_backward_input_f32_acc_simd(outGrad: usize, outH: i32, outW: i32, channels: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, inGrad: usize, inH: i32, inW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  const vecC = channels & ~3;
  let dy = outGrad;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const iy0 = oy * strideH - padTop;
      const ix0 = ox * strideW - padLeft;
      for (let ky = 0; ky < kH; ky++) {
        const iy = iy0 + ky;
        if (iy < 0 || iy >= inH) continue;
        for (let kx = 0; kx < kW; kx++) {
          const ix = ix0 + kx;
          if (ix < 0 || ix >= inW) continue;
          const dx = inGrad + (<usize>((iy * inW + ix) * channels) << 2);
          const w = filter + <usize>((ky * kW + kx) * channels);
          let c = 0;
          for (; c < vecC; c += 4) {
            const p = dx + (<usize>c << 2);
            const d = f32x4.mul(v128.load(dy + (<usize>c << 2)), v128.load(filterScales + (<usize>c << 2)));
            v128.store(p, f32x4.add(v128.load(p), f32x4.mul(d, loadS8x4AsF32(w + <usize>c))));
          }
          for (; c < channels; c++) {
            const p = dx + (<usize>c << 2);
            const d = load<f32>(dy + (<usize>c << 2)) * load<f32>(filterScales + (<usize>c << 2));
            store<f32>(p, load<f32>(p) + d * <f32>load<i8>(w + <usize>c));
          }
        }
      }
      dy += <usize>channels << 2;
    }
  }
}
