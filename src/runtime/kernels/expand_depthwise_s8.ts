// Expand (1x1 convolution) streamed into a depthwise convolution, scalar: conv1x1_s8 on the
// rows the window needs, depthwise_conv2d_s8 on the ring of expanded rows. Bit-exact with
// the two kernels run one after the other. Layouts, geometry and the ring's contract:
// expand_depthwise_rows.ts.
import { expandDepthwiseRows } from './expand_depthwise_rows';

export function expand_depthwise_s8(
  input: usize, inH: i32, inW: i32, inC: i32, inZp: i32,
  expandFilter: usize, expandC: i32, expandBias: usize, expandRequant: usize, midZp: i32, expandMin: i32, expandMax: i32,
  ring: usize, ringRows: i32,
  dwFilter: usize, kH: i32, kW: i32, dwBias: usize, dwRequant: usize,
  output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32,
): void {
  expandDepthwiseRows(false, input, inH, inW, inC, inZp, expandFilter, expandC, expandBias, expandRequant, midZp, expandMin, expandMax,
    ring, ringRows, dwFilter, kH, kW, dwBias, dwRequant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax);
}
