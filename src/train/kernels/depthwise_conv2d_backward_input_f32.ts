// Input gradient of the int8 depthwise convolution (depth multiplier 1), in real values,
// scalar reference. NHWC, batch 1.
//
//   outGrad      f32 [outH][outW][channels] dL/dy (pre-clamp: apply the ReLU mask first), read
//   filter       int8 [1][kH][kW][channels]  the forward weights W_q, read
//   filterScales f32 [channels]              s_w[c]
//   inGrad       f32 [inH][inW][channels]    dL/dx, overwritten (must not overlap outGrad)
// Geometry as the forward record (see conv2d_backward_input_f32).
//
//   inGrad[iy][ix][c] = sum over (oy, ox) reading it of (outGrad[oy][ox][c] * s_w[c]) * W_q[ky][kx][c]
//
// Summation order (kept by the SIMD variant: same bits): output pixels row-major, then ky, kx.

export function depthwise_conv2d_backward_input_f32(outGrad: usize, outH: i32, outW: i32, channels: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, inGrad: usize, inH: i32, inW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
  memory.fill(inGrad, 0, <usize>(inH * inW * channels) << 2);
  depthwise_conv2d_backward_input_f32_acc(outGrad, outH, outW, channels, filter, kH, kW, filterScales, inGrad, inH, inW, strideH, strideW, padTop, padLeft);
}

/** As depthwise_conv2d_backward_input_f32, but adds dL/dx to what inGrad holds (a gradient already there: the input has several consumers). */
export function depthwise_conv2d_backward_input_f32_acc(outGrad: usize, outH: i32, outW: i32, channels: i32, filter: usize, kH: i32, kW: i32, filterScales: usize, inGrad: usize, inH: i32, inW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): void {
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
          for (let c = 0; c < channels; c++) {
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
