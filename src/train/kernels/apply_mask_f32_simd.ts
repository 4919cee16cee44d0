// SIMD128 variant of apply_mask_f32: same contract, same bits. 8 gradients per mask byte: the
// byte is splatted, tested against lane bits (1, 2, 4, 8) and (16, 32, 64, 128), and the
// resulting all-ones/all-zeros lanes select the gradient (and -> +0.0 where the bit is 0).
// The last count % 8 gradients take the scalar kernel.
import { apply_mask_f32 } from './apply_mask_f32';

export function apply_mask_f32_simd(grad: usize, count: i32, mask: usize): void {
  const lowBits = i32x4(1, 2, 4, 8);
  const highBits = i32x4(16, 32, 64, 128);
  const zero = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const byte = i32x4.splat(<i32>load<u8>(mask + <usize>(i >> 3)));
    const p = grad + (<usize>i << 2);
    const keepLow = i32x4.ne(v128.and(byte, lowBits), zero);
    const keepHigh = i32x4.ne(v128.and(byte, highBits), zero);
    v128.store(p, v128.and(v128.load(p), keepLow));
    v128.store(p + 16, v128.and(v128.load(p + 16), keepHigh));
  }
  if (i < count) apply_mask_f32(grad + (<usize>i << 2), count - i, mask + <usize>(i >> 3));
}
