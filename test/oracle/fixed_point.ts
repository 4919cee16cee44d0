// gemmlowp / TFLite integer primitives, written from their specification with BigInt where a
// 64-bit product appears. Test oracles only: slow and literal on purpose.

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/** Wraps a mathematical integer to int32, as the C code's int32 arithmetic does. */
export function wrap32(x: number | bigint): number {
  return Number(BigInt.asIntN(32, BigInt(x)));
}

/** gemmlowp SaturatingRoundingDoublingHighMul: (a*b + nudge) / 2^31, truncating division. */
export function srdhm(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero
}

/** gemmlowp RoundingDivideByPOT: x / 2^e to nearest, ties away from zero; e >= 0 (any size). */
export function rdbpot(x: number, e: number): number {
  const big = BigInt(x);
  const mask = (1n << BigInt(e)) - 1n;
  const remainder = big & mask;
  const threshold = (mask >> 1n) + (big < 0n ? 1n : 0n);
  return Number((big >> BigInt(e)) + (remainder > threshold ? 1n : 0n));
}

/** TFLite MultiplyByQuantizedMultiplier (double rounding): x * m * 2^shift. */
export function mbqm(x: number, multiplier: number, shift: number): number {
  const left = Math.max(shift, 0);
  const right = Math.max(-shift, 0);
  return rdbpot(srdhm(wrap32(BigInt(x) << BigInt(left)), multiplier), right);
}
