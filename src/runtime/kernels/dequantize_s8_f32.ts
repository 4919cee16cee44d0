// int8 -> float32 dequantization, bit-exact with TensorFlow Lite Micro's reference Dequantize:
// out = f32(f64(scale) * (q - zeroPoint)).
//
// input: int8 [count]; output: f32 [count] (a separate buffer, 4-byte aligned).

export function dequantize_s8_f32(input: usize, count: i32, scale: f32, zeroPoint: i32, output: usize): void {
  const wideScale = <f64>scale;
  for (let i = 0; i < count; i++) {
    const q = <i32>load<i8>(input + i) - zeroPoint;
    store<f32>(output + (<usize>i << 2), <f32>(wideScale * <f64>q));
  }
}
