// STUB: signature fixed, body to be written.
export function softmax_s8(input: usize, rows: i32, depth: i32, inputMultiplier: i32, inputLeftShift: i32, diffMin: i32, output: usize): void {}
