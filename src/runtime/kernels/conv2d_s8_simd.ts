// STUB: signature fixed, body to be written.
export function conv2d_s8_simd(input: usize, inH: i32, inW: i32, inC: i32, inZp: i32, filter: usize, kH: i32, kW: i32, outC: i32, bias: usize, requant: usize, output: usize, outH: i32, outW: i32, outZp: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, actMin: i32, actMax: i32): void {}
