// Oracle for TFLM's int8 softmax (reference_ops::Softmax<int8_t, int8_t>), written from
// gemmlowp's fixedpoint.h as typed fixed-point values: a raw int32 plus its integer bits, so
// every product and rescale carries the format the C++ templates carry.
import { INT32_MAX, INT32_MIN, rdbpot, srdhm, wrap32 } from './fixed_point.js';

interface Fx {
  raw: number;
  intBits: number;
}
const fx = (raw: number, intBits: number): Fx => ({ raw, intBits });
const add = (a: Fx, b: Fx): Fx => fx(wrap32(a.raw + b.raw), a.intBits);
const sub = (a: Fx, b: Fx): Fx => fx(wrap32(a.raw - b.raw), a.intBits);
const mul = (a: Fx, b: Fx): Fx => fx(srdhm(a.raw, b.raw), a.intBits + b.intBits);
const one = (intBits: number): Fx => fx(intBits === 0 ? INT32_MAX : 2 ** (31 - intBits), intBits);
const constantPot = (exponent: number, intBits: number): Fx => fx(2 ** (31 - intBits + exponent), intBits);

/** gemmlowp SaturatingRoundingMultiplyByPOT on a raw value. */
function multiplyByPot(raw: number, exponent: number): number {
  if (exponent < 0) return rdbpot(raw, -exponent);
  if (exponent === 0) return raw;
  const threshold = 2 ** (31 - exponent) - 1;
  if (raw > threshold) return INT32_MAX;
  if (raw < -threshold) return INT32_MIN;
  return raw * 2 ** exponent;
}
const rescale = (x: Fx, intBits: number): Fx => fx(multiplyByPot(x.raw, x.intBits - intBits), intBits);

function expOnIntervalMinusQuarterTo0(a: Fx): Fx {
  const constantTerm = fx(1895147668, 0); // exp(-1/8)
  const oneThird = fx(715827883, 0);
  const x = add(a, constantPot(-3, 0));
  const x2 = mul(x, x);
  const x3 = mul(x2, x);
  const x4 = mul(x2, x2);
  const x4Over4 = fx(multiplyByPot(x4.raw, -2), 0);
  const poly = fx(multiplyByPot(add(mul(add(x4Over4, x3), oneThird), x2).raw, -1), 0);
  return add(constantTerm, mul(constantTerm, add(x, poly)));
}

const EXP_BARREL: [number, number][] = [
  [-2, 1672461947], [-1, 1302514674], [0, 790015084], [1, 290630308], [2, 39332535], [3, 720401], [4, 242],
];

function expOnNegativeValues(a: Fx): Fx {
  const fractionalBits = 31 - a.intBits;
  const quarter = constantPot(-2, a.intBits);
  const mask = fx(quarter.raw - 1, a.intBits);
  const aModQuarterMinusQuarter = sub(fx(a.raw & mask.raw, a.intBits), quarter);
  let result = expOnIntervalMinusQuarterTo0(rescale(aModQuarterMinusQuarter, 0));
  const remainder = sub(aModQuarterMinusQuarter, a).raw;
  for (const [exponent, multiplier] of EXP_BARREL) {
    if (a.intBits > exponent && (remainder & (1 << (fractionalBits + exponent))) !== 0) result = mul(result, fx(multiplier, 0));
  }
  return a.raw === 0 ? one(0) : result;
}

function roundingHalfSum(a: number, b: number): number {
  const sum = BigInt(a) + BigInt(b);
  return Number((sum + (sum >= 0n ? 1n : -1n)) / 2n);
}

function oneOverOnePlusXForXIn01(a: Fx): Fx {
  const halfDenominator = fx(roundingHalfSum(a.raw, one(0).raw), 0);
  let x = add(fx(1515870810, 2), mul(halfDenominator, fx(-1010580540, 2))); // 48/17 - 32/17 d
  for (let i = 0; i < 3; i++) {
    const oneMinus = sub(one(2), mul(halfDenominator, x));
    x = add(x, rescale(mul(x, oneMinus), 2));
  }
  return rescale(fx(x.raw, 1), 0); // ExactMulByPot<-1> keeps the raw value, one integer bit less
}

function countLeadingZeros32(x: number): number {
  return Math.clz32(x >>> 0);
}

/**
 * Softmax of each row of `input` ([rows, depth] int8). Where TFLM aborts because the final
 * shift exceeds 31 (sum of exps >= 512), the shift is applied exactly (rdbpot takes any e).
 */
export function softmaxOracle(input: Int8Array, rows: number, depth: number, inputMultiplier: number, inputLeftShift: number, diffMin: number): Int8Array {
  const out = new Int8Array(rows * depth);
  const scaledExp = (diff: number): Fx =>
    expOnNegativeValues(fx(srdhm(wrap32(diff * 2 ** inputLeftShift), inputMultiplier), 5));
  for (let r = 0; r < rows; r++) {
    const row = input.subarray(r * depth, (r + 1) * depth);
    const max = row.reduce((m, x) => Math.max(m, x), -128);
    let sum = fx(0, 12);
    for (const x of row) if (x - max >= diffMin) sum = add(sum, rescale(scaledExp(x - max), 12));
    const headroomPlusOne = countLeadingZeros32(sum.raw);
    const bitsOverUnit = 12 - headroomPlusOne;
    const shiftedSumMinusOne = wrap32(BigInt(sum.raw >>> 0) * 2n ** BigInt(headroomPlusOne) - 2n ** 31n);
    const shiftedScale = oneOverOnePlusXForXIn01(fx(shiftedSumMinusOne, 0));
    const exponent = bitsOverUnit + 31 - 8;
    for (let c = 0; c < depth; c++) {
      const diff = row[c] - max;
      if (diff < diffMin) {
        out[r * depth + c] = -128;
        continue;
      }
      const q = rdbpot(mul(shiftedScale, scaledExp(diff)).raw, exponent) - 128;
      out[r * depth + c] = Math.min(127, Math.max(-128, q));
    }
  }
  return out;
}

/** Float softmax of a row of int8 values with the given scale and beta (sanity reference). */
export function softmaxFloat(row: ArrayLike<number>, scale: number, beta: number): number[] {
  const xs = Array.from(row, (q) => q * scale * beta);
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
