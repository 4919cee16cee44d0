// Fully connected int8 layer, SIMD128; bit-exact with fully_connected_s8.
//   input int8 [rows][inC] (rows = batch rows), filter int8 [outC][inC],
//   bias int32 [outC] or 0, requant int32 [outC][2], output int8 [rows][outC].
import { matmulS8Simd } from './matmul_s8_simd';

export function fully_connected_s8_simd(input: usize, rows: i32, inC: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): void {
  matmulS8Simd(input, rows, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax);
}
