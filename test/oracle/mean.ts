// Oracle for TFLM's int8 MEAN over height and width (reference_integer_ops::Mean), written from
// its arithmetic with BigInt and explicit int32 wrapping: nothing here is shared with the device
// or with the other oracles. NHWC, batch 1, output [channels].
//
//   acc = sum over pixels of (q - inZp)                      int32, wrapping
//   acc = MultiplyByQuantizedMultiplier(acc, multiplier, shift)
//         = RoundingDivideByPOT(SRDHM(acc << max(shift, 0), multiplier), max(-shift, 0))
//   acc = acc > 0 ? (acc + P/2) / P : (acc - P/2) / P      C int32 division, truncating
//   out = clamp(acc + outZp, actMin, actMax)

const I32_MIN = -(1n << 31n);
const I32_MAX = (1n << 31n) - 1n;

/** Two's complement int32 of a mathematical integer. */
const i32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** gemmlowp SaturatingRoundingDoublingHighMul on int32 a, b. */
function doublingHighMul(a: bigint, b: bigint): bigint {
  if (a === I32_MIN && b === I32_MIN) return I32_MAX;
  const product = a * b;
  const nudge = product >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return i32((product + nudge) / (1n << 31n)); // BigInt division truncates, as C's
}

/** gemmlowp RoundingDivideByPOT: to nearest, ties away from zero. */
function divideByPowerOfTwo(x: bigint, exponent: bigint): bigint {
  const mask = (1n << exponent) - 1n;
  const remainder = BigInt.asUintN(32, x) & mask;
  const threshold = (mask >> 1n) + (x < 0n ? 1n : 0n);
  return (x >> exponent) + (remainder > threshold ? 1n : 0n);
}

/** Truncating (C) int32 division of int32 values; d > 0. */
const cDivide = (n: bigint, d: bigint): bigint => i32(n / d);

export interface MeanCase {
  inH: number;
  inW: number;
  channels: number;
  inZp: number;
  outZp: number;
  /** Q31 multiplier in [2^30, 2^31). */
  multiplier: number;
  /** Power-of-two exponent in [-31, 30], positive = left. */
  shift: number;
  actMin: number;
  actMax: number;
}

export function meanOracle(input: Int8Array, m: MeanCase): Int8Array {
  const pixels = BigInt(m.inH * m.inW);
  const left = BigInt(Math.max(m.shift, 0));
  const right = BigInt(Math.max(-m.shift, 0));
  const out = new Int8Array(m.channels);
  for (let c = 0; c < m.channels; c++) {
    let acc = 0n;
    for (let p = 0; p < m.inH * m.inW; p++) acc = i32(acc + BigInt(input[p * m.channels + c]) - BigInt(m.inZp));
    acc = divideByPowerOfTwo(doublingHighMul(i32(acc << left), BigInt(m.multiplier)), right);
    if (pixels > 0n) acc = acc > 0n ? cDivide(i32(acc + pixels / 2n), pixels) : cDivide(i32(acc - pixels / 2n), pixels);
    const q = Number(i32(acc + BigInt(m.outZp)));
    out[c] = Math.min(m.actMax, Math.max(m.actMin, q));
  }
  return out;
}
