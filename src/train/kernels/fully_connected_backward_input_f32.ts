// Input gradient of the int8 fully connected layer and of the 1x1 convolution (CONV1X1: rows =
// H*W pixels, stride 1, no padding: the same matrix product), in real values, scalar reference.
//
//   outGrad      f32 [rows][outC]  dL/dy (pre-clamp: apply the ReLU mask first), read
//   filter       int8 [outC][inC]  the forward weights W_q, read
//   filterScales f32 [outC]        s_w[c]
//   inGrad       f32 [rows][inC]   dL/dx, overwritten (must not overlap outGrad)
//
//   inGrad[r][i] = sum over c of (outGrad[r][c] * s_w[c]) * W_q[c][i]
//
// Summation order (kept by the SIMD variant: same bits): c ascending; zero (scaled) gradients
// are skipped.

export function fully_connected_backward_input_f32(outGrad: usize, rows: i32, outC: i32, filter: usize, inC: i32, filterScales: usize, inGrad: usize): void {
  memory.fill(inGrad, 0, <usize>(rows * inC) << 2);
  fully_connected_backward_input_f32_acc(outGrad, rows, outC, filter, inC, filterScales, inGrad);
}

/** As fully_connected_backward_input_f32, but adds dL/dx to what inGrad holds (a gradient already there: the input has several consumers). */
export function fully_connected_backward_input_f32_acc(outGrad: usize, rows: i32, outC: i32, filter: usize, inC: i32, filterScales: usize, inGrad: usize): void {
  for (let r = 0; r < rows; r++) {
    const dy = outGrad + (<usize>(r * outC) << 2);
    const dx = inGrad + (<usize>(r * inC) << 2);
    for (let c = 0; c < outC; c++) {
      const d = load<f32>(dy + (<usize>c << 2)) * load<f32>(filterScales + (<usize>c << 2));
      if (d == 0) continue;
      const w = filter + <usize>(c * inC);
      for (let i = 0; i < inC; i++) {
        const p = dx + (<usize>i << 2);
        store<f32>(p, load<f32>(p) + d * <f32>load<i8>(w + <usize>i));
      }
    }
  }
}
