// float32 -> int8 quantization, bit-exact with TensorFlow Lite Micro's AffineQuantize:
// q = clamp(round(x / scale) + zeroPoint, -128, 127), x / scale in float32, ties away from zero.
//
// input: f32 [count]; output: int8 [count] (a separate buffer). scale > 0, zeroPoint in [-128, 127].
// NaN and +-inf inputs are written as zeroPoint and counted: TFLM leaves them undefined
// (float -> int conversion of NaN is UB in C and traps in WebAssembly MVP).

/** x / scale, already clamped to [-256, 256], rounded half away from zero (exact in f64). */
// @ts-ignore: decorator
@inline
function roundHalfAwayFromZero(x: f32): i32 {
  const magnitude = <i32>Math.floor(Math.abs(<f64>x) + 0.5);
  return x < 0 ? -magnitude : magnitude;
}

export function quantize_f32_s8(input: usize, count: i32, scale: f32, zeroPoint: i32, output: usize): i32 {
  let nonFinite = 0;
  for (let i = 0; i < count; i++) {
    const x = load<f32>(input + (<usize>i << 2));
    let q = zeroPoint;
    if (x - x == 0) { // false for NaN and +-inf
      const ratio = x / scale;
      // Anything beyond +-256 clamps to the int8 range anyway; a NaN ratio (bad scale) goes low.
      const bounded: f32 = ratio >= -256 ? (ratio <= 256 ? ratio : 256) : -256;
      q = roundHalfAwayFromZero(bounded) + zeroPoint;
      if (q < -128) q = -128;
      if (q > 127) q = 127;
    } else {
      nonFinite++;
    }
    store<i8>(output + i, <i8>q);
  }
  return nonFinite;
}
