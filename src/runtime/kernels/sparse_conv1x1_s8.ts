// Pointwise (1x1, stride 1, no padding) int8 convolution with group-sparse weights, scalar reference.
//   input int8 [rows][inC] (rows = H*W pixels, NHWC), weights: group-sparse blob (docs/sparse.md) already
//   validated for (outC, inC), bias int32 [outC] or 0, requant int32 [outC][2],
//   output int8 [rows][outC]. Same output as the dense kernel on the decoded weights.
import { sparseMatmulS8 } from './sparse_matmul_s8';

export function sparse_conv1x1_s8(input: usize, rows: i32, inC: i32, inZp: i32, weights: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): void {
  sparseMatmulS8(input, rows, inC, inZp, weights, outC, bias, requant, output, outZp, actMin, actMax);
}
