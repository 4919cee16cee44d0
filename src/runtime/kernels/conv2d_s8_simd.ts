// 2-D int8 convolution (per-channel requantization), SIMD128; bit-exact with conv2d_s8.
//   input int8 [inH][inW][inC], filter int8 [outC][kH][kW][inC], bias int32 [outC] or 0,
//   requant int32 [outC][2], output int8 [outH][outW][outC]; geometry as conv2d_s8.
// Contract: actMin <= actMax inside [-128, 127] (the SIMD clamp works on int8 lanes).
// inC >= 8: dot products along window rows (conv2d_s8_simd_deep); 3-row windows of at most 4
// values per row (e.g. 3x3 on 1 channel): output-channel lanes with the filter in registers
// (conv2d_s8_simd_shallow); other shapes with inC < 8 (e.g. a 3x3 RGB stem): output-pixel
// lanes over gathered tap pairs (conv2d_s8_simd_stem); degenerate shapes (kW or inC < 1): the
// scalar kernel. None of them uses scratch memory.
import { conv2d_s8 } from './conv2d_s8';
import { conv2dS8SimdDeep } from './conv2d_s8_simd_deep';
import { conv2dS8SimdShallow, conv2dS8SimdShallowFits } from './conv2d_s8_simd_shallow';
import { conv2dS8SimdStem, conv2dS8SimdStemFits } from './conv2d_s8_simd_stem';

export function conv2d_s8_simd(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, filter: usize, kH: i32, kW: i32, outC: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {
  if (inC >= 8) {
    conv2dS8SimdDeep(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax);
  } else if (conv2dS8SimdShallowFits(kH, kW, inC)) {
    conv2dS8SimdShallow(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax);
  } else if (conv2dS8SimdStemFits(kW, inC)) {
    conv2dS8SimdStem(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax);
  } else {
    conv2d_s8(input, inH, inW, inC, inZp, filter, kH, kW, outC, bias, requant, output, outH, outW, outZp, strideH, strideW, padTop, padLeft, actMin, actMax);
  }
}
