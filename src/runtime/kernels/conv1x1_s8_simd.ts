// Pointwise (1x1, stride 1, no padding) int8 convolution, SIMD128; bit-exact with conv1x1_s8.
//   input int8 [rows][inC] (rows = H*W pixels), filter int8 [outC][inC],
//   bias int32 [outC] or 0, requant int32 [outC][2], output int8 [rows][outC].
import { matmulS8Simd } from './matmul_s8_simd';

export function conv1x1_s8_simd(input: usize, rows: i32, inC: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): void {
  matmulS8Simd(input, rows, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax);
}
