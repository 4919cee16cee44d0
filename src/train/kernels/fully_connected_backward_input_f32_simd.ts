// SIMD128 variant of fully_connected_backward_input_f32 (also CONV1X1): same contract, same
// summation order, same bits. Vectorised over input channels, 4 per step; the last inC % 4
// are scalar.
import { axpyS8x4 } from './simd_f32';

export function fully_connected_backward_input_f32_simd(outGrad: usize, rows: i32, outC: i32, filter: usize, inC: i32, filterScales: usize, inGrad: usize): void {
  memory.fill(inGrad, 0, <usize>(rows * inC) << 2);
  fully_connected_backward_input_f32_acc_simd(outGrad, rows, outC, filter, inC, filterScales, inGrad);
}

/** As fully_connected_backward_input_f32_simd, but adds dL/dx to what inGrad holds (a gradient already there: the input has several consumers). */
export function fully_connected_backward_input_f32_acc_simd(outGrad: usize, rows: i32, outC: i32, filter: usize, inC: i32, filterScales: usize, inGrad: usize): void {
  const vecC = inC & ~3;
  for (let r = 0; r < rows; r++) {
    const dy = outGrad + (<usize>(r * outC) << 2);
    const dx = inGrad + (<usize>(r * inC) << 2);
    for (let c = 0; c < outC; c++) {
      const d = load<f32>(dy + (<usize>c << 2)) * load<f32>(filterScales + (<usize>c << 2));
      if (d == 0) continue;
      const dv = f32x4.splat(d);
      const w = filter + <usize>(c * inC);
      let i = 0;
      for (; i < vecC; i += 4) axpyS8x4(dx + (<usize>i << 2), dv, w + <usize>i);
      for (; i < inC; i++) {
        const p = dx + (<usize>i << 2);
        store<f32>(p, load<f32>(p) + d * <f32>load<i8>(w + <usize>i));
      }
    }
  }
}
