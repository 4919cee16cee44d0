// Clamp/ReLU backward (straight-through): zeroes the gradient where the forward mask bit is 0.
//
// grad: f32 [count], read and written in place (dL/d(op output) -> dL/d(pre-clamp output)).
// mask: u8 [ceil(count / 8)] from relu_mask_s8 (bit i, LSB first, 1 = pass). Zeroed entries
//       become +0.0 whatever they held (NaN included).

export function apply_mask_f32(grad: usize, count: i32, mask: usize): void {
  for (let i = 0; i < count; i++) {
    const bit = (<u32>load<u8>(mask + <usize>(i >> 3)) >> (i & 7)) & 1;
    if (bit == 0) store<f32>(grad + (<usize>i << 2), 0);
  }
}
