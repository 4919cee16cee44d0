// Integer requantization, bit-exact with TensorFlow Lite Micro's reference kernels
// (gemmlowp fixed-point semantics). `multiplier` is a Q31 value in [2^30, 2^31) (or 0) and
// `shift` a power-of-two exponent, positive = left, as produced by QuantizeMultiplier.

/** round(a * b / 2^31), ties toward +infinity (gemmlowp's nudge); the one overflow case saturates. */
// @ts-ignore: decorator
@inline
export function saturatingRoundingDoublingHighMul(a: i32, b: i32): i32 {
  if (a == b && a == i32.MIN_VALUE) return i32.MAX_VALUE;
  const ab = <i64>a * <i64>b;
  const nudge: i64 = ab >= 0 ? 1 << 30 : 1 - (1 << 30);
  return <i32>((ab + nudge) / (<i64>1 << 31)); // i64 division truncates toward zero
}

/** x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31]. */
// @ts-ignore: decorator
@inline
export function roundingDivideByPOT(x: i32, exponent: i32): i32 {
  const mask = (<i32>((<i64>1 << exponent) - 1));
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite's MultiplyByQuantizedMultiplier: x * multiplier * 2^shift, double rounding. */
// @ts-ignore: decorator
@inline
export function multiplyByQuantizedMultiplier(x: i32, multiplier: i32, shift: i32): i32 {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x << left, multiplier), right);
}
