// Input gradient of the int8 2-D convolution, in real values, scalar reference. NHWC, batch 1.
//
//   outGrad      f32 [outH][outW][outC]  dL/dy (pre-clamp: apply the ReLU mask first), read
//   filter       int8 [outC][kH][kW][inC] the forward weights W_q, read
//   filterScales f32 [outC]               s_w[c]: the real weight is s_w[c] * W_q
//   inGrad       f32 [inH][inW][inC]      dL/dx, overwritten (must not overlap outGrad)
// Geometry as the forward record: output (oy, ox) tap (ky, kx) reads input
// (oy*strideH - padTop + ky, ox*strideW - padLeft + kx); padding taps carry no gradient.
//
//   inGrad[iy][ix][ic] = sum over (oy, ox, oc) reading it of (outGrad[oy][ox][oc] * s_w[oc]) * W_q[oc][ky][kx][ic]
//
// Summation order (the SIMD variant keeps it, so both agree bit for bit): output pixels
// row-major, then oc, then ky, kx; outputs whose scaled gradient is 0 are skipped.

export function conv2d_backward_input_f32(outGrad: usize, outH: i32, outW: i32, outC: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, inGrad: usize, inH: i32, inW: i32, inC: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  memory.fill(inGrad, 0, <usize>(inH * inW * inC) << 2);
  conv2d_backward_input_f32_acc(outGrad, outH, outW, outC, filter, kH, kW, filterScales, inGrad, inH, inW, inC, strideH, strideW, padTop, padLeft);
}

/** As conv2d_backward_input_f32, but adds dL/dx to what inGrad holds (a gradient already there: the input has several consumers). */
export function conv2d_backward_input_f32_acc(outGrad: usize, outH: i32, outW: i32, outC: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, inGrad: usize, inH: i32, inW: i32, inC: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  const filterSize = kH * kW * inC;
  let dy = outGrad;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const iy0 = oy * strideH - padTop;
      const ix0 = ox * strideW - padLeft;
      for (let oc = 0; oc < outC; oc++) {
        const d = load<f32>(dy + (<usize>oc << 2)) * load<f32>(filterScales + (<usize>oc << 2));
        if (d == 0) continue;
        for (let ky = 0; ky < kH; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) continue;
            const dx = inGrad + (<usize>((iy * inW + ix) * inC) << 2);
            const w = filter + <usize>(oc * filterSize + (ky * kW + kx) * inC);
            for (let ic = 0; ic < inC; ic++) {
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
