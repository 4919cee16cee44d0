// Sum of two f32 gradients, element by element: out[i] = a[i] + b[i]. `out` may be `a` or `b`
// (each element is read before it is written). Used where one tensor gets gradients from two
// places: ADD's operands, tensors with several consumers.
export function gradient_add_f32(a: usize, b: usize, count: i32, out: usize): void {
  for (let i = 0; i < count; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, load<f32>(a + at) + load<f32>(b + at));
  }
}
