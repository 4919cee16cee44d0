// Scalar int8 matrix product shared by conv1x1_s8 and fully_connected_s8, which are the same
// computation: output[r][c] = stage(sum_k filter[c][k] * (input[r][k] - inZp)).
//   input  int8 [rows][inC]    filter int8 [outC][inC]    output int8 [rows][outC]
import { outputStageS8 } from './output_stage_s8';

// @ts-ignore: decorator
@inline
export function matmulS8(input: usize, rows: i32, inC: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): void {
  for (let r = 0; r < rows; r++) {
    const x = input + <usize>(r * inC);
    const y = output + <usize>(r * outC);
    for (let c = 0; c < outC; c++) {
      const w = filter + <usize>(c * inC);
      let acc = 0;
      for (let k = 0; k < inC; k++) {
        acc += <i32>load<i8>(w + <usize>k) * (<i32>load<i8>(x + <usize>k) - inZp);
      }
      store<i8>(y + <usize>c, <i8>outputStageS8(acc, c, bias, requant, outZp, actMin, actMax));
    }
  }
}
