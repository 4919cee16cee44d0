// Fully connected int8 layer, SIMD128; bit-exact with fully_connected_s8.
//   input int8 [rows][inC] (rows = batch rows), filter int8 [outC][inC],
//   bias int32 [outC] or 0, requant int32 [outC][2], output int8 [rows][outC].
// Batch 1 with inC >= 8: the matrix-vector product (matvec_s8_simd), 8 channels per pass; the
// channels it leaves and every other shape: the shared matrix product (matmul_s8_simd).
import { matmulS8Simd, matmulS8SimdChannels } from './matmul_s8_simd';
import { matvecS8Simd } from './matvec_s8_simd';

export function fully_connected_s8_simd(input: usize, rows: i32, inC: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): void {
  if (rows != 1 || inC < 8) {
    matmulS8Simd(input, rows, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax);
    return;
  }
  const done = matvecS8Simd(input, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax);
  if (done < outC) matmulS8SimdChannels(input, 1, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax, done);
}
