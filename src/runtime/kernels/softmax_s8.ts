// int8 softmax over the last axis, bit-exact with TensorFlow Lite Micro's reference kernel.
//
// input:  int8 [rows, depth], row-major, any scale (folded into inputMultiplier).
// output: int8 [rows, depth], scale 1/256, zero point -128. May be the input buffer itself
//         (each output element is written after its input was last read).
// inputMultiplier, inputLeftShift, diffMin: from quant_math.softmaxParams(beta, inputScale).
//
// Per row: diff = x - max (<= 0), rescaled to Q5.26; exp() in Q0; the sum of exps in Q12.19;
// the reciprocal of the sum as a Q0 mantissa and a power of two; output = exp * reciprocal
// rounded to 1/256. Diffs below diffMin contribute exp() = 0 and write -128.
//
// One deliberate difference: TFLM aborts (TFLITE_CHECK) when the sum of exps reaches 512, which
// makes the final rounding shift exceed 31 (e.g. a row of >= 512 equal values). Here the shift
// is carried out exactly: every such output is below 0.5/256 and writes -128.
import { roundingDivideByPOT, saturatingRoundingDoublingHighMul } from '../requant';
import { expOnNegativeValuesQ5, oneOverOnePlusX, roundingDivideByPOTWide } from './fixedpoint_q31';

/** Integer bits of the sum of exps (Q12.19): up to 4096 max-valued entries before it wraps. */
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/** exp(beta * inputScale * diff) in Q0 for a diff >= diffMin. */
// @ts-ignore: decorator
@inline
function expOfDiff(diff: i32, inputMultiplier: i32, inputLeftShift: i32): i32 {
  return expOnNegativeValuesQ5(saturatingRoundingDoublingHighMul(diff << inputLeftShift, inputMultiplier));
}

export function softmax_s8(input: usize, rows: i32, depth: i32, inputMultiplier: i32, inputLeftShift: i32, diffMin: i32, output: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = input + <usize>r * <usize>depth;
    const out = output + <usize>r * <usize>depth;
    let max: i32 = -128;
    for (let c = 0; c < depth; c++) {
      const x = <i32>load<i8>(row + c);
      if (x > max) max = x;
    }

    let sum: i32 = 0; // Q12.19, wraps like TFLM's int32 past 4096
    for (let c = 0; c < depth; c++) {
      const diff = <i32>load<i8>(row + c) - max;
      if (diff >= diffMin) sum += roundingDivideByPOT(expOfDiff(diff, inputMultiplier, inputLeftShift), ACCUMULATION_INTEGER_BITS);
    }

    // sum = (1 + f) * 2^bitsOverUnit with f in [0, 1): reciprocal = 1 / (1 + f) in Q0.
    const headroomPlusOne = <i32>clz<u32>(<u32>sum);
    const bitsOverUnit = ACCUMULATION_INTEGER_BITS - headroomPlusOne;
    const fraction = <i32>((<u32>sum << <u32>headroomPlusOne) - 0x80000000);
    const reciprocal = oneOverOnePlusX(fraction);
    const exponent = bitsOverUnit + 31 - 8;

    for (let c = 0; c < depth; c++) {
      const diff = <i32>load<i8>(row + c) - max;
      let q: i32 = -128;
      if (diff >= diffMin) {
        const e = expOfDiff(diff, inputMultiplier, inputLeftShift);
        q = roundingDivideByPOTWide(saturatingRoundingDoublingHighMul(reciprocal, e), exponent) - 128;
        if (q > 127) q = 127;
        if (q < -128) q = -128;
      }
      store<i8>(out + c, <i8>q);
    }
  }
}
