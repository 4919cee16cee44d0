// STUB: signature fixed, body to be written.
export function avg_pool_s8_simd(input: usize, inH: i32, inW: i32, channels: i32, output: usize, outH: i32, outW: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {}
