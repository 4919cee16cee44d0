// expand_depthwise_s8 with the SIMD128 kernels (conv1x1_s8_simd, depthwise_conv2d_s8_simd);
// bit-exact with the scalar pair. Layouts, geometry and the ring's contract:
// expand_depthwise_rows.ts.
import { expandDepthwiseRows } from './expand_depthwise_rows';

export function expand_depthwise_s8_simd(
  input: usize, inH: i32, inW: i32, inC: i32, inZp: i32,
  expandFilter: usize, expandC: i32, expandBias: usize, expandRequant: usize, midZp: i32, expandMin: i32, expandMax: i32,
  ring: usize, ringRows: i32,
  dwFilter: usize, kH: i32, kW: i32, dwBias: usize, dwRequant: usize,
  output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32,
): void {
  expandDepthwiseRows(true, input, inH, inW, inC, inZp, expandFilter, expandC, expandBias, expandRequant, midZp, expandMin, expandMax,
    ring, ringRows, dwFilter, kH, kW, dwBias, dwRequant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax);
}
