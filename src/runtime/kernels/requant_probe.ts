// The requantization primitives as exports, so tests can compare them with the spec.
import { multiplyByQuantizedMultiplier, roundingDivideByPOT, saturatingRoundingDoublingHighMul } from '../requant';

export function probe_srdhm(a: i32, b: i32): i32 { return saturatingRoundingDoublingHighMul(a, b); }
export function probe_rdbpot(x: i32, exponent: i32): i32 { return roundingDivideByPOT(x, exponent); }
export function probe_mbqm(x: i32, multiplier: i32, shift: i32): i32 { return multiplyByQuantizedMultiplier(x, multiplier, shift); }
