// STUB: signature fixed, body to be written.
export function quantize_f32_s8(input: usize, count: i32, scale: f32, zeroPoint: i32, output: usize): void {}
