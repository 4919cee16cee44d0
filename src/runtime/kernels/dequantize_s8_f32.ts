// STUB: signature fixed, body to be written.
export function dequantize_s8_f32(input: usize, count: i32, scale: f32, zeroPoint: i32, output: usize): void {}
