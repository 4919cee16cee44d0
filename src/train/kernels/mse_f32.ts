// Mean squared error against f32 targets: loss = mean((p - t)^2), dL/dp = 2 (p - t) / count.
//
//   prediction f32 [count] read; target f32 [count] read
//   predGrad   f32 [count] written; may be prediction itself (each element read before written)
// Returns the loss, or NaN (nothing written) when count <= 0. Sums run in index order, in f32.

export function mse_f32(prediction: usize, target: usize, count: i32, predGrad: usize): f32 {
  if (count <= 0) return NaN;
  const n = <f32>count;
  let sum: f32 = 0;
  for (let i = 0; i < count; i++) {
    const at = <usize>i << 2;
    const d = load<f32>(prediction + at) - load<f32>(target + at);
    sum += d * d;
    store<f32>(predGrad + at, (2 * d) / n);
  }
  return sum / n;
}
