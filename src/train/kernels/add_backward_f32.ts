// Gradients of the int8 addition y = a + b (in real values; the int8 kernel's rescaling is
// straight-through): dL/da = dL/db = dL/dy.
//
//   outGrad f32 [count]  dL/dy, read
//   aGrad   f32 [count]  written, or 0 when a needs no gradient; may equal outGrad (no copy)
//   bGrad   f32 [count]  likewise
// A fused clamp on y is handled by the ReLU mask, applied to outGrad before this kernel.
// RESHAPE needs no kernel: its gradient is outGrad itself (same bytes, another shape).

export function add_backward_f32(outGrad: usize, count: i32, aGrad: usize, bGrad: usize): void {
  const bytes = <usize>max(count, 0) << 2;
  if (aGrad != 0 && aGrad != outGrad) memory.copy(aGrad, outGrad, bytes);
  if (bGrad != 0 && bGrad != outGrad) memory.copy(bGrad, outGrad, bytes);
}
