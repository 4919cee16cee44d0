// SIMD128 sparse x dense product of one row and one block (for rows < 8, e.g. a fully
// connected layer at batch 1); part of sparseMatmulS8Simd, bit-exact with sparseMatmulS8.
// Lanes are output channels. A step takes 16 weight bytes (S = 16 / G groups, S / 2 pairs
// stored interleaved: a0 b0 a1 b1 ..), gathers the S inputs into lanes 0..S-1 and arranges
// them so that i32x4.dot_i16x8_s adds the products of a pair's two groups of the same channel:
//
//   G  weights (16 B, by pair)                 inputs              i32 lanes
//   1  a b | c d | ..                          x0 x1 x2 x3 ..      c0 c0 c0 c0
//   2  a0 b0 a1 b1 | c0 d0 c1 d1 | ..          x0 x1 x0 x1 x2 x3.. c0 c1 c0 c1
//   4  a0 b0 .. a3 b3 | c0 d0 .. c3 d3         x0 x1 x0 x1.. | x2 x3 x2 x3..  c0..c3
//   8  a0 b0 .. a3 b3 | a4 b4 .. a7 b7         x0 x1 x0 x1..       c0..c3 | c4..c7
//
// The groups after the last full step (fewer than S) go by pairs, then the lone last group.
import { outputStageS8 } from './output_stage_s8';
import { narrowLanes4, narrowLanes8, reduceLanes, requantizeOnce } from './output_stage_s8_simd';

// @ts-ignore: decorator
@inline
function mac(acc: v128, x: v128, w: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, w));
}

/**
 * The S = 16 / G inputs of the next S groups into lanes 0..S-1: `p` is the row pointer plus
 * the previous group's index, `d` the next delta. Returns the vector; the caller advances p
 * by the same deltas (sumDeltas).
 */
// @ts-ignore: decorator
@inline
function gather(p: usize, d: usize, S: i32): v128 {
  p += <usize>load<u16>(d); let v = v128.load8_lane(p, i32x4.splat(0), 0);
  p += <usize>load<u16>(d, 2); v = v128.load8_lane(p, v, 1);
  if (S >= 4) {
    p += <usize>load<u16>(d, 4); v = v128.load8_lane(p, v, 2);
    p += <usize>load<u16>(d, 6); v = v128.load8_lane(p, v, 3);
  }
  if (S >= 8) {
    p += <usize>load<u16>(d, 8); v = v128.load8_lane(p, v, 4);
    p += <usize>load<u16>(d, 10); v = v128.load8_lane(p, v, 5);
    p += <usize>load<u16>(d, 12); v = v128.load8_lane(p, v, 6);
    p += <usize>load<u16>(d, 14); v = v128.load8_lane(p, v, 7);
  }
  if (S == 16) {
    p += <usize>load<u16>(d, 16); v = v128.load8_lane(p, v, 8);
    p += <usize>load<u16>(d, 18); v = v128.load8_lane(p, v, 9);
    p += <usize>load<u16>(d, 20); v = v128.load8_lane(p, v, 10);
    p += <usize>load<u16>(d, 22); v = v128.load8_lane(p, v, 11);
    p += <usize>load<u16>(d, 24); v = v128.load8_lane(p, v, 12);
    p += <usize>load<u16>(d, 26); v = v128.load8_lane(p, v, 13);
    p += <usize>load<u16>(d, 28); v = v128.load8_lane(p, v, 14);
    p += <usize>load<u16>(d, 30); v = v128.load8_lane(p, v, 15);
  }
  return v;
}

/** Sum of the S u16 deltas at d (S in {2, 4, 8, 16}), widened to i32 lanes before adding. */
// @ts-ignore: decorator
@inline
function sumDeltas(d: usize, S: i32): usize {
  let halves: v128;
  if (S == 2) halves = v128.load32_zero(d);
  else if (S == 4) halves = v128.load64_zero(d);
  else halves = v128.load(d);
  let s = i32x4.extadd_pairwise_i16x8_u(halves);
  if (S == 16) s = i32x4.add(s, i32x4.extadd_pairwise_i16x8_u(v128.load(d, 16)));
  return <usize>reduceLanes(s);
}

/** G = 1, 2: the gathered inputs of one step arranged for the dot products (see the table above). */
// @ts-ignore: decorator
@inline
function arrangeInputs(xg: v128, G: i32): v128 {
  if (G == 1) return xg;
  return i8x16.shuffle(xg, xg, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7); // G = 2
}

/**
 * Row x, block of G channels starting at c (G constant at each call site): `deltas` u16 [n] and
 * `values` i8 [n * G] of the block (pair-interleaved). Writes output y[c .. c+G).
 */
// @ts-ignore: decorator
@inline
export function sparseBlockRow(x: usize, inZp: i32, zp: v128, deltas: usize, values: usize, n: i32, G: i32, c: i32, y: usize, bias: usize, requant: usize, outZp: i32, actMin: i32, actMax: i32, actLo: v128, actHi: v128): void {
  const S = 16 / G;
  const steps = n / S;
  let accLow = i32x4.splat(0), accHigh = i32x4.splat(0);
  let p = x, d = deltas, v = values;
  let s = 0;
  if (G == 8) {
    // two pairs per iteration: 4 inputs gathered at once, a second pair of accumulators
    let acc2Low = i32x4.splat(0), acc2High = i32x4.splat(0);
    for (; s + 1 < steps; s += 2) {
      p += <usize>load<u16>(d); let xb = v128.load8_lane(p, zp, 0);
      p += <usize>load<u16>(d, 2); xb = v128.load8_lane(p, xb, 1);
      p += <usize>load<u16>(d, 4); xb = v128.load8_lane(p, xb, 2);
      p += <usize>load<u16>(d, 6); xb = v128.load8_lane(p, xb, 3);
      const xs = i16x8.sub(i16x8.extend_low_i8x16_s(xb), zp);
      const x01 = i32x4.shuffle(xs, xs, 0, 0, 0, 0);
      const x23 = i32x4.shuffle(xs, xs, 1, 1, 1, 1);
      accLow = mac(accLow, x01, v128.load8x8_s(v));
      accHigh = mac(accHigh, x01, v128.load8x8_s(v, 8));
      acc2Low = mac(acc2Low, x23, v128.load8x8_s(v, 16));
      acc2High = mac(acc2High, x23, v128.load8x8_s(v, 24));
      d += 8;
      v += 32;
    }
    accLow = i32x4.add(accLow, acc2Low);
    accHigh = i32x4.add(accHigh, acc2High);
  }
  for (; s < steps; s++) {
    let xLow: v128, xHigh: v128, wLow: v128, wHigh: v128;
    if (G >= 4) {
      // G = 8: one pair, channels 0-3 and 4-7; G = 4: two pairs, channels 0-3 each
      wLow = v128.load8x8_s(v);
      wHigh = v128.load8x8_s(v, 8);
      // 2 or 4 input bytes into byte lanes 0..3 (the other lanes are don't-care), widened to
      // i16 minus inZp; each i32 lane 0 / 1 (an i16 pair) is then splatted
      p += <usize>load<u16>(d); let xb = v128.load8_lane(p, zp, 0);
      p += <usize>load<u16>(d, 2); xb = v128.load8_lane(p, xb, 1);
      if (G == 4) {
        p += <usize>load<u16>(d, 4); xb = v128.load8_lane(p, xb, 2);
        p += <usize>load<u16>(d, 6); xb = v128.load8_lane(p, xb, 3);
      }
      const xs = i16x8.sub(i16x8.extend_low_i8x16_s(xb), zp);
      xLow = i32x4.shuffle(xs, xs, 0, 0, 0, 0);
      xHigh = G == 4 ? i32x4.shuffle(xs, xs, 1, 1, 1, 1) : xLow;
    } else {
      const w = v128.load(v);
      wLow = i16x8.extend_low_i8x16_s(w);
      wHigh = i16x8.extend_high_i8x16_s(w);
      const xs = arrangeInputs(gather(p, d, S), G);
      xLow = i16x8.sub(i16x8.extend_low_i8x16_s(xs), zp);
      xHigh = i16x8.sub(i16x8.extend_high_i8x16_s(xs), zp);
      p += sumDeltas(d, S);
    }
    accLow = mac(accLow, xLow, wLow);
    accHigh = mac(accHigh, xHigh, wHigh);
    d += <usize>(2 * S);
    v += 16;
  }
  // the last n mod S groups: pairs (G products each per group), then the lone last group
  const rest = n - steps * S;
  if (G <= 2) {
    let s0 = 0, s1 = 0;
    for (let i = 0; i + 1 < rest; i += 2) {
      p += <usize>load<u16>(d); const xa = <i32>load<i8>(p) - inZp;
      p += <usize>load<u16>(d, 2); const xb = <i32>load<i8>(p) - inZp;
      s0 += <i32>load<i8>(v) * xa + <i32>load<i8>(v, 1) * xb;
      if (G == 2) s1 += <i32>load<i8>(v, 2) * xa + <i32>load<i8>(v, 3) * xb;
      d += 4;
      v += <usize>(2 * G);
    }
    if (rest & 1) {
      p += <usize>load<u16>(d);
      const xv = <i32>load<i8>(p) - inZp;
      s0 += <i32>load<i8>(v) * xv;
      if (G == 2) s1 += <i32>load<i8>(v, 1) * xv;
    }
    const a = i32x4.add(accLow, accHigh);
    if (G == 1) {
      store<i8>(y + <usize>c, <i8>outputStageS8(reduceLanes(a) + s0, c, bias, requant, outZp, actMin, actMax));
    } else {
      const t0 = i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 2) + s0;
      const t1 = i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 3) + s1;
      store<i8>(y + <usize>c, <i8>outputStageS8(t0, c, bias, requant, outZp, actMin, actMax));
      store<i8>(y + <usize>c, <i8>outputStageS8(t1, c + 1, bias, requant, outZp, actMin, actMax), 1);
    }
    return;
  }
  if (G == 4 && rest >= 2) { // one more pair
    p += <usize>load<u16>(d); const xa = <i32>load<i8>(p) - inZp;
    p += <usize>load<u16>(d, 2); const xb = <i32>load<i8>(p) - inZp;
    accLow = mac(accLow, i32x4.splat((xa & 0xffff) | (xb << 16)), v128.load8x8_s(v));
    d += 4;
    v += 8;
  }
  if (rest & 1) { // the lone last group (its G weights in order)
    p += <usize>load<u16>(d);
    const xv = i16x8.splat(<i16>(<i32>load<i8>(p) - inZp));
    if (G == 4) {
      accLow = i32x4.add(accLow, i32x4.extmul_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(v)), xv));
    } else {
      const w = i16x8.extend_low_i8x16_s(v128.load64_zero(v));
      accLow = i32x4.add(accLow, i32x4.extmul_low_i16x8_s(w, xv));
      accHigh = i32x4.add(accHigh, i32x4.extmul_high_i16x8_s(w, xv));
    }
  }
  if (G == 4) {
    let a = i32x4.add(accLow, accHigh);
    if (bias != 0) a = i32x4.add(a, v128.load(bias + (<usize>c << 2)));
    v128.store32_lane(y + <usize>c, narrowLanes4(requantizeOnce(a, requant, c, outZp), actLo, actHi), 0);
  } else {
    let a = accLow, b = accHigh;
    if (bias != 0) {
      a = i32x4.add(a, v128.load(bias + (<usize>c << 2)));
      b = i32x4.add(b, v128.load(bias + (<usize>c << 2), 16));
    }
    const q = narrowLanes8(requantizeOnce(a, requant, c, outZp), requantizeOnce(b, requant, c + 4, outZp), actLo, actHi);
    v128.store64_lane(y + <usize>c, q, 0);
  }
}
