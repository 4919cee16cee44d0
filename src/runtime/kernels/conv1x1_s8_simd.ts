// Pointwise (1x1, stride 1, no padding) int8 convolution, SIMD128; bit-exact with conv1x1_s8.
//   input int8 [rows][inC] (rows = H*W pixels), filter int8 [outC][inC],
//   bias int32 [outC] or 0, requant int32 [outC][2], output int8 [rows][outC].
// 8 or 16 input channels: output-channel lanes with the filter in registers, 8 channels per
// pass (conv1x1_s8_simd_shallow); the channels it leaves and every other shape: the shared
// matrix product (matmul_s8_simd). No scratch memory.
import { conv1x1S8SimdShallow, conv1x1S8SimdShallowFits } from './conv1x1_s8_simd_shallow';
import { matmulS8Simd, matmulS8SimdChannels } from './matmul_s8_simd';

export function conv1x1_s8_simd(input: usize, rows: i32, inC: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): void {
  if (!conv1x1S8SimdShallowFits(rows, inC, outC)) {
    matmulS8Simd(input, rows, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax);
    return;
  }
  const done = conv1x1S8SimdShallow(input, rows, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax);
  if (done < outC) matmulS8SimdChannels(input, rows, inC, inZp, filter, outC, bias, requant, output, outZp, actMin, actMax, done);
}
