// The row schedule shared by expand_depthwise_s8 and expand_depthwise_s8_simd: a 1x1
// convolution (expand) feeding a depthwise convolution, with the expanded tensor streamed
// through a buffer of `ringRows` rows instead of materialised. NHWC, batch 1.
//
//   input   int8 [inH][inW][inC]            expand filter int8 [expandC][inC], bias/requant [expandC]
//   ring    int8 [ringRows][inW][expandC]   expanded rows, zero point midZp (caller's scratch)
//   output  int8 [outH][outW][expandC]      depthwise filter int8 [1][kH][kW][expandC], bias/requant [expandC]
//
// Output rows go in groups: as many consecutive output rows as have their input windows
// inside `ringRows` expanded rows. For each group the ring holds expanded rows [a, b) in
// order at ring rows 0..b-a-1: the rows the previous group already holds are moved to the
// front (memory.copy, never recomputed), the missing ones are expanded in one call (they
// are consecutive in the input and in the ring), then the depthwise kernel runs on the ring
// as a (b - a)-row image whose top padding is what remains of padTop above row a. Taps
// outside [a, b) are exactly the taps outside the input, so every output equals the
// unfused pair's (the same kernels on the same values).
//
// Contract: min(kH, inH) <= ringRows <= inH, and the geometry is TFLite SAME or VALID
// (every window touches the input), as the container reader checks.
import { conv1x1_s8 } from './conv1x1_s8';
import { conv1x1_s8_simd } from './conv1x1_s8_simd';
import { depthwise_conv2d_s8 } from './depthwise_conv2d_s8';
import { depthwise_conv2d_s8_simd } from './depthwise_conv2d_s8_simd';

// @ts-ignore: decorator
@inline
export function expandDepthwiseRows(
  simd: bool,
  input: usize, inH: i32, inW: i32, inC: i32, inZp: i32,
  expandFilter: usize, expandC: i32, expandBias: usize, expandRequant: usize, midZp: i32, expandMin: i32, expandMax: i32,
  ring: usize, ringRows: i32,
  dwFilter: usize, kH: i32, kW: i32, dwBias: usize, dwRequant: usize,
  output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32,
): void {
  const ringRowBytes = <usize>(inW * expandC);
  const inRowBytes = <usize>(inW * inC);
  const outRowBytes = <usize>(outW * expandC);
  let a = 0; // the ring holds expanded rows [a, b)
  let b = 0;
  let o0 = 0;
  while (o0 < outH) {
    const first = max(0, o0 * strideH - padTop);
    let o1 = o0 + 1;
    while (o1 < outH && min(inH, o1 * strideH - padTop + kH) - first <= ringRows) o1++;
    const end = min(inH, (o1 - 1) * strideH - padTop + kH);
    if (first < b) {
      if (first > a) memory.copy(ring, ring + <usize>(first - a) * ringRowBytes, <usize>(b - first) * ringRowBytes);
    } else {
      b = first;
    }
    a = first;
    if (end > b) {
      const x = input + <usize>b * inRowBytes, y = ring + <usize>(b - a) * ringRowBytes, pixels = (end - b) * inW;
      if (ASC_FEATURE_SIMD) {
        if (simd) conv1x1_s8_simd(x, pixels, inC, inZp, expandFilter, expandC, expandBias, expandRequant, y, midZp, expandMin, expandMax);
        else conv1x1_s8(x, pixels, inC, inZp, expandFilter, expandC, expandBias, expandRequant, y, midZp, expandMin, expandMax);
      } else {
        conv1x1_s8(x, pixels, inC, inZp, expandFilter, expandC, expandBias, expandRequant, y, midZp, expandMin, expandMax);
      }
      b = end;
    }
    const y = output + <usize>o0 * outRowBytes, rows = o1 - o0, top = padTop + a - o0 * strideH;
    if (ASC_FEATURE_SIMD) {
      if (simd) depthwise_conv2d_s8_simd(ring, b - a, inW, expandC, midZp, dwFilter, kH, kW, dwBias, dwRequant, y, rows, outW, outZp, strideH, strideW, top, padLeft, actMin, actMax);
      else depthwise_conv2d_s8(ring, b - a, inW, expandC, midZp, dwFilter, kH, kW, dwBias, dwRequant, y, rows, outW, outZp, strideH, strideW, top, padLeft, actMin, actMax);
    } else {
      depthwise_conv2d_s8(ring, b - a, inW, expandC, midZp, dwFilter, kH, kW, dwBias, dwRequant, y, rows, outW, outZp, strideH, strideW, top, padLeft, actMin, actMax);
    }
    o0 = o1;
  }
}
