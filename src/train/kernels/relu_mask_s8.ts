// Forward-pass side of the clamp/ReLU backward: a 1-bit mask of an op's int8 output.
//
// output: int8 [count], the op's output after its fused clamp [actMin, actMax].
// mask:   u8 [ceil(count / 8)], written; bit i (byte i >> 3, bit i & 7, LSB first) is 1 when
//         actMin < output[i] < actMax, i.e. the value was not clamped. A value equal to a bound
//         counts as clamped (derivative 0 at the kink), so an op without a fused activation
//         (bounds -128, 127) masks only the saturated int8 ends. Unused high bits of the last
//         byte are 0.

export function relu_mask_s8(output: usize, count: i32, actMin: i32, actMax: i32, mask: usize): void {
  let byte: u32 = 0;
  for (let i = 0; i < count; i++) {
    const q = <i32>load<i8>(output + <usize>i);
    if (q > actMin && q < actMax) byte |= 1 << (i & 7);
    if ((i & 7) == 7) {
      store<u8>(mask + <usize>(i >> 3), <u8>byte);
      byte = 0;
    }
  }
  if (count & 7) store<u8>(mask + <usize>(count >> 3), <u8>byte);
}
