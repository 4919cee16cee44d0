// Host-side quantization math: the "prepare" half of TensorFlow Lite Micro's int8 kernels.
// Every function here reproduces what TFLM computes before eval, so that the device kernels
// (src/runtime/kernels/) given these parameters are bit-exact with TFLM's reference kernels.
//
// TFLite stores scales and beta as float32; these functions round their inputs to float32
// first (Math.fround) and then compute in float64 exactly where TFLM does.
import { ValueError } from '../formats/errors.js';

/** A real multiplier as `multiplier * 2^(shift - 31)`; multiplier in [2^30, 2^31) or 0. */
export interface QuantizedMultiplier {
  /** Q31 fixed point, in [2^30, 2^31), or 0 for a real multiplier of 0 (or below ~2^-32). */
  multiplier: number;
  /** Power-of-two exponent, positive = left shift. */
  shift: number;
}

export interface AddParams {
  leftShift: number;
  aMultiplier: number;
  aShift: number;
  bMultiplier: number;
  bShift: number;
  outMultiplier: number;
  outShift: number;
}

export interface SoftmaxParams {
  /** Q31 multiplier of beta * inputScale * 2^26 (input diffs become Q5.26). */
  inputMultiplier: number;
  /** Left shift applied to the input diff before the multiplier, >= 0. */
  inputLeftShift: number;
  /** Input diffs (x - rowMax) below this are treated as exp() = 0; <= 0. */
  diffMin: number;
}

export type ActivationName = 'none' | 'relu' | 'relu6';

const INT8_MIN = -128;
const INT8_MAX = 127;
/** TFLM's add prepare: inputs are scaled by 2^20 before rescaling (int8; int16 uses 15). */
const ADD_LEFT_SHIFT = 20;
/** Softmax input diffs are Q5.26 (kScaledDiffIntegerBits in TFLM). */
const SOFTMAX_DIFF_INTEGER_BITS = 5;

function requirePositiveFinite(what: string, x: number): void {
  if (!Number.isFinite(x) || !(x > 0)) throw new ValueError(`${what} must be a positive finite number, got ${x}`);
}

/** std::round: nearest integer, ties away from zero. */
export function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * TFLite's QuantizeMultiplier: `real = multiplier * 2^(shift - 31)`, multiplier the Q31 mantissa
 * from frexp, rounded half away from zero; a mantissa that rounds to 2^31 becomes 2^30 with
 * shift + 1; a shift below -31 (real below ~2^-32) flushes to (0, 0). The shift is not bounded
 * above here (real >= 2^30 gives shift > 30): callers check it against what their op accepts.
 */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (!Number.isFinite(real) || real < 0) throw new ValueError(`real multiplier must be finite and >= 0, got ${real}`);
  if (real === 0) return { multiplier: 0, shift: 0 };
  // Below 2^-34 the exponent is <= -33, and even the 2^31 correction keeps it below -31.
  if (real < 2 ** -34) return { multiplier: 0, shift: 0 };
  // frexp: real = fraction * 2^exponent, fraction in [0.5, 1). Scaling by powers of two is exact.
  let exponent = Math.floor(Math.log2(real)) + 1;
  let fraction = real * 2 ** -exponent;
  while (fraction < 0.5) { fraction *= 2; exponent--; }
  while (fraction >= 1) { fraction /= 2; exponent++; }
  let multiplier = Math.round(fraction * 2 ** 31); // positive: Math.round is ties away from zero
  if (multiplier === 2 ** 31) {
    multiplier /= 2;
    exponent++;
  }
  if (exponent < -31) return { multiplier: 0, shift: 0 };
  return { multiplier, shift: exponent };
}

/**
 * TFLM's int8 ADD prepare: both inputs are rescaled to twice the larger input scale with a
 * 2^20 headroom, summed, then rescaled to the output. All three reals are < 1 (shifts <= 0).
 */
export function addParams(aScale: number, bScale: number, outScale: number): AddParams {
  requirePositiveFinite('ADD input a scale', aScale);
  requirePositiveFinite('ADD input b scale', bScale);
  requirePositiveFinite('ADD output scale', outScale);
  const a = Math.fround(aScale);
  const b = Math.fround(bScale);
  const out = Math.fround(outScale);
  const twiceMaxInputScale = 2 * Math.max(a, b);
  const realOut = twiceMaxInputScale / (2 ** ADD_LEFT_SHIFT * out);
  if (!(realOut < 1)) {
    throw new ValueError(`ADD output scale ${outScale} is too small for input scales ${aScale}, ${bScale}: it must exceed max input scale / 2^${ADD_LEFT_SHIFT - 1}`);
  }
  const qa = quantizeMultiplier(a / twiceMaxInputScale);
  const qb = quantizeMultiplier(b / twiceMaxInputScale);
  const qo = quantizeMultiplier(realOut);
  return {
    leftShift: ADD_LEFT_SHIFT,
    aMultiplier: qa.multiplier,
    aShift: qa.shift,
    bMultiplier: qb.multiplier,
    bShift: qb.shift,
    outMultiplier: qo.multiplier,
    outShift: qo.shift,
  };
}

/**
 * TFLM's int8 SOFTMAX prepare: PreprocessSoftmaxScaling (beta * inputScale * 2^26, capped at
 * 2^31 - 1, as a multiplier >= 1) and CalculateInputRadius (the most negative input diff whose
 * rescaled value still fits Q5.26).
 */
export function softmaxParams(beta: number, inputScale: number): SoftmaxParams {
  requirePositiveFinite('SOFTMAX beta', beta);
  requirePositiveFinite('SOFTMAX input scale', inputScale);
  const real = Math.min(Math.fround(beta) * Math.fround(inputScale) * 2 ** (31 - SOFTMAX_DIFF_INTEGER_BITS), 2 ** 31 - 1);
  const q = quantizeMultiplier(real);
  if (q.multiplier === 0 || q.shift < 0) {
    throw new ValueError(`SOFTMAX beta * input scale = ${beta * inputScale} is below 2^-27: the input carries no usable resolution`);
  }
  const maxInputRescaled = ((2 ** SOFTMAX_DIFF_INTEGER_BITS - 1) * 2 ** (31 - SOFTMAX_DIFF_INTEGER_BITS)) / 2 ** q.shift;
  const radius = Math.floor(maxInputRescaled);
  return { inputMultiplier: q.multiplier, inputLeftShift: q.shift, diffMin: 0 - radius };
}

/**
 * TFLM's CalculateActivationRangeQuantized for int8: the fused activation's bounds in the
 * output's quantized domain. The real bounds 0 and 6 are quantized in float32 like TFLM does.
 */
export function activationRange(activation: ActivationName, scale: number, zeroPoint: number): [number, number] {
  requirePositiveFinite('activation output scale', scale);
  if (!Number.isInteger(zeroPoint) || zeroPoint < INT8_MIN || zeroPoint > INT8_MAX) {
    throw new ValueError(`int8 zero point must be an integer in [-128, 127], got ${zeroPoint}`);
  }
  const s = Math.fround(scale);
  // zero_point + (int)round(f / scale), clamped here before the int conversion TFLM does.
  const quantize = (f: number): number => zeroPoint + Math.min(2 ** 31 - 1, roundHalfAwayFromZero(Math.fround(f / s)));
  switch (activation) {
    case 'none':
      return [INT8_MIN, INT8_MAX];
    case 'relu':
      return [Math.max(INT8_MIN, quantize(0)), INT8_MAX];
    case 'relu6':
      return [Math.max(INT8_MIN, quantize(0)), Math.min(INT8_MAX, quantize(6))];
    default:
      throw new ValueError(`unknown activation '${activation as string}'; expected none, relu or relu6`);
  }
}

/**
 * TFLM's AffineQuantize for one float32 value: clamp(round(x / scale) + zeroPoint, -128, 127),
 * x / scale in float32, ties away from zero. The device kernel writes the zero point for a
 * non-finite x; here a non-finite x is a caller error.
 */
export function quantizeScalar(x: number, scale: number, zeroPoint: number): number {
  if (!Number.isFinite(x)) throw new ValueError(`cannot quantize a non-finite value (${x})`);
  requirePositiveFinite('quantization scale', scale);
  const q = roundHalfAwayFromZero(Math.fround(Math.fround(x) / Math.fround(scale)));
  return Math.min(INT8_MAX, Math.max(INT8_MIN, q + zeroPoint));
}
