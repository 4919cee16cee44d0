// gemmlowp fixed-point functions on int32 raw values, as TensorFlow Lite Micro's int8 softmax
// uses them. A "Qm" value has m integer bits and 31 - m fractional bits: Q0 raw 2^31 - 1 is ~1.0,
// Q5 (Q5.26) raw 2^26 is 1.0. Additions wrap like the int32 arithmetic they mirror.
import { roundingDivideByPOT, saturatingRoundingDoublingHighMul } from '../requant';

/** x * 2^exponent saturated to int32, exponent in [1, 30] (gemmlowp's positive-exponent POT multiply). */
// @ts-ignore: decorator
@inline
export function saturatingShiftLeft(x: i32, exponent: i32): i32 {
  const threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return i32.MAX_VALUE;
  if (x < -threshold) return i32.MIN_VALUE;
  return x << exponent;
}

/** (a + b) / 2 rounded to nearest, ties away from zero, without overflow. */
// @ts-ignore: decorator
@inline
export function roundingHalfSum(a: i32, b: i32): i32 {
  const sum = <i64>a + <i64>b;
  return <i32>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/**
 * x / 2^exponent rounded like roundingDivideByPOT, for any exponent in [0, 63]. gemmlowp asserts
 * exponent <= 31; beyond that the result is the exact limit of the same rounding (0 or -1 ... 0).
 */
export function roundingDivideByPOTWide(x: i32, exponent: i32): i32 {
  if (exponent <= 31) return roundingDivideByPOT(x, exponent);
  const wide = <i64>x;
  const mask = (<i64>1 << <i64>exponent) - 1;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return <i32>((wide >> <i64>exponent) + ((wide & mask) > threshold ? 1 : 0));
}

/** exp(a) for Q0 a in [-1/4, 0): Taylor expansion around -1/8 to 4th order. Returns Q0. */
function expOnMinusQuarterToZero(a: i32): i32 {
  const EXP_MINUS_ONE_EIGHTH: i32 = 1895147668; // exp(-1/8) in Q0
  const ONE_THIRD: i32 = 715827883; // 1/3 in Q0
  const x = a + (1 << 28); // a + 1/8
  const x2 = saturatingRoundingDoublingHighMul(x, x);
  const x3 = saturatingRoundingDoublingHighMul(x2, x);
  const x4 = saturatingRoundingDoublingHighMul(x2, x2);
  const x4Over4 = roundingDivideByPOT(x4, 2);
  const poly = roundingDivideByPOT(saturatingRoundingDoublingHighMul(x4Over4 + x3, ONE_THIRD) + x2, 1);
  return EXP_MINUS_ONE_EIGHTH + saturatingRoundingDoublingHighMul(EXP_MINUS_ONE_EIGHTH, x + poly);
}

/** Multiplies `result` by the Q0 constant when bit `bit` of `remainder` is set. */
// @ts-ignore: decorator
@inline
function barrelStep(result: i32, remainder: i32, bit: i32, factor: i32): i32 {
  return (remainder & (1 << bit)) != 0 ? saturatingRoundingDoublingHighMul(result, factor) : result;
}

/**
 * exp(a) for a Q5.26 value a <= 0, as a Q0 value (0 maps to 2^31 - 1). The fraction modulo 1/4
 * goes through the polynomial; each set bit of the rest multiplies by exp(-2^k), k = -2 .. 4.
 */
export function expOnNegativeValuesQ5(a: i32): i32 {
  const FRACTIONAL_BITS = 26;
  const ONE_QUARTER = 1 << (FRACTIONAL_BITS - 2);
  const aModQuarterMinusQuarter = (a & (ONE_QUARTER - 1)) - ONE_QUARTER;
  // Q5 -> Q0: saturating multiply by 2^5 (the value is in [-1/4, 0), so it never saturates).
  let result = expOnMinusQuarterToZero(saturatingShiftLeft(aModQuarterMinusQuarter, 5));
  const remainder = aModQuarterMinusQuarter - a;
  result = barrelStep(result, remainder, FRACTIONAL_BITS - 2, 1672461947); // exp(-1/4)
  result = barrelStep(result, remainder, FRACTIONAL_BITS - 1, 1302514674); // exp(-1/2)
  result = barrelStep(result, remainder, FRACTIONAL_BITS + 0, 790015084); // exp(-1)
  result = barrelStep(result, remainder, FRACTIONAL_BITS + 1, 290630308); // exp(-2)
  result = barrelStep(result, remainder, FRACTIONAL_BITS + 2, 39332535); // exp(-4)
  result = barrelStep(result, remainder, FRACTIONAL_BITS + 3, 720401); // exp(-8)
  result = barrelStep(result, remainder, FRACTIONAL_BITS + 4, 242); // exp(-16)
  return a == 0 ? i32.MAX_VALUE : result;
}

/**
 * 1 / (1 + a) for Q0 a in [0, 1), as Q0: three Newton-Raphson steps on the half denominator,
 * in Q2 (raw 2^29 is 1.0), starting from 48/17 - 32/17 * d.
 */
export function oneOverOnePlusX(a: i32): i32 {
  const Q2_ONE: i32 = 1 << 29;
  const FORTY_EIGHT_OVER_17: i32 = 1515870810; // Q2
  const MINUS_THIRTY_TWO_OVER_17: i32 = -1010580540; // Q2
  const halfDenominator = roundingHalfSum(a, i32.MAX_VALUE); // Q0
  let x = FORTY_EIGHT_OVER_17 + saturatingRoundingDoublingHighMul(halfDenominator, MINUS_THIRTY_TWO_OVER_17);
  for (let i = 0; i < 3; i++) {
    const oneMinusDx = Q2_ONE - saturatingRoundingDoublingHighMul(halfDenominator, x); // Q2
    // x * (1 - d x) is Q4; back to Q2 is a saturating multiply by 4.
    x = x + saturatingShiftLeft(saturatingRoundingDoublingHighMul(x, oneMinusDx), 2);
  }
  // x / 2 read as Q1 is x's raw value; Q1 -> Q0 is a saturating multiply by 2.
  return saturatingShiftLeft(x, 1);
}
