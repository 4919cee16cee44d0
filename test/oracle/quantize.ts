// Oracles for TFLM's AffineQuantize (float32 -> int8) and Dequantize (int8 -> float32).

/** std::round on a float: nearest, ties away from zero. */
function roundHalfAwayFromZero(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

/**
 * q = clamp(round(x / scale) + zeroPoint, -128, 127) with x / scale rounded to float32.
 * Non-finite x: written as zeroPoint and counted (TFLM leaves it undefined).
 */
export function quantizeOracle(input: Float32Array, scale: number, zeroPoint: number): { output: Int8Array; nonFinite: number } {
  const output = new Int8Array(input.length);
  let nonFinite = 0;
  const s = Math.fround(scale);
  for (let i = 0; i < input.length; i++) {
    const x = input[i];
    if (!Number.isFinite(x)) {
      output[i] = zeroPoint;
      nonFinite++;
      continue;
    }
    const ratio = Math.fround(x / s); // both operands float32: a correctly rounded float32 quotient
    output[i] = Math.min(127, Math.max(-128, roundHalfAwayFromZero(ratio) + zeroPoint));
  }
  return { output, nonFinite };
}

/** out = float32(double(scale) * (q - zeroPoint)). */
export function dequantizeOracle(input: Int8Array, scale: number, zeroPoint: number): Float32Array {
  const s = Math.fround(scale);
  return Float32Array.from(input, (q) => Math.fround(s * (q - zeroPoint)));
}
