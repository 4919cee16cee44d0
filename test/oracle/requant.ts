// Integer requantization written from the gemmlowp / TensorFlow Lite specification
// (fixedpoint.h SaturatingRoundingDoublingHighMul and RoundingDivideByPOT; tflite
// MultiplyByQuantizedMultiplier with double rounding). 64-bit products use BigInt so the
// arithmetic is exact; this file is the test oracle and shares no code with the device.

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const TWO_POW_31 = 1n << 31n;

/** Wraps a BigInt to int32 like a two's complement register. */
function toInt32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** (a * b * 2) / 2^32 rounded: nudge by +-2^30, then divide by 2^31 truncating toward zero. */
export function srdhm(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return toInt32((ab + nudge) / TWO_POW_31); // BigInt division truncates toward zero
}

/** x / 2^exponent, rounding to nearest with ties away from zero; exponent in [0, 31]. */
export function rdbpot(x: number, exponent: number): number {
  const mask = (1n << BigInt(exponent)) - 1n;
  const xb = BigInt(x);
  const remainder = xb & mask; // two's complement bits of x, as gemmlowp's BitAnd
  const threshold = (mask >> 1n) + (x < 0 ? 1n : 0n);
  return toInt32((xb >> BigInt(exponent)) + (remainder > threshold ? 1n : 0n));
}

/**
 * x * multiplier * 2^shift with TFLite's double rounding. A positive shift is applied to x
 * first; like the int32 multiply in the reference, it wraps when x << shift leaves int32.
 */
export function mbqm(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return rdbpot(srdhm(toInt32(BigInt(x) << BigInt(left)), multiplier), right);
}

export const INT32 = { MIN: INT32_MIN, MAX: INT32_MAX } as const;
