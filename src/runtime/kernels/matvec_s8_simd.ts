// One input row of matmul_s8_simd (a fully connected layer at batch 1): output[c] =
// stage(sum_k filter[c][k] * (input[k] - inZp)), input int8 [inC], filter int8 [outC][inC],
// output int8 [outC]; inC >= 8. 8 output channels per pass: each widened input step feeds 8
// dot products (8 accumulators), the pass ends with two 4-lane reductions, the general
// requantization in its once-per-call form (requantizeOnce: its constants cost less than the
// fast path's for 8 outputs) and one 8-byte store. The inner loop takes 16 values per iteration; the last partial step overlaps the
// previous one with the input lanes already counted masked off (as matmul_s8_simd).
// Returns the channels done (a multiple of 8); the caller does the rest.
import { narrowLanes8, reduceLanes4, requantizeOnce } from './output_stage_s8_simd';

// @ts-ignore: decorator
@inline
function macStep(acc: v128, w: usize, x: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(v128.load8x8_s(w), x));
}

export function matvecS8Simd(input: usize, inC: i32, inZp: i32, filter: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): i32 {
  const zp = i16x8.splat(<i16>inZp);
  const lo = i8x16.splat(<i8>actMin), hi = i8x16.splat(<i8>actMax);
  const stride = <usize>inC;
  const pairEnd = <usize>(inC & ~15); // steps of 16 values
  const hasSingle = (inC & 8) != 0; // one more step of 8
  const singleAt = pairEnd;
  const hasTail = (inC & 7) != 0;
  const tailAt = <usize>(inC - 8);
  const tailMask = i16x8.ge_s(i16x8(0, 1, 2, 3, 4, 5, 6, 7), i16x8.splat(<i16>(8 - (inC & 7))));
  let c = 0;
  for (; c + 8 <= outC; c += 8) {
    const w0 = filter + <usize>c * stride;
    const w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
    const w4 = w3 + stride, w5 = w4 + stride, w6 = w5 + stride, w7 = w6 + stride;
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
    for (let k: usize = 0; k < pairEnd; k += 16) {
      const u = i16x8.sub(v128.load8x8_s(input + k), zp);
      const v = i16x8.sub(v128.load8x8_s(input + k + 8), zp);
      a0 = macStep(macStep(a0, w0 + k, u), w0 + k + 8, v);
      a1 = macStep(macStep(a1, w1 + k, u), w1 + k + 8, v);
      a2 = macStep(macStep(a2, w2 + k, u), w2 + k + 8, v);
      a3 = macStep(macStep(a3, w3 + k, u), w3 + k + 8, v);
      a4 = macStep(macStep(a4, w4 + k, u), w4 + k + 8, v);
      a5 = macStep(macStep(a5, w5 + k, u), w5 + k + 8, v);
      a6 = macStep(macStep(a6, w6 + k, u), w6 + k + 8, v);
      a7 = macStep(macStep(a7, w7 + k, u), w7 + k + 8, v);
    }
    if (hasSingle) {
      const u = i16x8.sub(v128.load8x8_s(input + singleAt), zp);
      a0 = macStep(a0, w0 + singleAt, u); a1 = macStep(a1, w1 + singleAt, u);
      a2 = macStep(a2, w2 + singleAt, u); a3 = macStep(a3, w3 + singleAt, u);
      a4 = macStep(a4, w4 + singleAt, u); a5 = macStep(a5, w5 + singleAt, u);
      a6 = macStep(a6, w6 + singleAt, u); a7 = macStep(a7, w7 + singleAt, u);
    }
    if (hasTail) {
      const u = v128.and(i16x8.sub(v128.load8x8_s(input + tailAt), zp), tailMask);
      a0 = macStep(a0, w0 + tailAt, u); a1 = macStep(a1, w1 + tailAt, u);
      a2 = macStep(a2, w2 + tailAt, u); a3 = macStep(a3, w3 + tailAt, u);
      a4 = macStep(a4, w4 + tailAt, u); a5 = macStep(a5, w5 + tailAt, u);
      a6 = macStep(a6, w6 + tailAt, u); a7 = macStep(a7, w7 + tailAt, u);
    }
    let s = reduceLanes4(a0, a1, a2, a3);
    let t = reduceLanes4(a4, a5, a6, a7);
    if (bias != 0) {
      s = i32x4.add(s, v128.load(bias + (<usize>c << 2)));
      t = i32x4.add(t, v128.load(bias + (<usize>c << 2), 16));
    }
    const q = narrowLanes8(requantizeOnce(s, requant, c, outZp), requantizeOnce(t, requant, c + 4, outZp), lo, hi);
    v128.store64_lane(output + <usize>c, q, 0);
  }
  return c;
}
